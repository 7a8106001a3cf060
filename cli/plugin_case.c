/* Fixture cases of `runlet plugin-test`: loading a case file (YAML or
 * JSON, into a jansson tree), checking its keys, turning it into
 * a struct job, and comparing a judged result with what the case expects.
 * The case keys are described in docs/PLUGINS.md; YAML is read by
 * cli/plugin_yaml.c.
 */
#include "cli/plugin_case.h"
#include "cli/plugin_yaml.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PT_MAX_GEN (256u << 20) /* generated text at most 256 MiB */
#define PT_SHOW 160             /* bytes of a text shown in a message */

/* ---- case values ---- */

/* A text value: a string, a number, or {text: T, times: N} (T repeated N
 * times, for inputs and outputs too large to write out). Caller owns *out.
 * 0, or -EINVAL with err naming the key. */
static int pt_text(const json_t *v, const char *key, char **out, size_t *len,
		   char *err, size_t errlen)
{
	const json_t *t = json_object_get(v, "text"), *n = json_object_get(v, "times");

	if (json_is_string(v)) {
		*len = json_string_length(v);
		*out = malloc(*len + 1);
		if (*out)
			memcpy(*out, json_string_value(v), *len + 1);
	} else if (json_is_integer(v)) {
		*out = malloc(32);
		if (*out)
			*len = (size_t)snprintf(*out, 32, "%lld",
						(long long)json_integer_value(v));
	} else if (json_is_object(v) && json_is_string(t) && json_is_integer(n) &&
		   json_integer_value(n) >= 0 && json_object_size(v) == 2) {
		size_t tl = json_string_length(t), times = (size_t)json_integer_value(n);
		if (tl && times > PT_MAX_GEN / tl) {
			snprintf(err, errlen, "%s: generates more than %u MiB", key,
				 PT_MAX_GEN >> 20);
			return -EINVAL;
		}
		*len = tl * times;
		*out = malloc(*len + 1);
		for (size_t i = 0; *out && i < times; i++)
			memcpy(*out + i * tl, json_string_value(t), tl);
		if (*out)
			(*out)[*len] = '\0';
	} else {
		snprintf(err, errlen, "%s: expected a string or {text: T, times: N}", key);
		return -EINVAL;
	}
	if (!*out) {
		snprintf(err, errlen, "%s: out of memory", key);
		return -ENOMEM;
	}
	return 0;
}

static int pt_status(const json_t *v, const char *key, enum runlet_verdict *out,
		     char *err, size_t errlen)
{
	for (int s = RUNLET_VERDICT_OK; s <= RUNLET_VERDICT_IE; s++) {
		if (json_is_string(v) &&
		    strcmp(json_string_value(v), verdict_name(s)) == 0) {
			*out = (enum runlet_verdict)s;
			return 0;
		}
	}
	snprintf(err, errlen, "%s: expected one of OK WA TLE MLE RE OLE CE SKIPPED IE", key);
	return -EINVAL;
}

static int pt_allowed(const json_t *obj, const char *const *keys,
		      const char *where, char *err, size_t errlen)
{
	const char *k;
	json_t *v;

	json_object_foreach((json_t *)obj, k, v) {
		size_t i;
		for (i = 0; keys[i] && strcmp(keys[i], k) != 0; i++)
			;
		if (!keys[i]) {
			snprintf(err, errlen, "%s%s: unknown key (see docs/PLUGINS.md)",
				 where, k);
			return -EINVAL;
		}
	}
	return 0;
}

/* ---- job ---- */

