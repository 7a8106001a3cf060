/* Tests of runlet-runner's isolation of a program: dropping ids, seccomp
 * (denials, other architectures, real toolchains under the filter), and the
 * per-test overhead. Parts that need root or a toolchain skip (naming why)
 * where the host lacks them. */
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

static void test_ids_dropped(void **state)
{
	if (not_root())
		return;
	struct wire_plan p;
	struct rr rr;
	eval_plan(&p);
	p.uid = test_uid();
	p.gid = test_uid();
	add_file(&p, "mine.txt", 0600, "x", 1);
	add_helper(&p);
	add_cmd(&p, 1, "exec %s state", "./runner_helper");
	add_cmd(&p, 2, "cat mine.txt && echo new > new.txt && echo wrote && "
		       "rm -f mine.txt 2>/dev/null; echo y > mine.txt; cat mine.txt");
	run_ok(&p, 2, &rr);
	const char *out = rr.res.tests[0].out;
	char ids[128];
	snprintf(ids, sizeof(ids), "uid %d %d gid %d %d\n", test_uid(), test_uid(),
		 test_uid(), test_uid());
	assert_non_null(strstr(out, ids));
	assert_non_null(strstr(out, "groups 0\n"));
	assert_non_null(strstr(out, "CapPrm:\t0000000000000000\n"));
	assert_non_null(strstr(out, "CapEff:\t0000000000000000\n"));
	assert_non_null(strstr(out, "CapAmb:\t0000000000000000\n"));
	/* the program could neither delete nor overwrite a plan file */
	assert_string_equal(rr.res.tests[1].out, "xwrote\nx");
	/* before the tests the workdir and the plan's files were sealed:
	 * root's, sticky; the program's own files stay its own */
	struct stat sb;
	char path[512];
	assert_int_equal(stat(g_dir, &sb), 0);
	assert_int_equal(sb.st_uid, 0);
	assert_int_equal(sb.st_mode & 07777, 01777);
	snprintf(path, sizeof(path), "%s/mine.txt", g_dir);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_uid, 0);
	assert_int_equal(sb.st_mode & 0777, 0644);
	snprintf(path, sizeof(path), "%s/new.txt", g_dir);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_uid, test_uid());
	rr_free(&rr);
	wire_plan_free(&p);

	/* without a pids cgroup, pids becomes RLIMIT_NPROC of that user */
	eval_plan(&p);
	p.uid = test_uid();
	p.gid = test_uid();
	p.run.lim.pids = 4;
	char second[300];
	snprintf(second, sizeof(second), "%s/second", g_dir); /* made by the runner */
	free(p.workdir);
	p.workdir = strdup(second);
	add_helper(&p);
	add_cmd(&p, 1, "exec %s forkcount 50", "./runner_helper");
	run_ok(&p, 1, &rr);
	int forked = atoi(rr.res.tests[0].out);
	assert_true(forked >= 1);
	assert_true(forked <= 3);
	rr_free(&rr);
	wire_plan_free(&p);
}

static void test_ids_without_root(void **state)
{
	/* a runner started as the plan's user runs the plan as is; one started
	 * as another user without root refuses it */
	if (not_root() || host_lacks(!have_program("setpriv"), 1, "setpriv missing"))
		return;
	char uid[16], want[32];
	snprintf(uid, sizeof(uid), "%d", test_uid());
	assert_int_equal(chown(g_dir, (uid_t)test_uid(), (gid_t)test_uid()), 0);
	const char *prefix[] = {"setpriv", "--reuid", uid, "--regid", uid,
				"--clear-groups", NULL};
	struct wire_plan p;
	struct rr rr;
	ONE(&p, "id", "-u");
	p.uid = test_uid();
	p.gid = test_uid();
	add_test(&p, 1, "", 0);
	run_plan_with(&p, prefix, &rr);
	assert_true(rr.decoded);
	assert_null(rr.res.error);
	assert_int_equal(rr.res.ntests, 1);
	snprintf(want, sizeof(want), "%s\n", uid);
	assert_string_equal(rr.res.tests[0].out, want);
	rr_free(&rr);
	p.uid = 12345;
	run_plan_with(&p, prefix, &rr);
	assert_true(rr.decoded);
	assert_non_null(rr.res.error);
	assert_non_null(strstr(rr.res.error, "start it as root or as that user"));
	assert_int_equal(WEXITSTATUS(rr.wstatus), 1);
	assert_int_equal(rr.res.ntests, 0);
	rr_free(&rr);
	wire_plan_free(&p);
}

