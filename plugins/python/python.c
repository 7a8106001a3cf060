/* runlet plugin for Python 3: main.py run by the interpreter, no compile
 * step (the contract's compile_args: []). Knows python's environment knobs,
 * its interpreter names, its traceback paths and its MemoryError. */
#include <stddef.h>

#include "runlet/plugin.h"
#include "../common/ptext.h"

#define PY_NAME "python"
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const char *const py_compile_argv[] = { NULL };
static const char *const py_run_argv[] = { "python", "{src}", NULL };

/* Environment set unless the config already sets the key. PYTHONUTF8 and
 * PYTHONIOENCODING: the sandbox's LANG is the language code (not a
 * locale), so make stdin/stdout UTF-8 explicitly. */
static const char *const py_env[][2] = {
	{ "PYTHONDONTWRITEBYTECODE", "1" },
	{ "PYTHONUNBUFFERED", "1" },
	{ "PYTHONUTF8", "1" },
	{ "PYTHONIOENCODING", "utf-8" },
};

/* Tried in order when argv[0] is a bare `python` the native sandbox lacks;
 * in a container image (which runlet cannot look into) `python` becomes
 * `python3`, the name every python 3 installation has. */
static const char *const py_alternatives[] = { "python3", "python3.13",
					       "python3.12", "python3.11" };

static int py_plan(const struct runlet_host *host, struct runlet_plan *plan)
{
	size_t i;
	int rc;

	rc = ptext_resolve_program(host, plan, plan->run_argv, PY_NAME,
				   "python", "python3", py_alternatives,
				   NELEM(py_alternatives));
	for (i = 0; rc == 0 && i < NELEM(py_env); i++)
		rc = ptext_env_default(host, plan->env, py_env[i][0],
				       py_env[i][1]);
	return rc;
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
	.normalize_output = NULL, /* the contract's: strip trailing '\n' */
	.clean_diagnostics = py_clean,
	.classify = py_classify,
};

RUNLET_PLUGIN_EXPORT const struct runlet_plugin *runlet_plugin_entry(void);

RUNLET_PLUGIN_EXPORT const struct runlet_plugin *runlet_plugin_entry(void)
{
	return &py_plugin;
}