/* The case as a job: the submission, tests in order, limits. */
int pcase_job(const json_t *c, const char *code, struct job **out,
		  char *err, size_t errlen)
{
	const json_t *tests = json_object_get(c, "tests"), *lim = json_object_get(c, "limits");
	static const char *const lim_keys[] = {"time_ms", "memory_mb", "output_kb", NULL};
	struct job *j = calloc(1, sizeof(*j));
	char key[64];
	int rc = -ENOMEM;

	if (!j)
		return -ENOMEM;
	j->student_id = json_integer(1);
	j->problem_id = json_integer(1);
	j->course_id = json_integer(1);
	j->lang = strdup(code);
	if (!j->student_id || !j->problem_id || !j->course_id || !j->lang)
		goto out;
	rc = pt_text(json_object_get(c, "source"), "source", &j->code,
		     &j->code_len, err, errlen);
	if (rc < 0)
		goto out;
	rc = -EINVAL;
	if (!json_is_array(tests) || json_array_size(tests) == 0) {
		snprintf(err, errlen, "tests: expected a non-empty list");
		goto out;
	}
	if (lim && (!json_is_object(lim) ||
		    pt_allowed(lim, lim_keys, "limits.", err, errlen) < 0))
		goto out;
	for (int i = 0; lim_keys[i]; i++) {
		const json_t *v = json_object_get(lim, lim_keys[i]);
		uint64_t n = json_is_integer(v) && json_integer_value(v) > 0
				     ? (uint64_t)json_integer_value(v) : 0;
		if (v && !n) {
			snprintf(err, errlen, "limits.%s: expected a positive integer", lim_keys[i]);
			goto out;
		}
		if (v && i == 0)
			j->limits.has_time = 1, j->limits.time_ms = n;
		else if (v && i == 1)
			j->limits.has_memory = 1, j->limits.memory_bytes = n << 20;
		else if (v && i == 2)
			j->limits.has_output = 1, j->limits.output_bytes = n << 10;
	}
	j->tests = calloc(json_array_size(tests), sizeof(*j->tests));
	if (!j->tests) {
		rc = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < json_array_size(tests); i++) {
		const json_t *t = json_array_get(tests, i);
		struct job_test *jt = &j->tests[j->ntests++];

		jt->num = (int64_t)i + 1;
		snprintf(key, sizeof(key), "tests[%zu].input", i);
		if (!json_is_object(t)) {
			snprintf(err, errlen, "tests[%zu]: expected a mapping", i);
			goto out;
		}
		if (!json_object_get(t, "input")) {
			jt->input = strdup("");
			if (!jt->input) {
				rc = -ENOMEM;
				goto out;
			}
		} else if (pt_text(json_object_get(t, "input"), key, &jt->input,
				   &jt->input_len, err, errlen) < 0) {
			goto out;
		}
		snprintf(key, sizeof(key), "tests[%zu].output", i);
		if (json_object_get(t, "output") &&
		    pt_text(json_object_get(t, "output"), key, &jt->expected,
			    &jt->expected_len, err, errlen) < 0)
			goto out;
	}
	rc = 0;
out:
	if (rc < 0)
		job_free(j);
	else
		*out = j;
	return rc;
}

/* ---- checks ---- */

enum pt_where { PT_OUTPUT, PT_STDERR, PT_ERR_MSG, PT_COMPILE };
enum pt_mode { PT_CONTAINS, PT_NOT_CONTAINS, PT_STARTS };

static const struct pt_check {
	const char *key;
	int per_test;
	enum pt_where where;
	enum pt_mode mode;
} pt_checks[] = {
	{"output_contains", 1, PT_OUTPUT, PT_CONTAINS},
	{"output_not_contains", 1, PT_OUTPUT, PT_NOT_CONTAINS},
	{"output_starts", 1, PT_OUTPUT, PT_STARTS},
	{"stderr_contains", 1, PT_STDERR, PT_CONTAINS},
	{"stderr_not_contains", 1, PT_STDERR, PT_NOT_CONTAINS},
	{"err_msg_contains", 0, PT_ERR_MSG, PT_CONTAINS},
	{"err_msg_not_contains", 0, PT_ERR_MSG, PT_NOT_CONTAINS},
	{"err_msg_starts", 0, PT_ERR_MSG, PT_STARTS},
	{"compile_output_contains", 0, PT_COMPILE, PT_CONTAINS},
	{"compile_output_not_contains", 0, PT_COMPILE, PT_NOT_CONTAINS},
};
#define PT_NCHECKS (sizeof(pt_checks) / sizeof(pt_checks[0]))
static const char *const pt_where_name[] = {"output", "stderr", "err_msg",
					    "compile_output"};

static const char *const pt_case_keys[] = {
	"description", "source", "limits", "status", "tests", "backends",
	"err_msg_contains", "err_msg_not_contains", "err_msg_starts",
	"compile_output_contains", "compile_output_not_contains", NULL};
static const char *const pt_test_keys[] = {
	"input", "output", "status", "exit_code", "output_contains",
	"output_not_contains", "output_starts", "stderr_contains",
	"stderr_not_contains", NULL};

