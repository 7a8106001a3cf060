/* Tests of the runner protocol codec (runner/wire*.c): round trips of plans
 * and results, binary values, malformed and truncated input, limits. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "runner/wire.h"

static void push(char ***v, size_t *n, const char *s)
{
	assert_int_equal(wire_strv_push(v, n, s), 0);
}

/* A plan with everything set, tests count tests with binary inputs. */
static void full_plan(struct wire_plan *p, size_t ntests)
{
	memset(p, 0, sizeof(*p));
	p->workdir = strdup("/home/sandbox/work");
	p->uid = 1001;
	p->gid = 1002;
	p->seccomp = 1;
	p->cg_mem = strdup("/sys/fs/cgroup/memory/runlet");
	p->cg_pids = strdup("/sys/fs/cgroup/pids/runlet");
	p->cg_cpu = strdup("/sys/fs/cgroup/cpuacct/runlet");
	p->cg_v2 = 0;
	p->await_mem = 64u << 20;
	p->oomwatch = 1;
	p->nfiles = 2;
	p->files = calloc(2, sizeof(*p->files));
	p->files[0].path = strdup("main.py");
	p->files[0].mode = 0644;
	p->files[0].data = strdup("print(input())\n");
	p->files[0].len = strlen(p->files[0].data);
	p->files[1].path = strdup("dir/blob.bin");
	p->files[1].mode = 0755;
	p->files[1].data = malloc(4);
	memcpy(p->files[1].data, "\0\n\0\n", 4);
	p->files[1].len = 4;
	p->has_compile = 1;
	push(&p->compile.argv, &p->compile.argc, "g++");
	push(&p->compile.argv, &p->compile.argc, "-o");
	push(&p->compile.argv, &p->compile.argc, "main");
	push(&p->compile.envp, &p->compile.envc, "PATH=/usr/bin");
	p->compile.lim = (struct wire_limits){10000, 20000, 524288, 64, 64, 128,
					      65536, 64, 8192, 64};
	push(&p->run.argv, &p->run.argc, "./main");
	push(&p->run.argv, &p->run.argc, "arg with spaces\nand newline");
	push(&p->run.envp, &p->run.envc, "LANG=C");
	push(&p->run.envp, &p->run.envc, "EMPTY=");
	p->run.lim = (struct wire_limits){1, 2, 3, 4, 5, 6, 7, 8, 9, UINT64_MAX};
	p->ntests = ntests;
	p->tests = calloc(ntests ? ntests : 1, sizeof(*p->tests));
	for (size_t i = 0; i < ntests; i++) {
		p->tests[i].num = ntests - i; /* any order */
		p->tests[i].len = i % 7;
		p->tests[i].input = malloc(p->tests[i].len + 1);
		for (size_t k = 0; k < p->tests[i].len; k++)
			p->tests[i].input[k] = (char)("\0\n x\xff"[k % 5]);
	}
}

static void same_limits(const struct wire_limits *a, const struct wire_limits *b)
{
	assert_memory_equal(a, b, sizeof(*a));
}

static void same_step(const struct wire_step *a, const struct wire_step *b)
{
	assert_int_equal(a->argc, b->argc);
	assert_int_equal(a->envc, b->envc);
	for (size_t i = 0; i < a->argc; i++)
		assert_string_equal(a->argv[i], b->argv[i]);
	for (size_t i = 0; i < a->envc; i++)
		assert_string_equal(a->envp[i], b->envp[i]);
	assert_null(b->argv[b->argc]);
	if (b->envp)
		assert_null(b->envp[b->envc]);
	same_limits(&a->lim, &b->lim);
}

