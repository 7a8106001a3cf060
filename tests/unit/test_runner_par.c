/* Tests of parallel tests in runlet-runner (plan.parallel > 1): outcomes in
 * plan order though tests finish out of order, tests really overlapping,
 * CPU time per test, orphans of one test gone without disturbing its
 * neighbour, a dead worker reported instead of a hang, runner errors as in
 * the sequential runner, and the overhead measured. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/unit/runner_testlib.h"

static int proc_alive(int pid, const char *word)
{
	char path[64], buf[512] = "";
	snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	for (size_t i = 0; i < n; i++)
		if (buf[i] == '\0')
			buf[i] = ' ';
	buf[n] = '\0';
	return strstr(buf, word) != NULL;
}

static void test_plan_order(void **state)
{
	struct wire_plan p;
	struct rr rr;
	eval_plan(&p);
	p.parallel = 2;
	/* each prints when it ended (ns): test 2 ends first */
	add_cmd(&p, 11, "sleep 0.3; echo one; date +%%s%%N");
	add_cmd(&p, 12, "echo two; date +%%s%%N");
	add_cmd(&p, 13, "sleep 0.1; echo three");
	run_ok(&p, 3, &rr);
	assert_int_equal(rr.res.tests[0].num, 11);
	assert_int_equal(rr.res.tests[1].num, 12);
	assert_int_equal(rr.res.tests[2].num, 13);
	assert_int_equal(strncmp(rr.res.tests[0].out, "one\n", 4), 0);
	assert_int_equal(strncmp(rr.res.tests[1].out, "two\n", 4), 0);
	assert_string_equal(rr.res.tests[2].out, "three\n");
	long long end1 = atoll(rr.res.tests[0].out + 4);
	long long end2 = atoll(rr.res.tests[1].out + 4);
	assert_true(end1 > 0 && end2 > 0);
	assert_true(end2 < end1); /* they did finish out of order */
	for (int i = 0; i < 3; i++)
		assert_int_equal(rr.res.tests[i].status, RUNLET_EXIT_EXITED);
	assert_true(rr.res.tests[0].wall_ms >= 300);
	rr_free(&rr);
	wire_plan_free(&p);
}

static void test_many_out_of_order(void **state)
{
	struct wire_plan p;
	struct rr rr;
	eval_plan(&p);
	p.parallel = 4;
	for (int i = 1; i <= 40; i++)
		add_cmd(&p, (uint64_t)(100 + i), "sleep 0.0%d; echo %d",
			(i * 7) % 5, i);
	run_ok(&p, 40, &rr);
	for (int i = 0; i < 40; i++) {
		char want[16];
		snprintf(want, sizeof(want), "%d\n", i + 1);
		assert_int_equal(rr.res.tests[i].num, (uint64_t)(101 + i));
		assert_string_equal(rr.res.tests[i].out, want);
	}
	rr_free(&rr);
	wire_plan_free(&p);
}

static void test_overlap(void **state)
{
	struct wire_plan p;
	struct rr rr;
	ONE(&p, "sleep", "0.3");
	p.parallel = 4;
	for (int i = 1; i <= 4; i++)
		add_test(&p, (uint64_t)i, "", 0);
	run_ok(&p, 4, &rr);
	uint64_t sum = 0;
	for (int i = 0; i < 4; i++) {
		assert_int_equal(rr.res.tests[i].status, RUNLET_EXIT_EXITED);
		assert_true(rr.res.tests[i].wall_ms >= 300);
		assert_true(rr.res.tests[i].wall_ms < 2000);
		sum += rr.res.tests[i].wall_ms;
	}
	/* 1200 ms of tests in well under 800 ms: they overlapped */
	print_message("4 x sleep 0.3, parallel 4: %.0f ms for %llu ms of tests\n",
		      rr.secs * 1000, (unsigned long long)sum);
	assert_true(rr.secs * 1000 * 1.5 < (double)sum);
	rr_free(&rr);
	wire_plan_free(&p);
}

