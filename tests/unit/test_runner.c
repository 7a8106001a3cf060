/* Tests of runlet-runner's processes and pipes: exit codes, signals, wall
 * and CPU limits, stdout/stderr caps, big stdin/stdout/stderr, progress,
 * memory accounting. They drive the real static binary
 * (RUNLET_BUILD_DIR/runlet-runner) with plans built through wire.c. */
#include <dirent.h>
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

static void test_exit_codes_in_plan_order(void **state)
{
	struct wire_plan p;
	struct rr rr;
	ONE(&p, "sh", "-c", "read x; exit $x");
	add_test(&p, 5, "3\n", 2);
	add_test(&p, 2, "0\n", 2);
	add_test(&p, 9, "255\n", 4);
	run_ok(&p, 3, &rr);
	const uint64_t nums[] = {5, 2, 9};
	const int codes[] = {3, 0, 255};
	for (int i = 0; i < 3; i++) {
		assert_int_equal(rr.res.tests[i].num, nums[i]);
		assert_int_equal(rr.res.tests[i].status, RUNLET_EXIT_EXITED);
		assert_int_equal(rr.res.tests[i].exit_code, codes[i]);
		assert_int_equal(rr.res.tests[i].signal, 0);
	}
	assert_false(rr.res.has_compile);
	rr_free(&rr);
	wire_plan_free(&p);
}

static void test_death_by_signal(void **state)
{
	struct wire_plan p;
	struct rr rr;
	ONE(&p, "sh", "-c", "kill -SEGV $$");
	add_test(&p, 1, "", 0);
	run_ok(&p, 1, &rr);
	assert_int_equal(rr.res.tests[0].status, RUNLET_EXIT_SIGNALED);
	assert_int_equal(rr.res.tests[0].signal, SIGSEGV);
	rr_free(&rr);
	wire_plan_free(&p);

	ONE(&p, helper_path(), "segv");
	add_test(&p, 1, "", 0);
	run_ok(&p, 1, &rr);
	assert_int_equal(rr.res.tests[0].status, RUNLET_EXIT_SIGNALED);
	assert_int_equal(rr.res.tests[0].signal, SIGSEGV);
	rr_free(&rr);
	wire_plan_free(&p);
}

static void test_wall_timeout(void **state)
{
	struct wire_plan p;
	struct rr rr;
	ONE(&p, "sleep", "5");
	p.run.lim.wall_ms = 300;
	add_test(&p, 1, "", 0);
	run_ok(&p, 1, &rr);
	assert_int_equal(rr.res.tests[0].status, RUNLET_EXIT_TIMEOUT);
	assert_int_equal(rr.res.tests[0].signal, SIGKILL);
	assert_true(rr.res.tests[0].wall_ms >= 300);
	assert_true(rr.res.tests[0].wall_ms < 1500);
	assert_true(rr.secs < 1.5);
	rr_free(&rr);
	wire_plan_free(&p);
}

static void test_cpu_timeout_polled(void **state)
{
	struct wire_plan p;
	struct rr rr;
	ONE(&p, helper_path(), "busy");
	p.run.lim.cpu_ms = 500;
	add_test(&p, 1, "", 0);
	run_ok(&p, 1, &rr);
	const struct wire_outcome *o = &rr.res.tests[0];
	assert_int_equal(o->status, RUNLET_EXIT_CPU_TIMEOUT);
	assert_true(o->cpu_ms >= 500);
	/* the 50 ms poll ends it long before RLIMIT_CPU's 2 s (measured in
	 * CPU time: a loaded machine stretches the wall clock) */
	assert_true(o->cpu_ms < 1000);
	rr_free(&rr);
	wire_plan_free(&p);
}

static void test_cpu_timeout_after_exit(void **state)
{
	/* the program finishes on its own but used more CPU than allowed */
	struct wire_plan p;
	struct rr rr;
	ONE(&p, "sh", "-c", "i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done");
	p.run.lim.cpu_ms = 1;
	add_test(&p, 1, "", 0);
	run_ok(&p, 1, &rr);
	assert_int_equal(rr.res.tests[0].status, RUNLET_EXIT_CPU_TIMEOUT);
	assert_true(rr.res.tests[0].cpu_ms > 1);
	rr_free(&rr);
	wire_plan_free(&p);
}

