/* Unit tests of core/result.c and core/utf8.c: the result JSON's exact shape
 * and key order, extension fields, UTF-8 repair, the overall status. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/result.h"
#include "core/utf8.h"

static void set_text(char **dst, size_t *len, const char *s, size_t n)
{
	*dst = malloc(n + 1);
	assert_non_null(*dst);
	memcpy(*dst, s, n);
	(*dst)[n] = '\0';
	*len = n;
}

static char *dump(const struct result *r)
{
	json_t *j = result_to_json(r);
	char *s;

	assert_non_null(j);
	s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	assert_non_null(s);
	return s;
}

static void test_shape_and_order(void **state)
{
	struct result *r = result_new(2);
	json_t *sid = json_integer(7), *pid = json_integer(42), *cid = json_string("c3");
	static const char code[] = "print(1)\n";
	char *s;

	(void)state;
	assert_non_null(r);
	r->student_id = sid;
	r->problem_id = pid;
	r->course_id = cid;
	r->code = code;
	r->code_len = strlen(code);
	r->tests[0] = (struct res_test){.num = 1, .input = "1 2\n", .input_len = 4,
					.status = RUNLET_VERDICT_OK, .time_ms = 12,
					.wall_ms = 30, .memory_kb = 8000};
	set_text(&r->tests[0].output, &r->tests[0].output_len, "3", 1);
	r->tests[1] = (struct res_test){.num = 2, .input = "5 7\n", .input_len = 4,
					.status = RUNLET_VERDICT_RE, .exit_code = 1,
					.signal = 0};
	set_text(&r->tests[1].output, &r->tests[1].output_len, "Traceback", 9);
	set_text(&r->tests[1].stderr_text, &r->tests[1].stderr_len, "Traceback\n", 10);
	r->duration_ms = 250;
	r->host = "judge-1";
	r->backend = "native";

	s = dump(r);
	assert_string_equal(s,
		"{\"test_cases\":["
		"{\"test_num\":1,\"input\":\"1 2\\n\",\"output\":\"3\",\"status\":\"OK\","
		"\"time_ms\":12,\"wall_ms\":30,\"memory_kb\":8000,\"exit_code\":0,\"signal\":0,\"stderr\":\"\"},"
		"{\"test_num\":2,\"input\":\"5 7\\n\",\"output\":\"Traceback\",\"status\":\"RE\","
		"\"time_ms\":0,\"wall_ms\":0,\"memory_kb\":0,\"exit_code\":1,\"signal\":0,\"stderr\":\"Traceback\\n\"}],"
		"\"err_msg\":\"\",\"code\":\"print(1)\\n\",\"problem_id\":42,\"student_id\":7,\"course_id\":\"c3\","
		"\"status\":\"RE\",\"compile_output\":\"\","
		"\"runner\":{\"host\":\"judge-1\",\"backend\":\"native\",\"version\":\"" RUNLET_VERSION "\"},"
		"\"duration_ms\":250}");
	free(s);

	/* id only when set; compile output and err_msg carried */
	r->id = "msg-17";
	r->compile_output = strdup("warning: x");
	assert_int_equal(result_set_err(r, "compile error"), 0);
	s = dump(r);
	assert_non_null(strstr(s, "\"err_msg\":\"compile error\""));
	assert_non_null(strstr(s, "\"compile_output\":\"warning: x\""));
	assert_non_null(strstr(s, "\"duration_ms\":250,\"id\":\"msg-17\"}"));
	free(s);

	/* the ids are borrowed: still ours */
	result_free(r);
	assert_int_equal(json_integer_value(sid), 7);
	json_decref(sid);
	json_decref(pid);
	json_decref(cid);
}

