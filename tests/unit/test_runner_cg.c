/* Tests of the runner's cgroup module (runner/cgroup.c) against a fake
 * cgroupfs: mkdir and rmdir are wrapped (-Wl,--wrap) so a directory made
 * under RUNLET_FAKE_CGROOT gets the control files a kernel would create,
 * and rmdir refuses (EBUSY) while cgroup.procs lists a process. Covers the
 * v2 and v1 paths whatever the host has; the real hierarchies are exercised
 * by test_runner_sandbox. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
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

#include "runner/cgroup.h"

int __real_mkdir(const char *path, mode_t mode);
int __real_rmdir(const char *path);
int __wrap_mkdir(const char *path, mode_t mode);
int __wrap_rmdir(const char *path);

struct fake_file {
	const char *name;
	const char *content;
	const char *skip_env; /* not created when this variable is set */
};

static const struct fake_file fake_v2[] = {
	{"cgroup.procs", "", NULL},
	{"cgroup.kill", "", "RUNLET_FAKE_NOKILL"},
	{"memory.max", "max\n", "RUNLET_FAKE_NOMEM"},
	{"memory.swap.max", "max\n", "RUNLET_FAKE_NOMEM"},
	{"memory.peak", "41943040\n", "RUNLET_FAKE_NOMEM"},
	{"memory.current", "1048576\n", "RUNLET_FAKE_NOMEM"},
	{"memory.events", "low 0\nhigh 0\nmax 2\noom 1\noom_kill 1\n", "RUNLET_FAKE_NOMEM"},
	{"pids.max", "max\n", NULL},
	{"pids.current", "0\n", NULL},
	{"cpu.stat", "usage_usec 250000\nuser_usec 200000\nsystem_usec 50000\n", NULL},
};

static const struct fake_file fake_v1[] = {
	{"cgroup.procs", "", NULL},
	{"memory.limit_in_bytes", "9223372036854771712\n", NULL},
	{"memory.memsw.limit_in_bytes", "9223372036854771712\n", "RUNLET_FAKE_NOSWAP"},
	{"memory.max_usage_in_bytes", "20971520\n", NULL},
	{"memory.usage_in_bytes", "1048576\n", NULL},
	{"memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n", "RUNLET_FAKE_OLDKERNEL"},
	{"memory.failcnt", "3\n", NULL},
	{"pids.max", "max\n", NULL},
	{"pids.current", "0\n", NULL},
	{"cpuacct.usage", "123456789\n", NULL},
};

static void put(const char *dir, const char *name, const char *content)
{
	char p[600];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs(content, f);
	fclose(f);
}

static void get(const char *dir, const char *name, char *buf, size_t len)
{
	char p[600];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	FILE *f = fopen(p, "r");
	buf[0] = '\0';
	if (!f)
		return;
	size_t n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	fclose(f);
}

static int under_fake(const char *path)
{
	const char *root = getenv("RUNLET_FAKE_CGROOT");
	size_t n = root ? strlen(root) : 0;
	return n && strncmp(path, root, n) == 0 && path[n] == '/';
}

int __wrap_mkdir(const char *path, mode_t mode)
{
	int rc = __real_mkdir(path, mode);
	if (rc < 0 || !under_fake(path))
		return rc;
	int v1 = getenv("RUNLET_FAKE_V1") != NULL;
	const struct fake_file *t = v1 ? fake_v1 : fake_v2;
	size_t n = v1 ? sizeof(fake_v1) / sizeof(*t) : sizeof(fake_v2) / sizeof(*t);
	for (size_t i = 0; i < n; i++)
		if (!t[i].skip_env || !getenv(t[i].skip_env))
			put(path, t[i].name, t[i].content);
	return 0;
}

static int rm_file(const char *p, const struct stat *sb, int flag, struct FTW *f)
{
	return f->level > 0 ? unlink(p) : 0;
}