static void test_stdout_cap(void **state)
{
	struct wire_plan p;
	struct rr rr;
	ONE(&p, "head", "-c", "65536", "/dev/zero");
	p.run.lim.out_kb = 64;
	add_test(&p, 1, "", 0);
	run_ok(&p, 1, &rr);
	/* exactly the cap: fine */
	assert_int_equal(rr.res.tests[0].status, RUNLET_EXIT_EXITED);
	assert_int_equal(rr.res.tests[0].out_len, 65536);
	assert_false(rr.res.tests[0].out_trunc);
	rr_free(&rr);
	wire_plan_free(&p);

	ONE(&p, "head", "-c", "65537", "/dev/zero");
	p.run.lim.out_kb = 64;
	add_test(&p, 1, "", 0);
	run_ok(&p, 1, &rr);
	/* one byte more: OUTPUT_LIMIT, cap kept */
	assert_int_equal(rr.res.tests[0].status, RUNLET_EXIT_OUTPUT_LIMIT);
	assert_int_equal(rr.res.tests[0].out_len, 65536);
	assert_true(rr.res.tests[0].out_trunc);
	rr_free(&rr);
	wire_plan_free(&p);

	ONE(&p, "yes");
	p.run.lim.out_kb = 16;
	add_test(&p, 1, "", 0);
	run_ok(&p, 1, &rr);
	assert_int_equal(rr.res.tests[0].status, RUNLET_EXIT_OUTPUT_LIMIT);
	assert_int_equal(rr.res.tests[0].out_len, 16384);
	assert_true(rr.secs < 5);
	rr_free(&rr);
	wire_plan_free(&p);
}

static void test_stderr_kept_discarded_errmax(void **state)
{
	struct wire_plan p;
	struct rr rr;
	ONE(&p, "sh", "-c", "head -c 300000 /dev/zero >&2; echo done");
	p.run.lim.err_kb = 1;
	add_test(&p, 1, "", 0);
	run_ok(&p, 1, &rr);
	/* kept 1 KiB, drained the rest, the program was not disturbed */
	assert_int_equal(rr.res.tests[0].status, RUNLET_EXIT_EXITED);
	assert_int_equal(rr.res.tests[0].err_len, 1024);
	assert_true(rr.res.tests[0].err_trunc);
	assert_string_equal(rr.res.tests[0].out, "done\n");
	rr_free(&rr);
	wire_plan_free(&p);

	ONE(&p, "sh", "-c", "head -c 300000 /dev/zero >&2; echo done");
	p.run.lim.err_kb = 1;
	p.run.lim.errmax_kb = 64;
	add_test(&p, 1, "", 0);
	run_ok(&p, 1, &rr);
	assert_int_equal(rr.res.tests[0].status, RUNLET_EXIT_OUTPUT_LIMIT);
	assert_int_equal(rr.res.tests[0].err_len, 1024);
	assert_true(rr.res.tests[0].err_trunc);
	rr_free(&rr);
	wire_plan_free(&p);

	ONE(&p, "sh", "-c", "printf 'line1\\nline2\\n' >&2");
	add_test(&p, 1, "", 0);
	run_ok(&p, 1, &rr);
	assert_string_equal(rr.res.tests[0].err, "line1\nline2\n");
	assert_false(rr.res.tests[0].err_trunc);
	rr_free(&rr);
	wire_plan_free(&p);
}

static void test_big_stdin_echoed(void **state)
{
	const size_t n = 10u << 20;
	char *in = pattern(n, 7);
	struct wire_plan p;
	struct rr rr;
	ONE(&p, "cat");
	p.run.lim.out_kb = 20 << 10;
	add_test(&p, 1, in, n);
	add_test(&p, 2, "a\0b\nc", 5);
	run_ok(&p, 2, &rr);
	assert_int_equal(rr.res.tests[0].status, RUNLET_EXIT_EXITED);
	assert_int_equal(rr.res.tests[0].out_len, n);
	assert_memory_equal(rr.res.tests[0].out, in, n);
	assert_int_equal(rr.res.tests[1].out_len, 5);
	assert_memory_equal(rr.res.tests[1].out, "a\0b\nc", 5);
	rr_free(&rr);
	wire_plan_free(&p);
	free(in);
}

static void test_big_stdout_and_stderr_at_once(void **state)
{
	/* 10 MB in, 10 MB out and 10 MB err at the same time: needs one poll
	 * loop over all three pipes */
	const size_t n = 10u << 20;
	char *in = pattern(n, 3);
	struct wire_plan p;
	struct rr rr;
	ONE(&p, "sh", "-c",
	    "head -c 10485760 /dev/zero >&2 & cat; head -c 10485760 /dev/zero; wait");
	p.run.lim.out_kb = 40 << 10;
	p.run.lim.err_kb = 20 << 10;
	add_test(&p, 1, in, n);
	run_ok(&p, 1, &rr);
	const struct wire_outcome *o = &rr.res.tests[0];
	assert_int_equal(o->status, RUNLET_EXIT_EXITED);
	assert_int_equal(o->out_len, 2 * n);
	assert_memory_equal(o->out, in, n);
	assert_int_equal(o->err_len, n);
	assert_false(o->err_trunc);
	rr_free(&rr);
	wire_plan_free(&p);
	free(in);
}

