/* Unit tests of core/job.c: the contract's example body, every kind of bad
 * input and its message, job_ids on failure, the limits and expected-output
 * extensions, NUL bytes, size caps. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/config.h"
#include "core/job.h"

static const char cfg_text[] =
	"runners:\n"
	"  py: {run_args: [python, \"{src}\"]}\n"
	"  go: {}\n"
	"  js: {}\n"
	"  cs: {}\n"
	"  cpp: {max_code_size: 16, max_input_size: 8, max_tests: 3}\n";

static int setup(void **state)
{
	struct cfg *c = NULL;
	char err[256];

	if (cfg_load_buffer("test.yaml", cfg_text, strlen(cfg_text), &c, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	cfg_free(*state);
	return 0;
}

static struct job *parse_ok(void **state, const char *body)
{
	struct job *j = NULL;
	struct job_ids ids;
	char err[512];
	int rc = job_parse(body, strlen(body), *state, &j, &ids, err, sizeof(err));

	if (rc != 0)
		fail_msg("job_parse failed (%d): %s", rc, err);
	assert_non_null(j);
	assert_false(ids.identifiable); /* untouched on success */
	assert_null(ids.code);
	return j;
}

static void expect_err(void **state, const char *body, size_t len, const char *want)
{
	struct job *j = (struct job *)1;
	char err[512];

	assert_int_equal(job_parse(body, len, *state, &j, NULL, err, sizeof(err)), -EINVAL);
	assert_null(j);
	assert_string_equal(err, want);
}

static const char example[] =
	"{\"student_id\": 7, \"problem_id\": 42, \"course_id\": 3, \"lang\": \"py\",\n"
	" \"code\": \"a, b = map(int, input().split())\\nprint(a + b)\\n\",\n"
	" \"run_data\": [{\"test_num\": 1, \"input\": \"1 2\\n\"}, {\"test_num\": 2, \"input\": \"5 7\\n\"}]}";

static void test_contract_example(void **state)
{
	struct job *j = parse_ok(state, example);

	assert_int_equal(json_integer_value(j->student_id), 7);
	assert_int_equal(json_integer_value(j->problem_id), 42);
	assert_int_equal(json_integer_value(j->course_id), 3);
	assert_string_equal(j->lang, "py");
	assert_string_equal(j->code, "a, b = map(int, input().split())\nprint(a + b)\n");
	assert_int_equal(j->code_len, strlen(j->code));
	assert_int_equal(j->ntests, 2);
	assert_int_equal(j->tests[0].num, 1);
	assert_string_equal(j->tests[0].input, "1 2\n");
	assert_int_equal(j->tests[0].input_len, 4);
	assert_null(j->tests[0].expected);
	assert_int_equal(j->tests[1].num, 2);
	assert_string_equal(j->tests[1].input, "5 7\n");
	assert_false(j->limits.has_time || j->limits.has_memory || j->limits.has_output);
	assert_null(j->id);
	job_free(j);
	job_free(NULL);
}

static void test_string_ids_and_extra_fields(void **state)
{
	struct job *j = parse_ok(state,
		"{\"student_id\": \"s-7\", \"problem_id\": 42, \"course_id\": \"c\", \"lang\": \"go\","
		" \"code\": \"package main\", \"priority\": 5, \"meta\": {\"a\": 1},"
		" \"run_data\": [{\"test_num\": 9, \"input\": \"\", \"note\": \"x\"}]}");

	assert_string_equal(json_string_value(j->student_id), "s-7");
	assert_string_equal(json_string_value(j->course_id), "c");
	assert_int_equal(j->tests[0].num, 9);
	assert_int_equal(j->tests[0].input_len, 0);
	job_free(j);
}

