/* Tests of how runlet-runner carries out a plan: exec failures, the exact
 * env, the plan's files (and refused paths), malformed plans, the compile
 * step, the child's state, and nothing outliving a step. They drive the
 * real static binary with plans built through wire.c. */
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

static void test_exec_failure_is_setup(void **state)
{
	struct wire_plan p;
	struct rr rr;
	ONE(&p, "/nonexistent/runlet-prog");
	add_test(&p, 1, "", 0);
	run_ok(&p, 1, &rr);
	assert_int_equal(rr.res.tests[0].status, RUNLET_EXIT_SETUP);
	assert_non_null(rr.res.tests[0].note);
	assert_string_equal(rr.res.tests[0].note,
			    "execve /nonexistent/runlet-prog: No such file or directory");
	rr_free(&rr);
	wire_plan_free(&p);

	ONE(&p, "runlet-no-such-program");
	add_test(&p, 1, "", 0);
	add_test(&p, 2, "", 0);
	run_ok(&p, 2, &rr);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(rr.res.tests[i].status, RUNLET_EXIT_SETUP);
		assert_non_null(strstr(rr.res.tests[i].note,
				       "runlet-no-such-program: not found in PATH"));
	}
	rr_free(&rr);
	wire_plan_free(&p);

	/* a set-up step failing: RLIMIT_NOFILE of 1 leaves no fd for exec'ing
	 * a script? no: use a non-executable file */
	plan_init(&p);
	add_file(&p, "noexec.sh", 0644, "echo hi\n", 8);
	step_argv(&p.run, "./noexec.sh", NULL);
	add_test(&p, 1, "", 0);
	run_ok(&p, 1, &rr);
	assert_int_equal(rr.res.tests[0].status, RUNLET_EXIT_SETUP);
	assert_string_equal(rr.res.tests[0].note,
			    "execve ./noexec.sh: Permission denied");
	rr_free(&rr);
	wire_plan_free(&p);
}

static void test_env_exactly_as_planned(void **state)
{
	struct wire_plan p;
	struct rr rr;
	plan_init(&p);
	step_env(&p.run, "A=1");
	step_env(&p.run, "B=two words");
	step_argv(&p.run, "env", NULL); /* found on the default PATH */
	add_test(&p, 1, "", 0);
	setenv("RUNLET_LEAK_CHECK", "leaked", 1);
	run_ok(&p, 1, &rr);
	unsetenv("RUNLET_LEAK_CHECK");
	assert_int_equal(rr.res.tests[0].status, RUNLET_EXIT_EXITED);
	assert_string_equal(rr.res.tests[0].out, "A=1\nB=two words\n");
	rr_free(&rr);
	wire_plan_free(&p);

	/* PATH from the plan's env is what resolves argv[0] */
	plan_init(&p);
	step_env(&p.run, "PATH=/nonexistent:/bin");
	step_argv(&p.run, "sh", "-c", "echo $PATH", NULL);
	add_test(&p, 1, "", 0);
	run_ok(&p, 1, &rr);
	assert_string_equal(rr.res.tests[0].out, "/nonexistent:/bin\n");
	rr_free(&rr);
	wire_plan_free(&p);
}

static void test_files_written(void **state)
{
	struct wire_plan p;
	struct rr rr;
	char *data = pattern(100000, 11);
	plan_init(&p);
	add_file(&p, "src/deep/main.bin", 0640, data, 100000);
	add_file(&p, "run.sh", 0755, "#!/bin/sh\necho script $1\n", 25);
	step_argv(&p.run, "./run.sh", "arg", NULL);
	add_test(&p, 1, "", 0);
	run_ok(&p, 1, &rr);
	assert_string_equal(rr.res.tests[0].out, "script arg\n");
	char path[512];
	struct stat sb;
	snprintf(path, sizeof(path), "%s/src/deep/main.bin", g_dir);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0640);
	assert_int_equal(sb.st_size, 100000);
	FILE *f = fopen(path, "rb");
	char *back = malloc(100000);
	assert_int_equal(fread(back, 1, 100000, f), 100000);
	fclose(f);
	assert_memory_equal(back, data, 100000);
	free(back);
	free(data);
	rr_free(&rr);
	wire_plan_free(&p);
}

