/* Fixture cases of `runlet plugin-test` (keys in docs/PLUGINS.md).
 * Ownership: a case is a jansson object owned by the caller (json_decref);
 * jobs from pcase_job are the caller's (job_free); everything else is
 * borrowed for the call.
 */
#ifndef RUNLET_PLUGIN_CASE_H
#define RUNLET_PLUGIN_CASE_H

#include <jansson.h>
#include <stddef.h>

#include "core/job.h"
#include "core/result.h"

/* Read a case file: *.json as JSON, anything else as YAML. 0, or -EINVAL
 * with err saying where ("line 4: ..."). */
int pcase_load(const char *path, json_t **out, char *err, size_t errlen);

/* Unknown keys and bad statuses, before anything runs. 0 or -EINVAL. */
int pcase_validate(const json_t *c, char *err, size_t errlen);

/* 1 when the case's `backends:` list leaves out backend. */
int pcase_skipped(const json_t *c, const char *backend);

/* The case as a job for language code: source, tests in order (generated
 * inputs expanded), limits. 0, -EINVAL or -ENOMEM with err. */
int pcase_job(const json_t *c, const char *code, struct job **out, char *err,
	      size_t errlen);

/* 0 when r is what the case expects, else -1 with the first mismatch in
 * msg ("test 1: expected status TLE, got OK (output \"...\")"). */
int pcase_evaluate(const json_t *c, const struct result *r, char *msg,
		   size_t msglen);

/* s[0..len) as a short quoted printable string in out. Returns out. */
const char *pcase_quote(const char *s, size_t len, char *out, size_t outlen);

#endif