static void test_cpu_per_test(void **state)
{
	struct wire_plan p;
	struct rr rr;
	ONE(&p, helper_path(), "cpuspin", "200");
	p.parallel = 2;
	p.run.lim.cpu_ms = 2000;
	add_test(&p, 1, "", 0);
	add_test(&p, 2, "", 0);
	run_ok(&p, 2, &rr);
	for (int i = 0; i < 2; i++) {
		if (rr.res.tests[i].note)
			print_message("note: %s\n", rr.res.tests[i].note);
		assert_int_equal(rr.res.tests[i].status, RUNLET_EXIT_EXITED);
		assert_string_equal(rr.res.tests[i].out, "spun 200\n");
		/* its own 200 ms, not both tests' 400 */
		assert_true(rr.res.tests[i].cpu_ms >= 190);
		assert_true(rr.res.tests[i].cpu_ms < 330);
		/* its own peak, not the runner's */
		assert_true(rr.res.tests[i].mem_kb < 16384);
	}
	rr_free(&rr);
	wire_plan_free(&p);
}

static void test_big_input_and_output(void **state)
{
	/* 8 MiB of input per test: the tests read it all, and none counts
	 * the inputs (or the runner) in its own memory; 3 MB of stdout each
	 * comes back whole through the workers */
	struct wire_plan p;
	struct rr rr;
	size_t n = 8u << 20;
	char *in = pattern(n, 7);
	for (int par = 1; par <= 2; par++) {
		eval_plan(&p);
		p.parallel = (uint64_t)par;
		p.run.lim.out_kb = 8192;
		add_cmd(&p, 1, "head -c 3000000 /dev/zero");
		for (int i = 2; i <= 4; i++) {
			/* a command line, then the bytes */
			char head[] = "exec wc -c\n";
			char *t = malloc(n + sizeof(head));
			assert_non_null(t);
			memcpy(t, head, sizeof(head) - 1);
			memcpy(t + sizeof(head) - 1, in, n);
			add_test(&p, (uint64_t)i, t, n + sizeof(head) - 1);
			free(t);
		}
		add_cmd(&p, 5, "head -c 3000000 /dev/zero");
		run_ok(&p, 5, &rr);
		assert_int_equal(rr.res.tests[0].out_len, 3000000);
		assert_int_equal(rr.res.tests[4].out_len, 3000000);
		for (int i = 1; i < 4; i++) {
			assert_int_equal(rr.res.tests[i].status, RUNLET_EXIT_EXITED);
			/* read -r took the first line, wc counted the rest */
			assert_true(rr.res.tests[i].out_len > 0);
			assert_true(atol(rr.res.tests[i].out) > 0);
			assert_true(rr.res.tests[i].mem_kb < 8192);
		}
		rr_free(&rr);
		wire_plan_free(&p);
	}
	free(in);
}

static void test_limits_per_test(void **state)
{
	struct wire_plan p;
	struct rr rr;
	eval_plan(&p);
	p.parallel = 2;
	p.run.lim.wall_ms = 400;
	add_cmd(&p, 1, "sleep 5");
	add_cmd(&p, 2, "sleep 0.2; echo ok");
	add_cmd(&p, 3, "echo done");
	run_ok(&p, 3, &rr);
	assert_int_equal(rr.res.tests[0].status, RUNLET_EXIT_TIMEOUT);
	assert_true(rr.res.tests[0].wall_ms >= 400);
	assert_int_equal(rr.res.tests[1].status, RUNLET_EXIT_EXITED);
	assert_string_equal(rr.res.tests[1].out, "ok\n");
	assert_int_equal(rr.res.tests[2].status, RUNLET_EXIT_EXITED);
	assert_true(rr.secs < 3);
	rr_free(&rr);
	wire_plan_free(&p);
}