/* s as a short printable quote: escapes, cut at PT_SHOW bytes. */
const char *pcase_quote(const char *s, size_t len, char *out, size_t outlen)
{
	size_t o = 0, i;

	out[o++] = '"';
	for (i = 0; s && i < len && i < PT_SHOW && o + 8 < outlen; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\n' || c == '\t' || c == '"' || c == '\\')
			o += (size_t)snprintf(out + o, outlen - o, "\\%c",
					      c == '\n' ? 'n' : c == '\t' ? 't' : c);
		else if (c < 0x20 || c == 0x7f)
			o += (size_t)snprintf(out + o, outlen - o, "\\x%02x", c);
		else
			out[o++] = (char)c;
	}
	if (s && i < len)
		snprintf(out + o, outlen - o, "\"... (%zu bytes)", len);
	else
		snprintf(out + o, outlen - o, "\"");
	return out;
}

/* One check against one text; 0 ok, else a message in msg. */
static int pt_check_text(const struct pt_check *k, const char *label,
			 const char *text, size_t len, const char *needle,
			 char *msg, size_t msglen)
{
	size_t nl = strlen(needle);
	const char *hit = text && nl <= len ? memmem(text, len, needle, nl) : NULL;
	char q1[PT_SHOW * 4 + 32], q2[PT_SHOW * 4 + 32];
	int ok = k->mode == PT_CONTAINS	     ? hit != NULL
		 : k->mode == PT_NOT_CONTAINS ? hit == NULL
					      : nl <= len && text &&
							memcmp(text, needle, nl) == 0;

	if (ok)
		return 0;
	snprintf(msg, msglen, "%s%s %s %s (%s %s)", label,
		 pt_where_name[k->where],
		 k->mode == PT_CONTAINS	     ? "does not contain"
		 : k->mode == PT_NOT_CONTAINS ? "contains"
					      : "does not start with",
		 pcase_quote(needle, nl, q1, sizeof(q1)), pt_where_name[k->where],
		 pcase_quote(text, len, q2, sizeof(q2)));
	return -1;
}

/* Every check of obj (a case or a test) whose per_test matches. */
static int pt_run_checks(const json_t *obj, int per_test, const char *label,
			 const struct result *r, const struct res_test *t,
			 char *msg, size_t msglen)
{
	for (size_t i = 0; i < PT_NCHECKS; i++) {
		const struct pt_check *k = &pt_checks[i];
		const json_t *v = json_object_get(obj, k->key), *n;
		const char *text = NULL;
		size_t len = 0, j;

		if (k->per_test != per_test || !v)
			continue;
		if (k->where == PT_OUTPUT)
			text = t->output, len = t->output_len;
		else if (k->where == PT_STDERR)
			text = t->stderr_text, len = t->stderr_len;
		else if (k->where == PT_ERR_MSG)
			text = r->err_msg, len = r->err_msg ? strlen(r->err_msg) : 0;
		else
			text = r->compile_output,
			len = r->compile_output ? strlen(r->compile_output) : 0;
		if (json_is_string(v) &&
		    pt_check_text(k, label, text, len, json_string_value(v), msg, msglen))
			return -1;
		json_array_foreach(v, j, n)
			if (json_is_string(n) &&
			    pt_check_text(k, label, text, len, json_string_value(n), msg,
					  msglen))
				return -1;
	}
	return 0;
}

/* For a test expected to fail, `output` is what its output must be (the
 * core compares outputs only of tests that ran to the end). */
static int pt_same_output(const json_t *t, const struct res_test *rt,
			  const char *label, char *msg, size_t msglen)
{
	char q1[PT_SHOW * 4 + 32], q2[PT_SHOW * 4 + 32], *want = NULL;
	size_t len = 0;
	int rc = 0;

	if (!json_object_get(t, "output"))
		return 0;
	if (pt_text(json_object_get(t, "output"), "output", &want, &len, msg,
		    msglen) < 0)
		return -1;
	while (len > 0 && want[len - 1] == '\n')
		len--;
	if (len != rt->output_len || memcmp(want, rt->output, len) != 0) {
		snprintf(msg, msglen, "%sexpected output %s, got %s", label,
			 pcase_quote(want, len, q1, sizeof(q1)),
			 pcase_quote(rt->output, rt->output_len, q2, sizeof(q2)));
		rc = -1;
	}
	free(want);
	return rc;
}

