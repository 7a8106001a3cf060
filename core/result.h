/* The result model: one submission's outcome (CONTRACT.md §2) and its JSON.
 * Ownership: struct result owns its strings; the ids and the code are
 * borrowed from the job (or job_ids) it was made for, which must outlive the
 * result_to_json call.
 */
#ifndef RUNLET_RESULT_H
#define RUNLET_RESULT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "runlet/plugin.h"

struct res_test {
	int64_t num;
	const char *input;   /* borrowed from the job */
	size_t input_len;
	char *output;        /* owned: the "output" field */
	size_t output_len;
	enum runlet_verdict status;
	uint64_t time_ms;    /* CPU */
	uint64_t wall_ms;
	uint64_t memory_kb;
	int exit_code;
	int signal;
	char *stderr_text;   /* owned or NULL, capped */
	size_t stderr_len;
};

struct result {
	json_t *student_id;  /* borrowed */
	json_t *problem_id;  /* borrowed */
	json_t *course_id;   /* borrowed */
	const char *code;    /* borrowed; NULL -> "" */
	size_t code_len;
	struct res_test *tests; /* owned, ntests entries, request order */
	size_t ntests;
	char *err_msg;       /* owned, never NULL after result_new */
	char *compile_output;/* owned or NULL */
	enum runlet_verdict status;
	uint64_t duration_ms;
	const char *host;    /* borrowed static strings */
	const char *backend;
	const char *id;      /* borrowed: message id, if any */
};

/* Allocate a result with ntests zeroed tests and err_msg "". NULL on OOM. */
struct result *result_new(size_t ntests);
void result_free(struct result *r);

/* Set err_msg (copied). 0 or -ENOMEM. */
int result_set_err(struct result *r, const char *msg);

/* "OK", "WA", ... ; "NONE" for RUNLET_VERDICT_NONE. */
const char *verdict_name(enum runlet_verdict v);

/* The first non-OK test's status, or OK; CE/IE when set on the whole. */
enum runlet_verdict result_overall(const struct result *r);

/* Build the JSON body (new reference). Strings that are not valid UTF-8 are
 * repaired (invalid bytes replaced by U+FFFD) so the body always encodes. */
json_t *result_to_json(const struct result *r);

/* Copy bytes into a NUL-terminated UTF-8 string, replacing invalid
 * sequences with U+FFFD. Caller owns the returned string. */
char *utf8_sanitize(const char *s, size_t len, size_t *outlen);

#endif /* RUNLET_RESULT_H */