static void test_extensions(void **state)
{
	struct job *j = parse_ok(state,
		"{\"student_id\": 1, \"problem_id\": 2, \"course_id\": 3, \"lang\": \"py\", \"code\": \"x\","
		" \"run_data\": [{\"test_num\": 1, \"input\": \"a\", \"output\": \"b\\n\"},"
		"                {\"test_num\": 2, \"input\": \"a\\u0000b\", \"output\": null}],"
		" \"limits\": {\"time_ms\": 2000, \"memory_mb\": 128, \"output_kb\": 256}}");

	assert_string_equal(j->tests[0].expected, "b\n");
	assert_int_equal(j->tests[0].expected_len, 2);
	assert_null(j->tests[1].expected);
	/* NUL bytes in inputs are kept */
	assert_int_equal(j->tests[1].input_len, 3);
	assert_memory_equal(j->tests[1].input, "a\0b", 4);
	assert_true(j->limits.has_time && j->limits.has_memory && j->limits.has_output);
	assert_int_equal(j->limits.time_ms, 2000);
	assert_int_equal(j->limits.memory_bytes, 128ull << 20);
	assert_int_equal(j->limits.output_bytes, 256ull << 10);
	job_free(j);

	j = parse_ok(state,
		"{\"student_id\": 1, \"problem_id\": 2, \"course_id\": 3, \"lang\": \"py\", \"code\": \"x\","
		" \"run_data\": [{\"test_num\": 1, \"input\": \"\"}], \"limits\": {\"memory_mb\": 64}}");
	assert_false(j->limits.has_time);
	assert_true(j->limits.has_memory);
	assert_false(j->limits.has_output);
	assert_int_equal(j->limits.memory_bytes, 64ull << 20);
	job_free(j);
}

#define IDS "\"student_id\": 1, \"problem_id\": 2, \"course_id\": 3, "
#define RD1 "\"run_data\": [{\"test_num\": 1, \"input\": \"\"}]"
#define BODY(rest) "{" IDS rest "}"