static void test_seccomp_denials(void **state)
{
	struct wire_plan p;
	struct rr rr;
	ONE(&p, helper_path(), "probe");
	p.seccomp = 1;
	add_test(&p, 1, "", 0);
	run_ok(&p, 1, &rr);
	static const char *const want[] = {
		"thread=ok\n",
		"ptrace=Operation not permitted\n",
		"unshare=Operation not permitted\n",
		"clone_newns=Operation not permitted\n",
		"clone3=Function not implemented\n",
		"mknod_chr=Operation not permitted\n",
		"mknod_fifo=ok\n",
		"io_uring_setup=Operation not permitted\n",
		"keyctl=Operation not permitted\n",
		"chroot=Operation not permitted\n",
		"fork=ok\n",
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		if (!strstr(rr.res.tests[0].out, want[i]))
			fail_msg("probe output lacks %s: %s", want[i],
				 rr.res.tests[0].out);
	rr_free(&rr);
	wire_plan_free(&p);

	/* without the filter the same probe is not denied */
	ONE(&p, helper_path(), "probe");
	add_test(&p, 1, "", 0);
	run_ok(&p, 1, &rr);
	assert_non_null(strstr(rr.res.tests[0].out, "ptrace=ok\n"));
	assert_null(strstr(rr.res.tests[0].out, "clone3=Function not implemented"));
	rr_free(&rr);
	wire_plan_free(&p);
}

static void test_seccomp_other_arch_killed(void **state)
{
#if defined(__x86_64__)
	static const char *const modes[] = {"i386", "x32"};
	for (size_t i = 0; i < 2; i++) {
		struct wire_plan p;
		struct rr rr;
		ONE(&p, helper_path(), modes[i]);
		p.seccomp = 1;
		add_test(&p, 1, "", 0);
		run_ok(&p, 1, &rr);
		assert_int_equal(rr.res.tests[0].status, RUNLET_EXIT_SIGNALED);
		assert_int_equal(rr.res.tests[0].signal, SIGSYS);
		assert_int_equal(rr.res.tests[0].out_len, 0);
		rr_free(&rr);
		wire_plan_free(&p);
	}
#else
	skip();
#endif
}

/* One toolchain under the filter: optional compile, then a run whose
 * stdout must be want. */
static void lang_case(const char *name, const char *src_name, const char *src,
		      const char *const *compile, const char *const *run,
		      const char *input, const char *want)
{
	struct wire_plan p;
	struct rr rr;
	char gocache[600], home[300];
	plan_init(&p);
	p.seccomp = 1;
	snprintf(home, sizeof(home), "HOME=%s", g_dir);
	snprintf(gocache, sizeof(gocache), "GOCACHE=%s/tests/gocache", build_dir());
	add_file(&p, src_name, 0644, src, strlen(src));
	struct wire_step *steps[2] = {compile ? &p.compile : NULL, &p.run};
	const char *const *argvs[2] = {compile, run};
	for (int s = 0; s < 2; s++) {
		if (!steps[s])
			continue;
		step_env(steps[s], "PATH=/usr/local/bin:/usr/bin:/bin");
		step_env(steps[s], home);
		step_env(steps[s], gocache);
		step_env(steps[s], "GOTMPDIR=/tmp");
		for (const char *const *a = argvs[s]; *a; a++)
			assert_int_equal(wire_strv_push(&steps[s]->argv,
							&steps[s]->argc, *a), 0);
		steps[s]->lim.wall_ms = 120000;
	}
	p.has_compile = compile != NULL;
	add_test(&p, 1, input, strlen(input));
	run_plan_with(&p, NULL, &rr);
	assert_true(rr.decoded);
	assert_null(rr.res.error);
	if (compile) {
		assert_true(rr.res.has_compile);
		if (rr.res.compile.status != RUNLET_EXIT_EXITED ||
		    rr.res.compile.exit_code != 0)
			fail_msg("%s: compile failed (status %d exit %d): %s", name,
				 rr.res.compile.status, rr.res.compile.exit_code,
				 rr.res.compile.err);
	}
	assert_int_equal(rr.res.ntests, 1);
	const struct wire_outcome *o = &rr.res.tests[0];
	if (o->status != RUNLET_EXIT_EXITED || o->exit_code != 0 ||
	    strcmp(o->out, want) != 0)
		fail_msg("%s: status %d exit %d signal %d out \"%s\" err \"%s\"",
			 name, o->status, o->exit_code, o->signal, o->out, o->err);
	rr_free(&rr);
	wire_plan_free(&p);
}

static void test_seccomp_toolchains(void **state)
{
	if (!host_lacks(!have_program("python3"), 1, "python3 missing")) {
		const char *run[] = {"python3", "main.py", NULL};
		lang_case("python3", "main.py",
			  "import threading, subprocess\n"
			  "r = []\n"
			  "t = threading.Thread(target=lambda: r.append(sum(map(int, input().split()))))\n"
			  "t.start(); t.join()\n"
			  "print(r[0], subprocess.run(['echo', 'sub'], capture_output=True).stdout.decode().strip())\n",
			  NULL, run, "1 2\n", "3 sub\n");
	}
	if (!host_lacks(!have_program("node"), 1, "node missing")) {
		const char *run[] = {"node", "main.js", NULL};
		lang_case("node", "main.js",
			  "const fs = require('fs');\n"
			  "const [a, b] = fs.readFileSync(0, 'utf8').trim().split(' ').map(Number);\n"
			  "setTimeout(() => console.log(a + b), 10);\n",
			  NULL, run, "2 3\n", "5\n");
	}
	if (!host_lacks(!have_program("g++"), 1, "g++ missing")) {
		const char *compile[] = {"g++", "-O1", "-pthread", "-o", "main", "main.cpp", NULL};
		const char *run[] = {"./main", NULL};
		lang_case("g++", "main.cpp",
			  "#include <iostream>\n#include <thread>\n"
			  "int main() { long a, b; std::cin >> a >> b; long s = 0;\n"
			  "  std::thread t([&] { s = a + b; }); t.join();\n"
			  "  std::cout << s << std::endl; }\n",
			  compile, run, "40 2\n", "42\n");
	}
	if (!host_lacks(!have_program("go"), 1, "go missing")) {
		const char *compile[] = {"go", "build", "-o", "main", "main.go", NULL};
		const char *run[] = {"./main", NULL};
		lang_case("go", "main.go",
			  "package main\nimport (\"fmt\"; \"sync\")\n"
			  "func main() { var a, b int; fmt.Scan(&a, &b)\n"
			  "  var wg sync.WaitGroup; s := 0; wg.Add(1)\n"
			  "  go func() { s = a + b; wg.Done() }(); wg.Wait()\n"
			  "  fmt.Println(s) }\n",
			  compile, run, "5 6\n", "11\n");
	}
	if (!host_lacks(!have_program("mcs") || !have_program("mono"), 1,
			"mono-mcs/mono-runtime missing")) {
		const char *compile[] = {"mcs", "-out:main.exe", "main.cs", NULL};
		const char *run[] = {"mono", "main.exe", NULL};
		lang_case("mono", "main.cs",
			  "using System; using System.Threading;\n"
			  "class P { static void Main() {\n"
			  "  var x = Console.ReadLine().Split(' '); int s = 0;\n"
			  "  var t = new Thread(() => { s = int.Parse(x[0]) + int.Parse(x[1]); });\n"
			  "  t.Start(); t.Join(); Console.WriteLine(s); } }\n",
			  compile, run, "7 8\n", "15\n");
	}
}

/* ---- overhead ---- */

/* Seconds for n bare fork+exec+wait of /bin/true, from the small helper
 * process (a fork costs more the bigger the parent). */
static double bare_fork_exec(int n)
{
	char num[16];
	snprintf(num, sizeof(num), "%d", n);
	double t0 = now_s();
	pid_t pid = fork();
	if (pid == 0) {
		execl(helper_path(), "runner_helper", "spawn", num, "/bin/true",
		      (char *)NULL);
		_exit(127);
	}
	assert_true(pid > 0);
	int st = 0;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	return now_s() - t0;
}

/* Seconds for n tests of /bin/true through the runner. */
static double through_runner(int n)
{
	struct wire_plan p;
	struct rr rr;
	ONE(&p, "/bin/true");
	for (int i = 0; i < n; i++)
		add_test(&p, (uint64_t)i + 1, "", 0);
	run_ok(&p, (size_t)n, &rr);
	for (int i = 0; i < n; i++)
		assert_int_equal(rr.res.tests[i].status, RUNLET_EXIT_EXITED);
	double secs = rr.secs;
	rr_free(&rr);
	wire_plan_free(&p);
	return secs;
}

static void test_overhead(void **state)
{
	/* the machine is shared: the fastest of three rounds of each */
	const int n = 1000;
	double runner = 1e9, bare = 1e9;
	for (int round = 0; round < 3; round++) {
		double r = through_runner(n), b = bare_fork_exec(n);
		printf("overhead round %d: %d tests of /bin/true through the runner "
		       "%.3f s, bare fork+exec %.3f s\n", round + 1, n, r, b);
		runner = r < runner ? r : runner;
		bare = b < bare ? b : bare;
	}
	double us = (runner - bare) / n * 1e6;
	printf("overhead: %.0f us per test (runner %.1f us, bare %.1f us per "
	       "test, fastest rounds)\n", us, runner / n * 1e6, bare / n * 1e6);
	/* a report, not a timed test: the speed targets live in bench/ (the
	 * 1000 runs above are checked for their statuses) */
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
#define T(f) cmocka_unit_test_setup_teardown(f, setup_dir, teardown_dir)
	const struct CMUnitTest tests[] = {
		T(test_ids_dropped),
		T(test_ids_without_root),
		T(test_seccomp_denials),
		T(test_seccomp_other_arch_killed),
		T(test_seccomp_toolchains),
		T(test_overhead),
	};
	return runner_tests_done(cmocka_run_group_tests(tests, NULL, NULL),
				 sizeof(tests) / sizeof(tests[0]));
}
