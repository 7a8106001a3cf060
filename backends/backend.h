/* The backend interface: where and how a plan is isolated and executed.
 *
 * A backend receives a runner plan (runner/wire.h) for one submission, runs
 * runlet-runner with it inside a sandbox of its kind, and returns the runner's
 * decoded result. It knows nothing of languages or verdicts; the core knows
 * nothing of namespaces or containers. Backends are registered in
 * core/backends.c by name ("native", "docker").
 *
 * Threading: open() and close() are called once from the main thread;
 * execute() may be called from several worker threads at once with the same
 * state, so a backend keeps per-call state on the stack or locks.
 */
#ifndef RUNLET_BACKEND_H
#define RUNLET_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "runner/wire.h"

struct cfg;
struct cfg_runner;

/* Options decided by the CLI, shared by all backends. */
struct backend_opts {
	int insecure;            /* run even where isolation features are missing */
	const char *runner_path; /* host path of runlet-runner (borrowed) */
};

/* One submission to execute. Everything borrowed for the call. */
struct backend_job {
	const struct cfg *cfg;
	const struct cfg_runner *runner; /* the language's config entry */
	const char *job_id;              /* for names, labels and logs */
	/* Plan to run. The backend fills in what is its business before
	 * encoding: workdir, uid/gid, seccomp, cgroup dirs. */
	struct wire_plan *plan;
	/* Called (maybe from the calling thread) as each outcome arrives;
	 * may be NULL. */
	void (*progress)(void *arg, const struct wire_outcome *o);
	void *progress_arg;
};

struct backend_ops {
	const char *name;
	/* The writable work dir the runner will use inside this backend's
	 * sandbox (plugins see paths under it). */
	const char *(*workdir)(void *state, const struct cfg_runner *runner);
	/* Prepare (check features, connect...). 0 or -errno with err set. */
	int (*open)(const struct cfg *cfg, const struct backend_opts *opts,
		    void **state, char *err, size_t errlen);
	/* Run one plan. 0 when the runner produced a result (whatever the
	 * programs did), or -errno with err set (runlet failed: IE). On 0 the
	 * caller owns *res and frees it with wire_result_free. */
	int (*execute)(void *state, const struct backend_job *job,
		       struct wire_result *res, char *err, size_t errlen);
	void (*close)(void *state);
};

extern const struct backend_ops native_backend_ops;
extern const struct backend_ops docker_backend_ops;

#endif /* RUNLET_BACKEND_H */
