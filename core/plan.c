/* Planning: from job + config entry + plugin to a runner plan. */
#include "core/plan.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/host.h"
#include "core/job.h"

#define DEFAULT_PATH SANDBOX_PATH
#define COMPILE_OUTPUT_LIMIT (1024 * 1024)
#define NOFILE_LIMIT 512
#define STACK_LIMIT_KB (64 * 1024)
#define COMPILE_PIDS_MIN 256

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

void plan_limits(const struct cfg_runner *cr, const struct job *job,
		 struct runlet_limits *compile, struct runlet_limits *run)
{
	const struct cfg_limits *l = &cr->limits;
	uint64_t max_time = l->max_run_timeout_ms ? l->max_run_timeout_ms
						  : cr->run_timeout_ms;
	uint64_t max_mem = l->max_mem_limit ? l->max_mem_limit : cr->mem_limit;
	uint64_t max_out = l->max_output_limit ? l->max_output_limit
					       : l->output_limit;

	memset(run, 0, sizeof(*run));
	run->time_ms = cr->run_timeout_ms;
	run->memory_bytes = cr->mem_limit;
	run->output_bytes = l->output_limit;
	if (job && job->limits.has_time)
		run->time_ms = min_u64(job->limits.time_ms, max_time);
	if (job && job->limits.has_memory)
		run->memory_bytes = min_u64(job->limits.memory_bytes, max_mem);
	if (job && job->limits.has_output)
		run->output_bytes = min_u64(job->limits.output_bytes, max_out);
	if (l->wall_timeout_ms && !(job && job->limits.has_time))
		run->wall_ms = l->wall_timeout_ms;
	else
		run->wall_ms = run->time_ms * 2 + 1000;
	if (run->wall_ms < run->time_ms)
		run->wall_ms = run->time_ms;
	run->pids = (uint32_t)(l->pids_limit ? l->pids_limit : 100);

	memset(compile, 0, sizeof(*compile));
	compile->time_ms = l->compile_timeout_ms ? l->compile_timeout_ms : 30000;
	compile->wall_ms = compile->time_ms;
	compile->memory_bytes = l->compile_mem_limit;
	if (!compile->memory_bytes)
		compile->memory_bytes = cr->mem_limit > (1ull << 30)
						? cr->mem_limit
						: (1ull << 30);
	compile->output_bytes = COMPILE_OUTPUT_LIMIT;
	compile->pids = run->pids > COMPILE_PIDS_MIN ? run->pids
						     : COMPILE_PIDS_MIN;
}

char *plan_expand(const char *s, const char *ph, const char *val)
{
	size_t pl = strlen(ph), vl = strlen(val), n = 0;
	const char *p;
	if (pl == 0)
		return strdup(s);
	for (p = s; (p = strstr(p, ph)); p += pl)
		n++;
	char *out = malloc(strlen(s) + n * vl + 1);
	if (!out)
		return NULL;
	char *o = out;
	for (p = s;;) {
		const char *hit = strstr(p, ph);
		size_t chunk = hit ? (size_t)(hit - p) : strlen(p);
		memcpy(o, p, chunk);
		o += chunk;
		if (!hit)
			break;
		memcpy(o, val, vl);
		o += vl;
		p = hit + pl;
	}
	*o = '\0';
	return out;
}

static int expand_all(struct runlet_strv *v, const struct cfg *cfg,
		      const char *src, const char *bin)
{
	const char *sph = cfg->src_placeholder ? cfg->src_placeholder : "{src}";
	const char *bph = cfg->bin_placeholder ? cfg->bin_placeholder : "{bin}";
	for (size_t i = 0; i < v->n; i++) {
		char *a = plan_expand(v->v[i], sph, src);
		char *b = a ? plan_expand(a, bph, bin) : NULL;
		free(a);
		if (!b)
			return -ENOMEM;
		free(v->v[i]);
		v->v[i] = b;
	}
	return 0;
}

