/* Text helpers shared by the in-tree language plugins: line iteration,
 * substring search and sandbox-path stripping over buffers that are not
 * NUL-terminated. Plugins link this in statically (hidden symbols); it uses
 * nothing of the core but struct runlet_host from the plugin ABI.
 * Ownership: every pointer is borrowed for the call; output goes to the
 * caller's struct runlet_buf through host->buf_append.
 */
#ifndef RUNLET_PTEXT_H
#define RUNLET_PTEXT_H

#include <stddef.h>
#include <stdint.h>

#include "runlet/plugin.h"

/* A line of a buffer: text without the '\n', and whether one followed. */
struct ptext_line {
	const char *s;
	size_t len;
	int nl;
};

/* Step through buf line by line; *pos starts at 0. 1 = got a line, 0 = end. */
int ptext_next_line(const char *buf, size_t len, size_t *pos,
		    struct ptext_line *line);

/* Pointer to the first occurrence of needle in buf[0..len), or NULL. */
const char *ptext_find(const char *buf, size_t len, const char *needle);

/* 1 when the line starts with prefix (after skipping leading blanks if
 * skip_blanks is set). */
int ptext_starts(const struct ptext_line *line, const char *prefix,
		 int skip_blanks);

/* 1 when some line of buf starts with prefix (leading blanks skipped). */
int ptext_has_line(const char *buf, size_t len, const char *prefix);

/* The base name of a path (borrowed pointer into path). */
const char *ptext_basename(const char *path);

/* Append s[0..len) to out with every occurrence of src_path replaced by its
 * base name and every occurrence of "<workdir>/" removed. 0 or -errno. */
int ptext_append_clean(const struct runlet_host *host, const char *src_path,
		       const char *workdir, const char *s, size_t len,
		       struct runlet_buf *out);

/* ptext_append_clean for one line, plus its '\n' when it had one. */
int ptext_append_line(const struct runlet_host *host, const char *src_path,
		      const char *workdir, const struct ptext_line *line,
		      struct runlet_buf *out);

/* Trim trailing '\n' characters from out-of-band text: new length. */
size_t ptext_rtrim_nl(const char *s, size_t len);

/* Raise a limit to at least min (0 = unlimited stays unlimited). */
void ptext_raise_u64(uint64_t *v, uint64_t min);
void ptext_raise_u32(uint32_t *v, uint32_t min);

/* A managed runtime's heap cap (MiB) for a memory limit, leaving room for
 * the runtime itself: limit - max(reserve_mb, limit/5), but at least a third
 * of the limit. 0 when there is no limit. */
uint64_t ptext_heap_mb(uint64_t memory_bytes, uint64_t reserve_mb);

/* argv[0]'s base name equals name. */
int ptext_argv0_is(const struct runlet_host *host,
		   const struct runlet_strv *argv, const char *name);

/* Index of the first argument starting with prefix, or -1. */
long ptext_argv_find(const struct runlet_host *host,
		     const struct runlet_strv *argv, const char *prefix);

/* Find an executable on the sandbox's PATH (the PATH of plan->env). Only
 * the native backend's sandbox sees the host's file system: there each
 * directory is checked. Elsewhere (a container image) runlet cannot look:
 * -EOPNOTSUPP. 0 with the absolute path in out, or -ENOENT. */
int ptext_find_program(const struct runlet_plan *plan, const char *env_path,
		       const char *name, char *out, size_t outlen);

/* When argv[0] is exactly `name`: on the native backend, if it is not on
 * the sandbox's PATH, replace it by the absolute path of the first of
 * alts[0..nalts) that is (a config written for `python` runs where only
 * `python3` is installed; a warning is logged when none is). On other
 * backends, replace it by `portable` (a name every installation has, e.g.
 * python3) unless that is NULL. 0 or -errno. */
int ptext_resolve_program(const struct runlet_host *host,
			  const struct runlet_plan *plan,
			  struct runlet_strv *argv, const char *plugin,
			  const char *name, const char *portable,
			  const char *const *alts, size_t nalts);

/* Set key=value in env unless the config already set key. 0 or -errno. */
int ptext_env_default(const struct runlet_host *host, struct runlet_strv *env,
		      const char *key, const char *value);

#endif /* RUNLET_PTEXT_H */