static void roundtrip(size_t ntests)
{
	struct wire_plan p, q;
	struct wire_buf b = {0};
	char err[256] = "";
	full_plan(&p, ntests);
	assert_int_equal(wire_plan_encode(&p, &b), 0);
	assert_int_equal(wire_plan_decode(b.data, b.len, &q, err, sizeof(err)), 0);
	assert_string_equal(q.workdir, p.workdir);
	assert_int_equal(q.uid, 1001);
	assert_int_equal(q.gid, 1002);
	assert_int_equal(q.seccomp, 1);
	assert_string_equal(q.cg_mem, p.cg_mem);
	assert_string_equal(q.cg_pids, p.cg_pids);
	assert_string_equal(q.cg_cpu, p.cg_cpu);
	assert_int_equal(q.cg_v2, 0);
	assert_int_equal(q.await_mem, 64u << 20);
	assert_int_equal(q.oomwatch, 1);
	assert_int_equal(q.nfiles, 2);
	for (size_t i = 0; i < 2; i++) {
		assert_string_equal(q.files[i].path, p.files[i].path);
		assert_int_equal(q.files[i].mode, p.files[i].mode);
		assert_int_equal(q.files[i].len, p.files[i].len);
		assert_memory_equal(q.files[i].data, p.files[i].data, p.files[i].len);
	}
	assert_true(q.has_compile);
	same_step(&p.compile, &q.compile);
	same_step(&p.run, &q.run);
	assert_int_equal(q.ntests, ntests);
	for (size_t i = 0; i < ntests; i++) {
		assert_int_equal(q.tests[i].num, p.tests[i].num);
		assert_int_equal(q.tests[i].len, p.tests[i].len);
		assert_memory_equal(q.tests[i].input, p.tests[i].input,
				    p.tests[i].len);
	}
	wire_plan_free(&q);
	wire_plan_free(&p);
	wire_buf_free(&b);
}

static void test_plan_roundtrip(void **state)
{
	roundtrip(3);
}

static void test_plan_roundtrip_many_tests(void **state)
{
	roundtrip(5000);
}

static void test_plan_minimal_defaults(void **state)
{
	struct wire_plan p, q;
	struct wire_buf b = {0};
	char err[256];
	memset(&p, 0, sizeof(p));
	p.workdir = strdup("/w");
	p.uid = p.gid = -1;
	push(&p.run.argv, &p.run.argc, "true");
	assert_int_equal(wire_plan_encode(&p, &b), 0);
	assert_int_equal(wire_plan_decode(b.data, b.len, &q, err, sizeof(err)), 0);
	assert_int_equal(q.uid, -1);
	assert_int_equal(q.gid, -1);
	assert_null(q.cg_mem);
	assert_null(q.cg_pids);
	assert_null(q.cg_cpu);
	assert_false(q.has_compile);
	assert_int_equal(q.ntests, 0);
	assert_int_equal(q.run.envc, 0);
	wire_plan_free(&q);
	wire_plan_free(&p);
	wire_buf_free(&b);
	/* hand-written: unset values take their defaults */
	const char *s = "plan 1\n1\nworkdir 2\n/w\nfile 1\nf\ndata 0\n\n"
			"step 3\nrun\narg 1\nx\ntest 1\n4\nend 0\n\n";
	assert_int_equal(wire_plan_decode(s, strlen(s), &q, err, sizeof(err)), 0);
	assert_int_equal(q.files[0].mode, 0644);
	assert_int_equal(q.files[0].len, 0);
	assert_int_equal(q.tests[0].num, 4);
	assert_int_equal(q.tests[0].len, 0);
	wire_plan_free(&q);
}

/* Every prefix of a valid plan is rejected, never crashes. */
static void test_plan_truncated(void **state)
{
	struct wire_plan p, q;
	struct wire_buf b = {0};
	char err[256];
	full_plan(&p, 4);
	assert_int_equal(wire_plan_encode(&p, &b), 0);
	for (size_t n = 0; n < b.len; n++) {
		char *copy = malloc(n ? n : 1);
		memcpy(copy, b.data, n);
		err[0] = '\0';
		assert_int_equal(wire_plan_decode(copy, n, &q, err, sizeof(err)),
				 -EPROTO);
		assert_true(err[0] != '\0');
		wire_plan_free(&q);
		free(copy);
	}
	wire_plan_free(&p);
	wire_buf_free(&b);
}