/* 0 when the result is what the case expects, else -1 with msg. */
int pcase_evaluate(const json_t *c, const struct result *r, char *msg,
		       size_t msglen)
{
	enum runlet_verdict want = RUNLET_VERDICT_OK;
	char label[48], q[PT_SHOW * 4 + 32];
	const json_t *tests = json_object_get(c, "tests"), *t;
	size_t i;

	json_array_foreach(tests, i, t) {
		const json_t *ec = json_object_get(t, "exit_code");
		const struct res_test *rt;

		snprintf(label, sizeof(label), "test %zu: ", i + 1);
		if (i >= r->ntests) {
			snprintf(msg, msglen, "%sno result", label);
			return -1;
		}
		rt = &r->tests[i];
		want = RUNLET_VERDICT_OK;
		(void)pt_status(json_object_get(t, "status"), "", &want, NULL, 0);
		if (rt->status != want) {
			snprintf(msg, msglen, "%sexpected status %s, got %s (output %s)%s%s",
				 label, verdict_name(want), verdict_name(rt->status),
				 pcase_quote(rt->output, rt->output_len, q, sizeof(q)),
				 r->err_msg && r->err_msg[0] ? "; err_msg: " : "",
				 r->err_msg ? r->err_msg : "");
			return -1;
		}
		if (want != RUNLET_VERDICT_OK && want != RUNLET_VERDICT_WA &&
		    pt_same_output(t, rt, label, msg, msglen) < 0)
			return -1;
		if (json_is_integer(ec) && json_integer_value(ec) != rt->exit_code) {
			snprintf(msg, msglen, "%sexpected exit code %lld, got %d", label,
				 (long long)json_integer_value(ec), rt->exit_code);
			return -1;
		}
		if (pt_run_checks(t, 1, label, r, rt, msg, msglen) < 0)
			return -1;
	}
	if (json_object_get(c, "status")) {
		(void)pt_status(json_object_get(c, "status"), "", &want, NULL, 0);
		if (r->status != want) {
			snprintf(msg, msglen, "expected overall status %s, got %s",
				 verdict_name(want), verdict_name(r->status));
			return -1;
		}
	}
	return pt_run_checks(c, 0, "", r, NULL, msg, msglen);
}

/* Key and type errors of a case, before anything runs. */
int pcase_validate(const json_t *c, char *err, size_t errlen)
{
	enum runlet_verdict v;
	const json_t *t;
	char where[48];
	size_t i;

	if (pt_allowed(c, pt_case_keys, "", err, errlen) < 0 ||
	    (json_object_get(c, "status") &&
	     pt_status(json_object_get(c, "status"), "status", &v, err, errlen) < 0))
		return -EINVAL;
	json_array_foreach(json_object_get(c, "tests"), i, t) {
		snprintf(where, sizeof(where), "tests[%zu].", i);
		if (json_is_object(t) &&
		    (pt_allowed(t, pt_test_keys, where, err, errlen) < 0 ||
		     (json_object_get(t, "status") &&
		      pt_status(json_object_get(t, "status"), where, &v, err,
				errlen) < 0)))
			return -EINVAL;
	}
	return 0;
}

/* A case's `backends:` list leaves out the backend in use. */
int pcase_skipped(const json_t *c, const char *backend)
{
	const json_t *b = json_object_get(c, "backends"), *v;
	size_t i;

	if (!json_is_array(b))
		return 0;
	json_array_foreach(b, i, v)
		if (json_is_string(v) && strcmp(json_string_value(v), backend) == 0)
			return 0;
	return 1;
}


int pcase_load(const char *path, json_t **out, char *err, size_t errlen)
{
	const char *dot = strrchr(path, '.');
	json_error_t jerr;

	err[0] = '\0';
	if (dot && strcmp(dot, ".json") == 0) {
		*out = json_load_file(path, 0, &jerr);
		if (!*out)
			snprintf(err, errlen, "line %d: %s", jerr.line, jerr.text);
		else if (!json_is_object(*out)) {
			snprintf(err, errlen, "expected an object of case keys");
			json_decref(*out);
			*out = NULL;
		}
	} else {
		*out = pyaml_load(path, err, errlen);
	}
	return *out ? 0 : -EINVAL;
}
