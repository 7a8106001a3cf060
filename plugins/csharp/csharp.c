/* runlet plugin for C# on mono: Program.cs compiled by mcs into Program.exe,
 * run by mono. Adds debug info so stack traces carry line numbers, bounds
 * mono's GC heap by the memory limit (OutOfMemoryException -> MLE), keeps
 * mono's dirs in the work dir, and reduces mcs and mono messages to what
 * names the student's code. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "runlet/plugin.h"
#include "../common/ptext.h"

#define CS_NAME "csharp"
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
/* Room left beside the GC heap for mono itself: about 15 MiB of RSS. */
#define CS_RESERVE_MB 32
#define CS_MAX_FRAMES 10

static const char *const cs_compile_argv[] = { "mcs", "-out:{bin}", "{src}",
					       NULL };
static const char *const cs_run_argv[] = { "mono", "{src}", NULL };

/* Environment set unless config sets it; values are under the work dir. */
static const char *const cs_env_dirs[][2] = {
	{ "XDG_CONFIG_HOME", "/.config" },
	{ "XDG_DATA_HOME", "/.local/share" },
	{ "XDG_CACHE_HOME", "/.cache" },
	{ "MONO_SHARED_DIR", "" },
};

/* The sandbox's LANG is the language code, and mono reads LANG=cs as Czech:
 * ASCII console ("????") and decimal commas (1.5 printed "1,5"). A neutral
 * UTF-8 locale unless the config sets LC_ALL. */
static const char *const cs_env[][2] = {
	{ "LC_ALL", "C.UTF-8" },
};

/* mcs's summary lines: noise next to the messages themselves. */
static const char *const cs_compile_drop[] = { "Compilation failed:",
					       "Compilation succeeded" };

#define CS_FATAL "[ERROR] FATAL UNHANDLED EXCEPTION: "
#define CS_UNHANDLED "Unhandled Exception:"

static int cs_insert_opt(const struct runlet_host *host,
			 struct runlet_strv *argv, const char *prefix,
			 const char *opt)
{
	if (ptext_argv_find(host, argv, prefix) >= 0)
		return 0;
	return host->strv_insert(argv, 1, opt);
}

static int cs_plan(const struct runlet_host *host, struct runlet_plan *plan)
{
	const struct runlet_limits *l = plan->run_limits;
	char val[4096];
	size_t i;
	int rc = 0, n;

	for (i = 0; rc == 0 && i < NELEM(cs_env_dirs); i++) {
		n = snprintf(val, sizeof(val), "%s%s", plan->workdir,
			     cs_env_dirs[i][1]);
		if (n < 0 || (size_t)n >= sizeof(val))
			return -ENAMETOOLONG;
		rc = ptext_env_default(host, plan->env, cs_env_dirs[i][0], val);
	}
	for (i = 0; rc == 0 && i < NELEM(cs_env); i++)
		rc = ptext_env_default(host, plan->env, cs_env[i][0],
				       cs_env[i][1]);
	/* debug info: traces say "in Program.cs:6" */
	if (rc == 0 && ptext_argv0_is(host, plan->compile_argv, "mcs"))
		rc = cs_insert_opt(host, plan->compile_argv, "-debug",
				   "-debug");
	if (rc == 0 && ptext_argv0_is(host, plan->run_argv, "mono")) {
		rc = cs_insert_opt(host, plan->run_argv, "--debug", "--debug");
		if (rc == 0 && l->memory_bytes > 0 &&
		    !host->env_get(plan->env, "MONO_GC_PARAMS")) {
			uint64_t mb = ptext_heap_mb(l->memory_bytes,
						    CS_RESERVE_MB);

			snprintf(val, sizeof(val),
				 "--gc-params=max-heap-size=%llum",
				 (unsigned long long)mb);
			rc = cs_insert_opt(host, plan->run_argv,
					   "--gc-params", val);
		}
	}
	/* mcs runs on mono too: GC, finalizer and JIT threads */
	ptext_raise_u32(&plan->compile_limits->pids, 64);
	ptext_raise_u64(&plan->compile_limits->memory_bytes, 512ull << 20);
	ptext_raise_u32(&plan->run_limits->pids, 32);
	return rc;
}

static void cs_clean_compile(const struct runlet_host *host, const char *src,
			     const char *wd, const char *in, size_t len,
			     struct runlet_buf *out)
{
	struct ptext_line l;
	size_t pos = 0, i;
	int drop;

	while (ptext_next_line(in, len, &pos, &l)) {
		for (drop = 0, i = 0; i < NELEM(cs_compile_drop); i++)
			drop |= ptext_starts(&l, cs_compile_drop[i], 0);
		if (!drop)
			ptext_append_line(host, src, wd, &l, out);
	}
}

/* "  at P.Main () [0x00008] in /tmp/Program.cs:6 " -> "  at P.Main () in
 * Program.cs:6"; without debug info "... in <3f1e...>:0" goes entirely. */