static void expect_bad_plan_n(const char *s, size_t len, const char *needle)
{
	struct wire_plan q;
	char err[256] = "";
	assert_int_equal(wire_plan_decode(s, len, &q, err, sizeof(err)), -EPROTO);
	if (needle && !strstr(err, needle))
		fail_msg("error \"%s\" lacks \"%s\"", err, needle);
	wire_plan_free(&q);
}

static void expect_bad_plan(const char *s, const char *needle)
{
	expect_bad_plan_n(s, strlen(s), needle);
}

static void test_plan_malformed(void **state)
{
	expect_bad_plan("plan 1\n2\nend 0\n\n", "unsupported version");
	expect_bad_plan("workdir 2\n/w\nplan 1\n1\nend 0\n\n", "malformed");
	expect_bad_plan("plan 1\n1\nend 0\n\n", "workdir and a run step");
	expect_bad_plan("plan 1\n1\nworkdir 2\n/w\nend 0\n\n", "run step");
	expect_bad_plan("plan 1\n1\nbogus 1\nx\nend 0\n\n", "unexpected record \"bogus\"");
	expect_bad_plan("plan 1\n1\nPLAN 1\n1\n", "malformed");
	expect_bad_plan("plan 1\n1\nstep 4\nexec\n", "malformed");
	expect_bad_plan("plan 1\n1\nuid 3\nabc\n", "malformed");
	expect_bad_plan("plan 1\n1\nuid 20\n-99999999999999999999\n", "malformed");
	/* NUL inside a path, an argument or an env entry */
	expect_bad_plan_n("plan 1\n1\nworkdir 3\n/\0w\n", 23, "malformed");
	expect_bad_plan_n("plan 1\n1\nstep 3\nrun\narg 3\na\0b\n", 30, "malformed");
	expect_bad_plan_n("plan 1\n1\nstep 3\nrun\nenv 3\na\0b\n", 30, "malformed");
	expect_bad_plan("plan 1\n1\nfile 1\nf\nmode 4\n9999\n", "malformed");
	expect_bad_plan("plan 1\n1\nfile 1\nf\nmode 5\n77777\n", "malformed");
	expect_bad_plan("plan 1\n1\nmode 3\n644\n", "unexpected record \"mode\"");
	expect_bad_plan("plan 1\n1\ninput 0\n\n", "unexpected record \"input\"");
	expect_bad_plan("plan 1\n1\ncpu_ms 1\n1\n", "unexpected record \"cpu_ms\"");
	expect_bad_plan("plan 1\n1\nstep 3\nrun\ncpu_ms 2\n-1\n", "malformed");
	expect_bad_plan("plan 1\n1\nstep 3\nrun\ncpu_ms 21\n184467440737095516160\n",
			"malformed");
	/* length header problems */
	expect_bad_plan("plan 1\n1\nworkdir 9999999999999\n", "malformed");
	expect_bad_plan("plan 1\n1\nworkdir x\n", "malformed");
	expect_bad_plan("plan 1\n1\nworkdir 2\n/wX", "malformed");
	expect_bad_plan("plan 1\n1\nworkdir\n", "malformed");
	expect_bad_plan("plan 1\n1\n averyveryverylongtag 0\n\n", "malformed");
	expect_bad_plan("plan 1\n1\naveryveryverylongtag 0\n\n", "malformed");
	expect_bad_plan("plan 1\n1\nwork", "malformed");
	/* a malformed first record leaves no garbage in the message */
	expect_bad_plan("pl", "malformed");
	expect_bad_plan("plXn 1\n1\n", "(pl)");
}

