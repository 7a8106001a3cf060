/* The native backend's pool of pre-forked single-use sandboxes, for real
 * (as root): a pooled sandbox runs a plan, no two jobs share one, one killed
 * while idle is replaced, close() leaves nothing, several threads take at
 * once; and the latency of execute() with and without the pool. Skips (77)
 * when not root. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "backends/backend.h"
#include "backends/native/features.h"
#include "backends/native/pool.h"
#include "backends/native/sandbox.h"
#include "core/config.h"
#include "runlet/plugin.h"

static struct cfg cfg;
static struct cfg_runner runner;
static char probe[1024], real_runner[1024], job_id[64];

static void plan_init(struct wire_plan *p, const char *mode)
{
	memset(p, 0, sizeof(*p));
	p->uid = p->gid = -1;
	assert_int_equal(wire_strv_push(&p->run.argv, &p->run.argc, mode), 0);
	p->run.lim.wall_ms = 5000;
	p->run.lim.mem_kb = 64 * 1024;
	p->run.lim.pids = 16;
	p->run.lim.out_kb = 64;
	p->run.lim.err_kb = 16;
	p->tests = calloc(1, sizeof(*p->tests));
	p->tests[0].num = 1;
	p->tests[0].input = strdup("");
	p->ntests = 1;
}

static int run_plan(void *st, struct wire_plan *p, struct wire_result *res,
		    char *err, size_t errlen)
{
	struct backend_job job = {
		.cfg = &cfg, .runner = &runner, .job_id = job_id, .plan = p,
	};
	return native_backend_ops.execute(st, &job, res, err, errlen);
}

/* Run mode; the test's out into out (may be NULL). Fails the test on an
 * error. */
static void run_mode(void *st, const char *mode, char *out, size_t outlen)
{
	struct wire_plan p;
	struct wire_result res;
	char err[1024];
	plan_init(&p, mode);
	if (run_plan(st, &p, &res, err, sizeof(err)) < 0)
		fail_msg("execute: %s", err);
	assert_true(res.complete);
	assert_int_equal(res.ntests, 1);
	if (out)
		snprintf(out, outlen, "%s", res.tests[0].out ? res.tests[0].out : "");
	wire_result_free(&res);
	wire_plan_free(&p);
}

static void *open_pool(const char *size, const char *runner_path)
{
	struct backend_opts o = {.insecure = 0, .runner_path = runner_path};
	void *st = NULL;
	char err[1024];
	setenv(SBX_POOL_ENV, size, 1);
	int rc = native_backend_ops.open(&cfg, &o, &st, err, sizeof(err));
	unsetenv(SBX_POOL_ENV);
	if (rc < 0)
		fail_msg("open: %s", err);
	return st;
}

/* Wait until the pool holds n ready sandboxes of the runner. */
static void wait_ready(void *st, unsigned n)
{
	struct sbx_pool *p = sbx_native_pool(st);
	assert_non_null(p);
	for (int i = 0; i < 1000; i++) {
		if (sbx_pool_ready(p, &runner) == n)
			return;
		usleep(10000);
	}
	fail_msg("the pool did not reach %u ready sandboxes in 10 s (has %u)",
		 n, sbx_pool_ready(p, &runner));
}

static int alive(pid_t pid)
{
	char path[64], buf[256];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	const char *rp = strrchr(buf, ')');
	return rp && rp[1] == ' ' && rp[2] != 'Z' && rp[2] != 'X';
}

static const char *field(const char *text, const char *key, char *out, size_t len)
{
	const char *at = strstr(text, key);
	if (!at)
		return "";
	at += strlen(key);
	snprintf(out, len, "%.*s", (int)strcspn(at, "\n"), at);
	return out;
}

/* No submission cgroup of this process is left (pooled ones are named
 * "<pid>-pool-..."), and none of the test's jobs. */
static void assert_no_cgroups(void)
{
	struct sbx_features f;
	char pool_prefix[64];
	snprintf(pool_prefix, sizeof(pool_prefix), "%d-", (int)getpid());
	sbx_features_detect("/sys/fs/cgroup", NULL, probe, "/tmp", &f);
	const char *bases[] = {f.cg.mem, f.cg.pids, f.cg.cpu};
	for (int i = 0; i < 3; i++) {
		DIR *d = bases[i][0] ? opendir(bases[i]) : NULL;
		struct dirent *e;
		while (d && (e = readdir(d)))
			if (strncmp(e->d_name, pool_prefix, strlen(pool_prefix)) == 0 ||
			    strncmp(e->d_name, job_id, strlen(job_id)) == 0)
				fail_msg("cgroup %s/%s left behind", bases[i], e->d_name);
		if (d)
			closedir(d);
	}
}

