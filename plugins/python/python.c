/* runlet plugin for Python 3: main.py run by the interpreter, no compile
 * step (the contract's compile_args: []). Knows python's environment knobs,
 * its traceback paths and its MemoryError. */
#include <errno.h>
#include <string.h>

#include "runlet/plugin.h"
#include "../common/ptext.h"

#define PY_NAME "python"

static const char *const py_compile_argv[] = { NULL };
static const char *const py_run_argv[] = { "python", "{src}", NULL };

/* Environment set unless the config already sets the key. PYTHONUTF8: the
 * sandbox's LANG is the language code (not a locale), so make stdin/stdout
 * UTF-8 explicitly rather than rely on C-locale coercion. */
static const char *const py_env[][2] = {
	{ "PYTHONDONTWRITEBYTECODE", "1" },
	{ "PYTHONUNBUFFERED", "1" },
	{ "PYTHONUTF8", "1" },
	{ "PYTHONIOENCODING", "utf-8" },
};

/* Interpreter names tried, in order, when argv[0] is a bare "python" the
 * host does not have. */
static const char *const py_alternatives[] = { "python3", "python3.13",
					       "python3.12", "python3.11" };

static int py_resolve_interpreter(const struct runlet_host *host,
				  struct runlet_strv *argv)
{
	char path[4096];
	const char *a0;
	size_t i;

	if (host->strv_len(argv) == 0)
		return 0;
	a0 = host->strv_get(argv, 0);
	if (strcmp(a0, "python") != 0 ||
	    host->find_program(a0, path, sizeof(path)) == 0)
		return 0;
	for (i = 0; i < sizeof(py_alternatives) / sizeof(py_alternatives[0]);
	     i++) {
		if (host->find_program(py_alternatives[i], path,
				       sizeof(path)) == 0) {
			host->log(RUNLET_LOG_DEBUG, PY_NAME,
				  "no `python` on PATH, using %s", path);
			return host->strv_set(argv, 0, path);
		}
	}
	host->log(RUNLET_LOG_WARN, PY_NAME,
		  "neither `python` nor `python3` is on PATH: install python3 "
		  "or set run_args in config.yaml");
	return 0;
}

static int py_plan(const struct runlet_host *host, struct runlet_plan *plan)
{
	size_t i;
	int rc;

	rc = py_resolve_interpreter(host, plan->run_argv);
	if (rc)
		return rc;
	for (i = 0; i < sizeof(py_env) / sizeof(py_env[0]); i++) {
		if (host->env_get(plan->env, py_env[i][0]))
			continue;
		rc = host->env_set(plan->env, py_env[i][0], py_env[i][1]);
		if (rc)
			return rc;
	}
	return 0;
}

/* Tracebacks name files by the path given to the interpreter: make it
 * main.py. Everything else (the source line, the caret, the message of a
 * SyntaxError or an IndentationError) is already what a student needs. */
static void py_clean(const struct runlet_host *host, enum runlet_phase phase,
		     const char *src_path, const char *workdir, const char *in,
		     size_t len, struct runlet_buf *out)
{
	(void)phase;
	ptext_append_clean(host, src_path, workdir, in, len, out);
}

/* A MemoryError traceback is the memory limit hit from inside python. */
static enum runlet_verdict py_classify(const struct runlet_host *host,
				       const struct runlet_exit *ex,
				       struct runlet_buf *note)
{
	(void)host;
	(void)note;
	if (ex->phase != RUNLET_PHASE_RUN || ex->kind != RUNLET_EXIT_EXITED ||
	    ex->exit_code == 0)
		return RUNLET_VERDICT_NONE;
	if (ptext_has_line(ex->err, ex->err_len, "MemoryError"))
		return RUNLET_VERDICT_MLE;
	return RUNLET_VERDICT_NONE;
}

static const struct runlet_plugin py_plugin = {
	.abi_major = RUNLET_PLUGIN_ABI_MAJOR,
	.struct_size = sizeof(struct runlet_plugin),
	.name = PY_NAME,
	.version = "1.0.0",
	.source_name = "main.py",
	.binary_name = NULL,
	.default_compile_argv = py_compile_argv,
	.default_run_argv = py_run_argv,
	.plan = py_plan,
	.normalize_output = NULL,
	.clean_diagnostics = py_clean,
	.classify = py_classify,
};

RUNLET_PLUGIN_EXPORT const struct runlet_plugin *runlet_plugin_entry(void);

RUNLET_PLUGIN_EXPORT const struct runlet_plugin *runlet_plugin_entry(void)
{
	return &py_plugin;
}