static void test_reader_limits(void **state)
{
	char tag[16];
	const char *v;
	size_t len;
	/* exactly 15 characters is the longest tag */
	const char *ok = "abcdefghijklmno 0\n\n";
	struct wire_reader r = {ok, strlen(ok), 0};
	assert_int_equal(wire_next(&r, tag, &v, &len), 1);
	assert_string_equal(tag, "abcdefghijklmno");
	assert_int_equal(len, 0);
	assert_int_equal(wire_next(&r, tag, &v, &len), 0);
	const char *longer = "abcdefghijklmnop 0\n\n";
	r = (struct wire_reader){longer, strlen(longer), 0};
	assert_int_equal(wire_next(&r, tag, &v, &len), -EPROTO);
	assert_true(strlen(tag) <= 15);
	/* a length above WIRE_MAX_RECORD is refused before any reading */
	const char *huge = "data 1073741825\n";
	r = (struct wire_reader){huge, strlen(huge), 0};
	assert_int_equal(wire_next(&r, tag, &v, &len), -EPROTO);
	/* binary values with NUL and newlines */
	struct wire_buf b = {0};
	assert_int_equal(wire_put(&b, "data", "a\0\nb\n", 5), 0);
	assert_int_equal(wire_put(&b, "empty", "", 0), 0);
	r = (struct wire_reader){b.data, b.len, 0};
	assert_int_equal(wire_next(&r, tag, &v, &len), 1);
	assert_int_equal(len, 5);
	assert_memory_equal(v, "a\0\nb\n", 5);
	assert_int_equal(wire_next(&r, tag, &v, &len), 1);
	assert_string_equal(tag, "empty");
	assert_int_equal(len, 0);
	assert_int_equal(wire_next(&r, tag, &v, &len), 0);
	wire_buf_free(&b);
	/* numbers */
	assert_int_equal(wire_put_u64(&b, "n", UINT64_MAX), 0);
	assert_int_equal(wire_put_i64(&b, "i", INT64_MIN + 1), 0);
	assert_string_equal(b.data, "n 20\n18446744073709551615\ni 20\n-9223372036854775807\n");
	wire_buf_free(&b);
}

static void fill_outcome(struct wire_outcome *o, int compile, uint64_t num)
{
	memset(o, 0, sizeof(*o));
	o->is_compile = compile;
	o->num = num;
	o->status = 4;
	o->exit_code = -1;
	o->signal = 9;
	o->cpu_ms = 123;
	o->wall_ms = 456;
	o->mem_kb = 789;
	o->oom = 1;
	o->out = "o\0u\nt";
	o->out_len = 6;
	o->out_trunc = 1;
	o->err = "";
	o->err_len = 0;
	o->err_trunc = 0;
	o->note = compile ? NULL : "execve x: No such file or directory";
}

static void test_result_roundtrip(void **state)
{
	struct wire_buf b = {0};
	struct wire_outcome o;
	struct wire_result r;
	char err[256];
	assert_int_equal(wire_put_str(&b, "result", WIRE_VERSION), 0);
	fill_outcome(&o, 1, 0);
	assert_int_equal(wire_outcome_encode(&o, &b), 0);
	for (uint64_t n = 1; n <= 300; n++) {
		fill_outcome(&o, 0, n * 3);
		assert_int_equal(wire_outcome_encode(&o, &b), 0);
	}
	assert_int_equal(wire_put_str(&b, "end", ""), 0);
	assert_int_equal(wire_result_decode(b.data, b.len, &r, err, sizeof(err)), 0);
	assert_true(r.complete);
	assert_true(r.has_compile);
	assert_true(r.compile.is_compile);
	assert_null(r.compile.note);
	assert_int_equal(r.ntests, 300);
	for (size_t i = 0; i < 300; i++) {
		const struct wire_outcome *t = &r.tests[i];
		assert_int_equal(t->num, (i + 1) * 3);
		assert_int_equal(t->status, 4);
		assert_int_equal(t->exit_code, -1);
		assert_int_equal(t->signal, 9);
		assert_int_equal(t->cpu_ms, 123);
		assert_int_equal(t->wall_ms, 456);
		assert_int_equal(t->mem_kb, 789);
		assert_true(t->oom);
		assert_int_equal(t->out_len, 6);
		assert_memory_equal(t->out, "o\0u\nt", 6);
		assert_true(t->out_trunc);
		assert_int_equal(t->err_len, 0);
		assert_string_equal(t->err, "");
		assert_string_equal(t->note, "execve x: No such file or directory");
	}
	assert_null(r.error);
	wire_result_free(&r);
	wire_buf_free(&b);
}

