/* Unit tests of planning (argv, env, placeholders, limits) and verdicts
 * (raw outcome -> status and output text). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/host.h"
#include "core/job.h"
#include "core/plan.h"
#include "core/verdict.h"

static const char *const py_run[] = {"python3", "{src}", NULL};

static const struct runlet_plugin interp = {
	.abi_major = RUNLET_PLUGIN_ABI_MAJOR,
	.struct_size = sizeof(struct runlet_plugin),
	.name = "t",
	.version = "1",
	.source_name = "main.py",
	.default_run_argv = py_run,
};

static const struct runlet_plugin compiled = {
	.abi_major = RUNLET_PLUGIN_ABI_MAJOR,
	.struct_size = sizeof(struct runlet_plugin),
	.name = "c",
	.version = "1",
	.source_name = "main.cpp",
	.binary_name = "main",
};

static struct cfg cfg0;
static char *cpp_compile[] = {"g++", "-o", "{bin}", "{src}", NULL};
static char *cpp_run[] = {"{src}", NULL};
static char *envs[] = {"FOO=bar", "LANG=override", NULL};

static void runner_init(struct cfg_runner *cr, const char *code)
{
	memset(cr, 0, sizeof(*cr));
	cr->code = (char *)code;
	cr->mem_limit = 256u << 20;
	cr->run_timeout_ms = 2000;
	cr->limits.output_limit = 1u << 20;
	cr->limits.stderr_limit = 64u << 10;
	cr->limits.pids_limit = 100;
	cr->limits.tmpfs_size = 256u << 20;
	cr->limits.compile_timeout_ms = 30000;
}

static struct job_test tests1[] = {{.num = 1, .input = "1 2\n", .input_len = 4}};

static void job_init(struct job *j)
{
	memset(j, 0, sizeof(*j));
	j->lang = "py";
	j->code = "print(1)\n";
	j->code_len = strlen(j->code);
	j->tests = tests1;
	j->ntests = 1;
}

static void test_interpreted_plan(void **state)
{
	struct cfg_runner cr;
	struct job job;
	struct wire_plan p;
	struct plan_info info;
	char err[256];
	runner_init(&cr, "py");
	cr.envs = envs;
	cr.nenvs = 2;
	job_init(&job);
	assert_int_equal(plan_build(&cfg0, &cr, &interp, "native", "/tmp", &job,
				    &p, &info, err, sizeof(err)), 0);
	assert_false(p.has_compile);
	assert_int_equal(p.run.argc, 2);
	assert_string_equal(p.run.argv[0], "python3");
	assert_string_equal(p.run.argv[1], "/tmp/main.py");
	int saw_foo = 0, saw_lang = 0;
	for (size_t i = 0; i < p.run.envc; i++) {
		saw_foo |= strcmp(p.run.envp[i], "FOO=bar") == 0;
		saw_lang |= strcmp(p.run.envp[i], "LANG=override") == 0;
	}
	assert_true(saw_foo);
	assert_true(saw_lang);
	assert_int_equal(p.nfiles, 1);
	assert_string_equal(p.files[0].path, "main.py");
	assert_memory_equal(p.files[0].data, job.code, job.code_len);
	assert_int_equal(p.ntests, 1);
	assert_int_equal(p.run.lim.cpu_ms, 2000);
	assert_int_equal(p.run.lim.wall_ms, 5000);
	assert_int_equal(p.run.lim.mem_kb, 256 * 1024);
	wire_plan_free(&p);
}

static void test_compiled_src_means_binary(void **state)
{
	struct cfg_runner cr;
	struct job job;
	struct wire_plan p;
	struct plan_info info;
	char err[256];
	runner_init(&cr, "cpp");
	cr.compile_args = cpp_compile;
	cr.ncompile_args = 4;
	cr.has_compile_args = 1;
	cr.run_args = cpp_run;
	cr.nrun_args = 1;
	cr.has_run_args = 1;
	job_init(&job);
	assert_int_equal(plan_build(&cfg0, &cr, &compiled, "native", "/w", &job,
				    &p, &info, err, sizeof(err)), 0);
	assert_true(p.has_compile);
	assert_string_equal(p.compile.argv[2], "/w/main");
	assert_string_equal(p.compile.argv[3], "/w/main.cpp");
	assert_string_equal(p.run.argv[0], "/w/main");
	assert_true(info.has_compile);
	wire_plan_free(&p);
}

static void test_no_run_command(void **state)
{
	struct cfg_runner cr;
	struct job job;
	struct wire_plan p;
	struct plan_info info;
	char err[256];
	runner_init(&cr, "cpp");
	job_init(&job);
	assert_int_equal(plan_build(&cfg0, &cr, &compiled, "native", "/w", &job,
				    &p, &info, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "runners.cpp"));
	assert_non_null(strstr(err, "run_args"));
	wire_plan_free(&p);
}

static void test_limits_clamped(void **state)
{
	struct cfg_runner cr;
	struct job job;
	struct runlet_limits c, r;
	runner_init(&cr, "py");
	job_init(&job);
	job.limits.has_time = 1;
	job.limits.time_ms = 500;
	job.limits.has_memory = 1;
	job.limits.memory_bytes = 4ull << 30; /* above the configured max */
	plan_limits(&cr, &job, &c, &r);
	assert_int_equal(r.time_ms, 500);
	assert_int_equal(r.wall_ms, 2000);
	assert_int_equal(r.memory_bytes, 256u << 20);
	cr.limits.max_mem_limit = 1ull << 30;
	plan_limits(&cr, &job, &c, &r);
	assert_int_equal(r.memory_bytes, 1ull << 30);
	job.limits.time_ms = 60000;
	plan_limits(&cr, &job, &c, &r);
	assert_int_equal(r.time_ms, 2000);
	assert_int_equal(c.memory_bytes, 1ull << 30);
}

