/* The judging context: config, plugins, backends and the compile cache,
 * opened once and shared by every judgement (see core/dispatch.h). */
#include "core/context.h"

#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/backends.h"
#include "core/cache.h"
#include "core/config.h"
#include "core/log.h"
#include "core/registry.h"

/* Directory of the running executable, for build/plugins and the runner. */
static int exe_dir(char *out, size_t outlen)
{
	char buf[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	if ((size_t)snprintf(out, outlen, "%s", dirname(buf)) >= outlen)
		return -ENAMETOOLONG;
	return 0;
}

int runlet_plugin_dir(const struct cfg *cfg, const char *override, char *out,
		      size_t outlen)
{
	char dir[PATH_MAX] = ".";
	const char *pd = override ? override : cfg ? cfg->plugin_dir : NULL;
	int n;
	if (pd) {
		n = snprintf(out, outlen, "%s", pd);
	} else {
		(void)exe_dir(dir, sizeof(dir));
		n = snprintf(out, outlen, "%s/plugins", dir);
	}
	return n < 0 || (size_t)n >= outlen ? -ENAMETOOLONG : 0;
}

const char *ctx_runner_backend(const struct runlet_ctx *ctx,
				  const struct cfg_runner *cr)
{
	if (ctx->backend_override)
		return ctx->backend_override;
	if (cr && cr->backend)
		return cr->backend;
	return ctx->cfg->backend ? ctx->cfg->backend : "native";
}

struct ctx_backend *ctx_find_backend(struct runlet_ctx *ctx,
					const char *name)
{
	for (size_t i = 0; i < ctx->nbe; i++)
		if (strcmp(ctx->be[i].ops->name, name) == 0)
			return &ctx->be[i];
	return NULL;
}

static int open_backend(struct runlet_ctx *ctx, const char *name, int insecure,
			char *err, size_t errlen)
{
	const struct backend_ops *ops;
	struct backend_opts bo = {.insecure = insecure,
				  .runner_path = ctx->runner_path};
	char why[1024] = "";
	int rc;

	if (ctx_find_backend(ctx, name))
		return 0;
	ops = backends_find(name);
	if (!ops) {
		snprintf(err, errlen, "backend \"%s\": unknown (known: %s)",
			 name, backends_names());
		return -EINVAL;
	}
	if (ctx->nbe >= MAX_BACKENDS)
		return -ENOSPC;
	rc = ops->open(ctx->cfg, &bo, &ctx->be[ctx->nbe].state, why,
		       sizeof(why));
	if (rc < 0) {
		snprintf(err, errlen, "backend %s: %s", name,
			 why[0] ? why : strerror(-rc));
		return rc;
	}
	ctx->be[ctx->nbe++].ops = ops;
	return 0;
}

int runlet_ctx_open_cfg(const struct runlet_ctx_opts *opts, struct cfg *cfg,
			struct runlet_ctx **out, char *err, size_t errlen)
{
	struct runlet_ctx *ctx = calloc(1, sizeof(*ctx));
	char dir[PATH_MAX - 32] = ".";
	int rc;

	if (!ctx)
		return -ENOMEM;
	ctx->cfg = cfg;
	atomic_init(&ctx->seq, 0);
	atomic_init(&ctx->busy, 0);
	ctx->ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	if (ctx->ncpu < 1)
		ctx->ncpu = 1;
	(void)exe_dir(dir, sizeof(dir));
	if (gethostname(ctx->host, sizeof(ctx->host) - 1) < 0)
		snprintf(ctx->host, sizeof(ctx->host), "unknown");

	(void)runlet_plugin_dir(cfg, opts->plugin_dir, ctx->plugin_dir,
				sizeof(ctx->plugin_dir));
	const char *rp = opts->runner_path ? opts->runner_path
					   : cfg->sandbox.runner_path;
	if (rp)
		snprintf(ctx->runner_path, sizeof(ctx->runner_path), "%s", rp);
	else
		snprintf(ctx->runner_path, sizeof(ctx->runner_path),
			 "%s/runlet-runner", dir);
	if (opts->backend) {
		ctx->backend_override = strdup(opts->backend);
		if (!ctx->backend_override) {
			rc = -ENOMEM;
			goto fail;
		}
	}

	rc = registry_load(cfg, ctx->plugin_dir, &ctx->reg, err, errlen);
	if (rc < 0) {
		rc = -EINVAL;
		goto fail;
	}
	for (size_t i = 0; i < cfg->nrunners; i++) {
		rc = open_backend(ctx, ctx_runner_backend(ctx, &cfg->runners[i]),
				  opts->insecure, err, errlen);
		if (rc < 0)
			goto fail;
	}
	if (cfg->cache.max_size > 0) {
		const char *cdir = cfg->cache.dir ? cfg->cache.dir
						  : "/var/cache/runlet/compile";
		char why[1024];
		if (cache_open(cdir, cfg->cache.max_size, &ctx->cache, why,
			       sizeof(why)) < 0) {
			char q[1100];
			log_event(RUNLET_LOG_WARN, "compile_cache_off", "reason=%s",
				  log_quote(why, q, sizeof(q)));
			ctx->cache = NULL;
		}
	}
	*out = ctx;
	return 0;
fail:
	ctx->cfg = NULL; /* stays the caller's on failure */
	runlet_ctx_close(ctx);
	return rc;
}

int runlet_ctx_open(const struct runlet_ctx_opts *opts, struct runlet_ctx **out,
		    char *err, size_t errlen)
{
	const char *path = opts->config_path;
	struct cfg *cfg = NULL;
	int rc;

	if (!path)
		path = getenv("CONFIG_PATH");
	if (!path || !*path)
		path = "config.yaml";
	rc = cfg_load(path, &cfg, err, errlen);
	if (rc < 0)
		return -EINVAL;
	rc = runlet_ctx_open_cfg(opts, cfg, out, err, errlen);
	if (rc < 0)
		cfg_free(cfg);
	return rc;
}

void runlet_ctx_close(struct runlet_ctx *ctx)
{
	if (!ctx)
		return;
	for (size_t i = 0; i < ctx->nbe; i++)
		ctx->be[i].ops->close(ctx->be[i].state);
	registry_free(ctx->reg);
	cache_close(ctx->cache);
	cfg_free(ctx->cfg);
	free(ctx->backend_override);
	free(ctx);
}

const struct cfg *runlet_ctx_cfg(const struct runlet_ctx *ctx)
{
	return ctx->cfg;
}

const struct registry *runlet_ctx_registry(const struct runlet_ctx *ctx)
{
	return ctx->reg;
}