static void test_errors(void **state)
{
	static const struct { const char *body, *want; } cases[] = {
		{"[1]", "body: expected a JSON object, got an array"},
		{"\"x\"", "body: expected a JSON object, got \"x\""},
		{"{\"problem_id\": 2, \"course_id\": 3, \"lang\": \"py\", \"code\": \"\", " RD1 "}",
		 "student_id: missing"},
		{"{\"student_id\": true, \"problem_id\": 2, \"course_id\": 3}",
		 "student_id: expected an integer or a non-empty string, got true"},
		{"{\"student_id\": 1, \"problem_id\": \"\", \"course_id\": 3}",
		 "problem_id: expected an integer or a non-empty string, got \"\""},
		{"{\"student_id\": 1, \"problem_id\": 2, \"course_id\": 1.5}",
		 "course_id: expected an integer or a non-empty string, got 1.5"},
		{BODY("\"code\": \"\", " RD1), "lang: missing"},
		{BODY("\"lang\": 5, \"code\": \"\", " RD1), "lang: expected a string, got 5"},
		{BODY("\"lang\": \"rb\", \"code\": \"\", " RD1),
		 "lang: \"rb\" is not a declared language (declared: py, go, js, cs, cpp)"},
		{BODY("\"lang\": \"PY\", \"code\": \"\", " RD1),
		 "lang: \"PY\" is not a declared language (declared: py, go, js, cs, cpp)"},
		{BODY("\"lang\": \"py\", " RD1), "code: missing"},
		{BODY("\"lang\": \"py\", \"code\": [\"x\"], " RD1), "code: expected a string, got an array"},
		{BODY("\"lang\": \"py\", \"code\": \"ab\\u0000c\", " RD1),
		 "code: contains a NUL byte at offset 2 (source code must be text)"},
		{BODY("\"lang\": \"cpp\", \"code\": \"int main() { return 0; }\", " RD1),
		 "code: 24 bytes, over the limit of 16 bytes (max_code_size of cpp)"},
		{BODY("\"lang\": \"py\", \"code\": \"\""), "run_data: missing"},
		{BODY("\"lang\": \"py\", \"code\": \"\", \"run_data\": []"),
		 "run_data: expected a non-empty array of tests, got []"},
		{BODY("\"lang\": \"py\", \"code\": \"\", \"run_data\": {\"test_num\": 1}"),
		 "run_data: expected a non-empty array of tests, got an object"},
		{BODY("\"lang\": \"cpp\", \"code\": \"\", \"run_data\": [{},{},{},{}]"),
		 "run_data: 4 tests, over the limit of 3 (max_tests of cpp)"},
		{BODY("\"lang\": \"py\", \"code\": \"\", \"run_data\": [{\"test_num\": 1, \"input\": \"\"}, 5]"),
		 "run_data[1]: expected an object with test_num and input, got 5"},
		{BODY("\"lang\": \"py\", \"code\": \"\", \"run_data\": [{\"input\": \"\"}]"),
		 "run_data[0].test_num: missing"},
		{BODY("\"lang\": \"py\", \"code\": \"\", \"run_data\": [{\"test_num\": 1, \"input\": \"\"},"
		      " {\"test_num\": 2, \"input\": \"\"}, {\"test_num\": -1, \"input\": \"\"}]"),
		 "run_data[2].test_num: expected a positive integer, got -1"},
		{BODY("\"lang\": \"py\", \"code\": \"\", \"run_data\": [{\"test_num\": 0, \"input\": \"\"}]"),
		 "run_data[0].test_num: expected a positive integer, got 0"},
		{BODY("\"lang\": \"py\", \"code\": \"\", \"run_data\": [{\"test_num\": \"1\", \"input\": \"\"}]"),
		 "run_data[0].test_num: expected a positive integer, got \"1\""},
		{BODY("\"lang\": \"py\", \"code\": \"\", \"run_data\": [{\"test_num\": 1.0, \"input\": \"\"}]"),
		 "run_data[0].test_num: expected a positive integer, got 1.0"},
		{BODY("\"lang\": \"py\", \"code\": \"\", \"run_data\": [{\"test_num\": 1, \"input\": \"\"},"
		      " {\"test_num\": 1, \"input\": \"\"}]"),
		 "run_data[1].test_num: duplicate test_num 1 (also run_data[0])"},
		{BODY("\"lang\": \"py\", \"code\": \"\", \"run_data\": [{\"test_num\": 3, \"input\": \"\"},"
		      " {\"test_num\": 1, \"input\": \"\"}, {\"test_num\": 2, \"input\": \"\"},"
		      " {\"test_num\": 1, \"input\": \"\"}, {\"test_num\": 3, \"input\": \"\"}]"),
		 "run_data[3].test_num: duplicate test_num 1 (also run_data[1])"},
		{BODY("\"lang\": \"py\", \"code\": \"\", \"run_data\": [{\"test_num\": 1}]"),
		 "run_data[0].input: missing"},
		{BODY("\"lang\": \"py\", \"code\": \"\", \"run_data\": [{\"test_num\": 1, \"input\": 12}]"),
		 "run_data[0].input: expected a string, got 12"},
		{BODY("\"lang\": \"cpp\", \"code\": \"\", \"run_data\": [{\"test_num\": 1, \"input\": \"123456789\"}]"),
		 "run_data[0].input: 9 bytes, over the limit of 8 bytes (max_input_size of cpp)"},
		{BODY("\"lang\": \"py\", \"code\": \"\", \"run_data\": [{\"test_num\": 1, \"input\": \"\", \"output\": 3}]"),
		 "run_data[0].output: expected a string (the expected output), got 3"},
		{BODY("\"lang\": \"py\", \"code\": \"\", " RD1 ", \"limits\": 5"),
		 "limits: expected an object with time_ms, memory_mb, output_kb, got 5"},
		{BODY("\"lang\": \"py\", \"code\": \"\", " RD1 ", \"limits\": {\"time\": 1}"),
		 "limits: unknown key \"time\" (known: time_ms, memory_mb, output_kb)"},
		{BODY("\"lang\": \"py\", \"code\": \"\", " RD1 ", \"limits\": {\"cpu\": 1, \"time_ms\": 5, \"disk_mb\": 2}"),
		 "limits: unknown keys \"cpu\", \"disk_mb\" (known: time_ms, memory_mb, output_kb)"},
		{BODY("\"lang\": \"py\", \"code\": \"\", " RD1 ", \"limits\": {\"time_ms\": 0}"),
		 "limits.time_ms: expected a positive integer, got 0"},
		{BODY("\"lang\": \"py\", \"code\": \"\", " RD1 ", \"limits\": {\"memory_mb\": \"128\"}"),
		 "limits.memory_mb: expected a positive integer, got \"128\""},
		{BODY("\"lang\": \"py\", \"code\": \"\", " RD1 ", \"limits\": {\"output_kb\": 9223372036854775807}"),
		 "limits.output_kb: expected a smaller positive integer, got 9223372036854775807"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		expect_err(state, cases[i].body, strlen(cases[i].body), cases[i].want);
}

static void test_invalid_json(void **state)
{
	expect_err(state, "{\"a\": }", 7,
		   "body: invalid JSON at line 1 column 7: unexpected token near '}'");
	expect_err(state, "", 0, "body: empty: expected a JSON object");
	expect_err(state, "  \n", 3, "body: invalid JSON at line 2 column 0: unexpected token near end of file");
	/* a NUL in the body outside a string is invalid JSON */
	expect_err(state, "{}\0", 3, "body: invalid JSON at line 1 column 3: end of file expected near end of file");
	expect_err(state, "{\"student_id\": \"\xff\"}", 19,
		   "body: invalid JSON at line 1 column 16: unable to decode byte 0xff near '\"'");
}

static void test_ids_on_failure(void **state)
{
	struct job *j = NULL;
	struct job_ids ids;
	char err[256];
	const char *b1 = BODY("\"lang\": \"rb\", \"code\": \"puts 1\", \"run_data\": [{\"test_num\": 1, \"input\": \"x\"}]");
	const char *b2 = "{\"student_id\": 1, \"course_id\": 3, \"code\": \"x\", \"run_data\": 7}";
	const char *b3 = BODY("\"lang\": \"py\", \"code\": 5, \"run_data\": []");

	assert_int_equal(job_parse(b1, strlen(b1), *state, &j, &ids, err, sizeof(err)), -EINVAL);
	assert_true(ids.identifiable);
	assert_int_equal(json_integer_value(ids.student_id), 1);
	assert_int_equal(json_integer_value(ids.problem_id), 2);
	assert_int_equal(json_integer_value(ids.course_id), 3);
	assert_string_equal(json_string_value(ids.code), "puts 1");
	assert_int_equal(json_array_size(ids.run_data), 1);
	job_ids_clear(&ids);
	assert_null(ids.code);
	job_ids_clear(&ids); /* twice is fine */

	assert_int_equal(job_parse(b2, strlen(b2), *state, &j, &ids, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "problem_id: missing");
	assert_false(ids.identifiable);
	assert_null(ids.student_id);
	assert_string_equal(json_string_value(ids.code), "x");
	assert_null(ids.run_data); /* not an array: not kept */
	job_ids_clear(&ids);

	/* kept when of the right type even though invalid (empty run_data) */
	assert_int_equal(job_parse(b3, strlen(b3), *state, &j, &ids, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "code: expected a string, got 5");
	assert_true(ids.identifiable);
	assert_null(ids.code);
	assert_non_null(ids.run_data);
	assert_int_equal(json_array_size(ids.run_data), 0);
	job_ids_clear(&ids);

	assert_int_equal(job_parse("nope", 4, *state, &j, &ids, err, sizeof(err)), -EINVAL);
	assert_false(ids.identifiable);
	job_ids_clear(&ids);
	assert_null(j);
}

static void test_caps_at_limit(void **state)
{
	/* exactly at the caps is fine: 16 bytes of code, 8 of input, 3 tests */
	struct job *j = parse_ok(state, BODY(
		"\"lang\": \"cpp\", \"code\": \"0123456789abcdef\", \"run_data\": ["
		"{\"test_num\": 1, \"input\": \"12345678\"}, {\"test_num\": 2, \"input\": \"\"},"
		"{\"test_num\": 3, \"input\": \"\"}]"));

	assert_int_equal(j->code_len, 16);
	assert_int_equal(j->ntests, 3);
	job_free(j);
}

static void test_many_tests(void **state)
{
	/* 1000 tests (the default cap) with one duplicate at the end */
	size_t cap = 64 * 1024, o = 0;
	char *b = malloc(cap);
	struct job *j = NULL;
	char err[256];

	assert_non_null(b);
	o += (size_t)snprintf(b + o, cap - o, "{" IDS "\"lang\": \"py\", \"code\": \"\", \"run_data\": [");
	for (int i = 1; i <= 1000; i++)
		o += (size_t)snprintf(b + o, cap - o, "%s{\"test_num\": %d, \"input\": \"\"}",
				      i > 1 ? "," : "", i == 1000 ? 500 : i);
	o += (size_t)snprintf(b + o, cap - o, "]}");
	assert_true(o < cap);
	assert_int_equal(job_parse(b, o, *state, &j, NULL, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "run_data[999].test_num: duplicate test_num 500 (also run_data[499])");
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_contract_example),
		cmocka_unit_test(test_string_ids_and_extra_fields),
		cmocka_unit_test(test_extensions),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_invalid_json),
		cmocka_unit_test(test_ids_on_failure),
		cmocka_unit_test(test_caps_at_limit),
		cmocka_unit_test(test_many_tests),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