static void test_orphan_gone_neighbour_alive(void **state)
{
	char secs[32];
	snprintf(secs, sizeof(secs), "%d", 3000 + (int)(getpid() % 1000));
	struct wire_plan p;
	struct rr rr;
	eval_plan(&p);
	p.parallel = 2;
	/* test 1 leaves a double-forked setsid child and ends at once; test 2
	 * runs on in the other worker meanwhile */
	add_cmd(&p, 1, "%s daemon %s", helper_path(), secs);
	add_cmd(&p, 2, "sleep 0.5; echo alive");
	add_cmd(&p, 3, "echo three");
	run_ok(&p, 3, &rr);
	assert_int_equal(rr.res.tests[0].status, RUNLET_EXIT_EXITED);
	int pid = atoi(rr.res.tests[0].out);
	assert_true(pid > 0);
	assert_false(proc_alive(pid, "runner_helper"));
	assert_int_equal(rr.res.tests[1].status, RUNLET_EXIT_EXITED);
	assert_string_equal(rr.res.tests[1].out, "alive\n");
	assert_string_equal(rr.res.tests[2].out, "three\n");
	rr_free(&rr);
	wire_plan_free(&p);
}

static void test_dead_worker(void **state)
{
	char secs[32];
	snprintf(secs, sizeof(secs), "%d", 4000 + (int)(getpid() % 1000));
	struct wire_plan p;
	struct rr rr;
	eval_plan(&p);
	p.parallel = 2;
	/* test 1 kills its worker (the shell's parent) and leaves a process
	 * that would run for an hour */
	add_cmd(&p, 1, "sleep %s & echo $! > bg.pid; sleep 0.1; kill -9 $PPID; "
		"sleep %s", secs, secs);
	add_cmd(&p, 2, "sleep 0.3; echo two");
	add_cmd(&p, 3, "echo three");
	add_cmd(&p, 4, "echo four");
	run_ok(&p, 4, &rr);
	assert_int_equal(rr.res.tests[0].num, 1);
	assert_int_equal(rr.res.tests[0].status, RUNLET_EXIT_SETUP);
	assert_non_null(rr.res.tests[0].note);
	assert_non_null(strstr(rr.res.tests[0].note, "killed by signal 9"));
	for (int i = 1; i < 4; i++)
		assert_int_equal(rr.res.tests[i].status, RUNLET_EXIT_EXITED);
	assert_string_equal(rr.res.tests[1].out, "two\n");
	assert_string_equal(rr.res.tests[2].out, "three\n");
	assert_string_equal(rr.res.tests[3].out, "four\n");
	assert_true(rr.secs < 5);
	/* nothing of test 1 survived: its background sleep is gone */
	char path[300], buf[32] = "";
	snprintf(path, sizeof(path), "%s/bg.pid", g_dir);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	assert_non_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	int bg = atoi(buf);
	assert_true(bg > 0);
	assert_false(proc_alive(bg, secs));
	rr_free(&rr);
	wire_plan_free(&p);

	/* test 1 kills every worker (test 2 dies with its own): new workers
	 * run the tests that are left */
	eval_plan(&p);
	p.parallel = 2;
	/* (its own worker last: the shell dies with it) */
	add_cmd(&p, 1, "r=$(cut -d' ' -f4 /proc/$PPID/stat); sleep 0.1; "
		"for w in $(cat /proc/$r/task/$r/children); do "
		"[ $w = $PPID ] || kill -9 $w; done; kill -9 $PPID; sleep 5");
	add_cmd(&p, 2, "sleep 1; echo two");
	add_cmd(&p, 3, "echo three");
	add_cmd(&p, 4, "echo four");
	add_cmd(&p, 5, "echo five");
	run_ok(&p, 5, &rr);
	for (int i = 0; i < 2; i++) {
		if (rr.res.tests[i].status != RUNLET_EXIT_SETUP)
			print_message("test %d: out %s err %s\n", i + 1,
				      rr.res.tests[i].out, rr.res.tests[i].err);
		assert_int_equal(rr.res.tests[i].status, RUNLET_EXIT_SETUP);
		assert_non_null(strstr(rr.res.tests[i].note, "killed by signal 9"));
	}
	assert_string_equal(rr.res.tests[2].out, "three\n");
	assert_string_equal(rr.res.tests[3].out, "four\n");
	assert_string_equal(rr.res.tests[4].out, "five\n");
	assert_true(rr.secs < 4);
	rr_free(&rr);
	wire_plan_free(&p);
}