static void test_expand(void **state)
{
	char *s = plan_expand("-out:{bin}{bin}", "{bin}", "/w/x");
	assert_string_equal(s, "-out:/w/x/w/x");
	free(s);
}

static struct plan_info pinfo(void)
{
	struct plan_info pi;
	memset(&pi, 0, sizeof(pi));
	strcpy(pi.workdir, "/tmp");
	strcpy(pi.src_path, "/tmp/main.py");
	strcpy(pi.bin_path, "/tmp/main");
	pi.run_limits.time_ms = 1000;
	return pi;
}

static void judge(const struct wire_outcome *o, const char *expected,
		  struct res_test *rt)
{
	struct plan_info pi = pinfo();
	struct job_test jt = {.num = 3, .input = "in", .input_len = 2};
	if (expected) {
		jt.expected = (char *)expected;
		jt.expected_len = strlen(expected);
	}
	assert_int_equal(verdict_test(&interp, &pi, &jt, o, rt), 0);
	assert_int_equal(rt->num, 3);
}

static void test_verdict_ok_wa(void **state)
{
	struct wire_outcome o = {.status = RUNLET_EXIT_EXITED, .out = "3\n\n",
				 .out_len = 3, .err = "", .err_len = 0};
	struct res_test rt;
	judge(&o, "3\n", &rt);
	assert_int_equal(rt.status, RUNLET_VERDICT_OK);
	assert_string_equal(rt.output, "3");
	free(rt.output);
	free(rt.stderr_text);
	judge(&o, "4", &rt);
	assert_int_equal(rt.status, RUNLET_VERDICT_WA);
	free(rt.output);
	free(rt.stderr_text);
	judge(&o, NULL, &rt);
	assert_int_equal(rt.status, RUNLET_VERDICT_OK);
	free(rt.output);
	free(rt.stderr_text);
}

static void test_verdict_tle(void **state)
{
	struct wire_outcome o = {.status = RUNLET_EXIT_TIMEOUT, .signal = SIGKILL,
				 .out = "partial", .out_len = 7};
	struct res_test rt;
	judge(&o, "x", &rt);
	assert_int_equal(rt.status, RUNLET_VERDICT_TLE);
	assert_string_equal(rt.output, "timeout exceeded");
	free(rt.output);
	free(rt.stderr_text);
}