int __wrap_rmdir(const char *path)
{
	if (!under_fake(path))
		return __real_rmdir(path);
	char procs[256];
	struct stat sb;
	if (stat(path, &sb) < 0)
		return -1; /* errno from stat: ENOENT */
	get(path, "cgroup.procs", procs, sizeof(procs));
	if (procs[0]) {
		errno = EBUSY;
		return -1;
	}
	nftw(path, rm_file, 4, FTW_PHYS);
	return __real_rmdir(path);
}

static char g_root[128];

static int setup_root(void **state)
{
	snprintf(g_root, sizeof(g_root), "/tmp/runlet-fakecg-XXXXXX");
	assert_non_null(mkdtemp(g_root));
	setenv("RUNLET_FAKE_CGROOT", g_root, 1);
	return 0;
}

static int rm_any(const char *p, const struct stat *sb, int flag, struct FTW *f)
{
	return remove(p);
}

static int teardown_root(void **state)
{
	unsetenv("RUNLET_FAKE_CGROOT");
	unsetenv("RUNLET_FAKE_V1");
	unsetenv("RUNLET_FAKE_NOKILL");
	unsetenv("RUNLET_FAKE_NOMEM");
	unsetenv("RUNLET_FAKE_NOSWAP");
	unsetenv("RUNLET_FAKE_OLDKERNEL");
	nftw(g_root, rm_any, 8, FTW_DEPTH | FTW_PHYS);
	return 0;
}

static pid_t sleeper(void)
{
	pid_t p = fork();
	assert_true(p >= 0);
	if (p == 0) {
		pause();
		_exit(0);
	}
	return p;
}

static void test_v2_limits_attach_stats_kill(void **state)
{
	struct cg_conf conf = {1, g_root, g_root, g_root, 0};
	struct wire_limits lim = {.mem_kb = 65536, .pids = 10};
	struct cg_step cg;
	char err[512] = "", buf[256], dir[256];
	assert_true(cg_enabled(&conf));
	assert_int_equal(cg_step_create(&conf, "s1", &lim, &cg, err, sizeof(err)), 0);
	snprintf(dir, sizeof(dir), "%s/s1", g_root);
	/* one directory in v2, whatever names the plan gave */
	assert_int_equal(cg.ndirs, 1);
	get(dir, "memory.max", buf, sizeof(buf));
	assert_string_equal(buf, "67108864");
	get(dir, "memory.swap.max", buf, sizeof(buf));
	assert_string_equal(buf, "0");
	get(dir, "pids.max", buf, sizeof(buf));
	assert_string_equal(buf, "10");
	assert_int_equal(cg_step_attach(&cg, 4242, err, sizeof(err)), 0);
	get(dir, "cgroup.procs", buf, sizeof(buf));
	assert_string_equal(buf, "4242");
	uint64_t ns = 0;
	assert_int_equal(cg_step_cpu_ns(&cg, &ns), 0);
	assert_int_equal(ns, 250000000ull);
	uint64_t peak = 0;
	int have = 0, oom = 0;
	cg_step_stats(&cg, &peak, &have, &oom);
	assert_true(have);
	assert_int_equal(peak, 40960);
	assert_true(oom);
	cg_step_kill(&cg);
	get(dir, "cgroup.kill", buf, sizeof(buf));
	assert_string_equal(buf, "1");
	put(dir, "cgroup.procs", ""); /* the kernel empties it */
	assert_int_equal(cg_step_destroy(&cg, err, sizeof(err)), 0);
	assert_int_equal(access(dir, F_OK), -1);
	/* idempotent */
	assert_int_equal(cg_step_destroy(&cg, err, sizeof(err)), 0);
}