static void expect_plan_error(struct wire_plan *p, const char *needle)
{
	struct rr rr;
	run_plan_with(p, NULL, &rr);
	assert_true(rr.decoded);
	assert_non_null(rr.res.error);
	if (!strstr(rr.res.error, needle))
		fail_msg("error \"%s\" lacks \"%s\"", rr.res.error, needle);
	assert_true(rr.res.complete);
	assert_int_equal(rr.res.ntests, 0);
	assert_true(WIFEXITED(rr.wstatus));
	assert_int_equal(WEXITSTATUS(rr.wstatus), 1);
	rr_free(&rr);
}

static void test_files_refused(void **state)
{
	static const char *const bad[] = {"../escape", "/etc/passwd-x", "a/../../x",
					  "a//b", "./x", ""};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct wire_plan p;
		ONE(&p, "true");
		add_file(&p, bad[i], 0644, "x", 1);
		add_test(&p, 1, "", 0);
		expect_plan_error(&p, "is not allowed");
		wire_plan_free(&p);
	}
	/* no following a symlink planted in the workdir, no overwriting */
	char link[512], target[512];
	snprintf(link, sizeof(link), "%s/ln", g_dir);
	snprintf(target, sizeof(target), "%s/real", g_dir);
	assert_int_equal(mkdir(target, 0755), 0);
	assert_int_equal(symlink(target, link), 0);
	struct wire_plan p;
	ONE(&p, "true");
	add_file(&p, "ln/x", 0644, "x", 1);
	add_test(&p, 1, "", 0);
	expect_plan_error(&p, "cannot write plan file ln/x");
	wire_plan_free(&p);
	ONE(&p, "true");
	add_file(&p, "ln", 0644, "x", 1);
	add_test(&p, 1, "", 0);
	expect_plan_error(&p, "File exists");
	wire_plan_free(&p);
	snprintf(target, sizeof(target), "%s/real/x", g_dir);
	assert_int_equal(access(target, F_OK), -1);
}

static void test_malformed_plan(void **state)
{
	struct rr rr;
	const char *trunc = "plan 1\n1\nworkdir 3\n/tm";
	run_raw(trunc, strlen(trunc), NULL, &rr);
	assert_true(rr.decoded);
	assert_non_null(rr.res.error);
	assert_true(rr.res.complete);
	assert_int_equal(WEXITSTATUS(rr.wstatus), 1);
	rr_free(&rr);
	run_raw("", 0, NULL, &rr);
	assert_true(rr.decoded);
	assert_non_null(strstr(rr.res.error, "truncated"));
	assert_int_equal(WEXITSTATUS(rr.wstatus), 1);
	rr_free(&rr);
	run_raw("garbage that is no plan", strlen("garbage that is no plan"), NULL, &rr);
	assert_true(rr.decoded);
	assert_non_null(rr.res.error);
	assert_int_equal(WEXITSTATUS(rr.wstatus), 1);
	rr_free(&rr);
}

static void test_compile_failing_stops(void **state)
{
	struct wire_plan p;
	struct rr rr;
	ONE(&p, "echo", "never");
	p.has_compile = 1;
	step_argv(&p.compile, "sh", "-c", "echo 'main.c:1: error' >&2; exit 1", NULL);
	p.compile.lim.wall_ms = 5000;
	add_test(&p, 1, "", 0);
	add_test(&p, 2, "", 0);
	run_ok(&p, 0, &rr);
	assert_true(rr.res.has_compile);
	assert_int_equal(rr.res.compile.status, RUNLET_EXIT_EXITED);
	assert_int_equal(rr.res.compile.exit_code, 1);
	assert_string_equal(rr.res.compile.err, "main.c:1: error\n");
	rr_free(&rr);
	wire_plan_free(&p);

	/* a compile that succeeds makes the program the tests run */
	ONE(&p, "./prog");
	p.has_compile = 1;
	step_argv(&p.compile, "sh", "-c",
		  "printf '#!/bin/sh\\necho built\\n' > prog; chmod +x prog", NULL);
	add_test(&p, 1, "", 0);
	run_ok(&p, 1, &rr);
	assert_true(rr.res.has_compile);
	assert_int_equal(rr.res.compile.status, RUNLET_EXIT_EXITED);
	assert_string_equal(rr.res.tests[0].out, "built\n");
	rr_free(&rr);
	wire_plan_free(&p);

	/* a compile killed at its wall limit is no success either */
	ONE(&p, "echo", "never");
	p.has_compile = 1;
	step_argv(&p.compile, "sleep", "5", NULL);
	p.compile.lim.wall_ms = 200;
	add_test(&p, 1, "", 0);
	run_ok(&p, 0, &rr);
	assert_int_equal(rr.res.compile.status, RUNLET_EXIT_TIMEOUT);
	rr_free(&rr);
	wire_plan_free(&p);
}

