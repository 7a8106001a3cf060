/* Dispatch: judge one submission. Picks the plugin and the backend for the
 * job's language, builds the runner plan through the plugin's hooks, runs it,
 * and turns the runner's raw outcomes into verdicts and a result.
 *
 * A struct runlet_ctx is opened once (config, plugins, backends) and then
 * used by any number of threads at once: runlet_judge is thread-safe.
 */
#ifndef RUNLET_DISPATCH_H
#define RUNLET_DISPATCH_H

#include <jansson.h>
#include <stddef.h>

#include "core/job.h"
#include "core/result.h"
#include "runner/wire.h"

struct cfg;
struct registry;

struct runlet_ctx_opts {
	const char *config_path; /* NULL: $CONFIG_PATH, else ./config.yaml */
	const char *backend;     /* NULL: per runner / config default */
	const char *plugin_dir;  /* NULL: config's, else <exe dir>/plugins */
	const char *runner_path; /* NULL: config's, else <exe dir>/runlet-runner */
	int insecure;            /* run even with isolation features missing */
};

struct runlet_ctx;

/* Load config and plugins, open the backends the config (or the override)
 * uses. 0 or -errno; err says what failed and where. Exit code 2 material
 * for config/plugin errors is -EINVAL; backend failures are other codes. */
int runlet_ctx_open(const struct runlet_ctx_opts *opts, struct runlet_ctx **out,
		    char *err, size_t errlen);
/* Same, with an already loaded config (ownership of cfg moves to the ctx on
 * success). */
int runlet_ctx_open_cfg(const struct runlet_ctx_opts *opts, struct cfg *cfg,
			struct runlet_ctx **out, char *err, size_t errlen);
void runlet_ctx_close(struct runlet_ctx *ctx);

/* The plugin directory runlet uses: override, else cfg->plugin_dir, else
 * <directory of the runlet executable>/plugins. 0 or -ENAMETOOLONG. */
int runlet_plugin_dir(const struct cfg *cfg, const char *override, char *out,
		      size_t outlen);

/* Borrowed until runlet_ctx_close. */
const struct cfg *runlet_ctx_cfg(const struct runlet_ctx *ctx);
const struct registry *runlet_ctx_registry(const struct runlet_ctx *ctx);

/* Per-test progress, for a terminal; may be NULL. */
struct judge_hooks {
	void (*on_compiled)(void *arg, const struct job *job, int ok);
	void (*on_test)(void *arg, const struct job *job, size_t index,
			const struct res_test *t);
	void *arg;
};

/* Judge a validated job. 0 with *out (caller owns; result_free) whenever a
 * result exists, including IE results when the backend failed (err_msg then
 * says why). Negative only on out-of-memory. The result borrows ids and code
 * from job: keep job alive until the result is encoded. */
int runlet_judge(struct runlet_ctx *ctx, const struct job *job,
		 const struct judge_hooks *hooks, struct result **out);

/* Parse, validate and judge a raw body (the queue message).
 *  0:       *out is the result JSON (new reference).
 *  -EINVAL: the body is invalid; err says why; *out is an error result
 *           (every test reported, err_msg set) when the submission was
 *           identifiable, NULL otherwise (dead-letter it).
 *  other negative: internal failure, *out NULL.
 * msg_id (may be NULL) is carried into the result. */
int runlet_judge_body(struct runlet_ctx *ctx, const char *body, size_t len,
		      const char *msg_id, const struct judge_hooks *hooks,
		      json_t **out, char *err, size_t errlen);

#endif /* RUNLET_DISPATCH_H */
