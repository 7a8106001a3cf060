/* A sample out-of-tree runlet plugin: bash scripts (main.sh). It includes
 * only the installed <runlet/plugin.h> and links nothing of runlet; build it
 * with
 *     cc -shared -fPIC -fvisibility=hidden -I<prefix>/include \
 *        bash_plugin.c -o runlet-bash.so
 * and drop the file into the plugin_dir of a config that has a runner with
 * `plugin: bash`. docs/PLUGINS.md walks through it. */
#include <string.h>

#include <runlet/plugin.h>

static const char *const sh_compile_argv[] = { NULL }; /* no compile step */
static const char *const sh_run_argv[] = { "bash", "{src}", NULL };

/* plan: a predictable shell. Keys the config sets are left alone. */
static int sh_plan(const struct runlet_host *host, struct runlet_plan *plan)
{
	static const char *const env[][2] = {
		{ "LC_ALL", "C.UTF-8" }, /* LANG is the language code */
		{ "BASH_ENV", "" },      /* no startup file */
	};
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < sizeof(env) / sizeof(env[0]); i++)
		if (!host->env_get(plan->env, env[i][0]))
			rc = host->env_set(plan->env, env[i][0], env[i][1]);
	return rc;
}

/* clean_diagnostics: "/tmp/main.sh: line 2: x: command not found" ->
 * "main.sh: line 2: x: command not found". */
static void sh_clean(const struct runlet_host *host, enum runlet_phase phase,
		     const char *src_path, const char *workdir, const char *in,
		     size_t len, struct runlet_buf *out)
{
	const char *base = strrchr(src_path, '/');
	size_t sl = strlen(src_path), start = 0;

	(void)phase;
	(void)workdir;
	base = base ? base + 1 : src_path;
	for (size_t i = 0; i + sl <= len; i++) {
		if (memcmp(in + i, src_path, sl) != 0)
			continue;
		host->buf_append(out, in + start, i - start);
		host->buf_append(out, base, strlen(base));
		i += sl - 1;
		start = i + 1;
	}
	host->buf_append(out, in + start, len - start);
}

/* classify: bash exits 127 when a command is missing; say so first. */
static enum runlet_verdict sh_classify(const struct runlet_host *host,
				       const struct runlet_exit *ex,
				       struct runlet_buf *note)
{
	if (ex->phase == RUNLET_PHASE_RUN && ex->kind == RUNLET_EXIT_EXITED &&
	    ex->exit_code == 127) {
		host->buf_printf(note, "a command the script runs is not "
				       "installed");
		return RUNLET_VERDICT_RE;
	}
	return RUNLET_VERDICT_NONE; /* the core's default */
}

static const struct runlet_plugin sh_plugin = {
	.abi_major = RUNLET_PLUGIN_ABI_MAJOR,
	.struct_size = sizeof(struct runlet_plugin),
	.name = "bash",
	.version = "0.1.0",
	.source_name = "main.sh",
	.binary_name = NULL,
	.default_compile_argv = sh_compile_argv,
	.default_run_argv = sh_run_argv,
	.plan = sh_plan,
	.normalize_output = NULL, /* the contract's: strip trailing '\n' */
	.clean_diagnostics = sh_clean,
	.classify = sh_classify,
};

RUNLET_PLUGIN_EXPORT const struct runlet_plugin *runlet_plugin_entry(void);

RUNLET_PLUGIN_EXPORT const struct runlet_plugin *runlet_plugin_entry(void)
{
	return &sh_plugin;
}