static void to_wire_limits(const struct runlet_limits *l,
			   const struct cfg_runner *cr, struct wire_limits *w)
{
	memset(w, 0, sizeof(*w));
	w->cpu_ms = l->time_ms;
	w->wall_ms = l->wall_ms;
	w->mem_kb = l->memory_bytes / 1024;
	w->out_kb = l->output_bytes ? (l->output_bytes + 1023) / 1024 : 0;
	w->err_kb = (cr->limits.stderr_limit + 1023) / 1024;
	if (w->err_kb == 0)
		w->err_kb = 64;
	w->errmax_kb = w->out_kb * 4 > 8192 ? w->out_kb * 4 : 8192;
	w->fsize_kb = cr->limits.tmpfs_size / 1024;
	w->nofile = NOFILE_LIMIT;
	w->stack_kb = STACK_LIMIT_KB;
	w->pids = l->pids;
}

static int fill_step(struct wire_step *s, struct runlet_strv *argv,
		     const struct runlet_strv *env,
		     const struct runlet_limits *l, const struct cfg_runner *cr)
{
	strv_take(argv, &s->argv, &s->argc);
	for (size_t i = 0; i < env->n; i++)
		if (wire_strv_push(&s->envp, &s->envc, env->v[i]) < 0)
			return -ENOMEM;
	if (!s->envp) {
		s->envp = calloc(1, sizeof(char *));
		if (!s->envp)
			return -ENOMEM;
	}
	to_wire_limits(l, cr, &s->lim);
	return s->argv ? 0 : -ENOMEM;
}