static void test_verdict_re_stderr_cleaned(void **state)
{
	const char *err = "Traceback:\n  File \"/tmp/main.py\", line 1\nZeroDivisionError\n";
	struct wire_outcome o = {.status = RUNLET_EXIT_EXITED, .exit_code = 1,
				 .err = (char *)err, .err_len = strlen(err)};
	struct res_test rt;
	judge(&o, NULL, &rt);
	assert_int_equal(rt.status, RUNLET_VERDICT_RE);
	assert_null(strstr(rt.output, "/tmp/"));
	assert_non_null(strstr(rt.output, "\"main.py\""));
	assert_non_null(strstr(rt.output, "ZeroDivisionError"));
	free(rt.output);
	free(rt.stderr_text);
}

static void test_verdict_signal_and_oom(void **state)
{
	struct wire_outcome o = {.status = RUNLET_EXIT_SIGNALED, .signal = SIGSEGV};
	struct res_test rt;
	judge(&o, NULL, &rt);
	assert_int_equal(rt.status, RUNLET_VERDICT_RE);
	assert_non_null(strstr(rt.output, "signal 11"));
	free(rt.output);
	free(rt.stderr_text);
	struct wire_outcome m = {.status = RUNLET_EXIT_SIGNALED, .signal = SIGKILL, .oom = 1};
	judge(&m, NULL, &rt);
	assert_int_equal(rt.status, RUNLET_VERDICT_MLE);
	assert_string_equal(rt.output, "memory limit exceeded");
	free(rt.output);
	free(rt.stderr_text);
	/* SIGKILL at 95 % of the memory limit, no OOM flag seen: MLE */
	struct plan_info pi = pinfo();
	pi.run_limits.memory_bytes = 64u << 20;
	struct job_test jt = {.num = 3, .input = "in", .input_len = 2};
	struct wire_outcome near = {.status = RUNLET_EXIT_SIGNALED, .signal = SIGKILL,
				    .mem_kb = 62336};
	assert_int_equal(verdict_test(&interp, &pi, &jt, &near, &rt), 0);
	assert_int_equal(rt.status, RUNLET_VERDICT_MLE);
	free(rt.output);
	free(rt.stderr_text);
	near.mem_kb = 20000; /* far below: a plain kill is RE */
	assert_int_equal(verdict_test(&interp, &pi, &jt, &near, &rt), 0);
	assert_int_equal(rt.status, RUNLET_VERDICT_RE);
	free(rt.output);
	free(rt.stderr_text);
	struct wire_outcome ol = {.status = RUNLET_EXIT_OUTPUT_LIMIT, .signal = SIGKILL};
	judge(&ol, NULL, &rt);
	assert_int_equal(rt.status, RUNLET_VERDICT_OLE);
	free(rt.output);
	free(rt.stderr_text);
	struct wire_outcome su = {.status = RUNLET_EXIT_SETUP, .note = "execve python3: No such file or directory"};
	judge(&su, NULL, &rt);
	assert_int_equal(rt.status, RUNLET_VERDICT_IE);
	assert_non_null(strstr(rt.output, "No such file"));
	free(rt.output);
	free(rt.stderr_text);
}

static void test_verdict_compile_error(void **state)
{
	struct plan_info pi = pinfo();
	const char *msg = "/tmp/main.cpp:1:1: error: expected ';'\n";
	struct wire_outcome o = {.is_compile = 1, .status = RUNLET_EXIT_EXITED,
				 .exit_code = 1, .err = (char *)msg,
				 .err_len = strlen(msg)};
	struct result *res = result_new(1);
	int ok = 1;
	assert_non_null(res);
	assert_int_equal(verdict_compile(&compiled, &pi, &o, res, &ok), 0);
	assert_false(ok);
	assert_int_equal(res->status, RUNLET_VERDICT_CE);
	assert_string_equal(res->err_msg, "main.cpp:1:1: error: expected ';'");
	result_free(res);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_interpreted_plan),
		cmocka_unit_test(test_compiled_src_means_binary),
		cmocka_unit_test(test_no_run_command),
		cmocka_unit_test(test_limits_clamped),
		cmocka_unit_test(test_expand),
		cmocka_unit_test(test_verdict_ok_wa),
		cmocka_unit_test(test_verdict_tle),
		cmocka_unit_test(test_verdict_re_stderr_cleaned),
		cmocka_unit_test(test_verdict_signal_and_oom),
		cmocka_unit_test(test_verdict_compile_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
