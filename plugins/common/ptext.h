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

#endif /* RUNLET_PTEXT_H */