static void test_v2_pids_from_subtree_control(void **state)
{
	/* the plan names only the unified dir (as cg_mem): pids are limited
	 * there when its subtree_control enables them */
	struct cg_conf conf = {1, g_root, NULL, NULL, 0};
	struct wire_limits lim = {.pids = 12};
	struct cg_step cg;
	char err[512] = "", buf[64], dir[256];
	cg_conf_probe(&conf);
	assert_false(cg_limits_pids(&conf)); /* no subtree_control file */
	put(g_root, "cgroup.subtree_control", "cpu memory pids\n");
	cg_conf_probe(&conf);
	assert_true(cg_limits_pids(&conf));
	assert_int_equal(cg_step_create(&conf, "s1", &lim, &cg, err, sizeof(err)), 0);
	snprintf(dir, sizeof(dir), "%s/s1", g_root);
	get(dir, "pids.max", buf, sizeof(buf));
	assert_string_equal(buf, "12");
	assert_int_equal(cg_step_destroy(&cg, err, sizeof(err)), 0);
	put(g_root, "cgroup.subtree_control", "memory\n");
	cg_conf_probe(&conf);
	assert_false(cg_limits_pids(&conf));
	/* v1 never guesses */
	struct cg_conf v1 = {0, g_root, NULL, NULL, 0};
	cg_conf_probe(&v1);
	assert_false(cg_limits_pids(&v1));
}

static void test_v2_no_memory_controller(void **state)
{
	setenv("RUNLET_FAKE_NOMEM", "1", 1);
	struct cg_conf conf = {1, g_root, NULL, NULL, 0};
	struct wire_limits lim = {.mem_kb = 1024};
	struct cg_step cg;
	char err[512] = "", dir[256];
	assert_int_equal(cg_step_create(&conf, "s1", &lim, &cg, err, sizeof(err)),
			 -ENOENT);
	assert_non_null(strstr(err, "memory.max"));
	assert_non_null(strstr(err, "cgroup.subtree_control"));
	snprintf(dir, sizeof(dir), "%s/s1", g_root);
	assert_int_equal(access(dir, F_OK), -1); /* nothing left behind */
	/* without a memory limit there is nothing to refuse */
	lim.mem_kb = 0;
	assert_int_equal(cg_step_create(&conf, "s1", &lim, &cg, err, sizeof(err)), 0);
	uint64_t peak = 1;
	int have = 1, oom = 1;
	cg_step_stats(&cg, &peak, &have, &oom);
	assert_false(have); /* no memory.peak: the runner falls back to rusage */
	assert_false(oom);
	assert_int_equal(cg_step_destroy(&cg, err, sizeof(err)), 0);
}

static void test_v2_without_cgroup_kill(void **state)
{
	/* kernels before 5.14: kill every listed process instead */
	setenv("RUNLET_FAKE_NOKILL", "1", 1);
	struct cg_conf conf = {1, NULL, g_root, NULL, 0};
	struct wire_limits lim = {0};
	struct cg_step cg;
	char err[512] = "", dir[256];
	pid_t victim = sleeper();
	assert_int_equal(cg_step_create(&conf, "s2", &lim, &cg, err, sizeof(err)), 0);
	assert_int_equal(cg_step_attach(&cg, victim, err, sizeof(err)), 0);
	cg_step_kill(&cg);
	int st = 0;
	assert_int_equal(waitpid(victim, &st, 0), victim);
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGKILL);
	snprintf(dir, sizeof(dir), "%s/s2", g_root);
	put(dir, "cgroup.procs", "");
	assert_int_equal(cg_step_destroy(&cg, err, sizeof(err)), 0);
	assert_int_equal(access(dir, F_OK), -1);
}