static int sleep_running(const char *arg)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int found = 0;
	assert_non_null(d);
	while (!found && (e = readdir(d))) {
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		char path[300], buf[256];
		snprintf(path, sizeof(path), "/proc/%s/cmdline", e->d_name);
		int fd = open(path, O_RDONLY);
		if (fd < 0)
			continue;
		ssize_t n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n <= 0)
			continue;
		buf[n] = '\0';
		const char *a0 = buf, *a1 = buf + strlen(buf) + 1;
		found = a1 < buf + n && strcmp(a1, arg) == 0 &&
			strstr(a0, "sleep") != NULL;
	}
	closedir(d);
	return found;
}

static void test_process_group_killed(void **state)
{
	char tag[64], script[160];
	snprintf(tag, sizeof(tag), "1000.%d", (int)getpid());
	snprintf(script, sizeof(script), "sleep %s & echo $!", tag);
	struct wire_plan p;
	struct rr rr;
	ONE(&p, "sh", "-c", script);
	add_test(&p, 1, "", 0);
	run_ok(&p, 1, &rr);
	assert_int_equal(rr.res.tests[0].status, RUNLET_EXIT_EXITED);
	assert_true(atoi(rr.res.tests[0].out) > 0);
	assert_false(sleep_running(tag));
	/* the background child held stdout open: no waiting for it */
	assert_true(rr.secs < 5);
	rr_free(&rr);
	wire_plan_free(&p);
}

static void test_orphans_reaped_without_pid1(void **state)
{
	/* a double-forked setsid child escapes the process group; the runner
	 * (a child subreaper) still finds and kills it */
	char secs[32];
	snprintf(secs, sizeof(secs), "%d", 1000 + (int)(getpid() % 1000));
	struct wire_plan p;
	struct rr rr;
	ONE(&p, helper_path(), "daemon", secs);
	add_test(&p, 1, "", 0);
	add_test(&p, 2, "", 0);
	run_ok(&p, 2, &rr);
	for (int i = 0; i < 2; i++) {
		int pid = atoi(rr.res.tests[i].out);
		assert_true(pid > 0);
		char path[64];
		snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
		char buf[256] = "";
		FILE *f = fopen(path, "r");
		size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
		if (f)
			fclose(f);
		buf[n] = '\0';
		assert_null(strstr(buf, "runner_helper"));
	}
	rr_free(&rr);
	wire_plan_free(&p);
}

static void test_child_state(void **state)
{
	struct wire_plan p;
	struct rr rr;
	ONE(&p, helper_path(), "state");
	add_test(&p, 1, "", 0);
	run_ok(&p, 1, &rr);
	const char *out = rr.res.tests[0].out;
	if (!strstr(out, "SigIgn:\t0000000000000000\n"))
		print_message("child state:\n%s\n", out);
	/* exactly fds 0, 1, 2 */
	assert_non_null(strstr(out, "fd 0\nfd 1\nfd 2\nuid"));
	assert_non_null(strstr(out, "SigBlk:\t0000000000000000\n"));
	assert_non_null(strstr(out, "SigIgn:\t0000000000000000\n"));
	assert_non_null(strstr(out, "NoNewPrivs:\t1\n"));
	assert_non_null(strstr(out, "Seccomp:\t0\n"));
	int pgrp = 0, pid = -1;
	const char *pg = strstr(out, "pgrp ");
	assert_non_null(pg);
	assert_int_equal(sscanf(pg, "pgrp %d pid %d", &pgrp, &pid), 2);
	assert_int_equal(pgrp, pid);
	rr_free(&rr);
	wire_plan_free(&p);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
#define T(f) cmocka_unit_test_setup_teardown(f, setup_dir, teardown_dir)
	const struct CMUnitTest tests[] = {
		T(test_exec_failure_is_setup),
		T(test_env_exactly_as_planned),
		T(test_files_written),
		T(test_files_refused),
		T(test_malformed_plan),
		T(test_compile_failing_stops),
		T(test_process_group_killed),
		T(test_orphans_reaped_without_pid1),
		T(test_child_state),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
