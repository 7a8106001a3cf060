/* Unit tests of the docker backend's stream framing: the multiplexed
 * attach stream demuxer, the JSON-lines splitter, and the collection of
 * runner records from a container (progress, OOM and deadline folding). */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "backends/docker/collect.h"
#include "backends/docker/stream.h"
#include "runlet/plugin.h"

static void frame(struct wire_buf *b, int stream, const char *p, size_t n)
{
	unsigned char h[8] = {(unsigned char)stream, 0, 0, 0,
			      (unsigned char)(n >> 24), (unsigned char)(n >> 16),
			      (unsigned char)(n >> 8), (unsigned char)n};
	assert_int_equal(wire_buf_append(b, h, 8), 0);
	assert_int_equal(wire_buf_append(b, p, n), 0);
}

struct two {
	struct wire_buf out, err;
};

static int on_frame(void *arg, int stream, const char *p, size_t n)
{
	struct two *t = arg;
	return wire_buf_append(stream == 1 ? &t->out : &t->err, p, n);
}

static void test_demux_every_split(void **st)
{
	struct wire_buf in = {0};
	frame(&in, 1, "hello ", 6);
	frame(&in, 2, "oops\n", 5);
	frame(&in, 1, "", 0);
	frame(&in, 1, "world\0!", 7);
	for (size_t chunk = 1; chunk <= in.len; chunk++) {
		struct dock_demux d;
		struct two t = {{0}, {0}};
		dock_demux_init(&d);
		for (size_t off = 0; off < in.len; off += chunk) {
			size_t n = in.len - off < chunk ? in.len - off : chunk;
			assert_int_equal(dock_demux_feed(&d, in.data + off, n, on_frame, &t), 0);
		}
		assert_int_equal(dock_demux_end(&d), 0);
		assert_int_equal(t.out.len, 13);
		assert_memory_equal(t.out.data, "hello world\0!", 13);
		assert_int_equal(t.err.len, 5);
		assert_memory_equal(t.err.data, "oops\n", 5);
		wire_buf_free(&t.out);
		wire_buf_free(&t.err);
	}
	wire_buf_free(&in);
}

static void test_demux_bad_and_truncated(void **st)
{
	struct dock_demux d;
	struct two t = {{0}, {0}};
	/* a raw (TTY) stream is not multiplexed: refused */
	dock_demux_init(&d);
	assert_int_equal(dock_demux_feed(&d, "result 1\n1\n", 11, on_frame, &t), -EPROTO);
	/* a stream ending inside a frame */
	struct wire_buf in = {0};
	frame(&in, 1, "abcdef", 6);
	dock_demux_init(&d);
	assert_int_equal(dock_demux_feed(&d, in.data, in.len - 2, on_frame, &t), 0);
	assert_int_equal(dock_demux_end(&d), -EPROTO);
	dock_demux_init(&d);
	assert_int_equal(dock_demux_feed(&d, in.data, 5, on_frame, &t), 0);
	assert_int_equal(dock_demux_end(&d), -EPROTO);
	wire_buf_free(&in);
	wire_buf_free(&t.out);
	wire_buf_free(&t.err);
}

struct lines {
	char got[8][64];
	int n;
};

static int on_line(void *arg, const char *l, size_t n)
{
	struct lines *ls = arg;
	assert_true(ls->n < 8);
	snprintf(ls->got[ls->n++], 64, "%.*s", (int)n, l);
	return 0;
}

static void test_lines(void **st)
{
	const char *text = "{\"stream\":\"Step 1/2\"}\n{\"stream\":\"\\n\"}\n{\"error\":\"x\"}";
	for (size_t chunk = 1; chunk < strlen(text); chunk += 3) {
		struct dock_lines l = {{0}, 0};
		struct lines ls = {.n = 0};
		for (size_t off = 0; off < strlen(text); off += chunk) {
			size_t n = strlen(text) - off < chunk ? strlen(text) - off : chunk;
			assert_int_equal(dock_lines_feed(&l, text + off, n, on_line, &ls), 0);
		}
		assert_int_equal(dock_lines_end(&l, on_line, &ls), 0);
		assert_int_equal(ls.n, 3);
		assert_string_equal(ls.got[0], "{\"stream\":\"Step 1/2\"}");
		assert_string_equal(ls.got[2], "{\"error\":\"x\"}");
	}
}

