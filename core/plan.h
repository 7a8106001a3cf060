/* Planning: turn a job, its language's config entry and plugin into a runner
 * plan (runner/wire.h): argv and env through the plugin's plan hook, the
 * {src}/{bin} placeholders, and the limits after the job's own "limits"
 * extension was clamped to the configured maxima.
 */
#ifndef RUNLET_PLAN_H
#define RUNLET_PLAN_H

#include <limits.h>
#include <stddef.h>

#include "runlet/plugin.h"
#include "runner/wire.h"

/* PATH inside the sandbox (native: the host's /usr, /bin, /sbin). */
#define SANDBOX_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

struct cfg;
struct cfg_runner;
struct job;

/* What the verdict phase needs to know about the plan. Plain values. */
struct plan_info {
	char workdir[PATH_MAX];
	char src_path[PATH_MAX];
	char bin_path[PATH_MAX];
	int has_compile;
	struct runlet_limits compile_limits;
	struct runlet_limits run_limits;
	uint64_t stderr_limit; /* bytes kept of stderr */
};

/* Resolve the limits of one phase (job limits clamped to the maxima). */
void plan_limits(const struct cfg_runner *cr, const struct job *job,
		 struct runlet_limits *compile, struct runlet_limits *run);

/* Build the plan. plugin and cr borrowed; out is zeroed first and owned by
 * the caller (wire_plan_free) whatever the result. 0, or -EINVAL with err
 * naming the problem (e.g. a plugin plan hook failing, no run command). */
int plan_build(const struct cfg *cfg, const struct cfg_runner *cr,
	       const struct runlet_plugin *plugin, const char *backend,
	       const char *workdir, const struct job *job,
	       struct wire_plan *out, struct plan_info *info, char *err,
	       size_t errlen);

/* Replace every occurrence of ph in s by val; caller owns the result. */
char *plan_expand(const char *s, const char *ph, const char *val);

#endif /* RUNLET_PLAN_H */
