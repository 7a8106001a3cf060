/* The job model: parse and validate one submission body (CONTRACT.md §1)
 * against the config's declared languages and size caps. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/job.h"

struct jctx {
	char *err;
	size_t errlen;
};

static int fail(struct jctx *x, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int fail(struct jctx *x, const char *fmt, ...)
{
	va_list ap;

	if (x->err && x->errlen) {
		va_start(ap, fmt);
		vsnprintf(x->err, x->errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* A short rendering of a JSON value for "got ...". */
static void describe(const json_t *v, char *buf, size_t len)
{
	char *s;

	if (json_is_object(v)) {
		snprintf(buf, len, "%s", json_object_size(v) ? "an object" : "{}");
		return;
	}
	if (json_is_array(v)) {
		snprintf(buf, len, "%s", json_array_size(v) ? "an array" : "[]");
		return;
	}
	s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
	if (!s) {
		snprintf(buf, len, "a value");
		return;
	}
	if (strlen(s) > 40)
		snprintf(buf, len, "%.37s...", s);
	else
		snprintf(buf, len, "%s", s);
	free(s);
}

static int expected(struct jctx *x, const char *field, const char *what,
		    const json_t *v)
{
	char got[64];

	describe(v, got, sizeof(got));
	return fail(x, "%s: expected %s, got %s", field, what, got);
}

static int valid_id(const json_t *v)
{
	return json_is_integer(v) || (json_is_string(v) && json_string_length(v) > 0);
}

/* Fill ids with whatever of the body is usable for an error result. */
static void read_ids(const json_t *root, struct job_ids *ids)
{
	json_t *s = json_object_get(root, "student_id");
	json_t *p = json_object_get(root, "problem_id");
	json_t *c = json_object_get(root, "course_id");
	json_t *code = json_object_get(root, "code");
	json_t *rd = json_object_get(root, "run_data");

	if (valid_id(s) && valid_id(p) && valid_id(c)) {
		ids->identifiable = 1;
		ids->student_id = json_incref(s);
		ids->problem_id = json_incref(p);
		ids->course_id = json_incref(c);
	}
	if (json_is_string(code))
		ids->code = json_incref(code);
	if (json_is_array(rd))
		ids->run_data = json_incref(rd);
}

static int check_ids(struct jctx *x, const json_t *root)
{
	static const char *const names[] = {"student_id", "problem_id", "course_id"};

	for (size_t i = 0; i < 3; i++) {
		json_t *v = json_object_get(root, names[i]);
		if (!v)
			return fail(x, "%s: missing", names[i]);
		if (!valid_id(v))
			return expected(x, names[i], "an integer or a non-empty string", v);
	}
	return 0;
}

static int check_lang(struct jctx *x, const json_t *root, const struct cfg *cfg,
		      const struct cfg_runner **runner)
{
	json_t *v = json_object_get(root, "lang");
	char got[64];
	int k;

	if (!v)
		return fail(x, "lang: missing");
	if (!json_is_string(v))
		return expected(x, "lang", "a string", v);
	*runner = cfg_runner_find(cfg, json_string_value(v));
	if (*runner && strlen(json_string_value(v)) == json_string_length(v))
		return 0;
	describe(v, got, sizeof(got));
	k = snprintf(x->err, x->errlen, "lang: %s is not a declared language (declared:", got);
	for (size_t i = 0; i < cfg->nrunners && k >= 0 && (size_t)k < x->errlen; i++)
		k += snprintf(x->err + k, x->errlen - (size_t)k, "%s %s",
			      i ? "," : "", cfg->runners[i].code);
	if (k >= 0 && (size_t)k < x->errlen)
		snprintf(x->err + k, x->errlen - (size_t)k, ")");
	return -EINVAL;
}

static int copy_str(const json_t *v, char **out, size_t *len)
{
	*len = json_string_length(v);
	*out = malloc(*len + 1);
	if (!*out)
		return -ENOMEM;
	memcpy(*out, json_string_value(v), *len);
	(*out)[*len] = '\0';
	return 0;
}