/* --- collection of runner records ----------------------------------- */

static void outcome(struct wire_buf *b, const char *which, int status, int sig,
		    const char *out)
{
	struct wire_outcome o;
	memset(&o, 0, sizeof(o));
	o.is_compile = !strcmp(which, "compile");
	o.num = o.is_compile ? 0 : strtoull(which, NULL, 10);
	o.status = status;
	o.signal = sig;
	o.out = (char *)out;
	o.out_len = strlen(out);
	o.err = (char *)"";
	assert_int_equal(wire_outcome_encode(&o, b), 0);
}

static void plan3(struct wire_plan *p, int compile)
{
	static struct wire_test t[3] = {{1, NULL, 0}, {2, NULL, 0}, {3, NULL, 0}};
	memset(p, 0, sizeof(*p));
	p->has_compile = compile;
	p->tests = t;
	p->ntests = 3;
}

struct seen {
	uint64_t nums[8];
	int n;
};

static void on_progress(void *arg, const struct wire_outcome *o)
{
	struct seen *s = arg;
	s->nums[s->n++] = o->is_compile ? 999 : o->num;
}

static void feed_chunked(struct dock_collect *c, const struct wire_buf *b,
			 size_t chunk)
{
	for (size_t off = 0; off < b->len; off += chunk) {
		size_t n = b->len - off < chunk ? b->len - off : chunk;
		assert_int_equal(dock_collect_frame(c, 1, b->data + off, n), 0);
	}
}

static void test_collect_complete(void **st)
{
	struct wire_buf b = {0};
	struct wire_plan p;
	plan3(&p, 1);
	wire_put_str(&b, "result", "1");
	outcome(&b, "compile", RUNLET_EXIT_EXITED, 0, "");
	outcome(&b, "1", RUNLET_EXIT_EXITED, 0, "3");
	outcome(&b, "2", RUNLET_EXIT_EXITED, 0, "12");
	outcome(&b, "3", RUNLET_EXIT_EXITED, 0, "bin\0ary");
	wire_put_str(&b, "end", "");
	for (size_t chunk = 1; chunk < b.len; chunk = chunk * 2 + 1) {
		struct dock_collect c;
		struct seen s = {.n = 0};
		struct wire_result r;
		struct dock_fate f = {0};
		char err[256];
		dock_collect_init(&c, 1 << 20, on_progress, &s);
		feed_chunked(&c, &b, chunk);
		/* each outcome is passed on as soon as the next record starts */
		assert_int_equal(s.n, 4);
		assert_int_equal(s.nums[0], 999);
		assert_int_equal(s.nums[3], 3);
		assert_int_equal(dock_collect_finish(&c, &p, &f, &r, err, sizeof(err)), 0);
		assert_true(r.complete);
		assert_int_equal(r.ntests, 3);
		wire_result_free(&r);
		dock_collect_free(&c);
	}
	wire_buf_free(&b);
}

static void test_collect_idle_and_compile(void **st)
{
	struct wire_buf b = {0};
	struct dock_collect c;
	struct seen s = {.n = 0};
	wire_put_str(&b, "result", "1");
	outcome(&b, "compile", RUNLET_EXIT_EXITED, 0, "");
	size_t after_compile = b.len;
	outcome(&b, "1", RUNLET_EXIT_EXITED, 0, "3");
	dock_collect_init(&c, 1 << 20, on_progress, &s);
	/* the compile outcome cut before its last field: not done yet */
	assert_int_equal(dock_collect_frame(&c, 1, b.data, after_compile - 3), 0);
	dock_collect_idle(&c);
	assert_int_equal(s.n, 0);
	assert_false(c.compile_done);
	assert_int_equal(dock_collect_frame(&c, 1, b.data + after_compile - 3, 3), 0);
	assert_true(c.compile_done);
	/* the stream goes quiet: passed on without waiting for test 1 */
	dock_collect_idle(&c);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.nums[0], 999);
	/* and not twice when test 1's outcome starts */
	assert_int_equal(dock_collect_frame(&c, 1, b.data + after_compile, b.len - after_compile), 0);
	dock_collect_idle(&c);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.nums[1], 1);
	assert_int_equal(dock_collect_frame(&c, 1, "end 0\n\n", 7), 0);
	assert_int_equal(s.n, 2);
	dock_collect_free(&c);
	wire_buf_free(&b);
}