static void test_runner_error_stops(void **state)
{
	/* every step cgroup fails to be made: the same error record as the
	 * sequential runner, no outcome, exit 1 */
	for (int par = 1; par <= 2; par++) {
		struct wire_plan p;
		struct rr rr;
		eval_plan(&p);
		p.parallel = (uint64_t)par;
		p.cg_mem = strdup("/nonexistent/runlet-cg");
		add_cmd(&p, 1, "echo one");
		add_cmd(&p, 2, "echo two");
		add_cmd(&p, 3, "echo three");
		run_plan_with(&p, NULL, &rr);
		assert_true(rr.decoded);
		assert_true(rr.res.complete);
		assert_non_null(rr.res.error);
		assert_non_null(strstr(rr.res.error, "/nonexistent/runlet-cg/"));
		assert_int_equal(rr.res.ntests, 0);
		assert_int_equal(WEXITSTATUS(rr.wstatus), 1);
		rr_free(&rr);
		wire_plan_free(&p);
	}
}

static void test_parallel_one_test_and_compile(void **state)
{
	/* a compile still runs first and alone; more workers than tests */
	struct wire_plan p;
	struct rr rr;
	plan_init(&p);
	p.has_compile = 1;
	step_argv(&p.compile, "sh", "-c",
		  "printf '#!/bin/sh\\necho ran\\n' > prog.sh; chmod +x prog.sh",
		  NULL);
	step_argv(&p.run, "./prog.sh", NULL);
	p.run.lim.wall_ms = 10000;
	p.parallel = 8;
	add_test(&p, 1, "", 0);
	add_test(&p, 2, "", 0);
	run_ok(&p, 2, &rr);
	assert_true(rr.res.has_compile);
	assert_int_equal(rr.res.compile.status, RUNLET_EXIT_EXITED);
	assert_string_equal(rr.res.tests[0].out, "ran\n");
	assert_string_equal(rr.res.tests[1].out, "ran\n");
	rr_free(&rr);
	wire_plan_free(&p);
}

/* Best of three rounds, seconds. */
static double timed(int ntests, int par, const char *prog, const char *arg)
{
	double best = 1e9;
	for (int round = 0; round < 3; round++) {
		struct wire_plan p;
		struct rr rr;
		ONE(&p, prog, arg);
		p.parallel = (uint64_t)par;
		for (int i = 1; i <= ntests; i++)
			add_test(&p, (uint64_t)i, "", 0);
		run_ok(&p, (size_t)ntests, &rr);
		for (int i = 0; i < ntests; i++)
			assert_int_equal(rr.res.tests[i].status, RUNLET_EXIT_EXITED);
		if (rr.secs < best)
			best = rr.secs;
		rr_free(&rr);
		wire_plan_free(&p);
	}
	return best;
}

static void test_measure(void **state)
{
	double s1 = timed(8, 1, "sleep", "0.1");
	double s2 = timed(8, 2, "sleep", "0.1");
	double s4 = timed(8, 4, "sleep", "0.1");
	print_message("8 x sleep 0.1: parallel 1 %.0f ms, 2 %.0f ms, 4 %.0f ms\n",
		      s1 * 1000, s2 * 1000, s4 * 1000);
	double t1 = timed(100, 1, "/bin/true", NULL);
	double t2 = timed(100, 2, "/bin/true", NULL);
	print_message("100 x /bin/true: parallel 1 %.0f ms, 2 %.0f ms\n",
		      t1 * 1000, t2 * 1000);
	assert_true(s4 < s2 && s2 < s1);
	assert_true(s4 * 2 < s1);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
#define T(f) cmocka_unit_test_setup_teardown(f, setup_dir, teardown_dir)
	const struct CMUnitTest tests[] = {
		T(test_plan_order),
		T(test_many_out_of_order),
		T(test_overlap),
		T(test_cpu_per_test),
		T(test_big_input_and_output),
		T(test_limits_per_test),
		T(test_orphan_gone_neighbour_alive),
		T(test_dead_worker),
		T(test_runner_error_stops),
		T(test_parallel_one_test_and_compile),
		T(test_measure),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