/* "oomwatch" before the first outcome says the runner found the OOM
 * kills itself; anywhere else it is malformed. */
static void test_result_oomwatch(void **state)
{
	struct wire_result r;
	char err[256];
	const char *s = "result 1\n1\noomwatch 1\n1\noutcome 1\n1\noom 1\n1\nend 0\n\n";
	assert_int_equal(wire_result_decode(s, strlen(s), &r, err, sizeof(err)), 0);
	assert_true(r.oom_watched);
	assert_true(r.complete);
	assert_int_equal(r.ntests, 1);
	assert_int_equal(r.tests[0].oom, 1);
	wire_result_free(&r);
	s = "result 1\n1\noutcome 1\n1\noom 1\n0\nend 0\n\n";
	assert_int_equal(wire_result_decode(s, strlen(s), &r, err, sizeof(err)), 0);
	assert_false(r.oom_watched);
	wire_result_free(&r);
	s = "result 1\n1\noutcome 1\n1\noomwatch 1\n1\nend 0\n\n";
	assert_int_equal(wire_result_decode(s, strlen(s), &r, err, sizeof(err)), -EPROTO);
	wire_result_free(&r);
}

static void test_result_error_and_incomplete(void **state)
{
	struct wire_result r;
	char err[256];
	const char *s = "result 1\n1\nerror 9\nno cgroup\nend 0\n\n";
	assert_int_equal(wire_result_decode(s, strlen(s), &r, err, sizeof(err)), 0);
	assert_string_equal(r.error, "no cgroup");
	assert_true(r.complete);
	assert_int_equal(r.ntests, 0);
	wire_result_free(&r);
	/* a runner that died between records: decodes, not complete */
	s = "result 1\n1\noutcome 1\n1\nstatus 1\n0\n";
	assert_int_equal(wire_result_decode(s, strlen(s), &r, err, sizeof(err)), 0);
	assert_false(r.complete);
	assert_int_equal(r.ntests, 1);
	wire_result_free(&r);
	/* mid-record: an error */
	s = "result 1\n1\noutcome 1\n1\nstatus 1\n";
	assert_int_equal(wire_result_decode(s, strlen(s), &r, err, sizeof(err)), -EPROTO);
	wire_result_free(&r);
	s = "";
	assert_int_equal(wire_result_decode(s, 0, &r, err, sizeof(err)), -EPROTO);
	assert_non_null(strstr(err, "empty"));
	wire_result_free(&r);
	s = "plan 1\n1\n";
	assert_int_equal(wire_result_decode(s, strlen(s), &r, err, sizeof(err)), -EPROTO);
	assert_non_null(strstr(err, "bad header"));
	wire_result_free(&r);
	s = "result 1\n1\nstatus 1\n0\n"; /* a field before any outcome */
	assert_int_equal(wire_result_decode(s, strlen(s), &r, err, sizeof(err)), -EPROTO);
	wire_result_free(&r);
	s = "result 1\n1\noutcome 1\n1\nstatus 11\n99999999999\n";
	assert_int_equal(wire_result_decode(s, strlen(s), &r, err, sizeof(err)), -EPROTO);
	wire_result_free(&r);
	/* "await" (runner/memwait.h) ends the compile outcome: a field
	 * after it belongs to no outcome */
	s = "result 1\n1\noutcome 7\ncompile\nstatus 1\n0\nawait 8\n67108864\n";
	assert_int_equal(wire_result_decode(s, strlen(s), &r, err, sizeof(err)), 0);
	assert_true(r.has_compile);
	assert_false(r.complete);
	assert_int_equal(r.ntests, 0);
	wire_result_free(&r);
	s = "result 1\n1\noutcome 7\ncompile\nawait 1\n1\nstatus 1\n0\n";
	assert_int_equal(wire_result_decode(s, strlen(s), &r, err, sizeof(err)), -EPROTO);
	wire_result_free(&r);
	s = "result 1\n1\noutcome 1\n1\nbogus 1\n1\n";
	assert_int_equal(wire_result_decode(s, strlen(s), &r, err, sizeof(err)), -EPROTO);
	wire_result_free(&r);
}