int plan_build(const struct cfg *cfg, const struct cfg_runner *cr,
	       const struct runlet_plugin *plugin, const char *backend,
	       const char *workdir, const struct job *job,
	       struct wire_plan *out, struct plan_info *info, char *err,
	       size_t errlen)
{
	const struct runlet_host *host = host_get();
	struct runlet_strv cargv = {0}, rargv = {0}, env = {0};
	const char *bin_name;
	int rc = -ENOMEM, compiled;

	memset(out, 0, sizeof(*out));
	memset(info, 0, sizeof(*info));
	out->uid = out->gid = -1;

	bin_name = RUNLET_PLUGIN_HAS(plugin, binary_name) && plugin->binary_name
			   ? plugin->binary_name
			   : "main";
	if ((size_t)snprintf(info->workdir, sizeof(info->workdir), "%s",
			     workdir) >= sizeof(info->workdir) ||
	    (size_t)snprintf(info->src_path, sizeof(info->src_path), "%s/%s",
			     workdir, plugin->source_name) >=
		    sizeof(info->src_path) ||
	    (size_t)snprintf(info->bin_path, sizeof(info->bin_path), "%s/%s",
			     workdir, bin_name) >= sizeof(info->bin_path)) {
		snprintf(err, errlen, "work dir path too long: %s", workdir);
		return -EINVAL;
	}
	plan_limits(cr, job, &info->compile_limits, &info->run_limits);
	info->stderr_limit = cr->limits.stderr_limit;

	/* argv: config first, plugin defaults when the config has none */
	if (cr->has_compile_args)
		rc = strv_push_all(&cargv, cr->compile_args, cr->ncompile_args);
	else
		rc = strv_push_const(&cargv,
				     RUNLET_PLUGIN_HAS(plugin, default_compile_argv)
					     ? plugin->default_compile_argv
					     : NULL);
	if (rc < 0)
		goto out;
	if (cr->has_run_args)
		rc = strv_push_all(&rargv, cr->run_args, cr->nrun_args);
	else
		rc = strv_push_const(&rargv,
				     RUNLET_PLUGIN_HAS(plugin, default_run_argv)
					     ? plugin->default_run_argv
					     : NULL);
	if (rc < 0)
		goto out;

	/* env: PATH, HOME and TMPDIR in the work dir, LANG=<code> as the
	 * existing system sets it, then the config's envs (which win) */
	if ((rc = host->env_set(&env, "PATH", DEFAULT_PATH)) < 0 ||
	    (rc = host->env_set(&env, "HOME", workdir)) < 0 ||
	    (rc = host->env_set(&env, "TMPDIR", workdir)) < 0 ||
	    (rc = host->env_set(&env, "LANG", cr->code)) < 0)
		goto out;
	for (size_t i = 0; i < cr->nenvs; i++) {
		const char *eq = strchr(cr->envs[i], '=');
		char key[256];
		if (!eq || (size_t)(eq - cr->envs[i]) >= sizeof(key))
			continue;
		memcpy(key, cr->envs[i], (size_t)(eq - cr->envs[i]));
		key[eq - cr->envs[i]] = '\0';
		if ((rc = host->env_set(&env, key, eq + 1)) < 0)
			goto out;
	}

	if (RUNLET_PLUGIN_HAS(plugin, plan) && plugin->plan) {
		struct runlet_plan p = {
			.code = cr->code,
			.backend = backend,
			.workdir = info->workdir,
			.src_path = info->src_path,
			.bin_path = info->bin_path,
			.compile_argv = &cargv,
			.run_argv = &rargv,
			.env = &env,
			.compile_limits = &info->compile_limits,
			.run_limits = &info->run_limits,
		};
		rc = plugin->plan(host, &p);
		if (rc < 0) {
			snprintf(err, errlen,
				 "plugin %s: plan hook failed for language %s: %s",
				 plugin->name, cr->code, strerror(-rc));
			rc = -EINVAL;
			goto out;
		}
	}
	if (rargv.n == 0) {
		snprintf(err, errlen,
			 "runners.%s: no run command (set run_args in the config)",
			 cr->code);
		rc = -EINVAL;
		goto out;
	}

	/* The existing system's rule: in run_args of a compiled language,
	 * {src} is the compiled binary. */
	compiled = cargv.n > 0;
	if ((rc = expand_all(&cargv, cfg, info->src_path, info->bin_path)) < 0 ||
	    (rc = expand_all(&rargv, cfg,
			     compiled ? info->bin_path : info->src_path,
			     info->bin_path)) < 0)
		goto out;

	rc = -ENOMEM;
	out->workdir = strdup(workdir);
	out->files = calloc(1, sizeof(*out->files));
	if (!out->workdir || !out->files)
		goto out;
	out->nfiles = 1;
	out->files[0].path = strdup(plugin->source_name);
	out->files[0].mode = 0644;
	out->files[0].data = malloc(job->code_len + 1);
	if (!out->files[0].path || !out->files[0].data)
		goto out;
	memcpy(out->files[0].data, job->code, job->code_len);
	out->files[0].data[job->code_len] = '\0';
	out->files[0].len = job->code_len;

	if (compiled) {
		out->has_compile = 1;
		info->has_compile = 1;
		if (fill_step(&out->compile, &cargv, &env,
			      &info->compile_limits, cr) < 0)
			goto out;
		/* a compiler's messages are its output: keep as much */
		out->compile.lim.err_kb = out->compile.lim.out_kb;
	}
	if (fill_step(&out->run, &rargv, &env, &info->run_limits, cr) < 0)
		goto out;

	out->tests = calloc(job->ntests ? job->ntests : 1, sizeof(*out->tests));
	if (!out->tests)
		goto out;
	for (size_t i = 0; i < job->ntests; i++) {
		struct wire_test *t = &out->tests[i];
		t->num = (uint64_t)job->tests[i].num;
		t->input = malloc(job->tests[i].input_len + 1);
		if (!t->input)
			goto out;
		memcpy(t->input, job->tests[i].input, job->tests[i].input_len);
		t->len = job->tests[i].input_len;
		out->ntests++;
	}
	rc = 0;
out:
	strv_clear(&cargv);
	strv_clear(&rargv);
	strv_clear(&env);
	if (rc == -ENOMEM)
		snprintf(err, errlen, "out of memory while planning");
	return rc;
}
