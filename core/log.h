/* Structured logging: one logfmt line per event on stderr.
 *   ts=2026-12-01T08:00:00.123Z level=info event=job_done id=... lang=py
 * Thread-safe (one write(2) per line). The level threshold is process-wide
 * and set once at startup (log_set_level) before threads start.
 */
#ifndef RUNLET_LOG_H
#define RUNLET_LOG_H

#include "runlet/plugin.h"

/* Parse "error|warn|info|debug"; 0 or -EINVAL. */
int log_parse_level(const char *s, enum runlet_log_level *out);
void log_set_level(enum runlet_log_level level);
int log_enabled(enum runlet_log_level level);

/* event: a short snake_case word; fmt: further "key=value" pairs (values
 * with spaces are the caller's to quote with log_quote or %s of a quoted
 * string). */
void log_event(enum runlet_log_level level, const char *event,
	       const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Quote a value for logfmt into buf (always NUL-terminated, truncated if
 * needed). Returns buf. */
const char *log_quote(const char *s, char *buf, size_t buflen);

#endif /* RUNLET_LOG_H */