static void test_empty_and_nulls(void **state)
{
	struct result *r = result_new(0);
	char *s;

	(void)state;
	assert_non_null(r);
	assert_string_equal(r->err_msg, "");
	s = dump(r);
	assert_string_equal(s,
		"{\"test_cases\":[],\"err_msg\":\"\",\"code\":\"\",\"problem_id\":null,"
		"\"student_id\":null,\"course_id\":null,\"status\":\"OK\",\"compile_output\":\"\","
		"\"runner\":{\"host\":\"\",\"backend\":\"\",\"version\":\"" RUNLET_VERSION "\"},"
		"\"duration_ms\":0}");
	free(s);
	result_free(r);
	result_free(NULL);
}

static void test_invalid_utf8_repaired(void **state)
{
	struct result *r = result_new(1);
	static const char code[] = "x = '\xff'";
	json_t *j;
	char *s;

	(void)state;
	r->code = code;
	r->code_len = sizeof(code) - 1;
	r->tests[0].num = 1;
	r->tests[0].input = "a\0b";
	r->tests[0].input_len = 3;
	r->tests[0].status = RUNLET_VERDICT_WA;
	set_text(&r->tests[0].output, &r->tests[0].output_len, "ok\xc3\x28\0z", 6);
	set_text(&r->tests[0].stderr_text, &r->tests[0].stderr_len, "\xe2\x82", 2);
	assert_int_equal(result_set_err(r, "bad \xed\xa0\x80 byte"), 0);
	r->host = "h\xfe";
	j = result_to_json(r);
	assert_non_null(j);
	s = json_dumps(j, JSON_COMPACT);
	assert_non_null(s);
	assert_non_null(strstr(s, "\"code\":\"x = '\xef\xbf\xbd'\""));
	assert_non_null(strstr(s, "\"input\":\"a\\u0000b\""));
	assert_non_null(strstr(s, "\"output\":\"ok\xef\xbf\xbd(\\u0000z\""));
	assert_non_null(strstr(s, "\"stderr\":\"\xef\xbf\xbd\""));
	assert_non_null(strstr(s, "\"err_msg\":\"bad \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd byte\""));
	assert_non_null(strstr(s, "\"host\":\"h\xef\xbf\xbd\""));
	assert_non_null(strstr(s, "\"status\":\"WA\""));
	/* the output string keeps its NUL */
	assert_int_equal(json_string_length(json_object_get(
				 json_array_get(json_object_get(j, "test_cases"), 0), "output")), 8);
	free(s);
	json_decref(j);
	result_free(r);
}

static void test_big_numbers(void **state)
{
	struct result *r = result_new(1);
	char *s;

	(void)state;
	r->tests[0].num = 9;
	r->tests[0].status = RUNLET_VERDICT_TLE;
	r->tests[0].wall_ms = UINT64_MAX;
	r->tests[0].signal = 9;
	r->tests[0].exit_code = -1;
	s = dump(r);
	assert_non_null(strstr(s, "\"wall_ms\":9223372036854775807,"));
	assert_non_null(strstr(s, "\"exit_code\":-1,\"signal\":9,"));
	free(s);
	result_free(r);
}

static void test_verdict_names(void **state)
{
	static const char *const want[] = {"NONE", "OK", "WA", "TLE", "MLE", "RE",
					   "OLE", "CE", "SKIPPED", "IE"};

	(void)state;
	for (int v = RUNLET_VERDICT_NONE; v <= RUNLET_VERDICT_IE; v++)
		assert_string_equal(verdict_name((enum runlet_verdict)v), want[v]);
	assert_string_equal(verdict_name((enum runlet_verdict)99), "IE");
}

static void test_overall(void **state)
{
	struct result *r = result_new(3);

	(void)state;
	assert_int_equal(result_overall(r), RUNLET_VERDICT_NONE); /* unset tests */
	for (size_t i = 0; i < 3; i++)
		r->tests[i].status = RUNLET_VERDICT_OK;
	assert_int_equal(result_overall(r), RUNLET_VERDICT_OK);
	r->tests[1].status = RUNLET_VERDICT_TLE;
	r->tests[2].status = RUNLET_VERDICT_SKIPPED;
	assert_int_equal(result_overall(r), RUNLET_VERDICT_TLE);
	r->tests[0].status = RUNLET_VERDICT_WA;
	assert_int_equal(result_overall(r), RUNLET_VERDICT_WA);
	r->status = RUNLET_VERDICT_CE;
	assert_int_equal(result_overall(r), RUNLET_VERDICT_CE);
	r->status = RUNLET_VERDICT_IE;
	assert_int_equal(result_overall(r), RUNLET_VERDICT_IE);
	r->status = RUNLET_VERDICT_OK; /* anything else: computed from the tests */
	assert_int_equal(result_overall(r), RUNLET_VERDICT_WA);
	result_free(r);
}