static int parse_code(struct jctx *x, const json_t *root,
		      const struct cfg_runner *r, struct job *j)
{
	json_t *v = json_object_get(root, "code");
	const char *nul;
	size_t len;

	if (!v)
		return fail(x, "code: missing");
	if (!json_is_string(v))
		return expected(x, "code", "a string", v);
	len = json_string_length(v);
	nul = memchr(json_string_value(v), '\0', len);
	if (nul)
		return fail(x, "code: contains a NUL byte at offset %zu (source code must be text)",
			    (size_t)(nul - json_string_value(v)));
	if (len > r->limits.max_code_size)
		return fail(x, "code: %zu bytes, over the limit of %" PRIu64 " bytes (max_code_size of %s)",
			    len, r->limits.max_code_size, r->code);
	return copy_str(v, &j->code, &j->code_len);
}

struct numidx {
	int64_t num;
	size_t idx;
};

static int cmp_numidx(const void *a, const void *b)
{
	const struct numidx *x = a, *y = b;

	if (x->num != y->num)
		return x->num < y->num ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Report the first test (in request order) whose test_num was used before. */
static int check_unique(struct jctx *x, const struct job *j)
{
	struct numidx *v = malloc(j->ntests * sizeof(*v));
	size_t dup = SIZE_MAX, first = 0;

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < j->ntests; i++)
		v[i] = (struct numidx){j->tests[i].num, i};
	qsort(v, j->ntests, sizeof(*v), cmp_numidx);
	for (size_t i = 1, g = 0; i < j->ntests; i++) {
		if (v[i].num != v[i - 1].num) {
			g = i; /* v[g]: the earliest test of this test_num */
			continue;
		}
		if (v[i].idx < dup) {
			dup = v[i].idx;
			first = v[g].idx;
		}
	}
	free(v);
	if (dup == SIZE_MAX)
		return 0;
	return fail(x, "run_data[%zu].test_num: duplicate test_num %" PRId64 " (also run_data[%zu])",
		    dup, j->tests[dup].num, first);
}

static int parse_test(struct jctx *x, const json_t *e, size_t i,
		      const struct cfg_runner *r, struct job_test *t)
{
	char f[64];
	json_t *num, *in, *out;

	snprintf(f, sizeof(f), "run_data[%zu]", i);
	if (!json_is_object(e))
		return expected(x, f, "an object with test_num and input", e);
	num = json_object_get(e, "test_num");
	in = json_object_get(e, "input");
	out = json_object_get(e, "output");
	if (!num)
		return fail(x, "%s.test_num: missing", f);
	if (!json_is_integer(num) || json_integer_value(num) <= 0)
		return expected(x, strcat(f, ".test_num"), "a positive integer", num);
	t->num = json_integer_value(num);
	if (!in)
		return fail(x, "%s.input: missing", f);
	if (!json_is_string(in))
		return expected(x, strcat(f, ".input"), "a string", in);
	if (json_string_length(in) > r->limits.max_input_size)
		return fail(x, "%s.input: %zu bytes, over the limit of %" PRIu64 " bytes (max_input_size of %s)",
			    f, json_string_length(in), r->limits.max_input_size, r->code);
	if (out && !json_is_null(out) && !json_is_string(out))
		return expected(x, strcat(f, ".output"), "a string (the expected output)", out);
	if (copy_str(in, &t->input, &t->input_len) < 0)
		return -ENOMEM;
	if (json_is_string(out) && copy_str(out, &t->expected, &t->expected_len) < 0)
		return -ENOMEM;
	return 0;
}

static int parse_tests(struct jctx *x, const json_t *root,
		       const struct cfg_runner *r, struct job *j)
{
	json_t *rd = json_object_get(root, "run_data");
	size_t n;
	int rc;

	if (!rd)
		return fail(x, "run_data: missing");
	if (!json_is_array(rd) || json_array_size(rd) == 0)
		return expected(x, "run_data", "a non-empty array of tests", rd);
	n = json_array_size(rd);
	if (n > r->limits.max_tests)
		return fail(x, "run_data: %zu tests, over the limit of %" PRIu64 " (max_tests of %s)",
			    n, r->limits.max_tests, r->code);
	j->tests = calloc(n, sizeof(*j->tests));
	if (!j->tests)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		rc = parse_test(x, json_array_get(rd, i), i, r, &j->tests[i]);
		j->ntests = i + 1; /* so job_free releases what parse_test made */
		if (rc < 0)
			return rc;
	}
	return check_unique(x, j);
}