/* The pool starts with a language's second job and is used from then on:
 * the plan runs in one of the ready sandboxes, which is gone afterwards. */
static void test_pooled_runs_plan(void **s)
{
	void *st = open_pool("2", probe);
	char out[8192], v[256];
	pid_t before[SBX_POOL_MAX];
	run_mode(st, "noop", NULL, 0);
	assert_int_equal(sbx_pool_ready(sbx_native_pool(st), &runner), 0);
	run_mode(st, "noop", NULL, 0);
	wait_ready(st, 2);
	size_t n = sbx_pool_pids(sbx_native_pool(st), &runner, before, SBX_POOL_MAX);
	assert_int_equal(n, 2);
	run_mode(st, "report", out, sizeof(out));
	int gone = !alive(before[0]) + !alive(before[1]);
	assert_int_equal(gone, 1);
	assert_string_equal(field(out, "pid=", v, sizeof(v)), "1");
	assert_string_equal(field(out, "hostname=", v, sizeof(v)), "runlet");
	assert_string_equal(field(out, "cwd=", v, sizeof(v)), "/tmp");
	assert_string_equal(field(out, "ifaces=", v, sizeof(v)), "lo,");
	assert_string_equal(field(out, "CapBnd:\t", v, sizeof(v)), "00000000000000eb");
	assert_string_equal(field(out, "NoNewPrivs:\t", v, sizeof(v)), "1");
	assert_string_equal(field(out, "workdir_write=", v, sizeof(v)), "OK");
	assert_string_equal(field(out, "host_root_visible=", v, sizeof(v)), "no");
	assert_non_null(strstr(out, "memory:/|"));
	native_backend_ops.close(st);
	assert_no_cgroups();
}

/* Two jobs never share a sandbox: job 2 does not see job 1's file, and
 * each has its own pid namespace. */
static void test_no_sharing(void **s)
{
	void *st = open_pool("2", probe);
	char a[8192], b[8192], va[256], vb[256];
	run_mode(st, "noop", NULL, 0);
	run_mode(st, "noop", NULL, 0);
	wait_ready(st, 2);
	run_mode(st, "report", a, sizeof(a));
	run_mode(st, "report", b, sizeof(b));
	assert_string_equal(field(a, "seen_before=", va, sizeof(va)), "no");
	assert_string_equal(field(b, "seen_before=", vb, sizeof(vb)), "no");
	field(a, "pidns=", va, sizeof(va));
	field(b, "pidns=", vb, sizeof(vb));
	assert_true(strncmp(va, "pid:[", 5) == 0);
	assert_string_not_equal(va, vb);
	native_backend_ops.close(st);
	assert_no_cgroups();
}

/* A ready sandbox whose runner dies while idle is discarded and replaced;
 * jobs keep running. */
static void test_idle_killed_replaced(void **s)
{
	void *st = open_pool("2", probe);
	struct sbx_pool *p = sbx_native_pool(st);
	pid_t pids[SBX_POOL_MAX], now[SBX_POOL_MAX];
	run_mode(st, "noop", NULL, 0);
	run_mode(st, "noop", NULL, 0);
	wait_ready(st, 2);
	assert_int_equal(sbx_pool_pids(p, &runner, pids, SBX_POOL_MAX), 2);
	assert_int_equal(kill(pids[0], SIGKILL), 0);
	assert_int_equal(kill(pids[1], SIGKILL), 0);
	for (int i = 0; i < 500 && (alive(pids[0]) || alive(pids[1])); i++)
		usleep(2000);
	char out[8192], v[64];
	run_mode(st, "report", out, sizeof(out));
	assert_string_equal(field(out, "seen_before=", v, sizeof(v)), "no");
	wait_ready(st, 2);
	size_t n = sbx_pool_pids(p, &runner, now, SBX_POOL_MAX);
	assert_int_equal(n, 2);
	for (size_t i = 0; i < n; i++) {
		assert_true(now[i] != pids[0] && now[i] != pids[1]);
		assert_true(alive(now[i]));
	}
	native_backend_ops.close(st);
	assert_no_cgroups();
}

/* Ready sandboxes killed just before a take (the kill still landing):
 * the job is judged all the same, in a sandbox of its own. The probe
 * writes nothing before its plan, the runner its header. */
