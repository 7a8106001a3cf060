/* Tests of runlet-runner with real cgroups (v1 memory/pids/cpuacct, v2
 * with or without controllers) and as PID 1 of a fresh pid namespace. Parts
 * the host cannot run (no root, no such hierarchy) skip, naming why. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/unit/runner_testlib.h"

/* ---- cgroups ---- */

struct cg_parents {
	int v2;
	char mem[256], pids[256], cpu[256];
};

static int write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY);
	if (fd < 0)
		return -1;
	ssize_t n = write(fd, s, strlen(s));
	close(fd);
	return n == (ssize_t)strlen(s) ? 0 : -1;
}

static int file_has(const char *path, const char *word)
{
	char buf[4096] = "";
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return strstr(buf, word) != NULL;
}

/* Parent cgroups for the runner under the hierarchy this host has: v1
 * memory/pids/cpuacct, or the v2 root with memory and pids. 0 or skip. */
static int cg_parents_make(struct cg_parents *c, int want_v2)
{
	memset(c, 0, sizeof(*c));
	int pid = (int)getpid();
	if (!want_v2) {
		if (access("/sys/fs/cgroup/memory/memory.limit_in_bytes", W_OK) ||
		    access("/sys/fs/cgroup/pids/cgroup.procs", W_OK))
			return -1;
		snprintf(c->mem, sizeof(c->mem), "/sys/fs/cgroup/memory/runlet-test-%d", pid);
		snprintf(c->pids, sizeof(c->pids), "/sys/fs/cgroup/pids/runlet-test-%d", pid);
		snprintf(c->cpu, sizeof(c->cpu), "/sys/fs/cgroup/cpuacct/runlet-test-%d", pid);
		assert_int_equal(mkdir(c->mem, 0755), 0);
		assert_int_equal(mkdir(c->pids, 0755), 0);
		if (mkdir(c->cpu, 0755) < 0)
			c->cpu[0] = '\0';
		return 0;
	}
	if (!file_has("/sys/fs/cgroup/cgroup.subtree_control", "memory") ||
	    !file_has("/sys/fs/cgroup/cgroup.subtree_control", "pids"))
		return -1;
	c->v2 = 1;
	snprintf(c->mem, sizeof(c->mem), "/sys/fs/cgroup/runlet-test-%d", pid);
	assert_int_equal(mkdir(c->mem, 0755), 0);
	char ctl[300];
	snprintf(ctl, sizeof(ctl), "%s/cgroup.subtree_control", c->mem);
	assert_int_equal(write_str(ctl, "+memory +pids"), 0);
	snprintf(c->pids, sizeof(c->pids), "%s", c->mem);
	snprintf(c->cpu, sizeof(c->cpu), "%s", c->mem);
	return 0;
}

/* The step cgroups are gone; remove the parents. */
static void cg_parents_remove(struct cg_parents *c)
{
	const char *dirs[3] = {c->mem, c->pids, c->cpu};
	for (int i = 0; i < 3; i++) {
		if (!dirs[i][0] || (i > 0 && c->v2))
			continue;
		char step[300];
		snprintf(step, sizeof(step), "%s/s1", dirs[i]);
		assert_int_equal(access(step, F_OK), -1);
		assert_int_equal(rmdir(dirs[i]), 0);
	}
}

static void plan_cgroups(struct wire_plan *p, const struct cg_parents *c)
{
	p->cg_v2 = c->v2;
	p->cg_mem = strdup(c->mem);
	p->cg_pids = strdup(c->pids);
	if (c->cpu[0])
		p->cg_cpu = strdup(c->cpu);
}

/* As root, parents under the hierarchy v2 asks for: 0, or -1 after saying
 * why the case is skipped. */
static int cg_parents_or_skip(struct cg_parents *c, int v2)
{
	if (not_root())
		return -1;
	if (cg_parents_make(c, v2) < 0) {
		host_lacks(1, 0, v2 ? "no cgroup v2 with memory and pids"
				    : "no cgroup v1 memory and pids");
		return -1;
	}
	return 0;
}