static int parse_limits(struct jctx *x, const json_t *root, struct job_limits *l)
{
	static const struct { const char *key; uint64_t unit; } keys[] = {
		{"time_ms", 1}, {"memory_mb", 1024 * 1024}, {"output_kb", 1024}};
	json_t *lim = json_object_get(root, "limits"), *v;
	const char *key;
	char unknown[256] = "";
	size_t nunknown = 0, o = 0;

	if (!lim || json_is_null(lim))
		return 0;
	if (!json_is_object(lim))
		return expected(x, "limits", "an object with time_ms, memory_mb, output_kb", lim);
	json_object_foreach(lim, key, v) {
		size_t i;
		for (i = 0; i < 3 && strcmp(key, keys[i].key) != 0; i++)
			;
		if (i == 3) {
			if (o < sizeof(unknown))
				o += (size_t)snprintf(unknown + o, sizeof(unknown) - o, "%s\"%s\"",
						      nunknown ? ", " : "", key);
			nunknown++;
		}
	}
	if (nunknown)
		return fail(x, "limits: unknown key%s %s (known: time_ms, memory_mb, output_kb)",
			    nunknown > 1 ? "s" : "", unknown);
	for (size_t i = 0; i < 3; i++) {
		uint64_t val, *dst[] = {&l->time_ms, &l->memory_bytes, &l->output_bytes};
		int *has[] = {&l->has_time, &l->has_memory, &l->has_output};
		char f[32];

		v = json_object_get(lim, keys[i].key);
		if (!v)
			continue;
		snprintf(f, sizeof(f), "limits.%s", keys[i].key);
		if (!json_is_integer(v) || json_integer_value(v) <= 0)
			return expected(x, f, "a positive integer", v);
		val = (uint64_t)json_integer_value(v);
		if (val > UINT64_MAX / keys[i].unit)
			return expected(x, f, "a smaller positive integer", v);
		*dst[i] = val * keys[i].unit;
		*has[i] = 1;
	}
	return 0;
}

int job_parse(const char *body, size_t len, const struct cfg *cfg,
	      struct job **out, struct job_ids *ids, char *err, size_t errlen)
{
	struct jctx x = {.err = err, .errlen = errlen};
	const struct cfg_runner *r = NULL;
	json_error_t jerr;
	json_t *root;
	struct job *j = NULL;
	int rc;

	*out = NULL;
	if (ids)
		memset(ids, 0, sizeof(*ids));
	if (err && errlen)
		err[0] = '\0';
	if (len == 0)
		return fail(&x, "body: empty: expected a JSON object");
	root = json_loadb(body, len, JSON_ALLOW_NUL | JSON_DECODE_ANY, &jerr);
	if (!root)
		return fail(&x, "body: invalid JSON at line %d column %d: %s",
			    jerr.line, jerr.column, jerr.text);
	if (!json_is_object(root)) {
		rc = expected(&x, "body", "a JSON object", root);
		goto out;
	}
	if (ids)
		read_ids(root, ids);
	rc = check_ids(&x, root);
	if (rc == 0)
		rc = check_lang(&x, root, cfg, &r);
	if (rc < 0)
		goto out;
	j = calloc(1, sizeof(*j));
	if (!j) {
		rc = -ENOMEM;
		goto out;
	}
	j->student_id = json_incref(json_object_get(root, "student_id"));
	j->problem_id = json_incref(json_object_get(root, "problem_id"));
	j->course_id = json_incref(json_object_get(root, "course_id"));
	j->lang = strdup(json_string_value(json_object_get(root, "lang")));
	rc = j->lang ? 0 : -ENOMEM;
	rc = rc ? rc : parse_code(&x, root, r, j);
	rc = rc ? rc : parse_tests(&x, root, r, j);
	rc = rc ? rc : parse_limits(&x, root, &j->limits);
out:
	if (rc == -ENOMEM)
		fail(&x, "body: out of memory while reading the submission");
	if (rc < 0) {
		job_free(j);
	} else {
		*out = j;
		if (ids)
			job_ids_clear(ids);
	}
	json_decref(root);
	return rc;
}

void job_free(struct job *j)
{
	if (!j)
		return;
	json_decref(j->student_id);
	json_decref(j->problem_id);
	json_decref(j->course_id);
	free(j->lang);
	free(j->code);
	for (size_t i = 0; i < j->ntests; i++) {
		free(j->tests[i].input);
		free(j->tests[i].expected);
	}
	free(j->tests);
	free(j->id);
	free(j);
}

void job_ids_clear(struct job_ids *ids)
{
	if (!ids)
		return;
	json_decref(ids->student_id);
	json_decref(ids->problem_id);
	json_decref(ids->course_id);
	json_decref(ids->code);
	json_decref(ids->run_data);
	memset(ids, 0, sizeof(*ids));
}