static void killed_at_take(const char *runner_path, const char *mode,
			   int rounds)
{
	void *st = open_pool("2", runner_path);
	struct sbx_pool *p = sbx_native_pool(st);
	pid_t pids[SBX_POOL_MAX];
	run_mode(st, mode, NULL, 0);
	run_mode(st, mode, NULL, 0);
	for (int round = 0; round < rounds; round++) {
		wait_ready(st, 2);
		size_t n = sbx_pool_pids(p, &runner, pids, SBX_POOL_MAX);
		for (size_t i = 0; i < n; i++)
			kill(pids[i], SIGKILL);
		run_mode(st, mode, NULL, 0);
	}
	native_backend_ops.close(st);
	assert_no_cgroups();
}

static void test_killed_at_take(void **s)
{
	killed_at_take(probe, "noop", 20);
	killed_at_take(real_runner, "/bin/true", 10);
}

/* close() kills and reaps every ready sandbox and removes its cgroups. */
static void test_close_leaves_nothing(void **s)
{
	void *st = open_pool("3", probe);
	pid_t pids[SBX_POOL_MAX];
	run_mode(st, "noop", NULL, 0);
	run_mode(st, "noop", NULL, 0);
	wait_ready(st, 3);
	size_t n = sbx_pool_pids(sbx_native_pool(st), &runner, pids, SBX_POOL_MAX);
	assert_int_equal(n, 3);
	native_backend_ops.close(st);
	for (size_t i = 0; i < n; i++) {
		assert_false(alive(pids[i]));
		/* reaped, not a zombie: not our child any more */
		assert_int_equal(waitpid(pids[i], NULL, WNOHANG), -1);
	}
	assert_no_cgroups();
}

#define NTHREADS 4
#define NRUNS 5
struct worker_arg {
	void *st;
	int bad;
};

static void *worker(void *arg)
{
	struct worker_arg *w = arg;
	for (int i = 0; i < NRUNS; i++) {
		struct wire_plan p;
		struct wire_result res;
		char err[1024], v[64];
		plan_init(&p, "report");
		int rc = run_plan(w->st, &p, &res, err, sizeof(err));
		wire_plan_free(&p);
		if (rc < 0 || !res.complete || res.ntests != 1) {
			fprintf(stderr, "concurrent run failed: %s\n", err);
			w->bad = 1;
			return NULL;
		}
		if (strcmp(field(res.tests[0].out, "seen_before=", v, sizeof(v)), "no"))
			w->bad = 2;
		wire_result_free(&res);
	}
	return NULL;
}

/* Several threads take from the pool at once: every job in its own
 * sandbox (none sees an earlier job's file). */
static void test_concurrent_takes(void **s)
{
	void *st = open_pool("4", probe);
	static struct worker_arg w[NTHREADS];
	pthread_t t[NTHREADS];
	run_mode(st, "noop", NULL, 0);
	run_mode(st, "noop", NULL, 0);
	wait_ready(st, 4);
	for (int i = 0; i < NTHREADS; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].st = st;
		assert_int_equal(pthread_create(&t[i], NULL, worker, &w[i]), 0);
	}
	for (int i = 0; i < NTHREADS; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(w[i].bad, 0);
	}
	native_backend_ops.close(st);
	assert_no_cgroups();
}

/* The real runlet-runner in a pooled sandbox: its drop to the sandbox
 * user, seccomp and capabilities are as without the pool. */
static void test_real_runner_pooled(void **s)
{
	void *st = open_pool("2", real_runner);
	run_mode(st, "/bin/true", NULL, 0);
	run_mode(st, "/bin/true", NULL, 0);
	wait_ready(st, 2);
	struct wire_plan p;
	struct wire_result res;
	char err[1024];
	plan_init(&p, "/bin/sh");
	wire_strv_push(&p.run.argv, &p.run.argc, "-c");
	wire_strv_push(&p.run.argv, &p.run.argc,
		       "id; hostname; ls -A /tmp; grep -E '^(Cap|NoNewPrivs|Seccomp)' /proc/self/status");
	wire_strv_push(&p.run.envp, &p.run.envc, "PATH=/usr/bin:/bin");
	p.run.lim.cpu_ms = 2000;
	p.run.lim.nofile = 64;
	p.run.lim.fsize_kb = 1024;
	p.run.lim.stack_kb = 8192;
	if (run_plan(st, &p, &res, err, sizeof(err)) < 0)
		fail_msg("execute: %s", err);
	if (res.error)
		fail_msg("runner error: %s", res.error);
	assert_int_equal(res.ntests, 1);
	const char *o = res.tests[0].out;
	print_message("%s%s", o, res.tests[0].err ? res.tests[0].err : "");
	assert_int_equal(res.tests[0].status, 0);
	assert_non_null(strstr(o, "uid=1001"));
	assert_non_null(strstr(o, "\nrunlet\n"));
	assert_non_null(strstr(o, "CapEff:\t0000000000000000"));
	assert_non_null(strstr(o, "CapBnd:\t00000000000000eb"));
	assert_non_null(strstr(o, "NoNewPrivs:\t1"));
	assert_non_null(strstr(o, "Seccomp:\t2"));
	wire_result_free(&res);
	wire_plan_free(&p);
	native_backend_ops.close(st);
	assert_no_cgroups();
}