static void sanitized(const char *in, size_t n, const char *want)
{
	size_t len = 12345;
	char *s = utf8_sanitize(in, n, &len);

	assert_non_null(s);
	assert_int_equal(len, strlen(want));
	assert_memory_equal(s, want, len + 1);
	assert_true(utf8_valid(s, len));
	free(s);
}

#define R "\xef\xbf\xbd"

static void test_utf8_sanitize(void **state)
{
	(void)state;
	sanitized("plain", 5, "plain");
	sanitized("h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80", 15, "h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80");
	sanitized("\xff", 1, R);
	sanitized("\xc0\x80", 2, R R);              /* overlong NUL */
	sanitized("\xe0\x80\x80", 3, R R R);        /* overlong */
	sanitized("\xed\xa0\x80", 3, R R R);        /* surrogate */
	sanitized("\xf4\x90\x80\x80", 4, R R R R);  /* above U+10FFFF */
	sanitized("\xe2\x82", 2, R);                /* truncated: one subpart */
	sanitized("\xe2\x82" "A", 3, R "A");
	sanitized("\xf0\x9f\x98", 3, R);
	sanitized("a\x80\x80z", 4, "a" R R "z");
	sanitized("", 0, "");
	sanitized(NULL, 7, "");
	{ /* NUL bytes are valid UTF-8 and kept */
		size_t n = 0;
		char *s = utf8_sanitize("a\0\xff", 3, &n);
		assert_int_equal(n, 5);
		assert_memory_equal(s, "a\0" R, 6);
		free(s);
	}
}

static void test_utf8_valid_and_cut(void **state)
{
	(void)state;
	assert_true(utf8_valid("", 0));
	assert_true(utf8_valid("a\0b", 3));
	assert_true(utf8_valid("\xf4\x8f\xbf\xbf", 4));
	assert_false(utf8_valid("\xf4\x90\x80\x80", 4));
	assert_false(utf8_valid("\xc3", 1));
	assert_false(utf8_valid("\xed\xbf\xbf", 3));
	/* "aé€" = 61 | c3 a9 | e2 82 ac */
	assert_int_equal(utf8_cut("a\xc3\xa9\xe2\x82\xac", 6, 0), 0);
	assert_int_equal(utf8_cut("a\xc3\xa9\xe2\x82\xac", 6, 1), 1);
	assert_int_equal(utf8_cut("a\xc3\xa9\xe2\x82\xac", 6, 2), 1);
	assert_int_equal(utf8_cut("a\xc3\xa9\xe2\x82\xac", 6, 3), 3);
	assert_int_equal(utf8_cut("a\xc3\xa9\xe2\x82\xac", 6, 5), 3);
	assert_int_equal(utf8_cut("a\xc3\xa9\xe2\x82\xac", 6, 6), 6);
	assert_int_equal(utf8_cut("a\xc3\xa9\xe2\x82\xac", 6, 100), 6);
	assert_int_equal(utf8_cut("\xff\xff\xff", 3, 2), 2); /* garbage cuts anywhere */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shape_and_order),
		cmocka_unit_test(test_empty_and_nulls),
		cmocka_unit_test(test_invalid_utf8_repaired),
		cmocka_unit_test(test_big_numbers),
		cmocka_unit_test(test_verdict_names),
		cmocka_unit_test(test_overall),
		cmocka_unit_test(test_utf8_sanitize),
		cmocka_unit_test(test_utf8_valid_and_cut),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