/* A plan of eval'd shell lines in c's cgroups: the helper shipped, the
 * children dropping ids (the runner stays root), 64 MB, 10 pids and
 * cpu_ms of CPU per test. */
static void cg_plan(struct wire_plan *p, const struct cg_parents *c, uint64_t cpu_ms)
{
	eval_plan(p);
	plan_cgroups(p, c);
	p->uid = test_uid();
	p->gid = test_uid();
	add_helper(p);
	p->run.lim.mem_kb = 64 * 1024;
	p->run.lim.pids = 10;
	p->run.lim.cpu_ms = cpu_ms;
}

static void cgroup_limits_case(int v2)
{
	struct cg_parents c;
	if (cg_parents_or_skip(&c, v2) < 0)
		return;
	struct wire_plan p;
	struct rr rr;
	cg_plan(&p, &c, 300);
	add_cmd(&p, 1, "exec %s alloc 200", "./runner_helper");
	add_cmd(&p, 2, "exec %s alloc 20", "./runner_helper");
	add_cmd(&p, 3, "exec %s forkcount 50", "./runner_helper");
	add_cmd(&p, 4, "exec %s busy", "./runner_helper");
	add_cmd(&p, 5, "%s busy & %s busy & wait", "./runner_helper", "./runner_helper");
	/* 30 short-lived orphans under pids.max 10: the runner reaps each as
	 * it ends, so their zombies do not use up the limit */
	add_cmd(&p, 6, "n=0; for i in $(seq 30); do (true &) || n=$((n+1)); "
		       "sleep 0.01; done; echo failed $n");
	run_ok(&p, 6, &rr);
	const struct wire_outcome *o = rr.res.tests;
	/* 200 MB in 64 MB: the OOM killer */
	assert_int_equal(o[0].status, RUNLET_EXIT_MEMORY);
	assert_true(o[0].oom);
	assert_int_equal(o[0].signal, SIGKILL);
	assert_true(o[0].mem_kb <= 64 * 1024);
	assert_true(o[0].mem_kb >= 60 * 1024);
	/* 20 MB fits; the peak comes from the cgroup */
	assert_int_equal(o[1].status, RUNLET_EXIT_EXITED);
	assert_false(o[1].oom);
	assert_string_equal(o[1].out, "allocated 20\n");
	assert_true(o[1].mem_kb >= 20 * 1024);
	assert_true(o[1].mem_kb < 40 * 1024);
	/* pids.max 10: the program itself and at most 9 more */
	assert_int_equal(o[2].status, RUNLET_EXIT_EXITED);
	int forked = atoi(o[2].out);
	assert_true(forked >= 1 && forked <= 9);
	/* CPU from the cgroup, polled: ends near 300 ms, not at RLIMIT_CPU */
	assert_int_equal(o[3].status, RUNLET_EXIT_CPU_TIMEOUT);
	assert_true(o[3].cpu_ms >= 300);
	assert_true(o[3].cpu_ms < 1000);
	/* two busy children: the cgroup counts both, the shell spent nothing */
	assert_int_equal(o[4].status, RUNLET_EXIT_CPU_TIMEOUT);
	assert_true(o[4].cpu_ms >= 300);
	assert_true(o[4].cpu_ms < 1000);
	assert_string_equal(o[5].out, "failed 0\n");
	assert_int_equal(o[5].err_len, 0);
	rr_free(&rr);
	wire_plan_free(&p);
	cg_parents_remove(&c);
}

/* parallel tests: each test its own step cgroup (memory, pids, CPU) while
 * its neighbour runs; every step cgroup is gone afterwards */