/* A shell plan for the real runner; the test's stdout into out; returns
 * its status (enum runlet_exit_kind). */
static int run_sh(void *st, const char *script, uint64_t mem_kb, char *out,
		  size_t outlen)
{
	struct wire_plan p;
	struct wire_result res;
	char err[1024];
	plan_init(&p, "/bin/sh");
	wire_strv_push(&p.run.argv, &p.run.argc, "-c");
	wire_strv_push(&p.run.argv, &p.run.argc, script);
	wire_strv_push(&p.run.envp, &p.run.envc, "PATH=/usr/bin:/bin");
	p.run.lim.cpu_ms = 2000;
	p.run.lim.nofile = 64;
	p.run.lim.fsize_kb = 1024;
	p.run.lim.stack_kb = 8192;
	if (mem_kb)
		p.run.lim.mem_kb = mem_kb;
	if (run_plan(st, &p, &res, err, sizeof(err)) < 0)
		fail_msg("execute: %s", err);
	if (res.error)
		fail_msg("runner error: %s", res.error);
	assert_int_equal(res.ntests, 1);
	snprintf(out, outlen, "%s", res.tests[0].out ? res.tests[0].out : "");
	int status = res.tests[0].status;
	wire_result_free(&res);
	wire_plan_free(&p);
	return status;
}

static int count_procs(const char *needle)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int n = 0;
	while ((e = readdir(d))) {
		char p[300], buf[512];
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(p, sizeof(p), "/proc/%s/cmdline", e->d_name);
		int fd = open(p, O_RDONLY);
		if (fd < 0)
			continue;
		ssize_t k = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		for (ssize_t i = 0; i < k; i++)
			if (!buf[i])
				buf[i] = ' ';
		buf[k > 0 ? k : 0] = '\0';
		if (strstr(buf, needle))
			n++;
	}
	closedir(d);
	return n;
}

/* What a hostile job leaves in a pooled sandbox (a setsid'd sleeper, a file
 * in /dev/shm) dies or vanishes with it: the next job sees none of it. */
static void test_leftovers_die(void **s)
{
	void *st = open_pool("2", real_runner);
	char out[8192];
	run_mode(st, "/bin/true", NULL, 0);
	run_mode(st, "/bin/true", NULL, 0);
	wait_ready(st, 2);
	run_sh(st, "echo hi > /dev/shm/left && echo wrote; "
		   "(setsid sleep 987655 &); echo done", 0, out, sizeof(out));
	assert_non_null(strstr(out, "wrote"));
	assert_non_null(strstr(out, "done"));
	assert_int_equal(count_procs("sleep 987655"), 0);
	run_sh(st, "ls -A /dev/shm; echo end", 0, out, sizeof(out));
	assert_non_null(strstr(out, "end"));
	assert_null(strstr(out, "left"));
	native_backend_ops.close(st);
	assert_int_equal(count_procs("sleep 987655"), 0);
	assert_no_cgroups();
}

/* A job whose limits exceed those the ready sandboxes were made with gets
 * one of its own; the ready ones stay. */
static void test_bigger_job_not_pooled(void **s)
{
	void *st = open_pool("2", real_runner);
	pid_t pids[SBX_POOL_MAX];
	char out[8192];
	run_mode(st, "/bin/true", NULL, 0);
	run_mode(st, "/bin/true", NULL, 0);
	wait_ready(st, 2);
	assert_int_equal(sbx_pool_pids(sbx_native_pool(st), &runner, pids,
				       SBX_POOL_MAX), 2);
	run_sh(st, "echo big", 512 * 1024, out, sizeof(out));
	assert_non_null(strstr(out, "big"));
	assert_true(alive(pids[0]) && alive(pids[1]));
	native_backend_ops.close(st);
	assert_no_cgroups();
}

/* The job's own memory limit holds in a pooled sandbox, whose submission
 * cgroup was made for the language's largest job: 100 MB under a 32 MB
 * job limit is MLE (the language allows 64 MB, the pooled cgroup more). */
