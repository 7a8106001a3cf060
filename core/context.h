/* The judging context's insides, shared by core/context.c (opening and
 * closing it) and core/dispatch.c (judging with it). Private to core/. */
#ifndef RUNLET_CONTEXT_H
#define RUNLET_CONTEXT_H

#include <limits.h>
#include <stdatomic.h>

#include "backends/backend.h"
#include "core/dispatch.h"

struct cache;

#define MAX_BACKENDS 4

struct ctx_backend {
	const struct backend_ops *ops;
	void *state;
};

struct runlet_ctx {
	struct cfg *cfg;          /* owned */
	struct registry *reg;     /* owned */
	struct ctx_backend be[MAX_BACKENDS];
	size_t nbe;
	char *backend_override;   /* owned or NULL */
	char plugin_dir[PATH_MAX];
	char runner_path[PATH_MAX];
	char host[256];
	struct cache *cache;      /* owned or NULL: the compile cache */
	long ncpu;                /* online cores */
	atomic_long busy;         /* judgements in progress */
	atomic_ulong seq;
};

/* The backend name for a language: the --backend override, the runner's
 * own, the config's, else "native". Borrowed from ctx or cr. */
const char *ctx_runner_backend(const struct runlet_ctx *ctx,
			       const struct cfg_runner *cr);
/* The opened backend of that name, or NULL. Borrowed from ctx. */
struct ctx_backend *ctx_find_backend(struct runlet_ctx *ctx, const char *name);

#endif /* RUNLET_CONTEXT_H */