static void cgroup_parallel_case(int v2)
{
	struct cg_parents c;
	if (cg_parents_or_skip(&c, v2) < 0)
		return;
	struct wire_plan p;
	struct rr rr;
	cg_plan(&p, &c, 1000);
	p.parallel = 2;
	add_cmd(&p, 1, "exec ./runner_helper alloc 200");
	add_cmd(&p, 2, "sleep 0.3; exec ./runner_helper alloc 20");
	add_cmd(&p, 3, "exec ./runner_helper cpuspin 200");
	add_cmd(&p, 4, "exec ./runner_helper cpuspin 200");
	add_cmd(&p, 5, "exec ./runner_helper daemon 1000");
	add_cmd(&p, 6, "sleep 0.3; echo alive");
	run_ok(&p, 6, &rr);
	const struct wire_outcome *o = rr.res.tests;
	for (int i = 0; i < 6; i++)
		assert_int_equal(o[i].num, (uint64_t)i + 1);
	assert_int_equal(o[0].status, RUNLET_EXIT_MEMORY);
	assert_true(o[0].mem_kb <= 64 * 1024);
	/* the neighbour of the OOM kill is fine, its peak its own */
	assert_int_equal(o[1].status, RUNLET_EXIT_EXITED);
	assert_false(o[1].oom);
	assert_string_equal(o[1].out, "allocated 20\n");
	assert_true(o[1].mem_kb >= 20 * 1024);
	assert_true(o[1].mem_kb < 40 * 1024);
	/* CPU per test from each test's own cgroup */
	for (int i = 2; i < 4; i++) {
		assert_int_equal(o[i].status, RUNLET_EXIT_EXITED);
		assert_true(o[i].cpu_ms >= 190);
		assert_true(o[i].cpu_ms < 330);
	}
	int pid = atoi(o[4].out);
	assert_true(pid > 0);
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
	assert_false(file_has(path, "runner_helper"));
	assert_string_equal(o[5].out, "alive\n");
	rr_free(&rr);
	wire_plan_free(&p);
	cg_parents_remove(&c); /* fails if a step cgroup was left */
}

/* Tests one after another share the step cgroup: each still has its own
 * CPU time and memory peak; one that leaves too much charged hands the
 * next a new cgroup. /proc/self/cgroup names the one a test ran in. */
static void cgroup_reuse_case(int v2)
{
	struct cg_parents c;
	if (cg_parents_or_skip(&c, v2) < 0)
		return;
	char big[64];
	snprintf(big, sizeof(big), "/tmp/runlet-reuse-%d", (int)getpid());
	struct wire_plan p;
	struct rr rr;
	cg_plan(&p, &c, 2000);
	add_cmd(&p, 1, "exec ./runner_helper cpuspin 200");
	add_cmd(&p, 2, "exec cat /proc/self/cgroup");
	add_cmd(&p, 3, "exec ./runner_helper alloc 30");
	add_cmd(&p, 4, "exec ./runner_helper alloc 10");
	/* 8 MiB of page cache stays charged to the cgroup */
	add_cmd(&p, 5, "head -c 8388608 /dev/zero > %s && echo wrote", big);
	add_cmd(&p, 6, "exec cat /proc/self/cgroup");
	add_cmd(&p, 7, "exec ./runner_helper alloc 10");
	run_ok(&p, 7, &rr);
	unlink(big);
	const struct wire_outcome *o = rr.res.tests;
	for (int i = 0; i < 7; i++)
		assert_int_equal(o[i].status, RUNLET_EXIT_EXITED);
	assert_true(o[0].cpu_ms >= 190);
	/* test 2 in test 1's cgroup, without test 1's CPU time */
	assert_non_null(strstr(o[1].out, "/s1\n"));
	assert_true(o[1].cpu_ms < 100);
	/* the peak is each test's own: 10 MB after 30 MB (less the kernel's
	 * per-CPU charge cache the last test left, up to 64 pages a CPU) */
	assert_true(o[2].mem_kb >= 29 * 1024 && o[2].mem_kb < 50 * 1024);
	assert_true(o[3].mem_kb >= 9 * 1024 && o[3].mem_kb < 25 * 1024);
	assert_string_equal(o[4].out, "wrote\n");
	/* after the 8 MiB: a new cgroup (named for the 6th step) */
	assert_null(strstr(o[5].out, "/s1\n"));
	assert_non_null(strstr(o[5].out, "/s6\n"));
	assert_true(o[6].mem_kb >= 10 * 1024 && o[6].mem_kb < 25 * 1024);
	rr_free(&rr);
	wire_plan_free(&p);
	cg_parents_remove(&c); /* fails if a step cgroup was left */
}