static void test_program_ignoring_stdin(void **state)
{
	const size_t n = 10u << 20;
	char *in = pattern(n, 5);
	struct wire_plan p;
	struct rr rr;
	ONE(&p, "true");
	add_test(&p, 1, in, n);
	run_ok(&p, 1, &rr);
	assert_int_equal(rr.res.tests[0].status, RUNLET_EXIT_EXITED);
	rr_free(&rr);
	wire_plan_free(&p);

	/* never reads, keeps running a while, closes stdin early */
	ONE(&p, "sh", "-c", "exec 0<&-; sleep 0.2; echo ok");
	add_test(&p, 1, in, n);
	run_ok(&p, 1, &rr);
	assert_int_equal(rr.res.tests[0].status, RUNLET_EXIT_EXITED);
	assert_string_equal(rr.res.tests[0].out, "ok\n");
	assert_true(rr.secs < 3);
	rr_free(&rr);
	wire_plan_free(&p);
	free(in);
}

/* Is a process running "sleep <arg>"? */
static void test_progress_streamed(void **state)
{
	/* the first outcome is written before the second test ends */
	struct wire_plan p;
	ONE(&p, "sh", "-c", "read t; sleep $t; echo slept $t");
	add_test(&p, 1, "0\n", 2);
	add_test(&p, 2, "1\n", 2);
	struct wire_buf b = {0};
	assert_int_equal(wire_plan_encode(&p, &b), 0);
	int in[2], out[2];
	assert_int_equal(pipe(in), 0);
	assert_int_equal(pipe(out), 0);
	pid_t pid = fork();
	if (pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		close(in[1]);
		close(out[0]);
		execl(runner_path(), "runlet-runner", (char *)NULL);
		_exit(126);
	}
	close(in[0]);
	close(out[1]);
	double t0 = now_s();
	assert_int_equal(write(in[1], b.data, b.len), (ssize_t)b.len);
	close(in[1]);
	char buf[4096];
	size_t got = 0;
	double first = -1;
	ssize_t n;
	while ((n = read(out[0], buf + got, sizeof(buf) - 1 - got)) > 0) {
		got += (size_t)n;
		buf[got] = '\0';
		if (first < 0 && strstr(buf, "slept 0"))
			first = now_s() - t0;
	}
	double total = now_s() - t0;
	close(out[0]);
	int st;
	waitpid(pid, &st, 0);
	assert_true(first >= 0);
	assert_true(first < 0.9);
	assert_true(total >= 1.0);
	assert_non_null(strstr(buf, "slept 1"));
	wire_buf_free(&b);
	wire_plan_free(&p);
}

static void test_memory_without_cgroup(void **state)
{
	/* ru_maxrss: the runner's own buffers (a 10 MB input) are not counted */
	const size_t n = 10u << 20;
	char *in = pattern(n, 9);
	struct wire_plan p;
	struct rr rr;
	ONE(&p, helper_path(), "alloc", "30");
	add_test(&p, 1, in, n);
	run_ok(&p, 1, &rr);
	assert_int_equal(rr.res.tests[0].status, RUNLET_EXIT_EXITED);
	assert_true(rr.res.tests[0].mem_kb >= 30 * 1024);
	assert_true(rr.res.tests[0].mem_kb < 40 * 1024);
	rr_free(&rr);
	wire_plan_free(&p);
	ONE(&p, "true");
	add_test(&p, 1, in, n);
	run_ok(&p, 1, &rr);
	assert_true(rr.res.tests[0].mem_kb > 0);
	assert_true(rr.res.tests[0].mem_kb < 5 * 1024);
	rr_free(&rr);
	wire_plan_free(&p);
	free(in);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
#define T(f) cmocka_unit_test_setup_teardown(f, setup_dir, teardown_dir)
	const struct CMUnitTest tests[] = {
		T(test_exit_codes_in_plan_order),
		T(test_death_by_signal),
		T(test_wall_timeout),
		T(test_cpu_timeout_polled),
		T(test_cpu_timeout_after_exit),
		T(test_stdout_cap),
		T(test_stderr_kept_discarded_errmax),
		T(test_big_stdin_echoed),
		T(test_big_stdout_and_stderr_at_once),
		T(test_program_ignoring_stdin),
		T(test_progress_streamed),
		T(test_memory_without_cgroup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
