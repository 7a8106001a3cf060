/* Verdicts: from the runner's raw outcomes to what the student sees, through
 * the plugin's classify, clean_diagnostics and normalize_output hooks (or
 * the core defaults). Knows no language.
 */
#ifndef RUNLET_VERDICT_H
#define RUNLET_VERDICT_H

#include "core/job.h"
#include "core/plan.h"
#include "core/result.h"
#include "runlet/plugin.h"
#include "runner/wire.h"

/* The contract's default normalization: strip trailing '\n'. */
void verdict_default_normalize(char *buf, size_t *len);

/* Judge the compile outcome. *ok = 1 when the program may run. Sets
 * res->compile_output (cleaned) and, on failure, res->err_msg and
 * res->status (CE, or IE when the compiler could not even start).
 * 0 or -ENOMEM. */
int verdict_compile(const struct runlet_plugin *p, const struct plan_info *pi,
		    const struct wire_outcome *o, struct result *res, int *ok);

/* Judge one test: fills rt (status, output, stderr, measurements).
 * jt borrowed (its input is referenced from rt). 0 or -ENOMEM. */
int verdict_test(const struct runlet_plugin *p, const struct plan_info *pi,
		 const struct job_test *jt, const struct wire_outcome *o,
		 struct res_test *rt);

/* Fill rt for a test that did not run: status and a fixed output text. */
int verdict_not_run(const struct job_test *jt, enum runlet_verdict v,
		    const char *output, struct res_test *rt);

#endif /* RUNLET_VERDICT_H */
