/* runlet plugin for Go: main.go built with `go build` into ./main, offline
 * (GOPATH mode, no proxy, no toolchain download) with every cache inside the
 * work dir. Knows go's compiler and runtime message shapes: compile errors
 * without the package header, panics and fatal errors first, runtime-internal
 * stacks dropped, out-of-memory fatal errors as MLE. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "runlet/plugin.h"
#include "../common/ptext.h"

#define GO_NAME "go"
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define GO_MAX_FRAMES 10 /* frames kept of the failing goroutine */

static const char *const go_compile_argv[] = { "go", "build", "-o", "{bin}",
					       "{src}", NULL };
static const char *const go_run_argv[] = { "{src}", NULL };

/* Environment set unless config sets it; a value starting with '/' is
 * relative to the work dir. No network: GOPATH mode, GOPROXY=off,
 * GOTOOLCHAIN=local; no C toolchain needed: CGO_ENABLED=0. */
static const char *const go_env[][2] = {
	{ "GOCACHE", "/.cache/go-build" },
	{ "GOTMPDIR", "/" },
	{ "GOPATH", "/go" },
	{ "GOENV", "off" },
	{ "GO111MODULE", "off" },
	{ "GOPROXY", "off" },
	{ "GOSUMDB", "off" },
	{ "GOTOOLCHAIN", "local" },
	{ "CGO_ENABLED", "0" },
};

/* stderr of a run that says the Go runtime could not get memory. */
static const char *const go_oom_marks[] = {
	"fatal error: runtime: out of memory",
	"fatal error: out of memory",
	"runtime: out of memory:",
	"failed to reserve page summary memory",
};

/* Lines that start a failure report: shown first. */
static const char *const go_fail_starts[] = { "panic: ", "fatal error: " };

/* Compiler noise: package headers like "# command-line-arguments". */
static const char *const go_compile_drop[] = { "# " };

static int go_plan(const struct runlet_host *host, struct runlet_plan *plan)
{
	char val[4096];
	size_t i;
	int rc = 0;

	for (i = 0; rc == 0 && i < NELEM(go_env); i++) {
		const char *v = go_env[i][1];

		if (v[0] == '/') {
			int n = snprintf(val, sizeof(val), "%s%s",
					 plan->workdir, strcmp(v, "/") ? v : "");
			if (n < 0 || (size_t)n >= sizeof(val))
				return -ENAMETOOLONG;
			v = val;
		}
		rc = ptext_env_default(host, plan->env, go_env[i][0], v);
	}
	/* go build runs the go tool, compile and link, each with a thread per
	 * core; a Go program has a handful of runtime threads. */
	ptext_raise_u32(&plan->compile_limits->pids, 256);
	ptext_raise_u64(&plan->compile_limits->memory_bytes, 512ull << 20);
	ptext_raise_u32(&plan->run_limits->pids, 32);
	return rc;
}

static int go_is_fail_start(const struct ptext_line *l)
{
	size_t i;

	for (i = 0; i < NELEM(go_fail_starts); i++)
		if (ptext_starts(l, go_fail_starts[i], 0))
			return 1;
	return 0;
}

/* A frame's location line: "\t/path/main.go:4 +0x1a fp=... sp=..." ->
 * "\tmain.go:4". */
static void go_emit_frame(const struct runlet_host *host, const char *src,
			  const char *wd, const struct ptext_line *l,
			  struct runlet_buf *out)
{
	struct ptext_line cut = *l;
	const char *off = ptext_find(l->s, l->len, " +0x");

	if (off)
		cut.len = (size_t)(off - l->s);
	cut.nl = 1;
	ptext_append_line(host, src, wd, &cut, out);
}

/* Shape a runtime failure report: the first goroutine's frames (at most
 * GO_MAX_FRAMES), no "runtime stack:" dump, no other goroutines. */
static void go_clean_run(const struct runlet_host *host, const char *src,
			 const char *wd, const char *in, size_t len,
			 struct runlet_buf *out)
{
	struct ptext_line l;
	size_t pos = 0, first_pos = 0, first_end = 0;
	int found = 0, skip = 0, goroutines = 0, frames = 0, elided = 0;
	int in_g = 0; /* inside the first goroutine's section */