static void test_existing_cgroup(void **state)
{
	struct cg_conf conf = {1, g_root, NULL, NULL, 0};
	struct wire_limits lim = {0};
	struct cg_step cg;
	char err[512] = "", dir[256];
	snprintf(dir, sizeof(dir), "%s/s3", g_root);
	/* a stale empty one is replaced */
	assert_int_equal(mkdir(dir, 0755), 0);
	assert_int_equal(cg_step_create(&conf, "s3", &lim, &cg, err, sizeof(err)), 0);
	assert_int_equal(cg_step_destroy(&cg, err, sizeof(err)), 0);
	/* one in use is refused, and left alone */
	assert_int_equal(mkdir(dir, 0755), 0);
	put(dir, "cgroup.procs", "777\n");
	assert_int_equal(cg_step_create(&conf, "s3", &lim, &cg, err, sizeof(err)),
			 -EEXIST);
	assert_non_null(strstr(err, "in use"));
	assert_int_equal(access(dir, F_OK), 0);
	put(dir, "cgroup.procs", "");
	assert_int_equal(rmdir(dir), 0);
}

static void make_v1_parents(char mem[256], char pids[256], char cpu[256])
{
	snprintf(mem, 256, "%s/memory", g_root);
	snprintf(pids, 256, "%s/pids", g_root);
	snprintf(cpu, 256, "%s/cpuacct", g_root);
	unsetenv("RUNLET_FAKE_CGROOT"); /* plain dirs for the hierarchies */
	assert_int_equal(mkdir(mem, 0755), 0);
	assert_int_equal(mkdir(pids, 0755), 0);
	assert_int_equal(mkdir(cpu, 0755), 0);
	setenv("RUNLET_FAKE_CGROOT", g_root, 1);
	setenv("RUNLET_FAKE_V1", "1", 1);
}

static void test_v1_per_controller(void **state)
{
	char mem[256], pids[256], cpu[256], buf[256], dir[300];
	make_v1_parents(mem, pids, cpu);
	struct cg_conf conf = {0, mem, pids, cpu, 0};
	struct wire_limits lim = {.mem_kb = 2048, .pids = 7};
	struct cg_step cg;
	char err[512] = "";
	assert_int_equal(cg_step_create(&conf, "s1", &lim, &cg, err, sizeof(err)), 0);
	assert_int_equal(cg.ndirs, 3);
	snprintf(dir, sizeof(dir), "%s/s1", mem);
	get(dir, "memory.limit_in_bytes", buf, sizeof(buf));
	assert_string_equal(buf, "2097152");
	get(dir, "memory.memsw.limit_in_bytes", buf, sizeof(buf));
	assert_string_equal(buf, "2097152"); /* no swap on top */
	snprintf(dir, sizeof(dir), "%s/s1", pids);
	get(dir, "pids.max", buf, sizeof(buf));
	assert_string_equal(buf, "7");
	pid_t victim = sleeper();
	assert_int_equal(cg_step_attach(&cg, victim, err, sizeof(err)), 0);
	const char *parents[3] = {mem, pids, cpu};
	for (int i = 0; i < 3; i++) {
		snprintf(dir, sizeof(dir), "%s/s1", parents[i]);
		get(dir, "cgroup.procs", buf, sizeof(buf));
		assert_int_equal(atoi(buf), victim);
	}
	uint64_t ns = 0;
	assert_int_equal(cg_step_cpu_ns(&cg, &ns), 0);
	assert_int_equal(ns, 123456789ull);
	uint64_t peak = 0;
	int have = 0, oom = 1;
	cg_step_stats(&cg, &peak, &have, &oom);
	assert_true(have);
	assert_int_equal(peak, 20480);
	assert_false(oom); /* oom_kill 0, whatever failcnt says */
	/* v1 has no cgroup.kill: the listed processes are killed */
	cg_step_kill(&cg);
	int st = 0;
	assert_int_equal(waitpid(victim, &st, 0), victim);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	for (int i = 0; i < 3; i++) {
		snprintf(dir, sizeof(dir), "%s/s1", parents[i]);
		put(dir, "cgroup.procs", "");
	}
	assert_int_equal(cg_step_destroy(&cg, err, sizeof(err)), 0);
	for (int i = 0; i < 3; i++) {
		snprintf(dir, sizeof(dir), "%s/s1", parents[i]);
		assert_int_equal(access(dir, F_OK), -1);
	}
}

