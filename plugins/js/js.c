/* runlet plugin for JavaScript on node: main.js, no compile step. Derives
 * node's heap limit from the memory limit so a memory hog ends in node's own
 * heap-out-of-memory abort (MLE) rather than a kill; trims node-internal
 * stack frames, the GC log and the native stack from messages. */
#include <stdio.h>
#include <string.h>

#include "runlet/plugin.h"
#include "../common/ptext.h"

#define JS_NAME "js"
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
/* Room left beside the old-generation heap for node itself (code, young
 * generation, buffers): measured at about 45 MiB of RSS over the heap cap. */
#define JS_RESERVE_MB 64

static const char *const js_compile_argv[] = { NULL };
static const char *const js_run_argv[] = { "node", "{src}", NULL };

static const char *const js_alternatives[] = { "nodejs" };

/* stderr of a run that ran out of memory inside node. */
static const char *const js_oom_marks[] = {
	"JavaScript heap out of memory",
	"Reached heap limit",
	"Allocation failed - process out of memory",
	"RangeError: Array buffer allocation failed",
};

/* Lines of node's own making, never about the student's code. */
static const char *const js_drop_prefixes[] = {
	"at node:internal/",
	"Node.js v",
	"(Use `node --trace-",
};

/* LANG in the sandbox is the language code, not a locale: give ICU a
 * neutral UTF-8 one (toLocaleString and Intl defaults) unless config sets
 * LC_ALL. */
static const char *const js_env[][2] = {
	{ "LC_ALL", "C.UTF-8" },
};

static int js_plan(const struct runlet_host *host, struct runlet_plan *plan)
{
	const struct runlet_limits *l = plan->run_limits;
	char opt[64];
	uint64_t mb;
	int rc;

	rc = ptext_resolve_program(host, plan, plan->run_argv, JS_NAME, "node",
				   NULL, js_alternatives, NELEM(js_alternatives));
	for (size_t i = 0; rc == 0 && i < NELEM(js_env); i++)
		rc = ptext_env_default(host, plan->env, js_env[i][0],
				       js_env[i][1]);
	if (rc)
		return rc;
	/* threads: main, 4 libuv workers, V8 platform workers, signals */
	ptext_raise_u32(&plan->run_limits->pids, 32);
	if (l->memory_bytes == 0 ||
	    ptext_argv_find(host, plan->run_argv, "--max-old-space-size") >= 0 ||
	    host->strv_len(plan->run_argv) == 0 ||
	    !(ptext_argv0_is(host, plan->run_argv, "node") ||
	      ptext_argv0_is(host, plan->run_argv, "nodejs")))
		return 0;
	mb = ptext_heap_mb(l->memory_bytes, JS_RESERVE_MB);
	snprintf(opt, sizeof(opt), "--max-old-space-size=%llu",
		 (unsigned long long)mb);
	return host->strv_insert(plan->run_argv, 1, opt);
}

static int js_is_oom(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < NELEM(js_oom_marks); i++)
		if (ptext_find(s, len, js_oom_marks[i]))
			return 1;
	return 0;
}

/* The heap abort: what the program printed before it, then node's one-line
 * "FATAL ERROR: ..." (the GC log and the native stack are node's business).
 * Blank lines go too: node frames its report with them. */
static void js_clean_oom(const struct runlet_host *host, const char *src,
			 const char *wd, const char *in, size_t len,
			 struct runlet_buf *out)
{
	struct ptext_line l;
	size_t pos = 0;
	int in_report = 0;

	while (ptext_next_line(in, len, &pos, &l)) {
		if (ptext_starts(&l, "<--- Last few GCs --->", 0))
			in_report = 1;
		if (ptext_starts(&l, "FATAL ERROR:", 0)) {
			l.nl = 1;
			ptext_append_line(host, src, wd, &l, out);
			return;
		}
		if (!in_report && l.len > 0)
			ptext_append_line(host, src, wd, &l, out);
	}
}

static void js_clean(const struct runlet_host *host, enum runlet_phase phase,
		     const char *src_path, const char *workdir, const char *in,
		     size_t len, struct runlet_buf *out)
{
	struct ptext_line l;
	size_t pos = 0, i;
	int drop;

	(void)phase;
	if (js_is_oom(in, len) && ptext_find(in, len, "FATAL ERROR:")) {
		js_clean_oom(host, src_path, workdir, in, len, out);
		return;
	}
	while (ptext_next_line(in, len, &pos, &l)) {
		for (drop = 0, i = 0; i < NELEM(js_drop_prefixes); i++)
			drop |= ptext_starts(&l, js_drop_prefixes[i], 1);
		/* "    at Module._compile (node:internal/...)" */
		drop |= ptext_starts(&l, "at ", 1) &&
			ptext_find(l.s, l.len, "(node:") != NULL;
		if (!drop)
			ptext_append_line(host, src_path, workdir, &l, out);
	}
}

static enum runlet_verdict js_classify(const struct runlet_host *host,
				       const struct runlet_exit *ex,
				       struct runlet_buf *note)
{
	(void)host;
	(void)note;
	if (ex->phase != RUNLET_PHASE_RUN)
		return RUNLET_VERDICT_NONE;
	if ((ex->kind == RUNLET_EXIT_SIGNALED ||
	     (ex->kind == RUNLET_EXIT_EXITED && ex->exit_code != 0)) &&
	    js_is_oom(ex->err, ex->err_len))
		return RUNLET_VERDICT_MLE;
	return RUNLET_VERDICT_NONE;
}

static const struct runlet_plugin js_plugin = {
	.abi_major = RUNLET_PLUGIN_ABI_MAJOR,
	.struct_size = sizeof(struct runlet_plugin),
	.name = JS_NAME,
	.version = "1.0.0",
	.source_name = "main.js",
	.binary_name = NULL,
	.default_compile_argv = js_compile_argv,
	.default_run_argv = js_run_argv,
	.plan = js_plan,
	.normalize_output = NULL, /* the contract's: strip trailing '\n' */
	.clean_diagnostics = js_clean,
	.classify = js_classify,
};

RUNLET_PLUGIN_EXPORT const struct runlet_plugin *runlet_plugin_entry(void);

RUNLET_PLUGIN_EXPORT const struct runlet_plugin *runlet_plugin_entry(void)
{
	return &js_plugin;
}