static void test_collect_oom_marks_sigkill(void **st)
{
	struct wire_buf b = {0};
	struct wire_plan p;
	struct dock_collect c;
	struct seen s = {.n = 0};
	struct wire_result r;
	struct dock_fate f = {.oom = 1, .mem_limit = 256u << 20};
	char err[256];
	plan3(&p, 0);
	wire_put_str(&b, "result", "1");
	outcome(&b, "1", RUNLET_EXIT_EXITED, 0, "ok");
	outcome(&b, "2", RUNLET_EXIT_SIGNALED, SIGKILL, "");
	outcome(&b, "3", RUNLET_EXIT_SIGNALED, SIGSEGV, "");
	wire_put_str(&b, "end", "");
	dock_collect_init(&c, 1 << 20, on_progress, &s);
	feed_chunked(&c, &b, 7);
	/* test 2 may be an OOM kill: it and what follows wait for the end */
	assert_int_equal(s.n, 1);
	assert_int_equal(dock_collect_finish(&c, &p, &f, &r, err, sizeof(err)), 0);
	assert_int_equal(r.tests[0].status, RUNLET_EXIT_EXITED);
	assert_int_equal(r.tests[1].status, RUNLET_EXIT_MEMORY);
	assert_true(r.tests[1].oom);
	assert_int_equal(r.tests[2].status, RUNLET_EXIT_SIGNALED);
	wire_result_free(&r);
	dock_collect_free(&c);

	/* without an OOM kill a SIGKILL stays what it was */
	struct dock_fate none = {0};
	dock_collect_init(&c, 1 << 20, NULL, NULL);
	feed_chunked(&c, &b, b.len);
	assert_int_equal(dock_collect_finish(&c, &p, &none, &r, err, sizeof(err)), 0);
	assert_int_equal(r.tests[1].status, RUNLET_EXIT_SIGNALED);
	wire_result_free(&r);
	dock_collect_free(&c);
	wire_buf_free(&b);
}