static void test_job_limits_from_plan(void **s)
{
	void *st = open_pool("2", real_runner);
	pid_t pids[SBX_POOL_MAX];
	char out[8192];
	const char *eat = "exec python3 -c 'x = bytearray(100 << 20); print(len(x))'";
	run_mode(st, "/bin/true", NULL, 0);
	run_mode(st, "/bin/true", NULL, 0);
	wait_ready(st, 2);
	assert_int_equal(sbx_pool_pids(sbx_native_pool(st), &runner, pids,
				       SBX_POOL_MAX), 2);
	int pooled = run_sh(st, eat, 32 * 1024, out, sizeof(out));
	assert_true(!alive(pids[0]) || !alive(pids[1])); /* it was pooled */
	assert_int_equal(pooled, RUNLET_EXIT_MEMORY);
	native_backend_ops.close(st);
	st = open_pool("0", real_runner);
	assert_int_equal(run_sh(st, eat, 32 * 1024, out, sizeof(out)),
			 RUNLET_EXIT_MEMORY);
	native_backend_ops.close(st);
	assert_no_cgroups();
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

#define NLAT 50
/* Median execute() of a trivial plan (us); wait: let the pool refill
 * before each job, as between a server's jobs. */
static uint64_t median_us(void *st, const char *mode, int wait)
{
	uint64_t t[NLAT];
	struct timespec a, b;
	for (int i = 0; i < NLAT; i++) {
		if (wait)
			wait_ready(st, 2);
		clock_gettime(CLOCK_MONOTONIC, &a);
		run_mode(st, mode, NULL, 0);
		clock_gettime(CLOCK_MONOTONIC, &b);
		t[i] = (uint64_t)(b.tv_sec - a.tv_sec) * 1000000 +
		       (uint64_t)(b.tv_nsec - a.tv_nsec) / 1000;
	}
	qsort(t, NLAT, sizeof(t[0]), cmp_u64);
	return (t[NLAT / 2 - 1] + t[NLAT / 2]) / 2;
}

/* With the probe (nothing to exec inside) and with the real runner
 * running /bin/true. */
static void latency_of(const char *what, const char *runner_path,
		       const char *mode, int must_win)
{
	void *st = open_pool("0", runner_path);
	uint64_t fresh = median_us(st, mode, 0);
	native_backend_ops.close(st);
	st = open_pool("2", runner_path);
	run_mode(st, mode, NULL, 0);
	run_mode(st, mode, NULL, 0);
	uint64_t pooled = median_us(st, mode, 1);
	uint64_t burst = median_us(st, mode, 0);
	native_backend_ops.close(st);
	print_message("%s: execute() of a trivial plan, median of %d: without "
		      "pool %.2f ms, with pool (ready) %.2f ms, with pool "
		      "back-to-back %.2f ms\n", what, NLAT, fresh / 1000.0,
		      pooled / 1000.0, burst / 1000.0);
	/* the sandbox's setup is all the probe costs: the pool must win */
	if (must_win)
		assert_true(pooled < fresh);
	assert_no_cgroups();
}

static void test_latency(void **s)
{
	latency_of("probe", probe, "noop", 1);
	latency_of("runlet-runner, /bin/true", real_runner, "/bin/true", 0);
}

int main(void)
{
	const char *b = getenv("RUNLET_BUILD_DIR");
	if (geteuid() != 0) {
		printf("SKIP: the native sandbox tests need root\n");
		return 77;
	}
	if (!b) {
		printf("SKIP: RUNLET_BUILD_DIR not set (run through ctest)\n");
		return getenv("CI") ? 1 : 77;
	}
	snprintf(probe, sizeof(probe), "%s/tests/test_native_probe", b);
	snprintf(real_runner, sizeof(real_runner), "%s/runlet-runner", b);
	snprintf(job_id, sizeof(job_id), "tnpool%d", (int)getpid());
	cfg.tmpfs = "/tmp";
	cfg.sandbox.uid = cfg.sandbox.gid = 1001;
	runner.code = "probe";
	runner.mem_limit = 64 << 20;
	runner.limits.tmpfs_size = 16 << 20;
	runner.limits.pids_limit = 16;
	cfg.runners = &runner;
	cfg.nrunners = 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pooled_runs_plan),
		cmocka_unit_test(test_no_sharing),
		cmocka_unit_test(test_idle_killed_replaced),
		cmocka_unit_test(test_killed_at_take),
		cmocka_unit_test(test_close_leaves_nothing),
		cmocka_unit_test(test_concurrent_takes),
		cmocka_unit_test(test_real_runner_pooled),
		cmocka_unit_test(test_leftovers_die),
		cmocka_unit_test(test_bigger_job_not_pooled),
		cmocka_unit_test(test_job_limits_from_plan),
		cmocka_unit_test(test_latency),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
