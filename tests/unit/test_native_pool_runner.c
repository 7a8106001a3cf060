/* The pool of pre-forked sandboxes with the real runlet-runner (as root):
 * its isolation as without the pool, what a hostile job leaves dies with
 * its sandbox, a job's own limits hold, a job larger than the pool's
 * sandboxes gets its own; and the latency of execute() with and without
 * the pool. Skips (77) when not root. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "runlet/plugin.h"
#include "test_native_poollib.h"

/* The real runlet-runner in a pooled sandbox: its drop to the sandbox
 * user, seccomp and capabilities are as without the pool. */
static void test_real_runner_pooled(void **s)
{
	void *st = tp_open_warm("2", tp_real_runner(), "/bin/true", 2);
	struct wire_plan p;
	struct wire_result res;
	char err[1024];
	tp_plan_init(&p, "/bin/sh");
	wire_strv_push(&p.run.argv, &p.run.argc, "-c");
	wire_strv_push(&p.run.argv, &p.run.argc,
		       "id; hostname; ls -A /tmp; grep -E '^(Cap|NoNewPrivs|Seccomp)' /proc/self/status");
	wire_strv_push(&p.run.envp, &p.run.envc, "PATH=/usr/bin:/bin");
	p.run.lim.cpu_ms = 2000;
	p.run.lim.nofile = 64;
	p.run.lim.fsize_kb = 1024;
	p.run.lim.stack_kb = 8192;
	if (tp_run_plan(st, &p, &res, err, sizeof(err)) < 0)
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
	tp_assert_no_cgroups();
}

/* What a hostile job leaves in a pooled sandbox (a setsid'd sleeper, a file
 * in /dev/shm) dies or vanishes with it: the next job sees none of it. */
static void test_leftovers_die(void **s)
{
	void *st = tp_open_warm("2", tp_real_runner(), "/bin/true", 2);
	char out[8192];
	tp_run_sh(st, "echo hi > /dev/shm/left && echo wrote; "
		   "(setsid sleep 987655 &); echo done", 0, out, sizeof(out));
	assert_non_null(strstr(out, "wrote"));
	assert_non_null(strstr(out, "done"));
	assert_int_equal(tp_count_procs("sleep 987655"), 0);
	tp_run_sh(st, "ls -A /dev/shm; echo end", 0, out, sizeof(out));
	assert_non_null(strstr(out, "end"));
	assert_null(strstr(out, "left"));
	native_backend_ops.close(st);
	assert_int_equal(tp_count_procs("sleep 987655"), 0);
	tp_assert_no_cgroups();
}

/* A job whose limits exceed those the ready sandboxes were made with gets
 * one of its own; the ready ones stay. */
static void test_bigger_job_not_pooled(void **s)
{
	void *st = tp_open_warm("2", tp_real_runner(), "/bin/true", 2);
	pid_t pids[SBX_POOL_MAX];
	char out[8192];
	assert_int_equal(sbx_pool_pids(sbx_native_pool(st), tp_runner(), pids,
				       SBX_POOL_MAX), 2);
	tp_run_sh(st, "echo big", 512 * 1024, out, sizeof(out));
	assert_non_null(strstr(out, "big"));
	assert_true(tp_alive(pids[0]) && tp_alive(pids[1]));
	native_backend_ops.close(st);
	tp_assert_no_cgroups();
}

/* The job's own memory limit holds in a pooled sandbox, whose submission
 * cgroup was made for the language's largest job: 100 MB under a 32 MB
 * job limit is MLE (the language allows 64 MB, the pooled cgroup more). */