static void cs_emit_frame(const struct runlet_host *host, const char *src,
			  const char *wd, const struct ptext_line *l,
			  struct runlet_buf *out)
{
	const char *s = l->s, *il = ptext_find(l->s, l->len, " [0x");
	size_t len = l->len;

	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\r'))
		len--;
	if (il) {
		const char *close = memchr(il, ']', len - (size_t)(il - s));
		const char *rest = close ? close + 1 : s + len;
		size_t restlen = len - (size_t)(rest - s);

		ptext_append_clean(host, src, wd, s, (size_t)(il - s), out);
		if (!(restlen >= 5 && memcmp(rest, " in <", 5) == 0))
			ptext_append_clean(host, src, wd, rest, restlen, out);
	} else {
		ptext_append_clean(host, src, wd, s, len, out);
	}
	host->buf_append(out, "\n", 1);
}

/* An exception report: its first line, at most CS_MAX_FRAMES frames, the
 * other lines (inner exception markers) as they are. */
static void cs_emit_report(const struct runlet_host *host, const char *src,
			   const char *wd, const char *in, size_t len,
			   struct runlet_buf *out)
{
	struct ptext_line l;
	size_t pos = 0;
	int frames = 0;

	while (ptext_next_line(in, len, &pos, &l)) {
		if (!ptext_starts(&l, "at ", 1)) {
			if (l.len > 0 || pos < len)
				ptext_append_line(host, src, wd, &l, out);
			continue;
		}
		if (++frames == CS_MAX_FRAMES + 1)
			host->buf_append(out, "  ...\n", 6);
		if (frames <= CS_MAX_FRAMES)
			cs_emit_frame(host, src, wd, &l, out);
	}
}

/* mono reports an unhandled exception twice ("Unhandled Exception:" and
 * "[ERROR] FATAL UNHANDLED EXCEPTION: "); the second is complete (a stack
 * overflow's first report is just its type name). Show it once, first,
 * then whatever the program wrote to stderr before. */
static void cs_clean_run(const struct runlet_host *host, const char *src,
			 const char *wd, const char *in, size_t len,
			 struct runlet_buf *out)
{
	const char *fatal = ptext_find(in, len, CS_FATAL);
	const char *unh = ptext_find(in, len, CS_UNHANDLED);
	const char *before_end;

	if (fatal && (fatal == in || fatal[-1] == '\n')) {
		const char *rep = fatal + strlen(CS_FATAL);

		cs_emit_report(host, src, wd, rep, len - (size_t)(rep - in),
			       out);
		before_end = unh && unh < fatal ? unh : fatal;
	} else if (unh) {
		const char *rep = unh + strlen(CS_UNHANDLED);

		while (rep < in + len && (*rep == '\n' || *rep == '\r'))
			rep++;
		cs_emit_report(host, src, wd, rep, len - (size_t)(rep - in),
			       out);
		before_end = unh;
	} else {
		ptext_append_clean(host, src, wd, in, len, out);
		return;
	}
	/* the program's own stderr, without the blank line mono adds */
	len = ptext_rtrim_nl(in, (size_t)(before_end - in));
	if (len > 0) {
		ptext_append_clean(host, src, wd, in, len, out);
		host->buf_append(out, "\n", 1);
	}
}

static void cs_clean(const struct runlet_host *host, enum runlet_phase phase,
		     const char *src_path, const char *workdir, const char *in,
		     size_t len, struct runlet_buf *out)
{
	if (phase == RUNLET_PHASE_COMPILE)
		cs_clean_compile(host, src_path, workdir, in, len, out);
	else
		cs_clean_run(host, src_path, workdir, in, len, out);
}

static enum runlet_verdict cs_classify(const struct runlet_host *host,
				       const struct runlet_exit *ex,
				       struct runlet_buf *note)
{
	(void)host;
	(void)note;
	if (ex->phase == RUNLET_PHASE_RUN && ex->kind == RUNLET_EXIT_EXITED && ex->exit_code != 0 &&
	    ptext_find(ex->err, ex->err_len, "System.OutOfMemoryException"))
		return RUNLET_VERDICT_MLE;
	return RUNLET_VERDICT_NONE;
}

static const struct runlet_plugin cs_plugin = {
	.abi_major = RUNLET_PLUGIN_ABI_MAJOR,
	.struct_size = sizeof(struct runlet_plugin),
	.name = CS_NAME,
	.version = "1.0.0",
	.source_name = "Program.cs",
	.binary_name = "Program.exe",
	.default_compile_argv = cs_compile_argv,
	.default_run_argv = cs_run_argv,
	.plan = cs_plan,
	.normalize_output = NULL, /* the contract's: strip trailing '\n' */
	.clean_diagnostics = cs_clean,
	.classify = cs_classify,
};

RUNLET_PLUGIN_EXPORT const struct runlet_plugin *runlet_plugin_entry(void);

RUNLET_PLUGIN_EXPORT const struct runlet_plugin *runlet_plugin_entry(void)
{
	return &cs_plugin;
}