static void test_cgroup_v1_reuse(void **state)
{
	cgroup_reuse_case(0);
}

static void test_cgroup_v2_reuse(void **state)
{
	cgroup_reuse_case(1);
}

static void test_cgroup_v1_parallel(void **state)
{
	cgroup_parallel_case(0);
}

static void test_cgroup_v2_parallel(void **state)
{
	cgroup_parallel_case(1);
}

static void test_cgroup_v1_limits(void **state)
{
	cgroup_limits_case(0);
}

static void test_cgroup_v2_limits(void **state)
{
	cgroup_limits_case(1);
}

/* A v2 hierarchy without memory/pids controllers (a hybrid host's
 * "unified" mount) still gives the runner cgroup.kill and cpu.stat. */
static void test_cgroup_v2_kill_and_cpu(void **state)
{
	const char *root = "/sys/fs/cgroup/unified";
	char base[256], kill_file[300];
	if (not_root())
		return;
	if (access("/sys/fs/cgroup/cgroup.kill", F_OK) == 0)
		root = "/sys/fs/cgroup"; /* a pure v2 host */
	snprintf(kill_file, sizeof(kill_file), "%s/cgroup.controllers", root);
	if (host_lacks(access(kill_file, F_OK) != 0, 0, "no cgroup v2 mounted"))
		return;
	snprintf(base, sizeof(base), "%s/runlet-test-%d", root, (int)getpid());
	assert_int_equal(mkdir(base, 0755), 0);
	snprintf(kill_file, sizeof(kill_file), "%s/cgroup.kill", base);
	if (host_lacks(access(kill_file, F_OK) != 0, 0, "kernel without cgroup.kill")) {
		rmdir(base);
		return;
	}
	char secs[32];
	snprintf(secs, sizeof(secs), "%d", 2000 + (int)(getpid() % 1000));
	struct wire_plan p;
	struct rr rr;
	eval_plan(&p);
	p.cg_v2 = 1;
	p.cg_cpu = strdup(base);
	p.run.lim.cpu_ms = 200;
	add_cmd(&p, 1, "%s busy & %s busy & wait", helper_path(), helper_path());
	add_cmd(&p, 2, "exec %s daemon %s", helper_path(), secs);
	run_ok(&p, 2, &rr);
	assert_int_equal(rr.res.tests[0].status, RUNLET_EXIT_CPU_TIMEOUT);
	assert_true(rr.res.tests[0].cpu_ms >= 200);
	assert_true(rr.res.tests[0].cpu_ms < 1000);
	int pid = atoi(rr.res.tests[1].out);
	assert_true(pid > 0);
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
	assert_false(file_has(path, "runner_helper"));
	rr_free(&rr);
	wire_plan_free(&p);

	/* asking for memory where the controller is not enabled: a clear
	 * runner error naming the fix */
	snprintf(kill_file, sizeof(kill_file), "%s/cgroup.controllers", base);
	if (!file_has(kill_file, "memory")) {
		eval_plan(&p);
		p.cg_v2 = 1;
		p.cg_mem = strdup(base);
		p.run.lim.mem_kb = 65536;
		add_cmd(&p, 1, "true");
		run_plan_with(&p, NULL, &rr);
		assert_true(rr.decoded);
		assert_non_null(rr.res.error);
		assert_non_null(strstr(rr.res.error, "memory.max"));
		assert_non_null(strstr(rr.res.error, "cgroup.subtree_control"));
		assert_int_equal(WEXITSTATUS(rr.wstatus), 1);
		rr_free(&rr);
		wire_plan_free(&p);
	}
	assert_int_equal(rmdir(base), 0);
}