static void test_job_limits_from_plan(void **s)
{
	void *st = tp_open_warm("2", tp_real_runner(), "/bin/true", 2);
	pid_t pids[SBX_POOL_MAX];
	char out[8192];
	const char *eat = "exec python3 -c 'x = bytearray(100 << 20); print(len(x))'";
	assert_int_equal(sbx_pool_pids(sbx_native_pool(st), tp_runner(), pids,
				       SBX_POOL_MAX), 2);
	int pooled = tp_run_sh(st, eat, 32 * 1024, out, sizeof(out));
	assert_int_equal(tp_gone(pids, 2, 1), 1); /* it was pooled */
	assert_int_equal(pooled, RUNLET_EXIT_MEMORY);
	native_backend_ops.close(st);
	st = tp_open_pool("0", tp_real_runner());
	assert_int_equal(tp_run_sh(st, eat, 32 * 1024, out, sizeof(out)),
			 RUNLET_EXIT_MEMORY);
	native_backend_ops.close(st);
	tp_assert_no_cgroups();
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
			tp_wait_ready(st, 2);
		clock_gettime(CLOCK_MONOTONIC, &a);
		tp_run_mode(st, mode, NULL, 0);
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
	void *st = tp_open_pool("0", runner_path);
	uint64_t fresh = median_us(st, mode, 0);
	native_backend_ops.close(st);
	st = tp_open_pool("2", runner_path);
	tp_run_mode(st, mode, NULL, 0);
	tp_run_mode(st, mode, NULL, 0);
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
	tp_assert_no_cgroups();
}

/* A pooled job's collection ends at the runner's end record, not at the
 * bytes of one: a program printing them is judged in full. */
static void test_end_record_in_output(void **s)
{
	void *st = tp_open_warm("2", tp_real_runner(), "/bin/true", 2);
	char out[8192];
	int rc = tp_run_sh(st, "printf 'end 0\\n\\n'; sleep 0.05; echo after", 0,
			   out, sizeof(out));
	assert_int_equal(rc, RUNLET_EXIT_EXITED);
	assert_string_equal(out, "end 0\n\nafter\n");
	native_backend_ops.close(st);
	tp_assert_no_cgroups();
}

/* The nice value (field 19 of /proc/PID/stat) of a thread or process. */
static long nice_of(const char *stat_path)
{
	char buf[1024];
	FILE *f = fopen(stat_path, "r");
	long v = -100;
	if (!f)
		return v;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	char *p = strrchr(buf, ')');
	for (int field = 2; p && field < 19; field++)
		p = strchr(p + 1, ' ');
	if (p)
		v = strtol(p + 1, NULL, 10);
	return v;
}

/* The refill thread runs below runlet's priority; the sandboxes it makes
 * run the submission at runlet's own. */
static void test_pooled_job_at_runlet_priority(void **s)
{
	void *st = tp_open_warm("2", tp_real_runner(), "/bin/true", 2);
	char out[8192], path[64];
	errno = 0;
	long mine = getpriority(PRIO_PROCESS, 0);
	assert_int_equal(errno, 0);
	int lowered = 0;
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	assert_non_null(d);
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%.20s/stat", e->d_name);
		lowered += nice_of(path) == sbx_background_nice((int)mine);
	}
	closedir(d);
	assert_int_equal(lowered, 1);
	assert_int_equal(tp_run_sh(st, "cut -d' ' -f19 /proc/self/stat", 0, out,
				   sizeof(out)), RUNLET_EXIT_EXITED);
	assert_int_equal(strtol(out, NULL, 10), mine);
	native_backend_ops.close(st);
	tp_assert_no_cgroups();
}

static void test_latency(void **s)
{
	latency_of("probe", tp_probe(), "noop", 1);
	latency_of("runlet-runner, /bin/true", tp_real_runner(), "/bin/true", 0);
}

int main(void)
{
	int rc = tp_init();
	if (rc)
		return rc;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_real_runner_pooled),
		cmocka_unit_test(test_leftovers_die),
		cmocka_unit_test(test_bigger_job_not_pooled),
		cmocka_unit_test(test_job_limits_from_plan),
		cmocka_unit_test(test_end_record_in_output),
		cmocka_unit_test(test_pooled_job_at_runlet_priority),
		cmocka_unit_test(test_latency),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