static void test_collect_runner_died(void **st)
{
	struct wire_buf b = {0};
	struct wire_plan p;
	struct wire_result r;
	char err[512];
	plan3(&p, 0);
	wire_put_str(&b, "result", "1");
	outcome(&b, "1", RUNLET_EXIT_EXITED, 0, "ok");
	size_t cut = b.len;
	outcome(&b, "2", RUNLET_EXIT_EXITED, 0, "a long output cut in the middle");

	/* OOM: the partial record is dropped, tests 2 and 3 become MEMORY */
	struct dock_collect c;
	struct dock_fate oom = {.oom = 1, .exit_code = 137, .mem_limit = 64u << 20};
	dock_collect_init(&c, 1 << 20, NULL, NULL);
	assert_int_equal(dock_collect_frame(&c, 1, b.data, b.len - 9), 0);
	assert_int_equal(dock_collect_finish(&c, &p, &oom, &r, err, sizeof(err)), 0);
	assert_int_equal(r.ntests, 3);
	assert_int_equal(r.tests[1].num, 2);
	assert_int_equal(r.tests[1].status, RUNLET_EXIT_MEMORY);
	assert_int_equal(r.tests[2].status, RUNLET_EXIT_MEMORY);
	assert_non_null(strstr(r.tests[2].note, "out of memory"));
	wire_result_free(&r);
	dock_collect_free(&c);

	/* the deadline: remaining tests are TIMEOUT */
	struct dock_fate dl = {.deadline = 1, .deadline_ms = 1234};
	dock_collect_init(&c, 1 << 20, NULL, NULL);
	assert_int_equal(dock_collect_frame(&c, 1, b.data, cut), 0);
	assert_int_equal(dock_collect_finish(&c, &p, &dl, &r, err, sizeof(err)), 0);
	assert_int_equal(r.ntests, 3);
	assert_int_equal(r.tests[1].status, RUNLET_EXIT_TIMEOUT);
	assert_non_null(strstr(r.tests[1].note, "1234 ms"));
	wire_result_free(&r);
	dock_collect_free(&c);

	/* a runner that just died: an error naming its stderr */
	struct dock_fate died = {.exit_code = 2};
	dock_collect_init(&c, 1 << 20, NULL, NULL);
	assert_int_equal(dock_collect_frame(&c, 1, b.data, cut), 0);
	assert_int_equal(dock_collect_frame(&c, 2, "runlet-runner: bad plan\n", 24), 0);
	assert_int_equal(dock_collect_finish(&c, &p, &died, &r, err, sizeof(err)), -EPROTO);
	assert_non_null(strstr(err, "bad plan"));
	assert_non_null(strstr(err, "exit code 2"));
	dock_collect_free(&c);

	/* nothing at all */
	dock_collect_init(&c, 1 << 20, NULL, NULL);
	assert_int_equal(dock_collect_finish(&c, &p, &died, &r, err, sizeof(err)), -EPROTO);
	assert_non_null(strstr(err, "wrote no result"));
	dock_collect_free(&c);

	/* compile killed by OOM: compile MEMORY, tests not run */
	struct wire_plan pc;
	plan3(&pc, 1);
	dock_collect_init(&c, 1 << 20, NULL, NULL);
	assert_int_equal(dock_collect_frame(&c, 1, "result 1\n1\n", 11), 0);
	assert_int_equal(dock_collect_finish(&c, &pc, &oom, &r, err, sizeof(err)), 0);
	assert_true(r.has_compile);
	assert_int_equal(r.compile.status, RUNLET_EXIT_MEMORY);
	assert_int_equal(r.tests[0].status, WIRE_STATUS_NOT_RUN);
	wire_result_free(&r);
	dock_collect_free(&c);
	wire_buf_free(&b);
}

static void test_collect_limits_and_garbage(void **st)
{
	struct dock_collect c;
	struct wire_plan p;
	struct wire_result r;
	struct dock_fate f = {0};
	char err[256];
	plan3(&p, 0);
	dock_collect_init(&c, 16, NULL, NULL);
	assert_int_equal(dock_collect_frame(&c, 1, "0123456789", 10), 0);
	assert_int_equal(dock_collect_frame(&c, 1, "0123456789", 10), -E2BIG);
	dock_collect_free(&c);

	dock_collect_init(&c, 1 << 20, NULL, NULL);
	assert_int_equal(dock_collect_frame(&c, 1, "result 1\n1\nGARBAGE 3\nabc\n", 25), 0);
	assert_true(c.malformed);
	assert_int_equal(dock_collect_finish(&c, &p, &f, &r, err, sizeof(err)), -EPROTO);
	dock_collect_free(&c);
}

static void test_wire_frame(void **st)
{
	size_t te, end;
	const char *rec = "cgv2 1\n1\n";
	assert_int_equal(dock_wire_frame(rec, strlen(rec), 0, &te, &end), 1);
	assert_int_equal(te, 4);
	assert_int_equal(end, strlen(rec));
	for (size_t n = 0; n < strlen(rec); n++)
		assert_int_equal(dock_wire_frame(rec, n, 0, &te, &end), 0);
	assert_int_equal(dock_wire_frame("out 3\nabcX", 10, 0, &te, &end), -EPROTO);
	assert_int_equal(dock_wire_frame("Out 1\na\n", 8, 0, &te, &end), -EPROTO);
	assert_int_equal(dock_wire_frame("out x\n", 6, 0, &te, &end), -EPROTO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_demux_every_split),
		cmocka_unit_test(test_demux_bad_and_truncated),
		cmocka_unit_test(test_lines),
		cmocka_unit_test(test_wire_frame),
		cmocka_unit_test(test_collect_complete),
		cmocka_unit_test(test_collect_idle_and_compile),
		cmocka_unit_test(test_collect_oom_marks_sigkill),
		cmocka_unit_test(test_collect_runner_died),
		cmocka_unit_test(test_collect_limits_and_garbage),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