static void test_artifacts_roundtrip(void **state)
{
	struct wire_outcome o;
	struct wire_buf b = {0};
	struct wire_result r;
	char err[128];
	memset(&o, 0, sizeof(o));
	o.is_compile = 1;
	assert_int_equal(wire_artifact_add(&o, "Program.exe", 0755, "MZ\0\n", 4), 0);
	assert_int_equal(wire_artifact_add(&o, "Program.pdb", 0644, "", 0), 0);
	assert_int_equal(wire_put_str(&b, "result", "1"), 0);
	assert_int_equal(wire_outcome_encode(&o, &b), 0);
	assert_int_equal(wire_put_str(&b, "end", ""), 0);
	assert_int_equal(wire_result_decode(b.data, b.len, &r, err, sizeof(err)), 0);
	assert_true(r.has_compile);
	assert_int_equal(r.compile.nartifacts, 2);
	assert_string_equal(r.compile.artifacts[0].name, "Program.exe");
	assert_int_equal(r.compile.artifacts[0].mode, 0755);
	assert_int_equal(r.compile.artifacts[0].len, 4);
	assert_memory_equal(r.compile.artifacts[0].data, "MZ\0\n", 4);
	assert_int_equal(r.compile.artifacts[1].len, 0);
	wire_result_free(&r);
	wire_buf_free(&b);
	wire_outcome_free(&o);

	/* artifacts only on the compile outcome, never with a path */
	const char *bad1 = "result 1\n1\noutcome 1\n1\nartifact 4\nmain\nend 0\n\n";
	assert_true(wire_result_decode(bad1, strlen(bad1), &r, err, sizeof(err)) < 0);
	wire_result_free(&r);
	const char *bad2 = "result 1\n1\noutcome 7\ncompile\nartifact 6\n../x/y\nend 0\n\n";
	assert_true(wire_result_decode(bad2, strlen(bad2), &r, err, sizeof(err)) < 0);
	wire_result_free(&r);

	struct wire_plan p, q;
	memset(&p, 0, sizeof(p));
	p.workdir = "/tmp";
	p.uid = p.gid = -1;
	char *argv[] = {"true", NULL};
	p.run.argv = argv;
	p.run.argc = 1;
	p.emit = 1;
	assert_int_equal(wire_plan_encode(&p, &b), 0);
	assert_int_equal(wire_plan_decode(b.data, b.len, &q, err, sizeof(err)), 0);
	assert_int_equal(q.emit, 1);
	wire_plan_free(&q);
	wire_buf_free(&b);
}

static void test_strv(void **state)
{
	char **v = NULL;
	size_t n = 0;
	for (int i = 0; i < 100; i++) {
		char s[16];
		snprintf(s, sizeof(s), "s%d", i);
		assert_int_equal(wire_strv_push(&v, &n, s), 0);
	}
	assert_int_equal(n, 100);
	assert_string_equal(v[42], "s42");
	assert_null(v[100]);
	wire_strv_free(v, n);
	wire_strv_free(NULL, 0);
	wire_plan_free(NULL);
	wire_result_free(NULL);
	wire_outcome_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plan_roundtrip),
		cmocka_unit_test(test_plan_roundtrip_many_tests),
		cmocka_unit_test(test_plan_minimal_defaults),
		cmocka_unit_test(test_plan_truncated),
		cmocka_unit_test(test_plan_malformed),
		cmocka_unit_test(test_reader_limits),
		cmocka_unit_test(test_result_roundtrip),
		cmocka_unit_test(test_result_oomwatch),
		cmocka_unit_test(test_result_error_and_incomplete),
		cmocka_unit_test(test_artifacts_roundtrip),
		cmocka_unit_test(test_strv),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
