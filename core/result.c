/* The result model: allocation, verdict names, the overall status and the
 * JSON body of CONTRACT.md §2 (contract fields first, then extensions). */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "core/result.h"
#include "core/utf8.h"

#ifndef RUNLET_VERSION
#define RUNLET_VERSION "unknown"
#endif

struct result *result_new(size_t ntests)
{
	struct result *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->err_msg = strdup("");
	r->tests = calloc(ntests ? ntests : 1, sizeof(*r->tests));
	if (!r->err_msg || !r->tests) {
		result_free(r);
		return NULL;
	}
	r->ntests = ntests;
	return r;
}

void result_free(struct result *r)
{
	if (!r)
		return;
	for (size_t i = 0; r->tests && i < r->ntests; i++) {
		free(r->tests[i].output);
		free(r->tests[i].stderr_text);
	}
	free(r->tests);
	free(r->err_msg);
	free(r->compile_output);
	free(r);
}

int result_set_err(struct result *r, const char *msg)
{
	char *m = strdup(msg ? msg : "");

	if (!m)
		return -ENOMEM;
	free(r->err_msg);
	r->err_msg = m;
	return 0;
}

const char *verdict_name(enum runlet_verdict v)
{
	static const char *const names[] = {
		[RUNLET_VERDICT_NONE] = "NONE", [RUNLET_VERDICT_OK] = "OK",
		[RUNLET_VERDICT_WA] = "WA",     [RUNLET_VERDICT_TLE] = "TLE",
		[RUNLET_VERDICT_MLE] = "MLE",   [RUNLET_VERDICT_RE] = "RE",
		[RUNLET_VERDICT_OLE] = "OLE",   [RUNLET_VERDICT_CE] = "CE",
		[RUNLET_VERDICT_SKIPPED] = "SKIPPED", [RUNLET_VERDICT_IE] = "IE",
	};

	if ((unsigned)v < sizeof(names) / sizeof(names[0]) && names[v])
		return names[v];
	return "IE";
}

enum runlet_verdict result_overall(const struct result *r)
{
	if (r->status == RUNLET_VERDICT_CE || r->status == RUNLET_VERDICT_IE)
		return r->status;
	for (size_t i = 0; i < r->ntests; i++)
		if (r->tests[i].status != RUNLET_VERDICT_OK)
			return r->tests[i].status;
	return RUNLET_VERDICT_OK;
}

/* A JSON string of s[0..len), repaired when it is not valid UTF-8. */
static json_t *text(const char *s, size_t len)
{
	json_t *j;
	char *fixed;
	size_t n;

	if (!s)
		return json_string("");
	if (utf8_valid(s, len))
		return json_stringn(s, len);
	fixed = utf8_sanitize(s, len, &n);
	if (!fixed)
		return NULL;
	j = json_stringn_nocheck(fixed, n);
	free(fixed);
	return j;
}

static json_t *cstr(const char *s)
{
	return text(s, s ? strlen(s) : 0);
}

static json_t *uint_json(uint64_t v)
{
	return json_integer(v > (uint64_t)LLONG_MAX ? LLONG_MAX : (json_int_t)v);
}

static json_t *id_json(json_t *id)
{
	return id ? json_incref(id) : json_null();
}

/* Sets key to v (stolen); a NULL v (out of memory) fails. */
static int put(json_t *obj, const char *key, json_t *v)
{
	return json_object_set_new(obj, key, v) == 0 ? 0 : -ENOMEM;
}

static json_t *test_json(const struct res_test *t)
{
	json_t *o = json_object();
	int rc;

	if (!o)
		return NULL;
	rc = put(o, "test_num", json_integer(t->num));
	rc = rc ? rc : put(o, "input", text(t->input, t->input_len));
	rc = rc ? rc : put(o, "output", text(t->output, t->output_len));
	rc = rc ? rc : put(o, "status", json_string(verdict_name(t->status)));
	rc = rc ? rc : put(o, "time_ms", uint_json(t->time_ms));
	rc = rc ? rc : put(o, "wall_ms", uint_json(t->wall_ms));
	rc = rc ? rc : put(o, "memory_kb", uint_json(t->memory_kb));
	rc = rc ? rc : put(o, "exit_code", json_integer(t->exit_code));
	rc = rc ? rc : put(o, "signal", json_integer(t->signal));
	rc = rc ? rc : put(o, "stderr", text(t->stderr_text, t->stderr_len));
	if (rc) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *result_to_json(const struct result *r)
{
	json_t *root = json_object(), *cases = json_array(), *runner = json_object();
	int rc = root && cases && runner ? 0 : -ENOMEM;

	for (size_t i = 0; rc == 0 && i < r->ntests; i++)
		if (json_array_append_new(cases, test_json(&r->tests[i])) != 0)
			rc = -ENOMEM;
	if (rc == 0) {
		rc = put(root, "test_cases", cases);
		cases = NULL;
	}
	rc = rc ? rc : put(root, "err_msg", cstr(r->err_msg));
	rc = rc ? rc : put(root, "code", text(r->code, r->code ? r->code_len : 0));
	rc = rc ? rc : put(root, "problem_id", id_json(r->problem_id));
	rc = rc ? rc : put(root, "student_id", id_json(r->student_id));
	rc = rc ? rc : put(root, "course_id", id_json(r->course_id));
	/* extensions */
	rc = rc ? rc : put(root, "status", json_string(verdict_name(result_overall(r))));
	rc = rc ? rc : put(root, "compile_output", cstr(r->compile_output));
	rc = rc ? rc : put(runner, "host", cstr(r->host));
	rc = rc ? rc : put(runner, "backend", cstr(r->backend));
	rc = rc ? rc : put(runner, "version", json_string(RUNLET_VERSION));
	if (rc == 0) {
		rc = put(root, "runner", runner);
		runner = NULL;
	}
	rc = rc ? rc : put(root, "duration_ms", uint_json(r->duration_ms));
	if (rc == 0 && r->id)
		rc = put(root, "id", cstr(r->id));
	json_decref(cases);
	json_decref(runner);
	if (rc) {
		json_decref(root);
		return NULL;
	}
	return root;
}