/* ---- PID 1 of a fresh pid namespace ---- */

static void test_pid1_namespace(void **state)
{
	if (not_root())
		return;
	if (host_lacks(!have_program("unshare"), 1, "unshare (util-linux) missing"))
		return;
	char ns[64] = "", nsenv[128];
	ssize_t n = readlink("/proc/self/ns/pid", ns, sizeof(ns) - 1);
	assert_true(n > 0);
	ns[n] = '\0';
	snprintf(nsenv, sizeof(nsenv), "RUNLET_HOST_PIDNS=%s", ns);
	struct wire_plan p;
	struct rr rr;
	eval_plan(&p);
	step_env(&p.run, nsenv);
	add_cmd(&p, 1, "%s daemon 1000; echo parent gone", helper_path());
	add_cmd(&p, 2, "for p in /proc/[0-9]*; do cat $p/comm; done");
	add_cmd(&p, 3, "exec %s killall", helper_path());
	add_cmd(&p, 4, "echo alive");
	static const char *const prefix[] = {"unshare", "--pid", "--fork",
					     "--mount-proc", NULL};
	run_plan_with(&p, prefix, &rr);
	assert_true(rr.decoded);
	assert_null(rr.res.error);
	assert_true(rr.res.complete);
	assert_int_equal(WEXITSTATUS(rr.wstatus), 0);
	assert_int_equal(rr.res.ntests, 4);
	assert_non_null(strstr(rr.res.tests[0].out, "parent gone"));
	/* the double-forked setsid child did not outlive test 1: only the
	 * runner and test 2's shell exist */
	assert_string_equal(rr.res.tests[1].out, "runlet-runner\nsh\n");
	/* kill(-1, SIGKILL) from a program spares the runner */
	assert_string_equal(rr.res.tests[2].out, "killed 0, child signal 9, still here\n");
	assert_string_equal(rr.res.tests[3].out, "alive\n");
	rr_free(&rr);
	wire_plan_free(&p);

	/* parallel: a test's orphan dies with its test while the neighbour
	 * runs on; the runner's kill(-1) waits for the end */
	eval_plan(&p);
	step_env(&p.run, nsenv);
	p.parallel = 2;
	add_cmd(&p, 1, "%s daemon 1000; echo parent gone", helper_path());
	add_cmd(&p, 2, "sleep 0.6; echo alive");
	add_cmd(&p, 3, "sleep 0.2; for p in /proc/[0-9]*; do cat $p/comm; done");
	run_plan_with(&p, prefix, &rr);
	assert_true(rr.decoded);
	assert_null(rr.res.error);
	assert_true(rr.res.complete);
	assert_int_equal(WEXITSTATUS(rr.wstatus), 0);
	assert_int_equal(rr.res.ntests, 3);
	assert_non_null(strstr(rr.res.tests[0].out, "parent gone"));
	assert_string_equal(rr.res.tests[1].out, "alive\n");
	/* the runner, two workers, test 2's shell and sleep, test 3's shell */
	assert_null(strstr(rr.res.tests[2].out, "runner_helper"));
	int runners = 0;
	for (const char *q = rr.res.tests[2].out; (q = strstr(q, "runlet-runner\n")); q++)
		runners++;
	assert_int_equal(runners, 3);
	rr_free(&rr);
	wire_plan_free(&p);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
#define T(f) cmocka_unit_test_setup_teardown(f, setup_dir, teardown_dir)
	const struct CMUnitTest tests[] = {
		T(test_cgroup_v1_limits),
		T(test_cgroup_v2_limits),
		T(test_cgroup_v2_kill_and_cpu),
		T(test_cgroup_v1_parallel),
		T(test_cgroup_v2_parallel),
		T(test_cgroup_v1_reuse),
		T(test_cgroup_v2_reuse),
		T(test_pid1_namespace),
	};
	return runner_tests_done(cmocka_run_group_tests(tests, NULL, NULL),
				 sizeof(tests) / sizeof(tests[0]));
}