static void test_v1_old_kernel_and_no_swap(void **state)
{
	char mem[256], pids[256], cpu[256], dir[300], buf[64];
	make_v1_parents(mem, pids, cpu);
	setenv("RUNLET_FAKE_OLDKERNEL", "1", 1);
	setenv("RUNLET_FAKE_NOSWAP", "1", 1);
	struct cg_conf conf = {0, mem, NULL, NULL, 0};
	struct wire_limits lim = {.mem_kb = 4096};
	struct cg_step cg;
	char err[512] = "";
	assert_int_equal(cg_step_create(&conf, "s1", &lim, &cg, err, sizeof(err)), 0);
	assert_int_equal(cg.ndirs, 1);
	snprintf(dir, sizeof(dir), "%s/s1", mem);
	get(dir, "memory.limit_in_bytes", buf, sizeof(buf));
	assert_string_equal(buf, "4194304");
	/* a kernel without swap accounting has no memsw file: not an error */
	get(dir, "memory.memsw.limit_in_bytes", buf, sizeof(buf));
	assert_string_equal(buf, "");
	/* no cpu accounting configured */
	uint64_t ns;
	assert_int_equal(cg_step_cpu_ns(&cg, &ns), -ENOENT);
	uint64_t peak = 0;
	int have = 0, oom = 0;
	cg_step_stats(&cg, &peak, &have, &oom);
	assert_true(oom); /* no oom_kill counter: failcnt 3 */
	assert_int_equal(cg_step_destroy(&cg, err, sizeof(err)), 0);
}

/* A kept step cgroup serves the next test: its CPU time, OOM kills and
 * memory peak start from where the last test left them, and what that test
 * left charged is on top of the memory limit and off the peak. */
static void test_v1_reuse(void **state)
{
	char mem[256], pids[256], cpu[256], dir[300], buf[64];
	make_v1_parents(mem, pids, cpu);
	struct cg_conf conf = {0, mem, pids, cpu, 0};
	struct wire_limits lim = {.mem_kb = 65536, .pids = 7};
	struct cg_step cg;
	char err[512] = "";
	assert_int_equal(cg_step_create(&conf, "s2", &lim, &cg, err, sizeof(err)), 0);
	snprintf(dir, sizeof(dir), "%s/s2", mem);
	put(dir, "memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 1\n");
	assert_int_equal(cg_step_empty(&cg), 0);
	/* 1 MiB left charged by the last test */
	assert_int_equal(cg_step_reuse(&cg, &lim, err, sizeof(err)), 0);
	get(dir, "memory.limit_in_bytes", buf, sizeof(buf));
	assert_string_equal(buf, "68157440"); /* 64 MiB + 1 MiB */
	get(dir, "memory.memsw.limit_in_bytes", buf, sizeof(buf));
	assert_string_equal(buf, "68157440");
	get(dir, "memory.max_usage_in_bytes", buf, sizeof(buf));
	assert_string_equal(buf, "0"); /* reset (the kernel: to the usage) */
	char cdir[300];
	snprintf(cdir, sizeof(cdir), "%s/s2", cpu);
	put(cdir, "cpuacct.usage", "223456789\n");
	uint64_t ns = 0;
	assert_int_equal(cg_step_cpu_ns(&cg, &ns), 0);
	assert_int_equal(ns, 100000000ull); /* since the reuse */
	put(dir, "memory.max_usage_in_bytes", "5242880\n");
	uint64_t peak = 0;
	int have = 0, oom = 1;
	cg_step_stats(&cg, &peak, &have, &oom);
	assert_true(have);
	assert_int_equal(peak, 4096); /* 5 MiB - the 1 MiB left before */
	assert_false(oom);            /* the earlier test's kill */
	put(dir, "memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n");
	cg_step_stats(&cg, &peak, &have, &oom);
	assert_true(oom);
	/* a process not yet reaped still counts: not reused */
	char pdir[300];
	snprintf(pdir, sizeof(pdir), "%s/s2", pids);
	put(pdir, "pids.current", "1\n");
	assert_int_equal(cg_step_reuse(&cg, &lim, err, sizeof(err)), -EAGAIN);
	put(pdir, "pids.current", "0\n");
	assert_int_equal(cg_step_reuse(&cg, &lim, err, sizeof(err)), 0);
	/* more than CG_REUSE_MAX_LEFT still charged: not reused */
	put(dir, "memory.usage_in_bytes", "8388608\n");
	assert_int_equal(cg_step_reuse(&cg, &lim, err, sizeof(err)), -EAGAIN);
	assert_int_equal(cg_step_destroy(&cg, err, sizeof(err)), 0);
	assert_int_equal(access(dir, F_OK), -1);
}