	/* the failure line goes first */
	while (ptext_next_line(in, len, &pos, &l)) {
		if (go_is_fail_start(&l)) {
			first_pos = (size_t)(l.s - in);
			first_end = pos;
			found = 1;
			l.nl = 1;
			ptext_append_line(host, src, wd, &l, out);
			break;
		}
	}
	pos = 0;
	while (ptext_next_line(in, len, &pos, &l)) {
		if (found && (size_t)(l.s - in) == first_pos && pos == first_end)
			continue;
		if (skip) {
			if (l.len == 0)
				skip = 0;
			continue;
		}
		if (ptext_starts(&l, "runtime stack:", 0) ||
		    ptext_starts(&l, "runtime: sp=", 0) ||
		    ptext_starts(&l, "exit status ", 0)) {
			skip = ptext_starts(&l, "runtime stack:", 0);
			continue;
		}
		if (l.len == 0)
			in_g = 0;
		if (ptext_starts(&l, "goroutine ", 0) && l.len > 2 &&
		    l.s[l.len - 1] == ':' && l.s[l.len - 2] == ']') {
			if (++goroutines > 1) {
				skip = 1;
				continue;
			}
			frames = 0;
			in_g = 1;
		} else if (in_g && l.s[0] == '\t') {
			if (++frames > GO_MAX_FRAMES) {
				if (!elided)
					host->buf_append(out, "\t...\n", 5);
				elided = 1;
				continue;
			}
			go_emit_frame(host, src, wd, &l, out);
			continue;
		} else if (in_g && frames >= GO_MAX_FRAMES) {
			continue; /* the function line of an elided frame */
		}
		ptext_append_line(host, src, wd, &l, out);
	}
}

/* go build: drop "# package" headers, "./main.go:3:2" -> "main.go:3:2". */
static void go_clean_compile(const struct runlet_host *host, const char *src,
			     const char *wd, const char *in, size_t len,
			     struct runlet_buf *out)
{
	const char *base = ptext_basename(src);
	struct ptext_line l;
	size_t pos = 0, i, blen = strlen(base);
	int drop;

	while (ptext_next_line(in, len, &pos, &l)) {
		for (drop = 0, i = 0; i < NELEM(go_compile_drop); i++)
			drop |= ptext_starts(&l, go_compile_drop[i], 0);
		if (drop)
			continue;
		if (l.len > blen + 2 && memcmp(l.s, "./", 2) == 0 &&
		    memcmp(l.s + 2, base, blen) == 0 && l.s[blen + 2] == ':') {
			l.s += 2;
			l.len -= 2;
		}
		ptext_append_line(host, src, wd, &l, out);
	}
}

static void go_clean(const struct runlet_host *host, enum runlet_phase phase,
		     const char *src_path, const char *workdir, const char *in,
		     size_t len, struct runlet_buf *out)
{
	if (phase == RUNLET_PHASE_COMPILE)
		go_clean_compile(host, src_path, workdir, in, len, out);
	else
		go_clean_run(host, src_path, workdir, in, len, out);
}

static enum runlet_verdict go_classify(const struct runlet_host *host,
				       const struct runlet_exit *ex,
				       struct runlet_buf *note)
{
	size_t i;

	(void)host;
	(void)note;
	if (ex->phase != RUNLET_PHASE_RUN || ex->kind != RUNLET_EXIT_EXITED || ex->exit_code == 0)
		return RUNLET_VERDICT_NONE;
	for (i = 0; i < NELEM(go_oom_marks); i++)
		if (ptext_find(ex->err, ex->err_len, go_oom_marks[i]))
			return RUNLET_VERDICT_MLE;
	if (ptext_find(ex->err, ex->err_len, "goroutine stack exceeds"))
		return RUNLET_VERDICT_RE; /* stack overflow */
	return RUNLET_VERDICT_NONE;
}

static const struct runlet_plugin go_plugin = {
	.abi_major = RUNLET_PLUGIN_ABI_MAJOR,
	.struct_size = sizeof(struct runlet_plugin),
	.name = GO_NAME,
	.version = "1.0.0",
	.source_name = "main.go",
	.binary_name = "main",
	.default_compile_argv = go_compile_argv,
	.default_run_argv = go_run_argv,
	.plan = go_plan,
	.normalize_output = NULL, /* the contract's: strip trailing '\n' */
	.clean_diagnostics = go_clean,
	.classify = go_classify,
};

RUNLET_PLUGIN_EXPORT const struct runlet_plugin *runlet_plugin_entry(void);

RUNLET_PLUGIN_EXPORT const struct runlet_plugin *runlet_plugin_entry(void)
{
	return &go_plugin;
}