/* Still in use after the test: not emptied, so not kept. */
static void test_reuse_needs_empty(void **state)
{
	struct cg_conf conf = {1, g_root, g_root, g_root, 0};
	struct wire_limits lim = {0};
	struct cg_step cg;
	char err[512] = "", dir[300];
	setenv("RUNLET_FAKE_NOKILL", "1", 1);
	assert_int_equal(cg_step_create(&conf, "w1", &lim, &cg, err, sizeof(err)), 0);
	snprintf(dir, sizeof(dir), "%s/w1", g_root);
	put(dir, "cgroup.procs", "2147483646\n"); /* nothing to kill, never leaves */
	assert_int_equal(cg_step_empty(&cg), -EBUSY);
	put(dir, "cgroup.procs", "");
	assert_int_equal(cg_step_destroy(&cg, err, sizeof(err)), 0);
}

static void test_v2_reuse(void **state)
{
	struct cg_conf conf = {1, g_root, g_root, g_root, 0};
	struct wire_limits lim = {.mem_kb = 65536, .pids = 10};
	struct cg_step cg;
	char err[512] = "", buf[64], dir[300];
	assert_int_equal(cg_step_create(&conf, "w1", &lim, &cg, err, sizeof(err)), 0);
	snprintf(dir, sizeof(dir), "%s/w1", g_root);
	assert_int_equal(cg_step_empty(&cg), 0);
	assert_int_equal(cg_step_reuse(&cg, &lim, err, sizeof(err)), 0);
	get(dir, "memory.max", buf, sizeof(buf));
	assert_string_equal(buf, "68157440");
	/* the peak is reset through a descriptor of its own, read through it */
	assert_true(cg.peak_fd >= 0);
	get(dir, "memory.peak", buf, sizeof(buf));
	assert_memory_equal(buf, "reset\n", 6);
	put(dir, "memory.peak", "6291456\n");
	put(dir, "cpu.stat", "usage_usec 400000\nuser_usec 300000\nsystem_usec 100000\n");
	uint64_t ns = 0, peak = 0;
	int have = 0, oom = 1;
	assert_int_equal(cg_step_cpu_ns(&cg, &ns), 0);
	assert_int_equal(ns, 150000000ull); /* 400 ms - the 250 ms before */
	cg_step_stats(&cg, &peak, &have, &oom);
	assert_true(have);
	assert_int_equal(peak, 5120); /* 6 MiB - 1 MiB */
	assert_false(oom);            /* oom_kill 1 was before */
	assert_int_equal(cg_step_destroy(&cg, err, sizeof(err)), 0);
	assert_int_equal(access(dir, F_OK), -1);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup_root, teardown_root)
	const struct CMUnitTest tests[] = {
		T(test_v2_limits_attach_stats_kill),
		T(test_v2_pids_from_subtree_control),
		T(test_v2_no_memory_controller),
		T(test_v2_without_cgroup_kill),
		T(test_existing_cgroup),
		T(test_v1_per_controller),
		T(test_v1_old_kernel_and_no_swap),
		T(test_v1_reuse),
		T(test_reuse_needs_empty),
		T(test_v2_reuse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
