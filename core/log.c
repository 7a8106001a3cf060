/* Structured logging: logfmt lines on stderr, one write per line. */
#include "core/log.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t log_level = RUNLET_LOG_INFO;

static const char *const level_names[] = {"error", "warn", "info", "debug"};

int log_parse_level(const char *s, enum runlet_log_level *out)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]);
	     i++) {
		if (strcmp(s, level_names[i]) == 0) {
			*out = (enum runlet_log_level)i;
			return 0;
		}
	}
	if (strcmp(s, "warning") == 0) {
		*out = RUNLET_LOG_WARN;
		return 0;
	}
	return -22;
}

void log_set_level(enum runlet_log_level level)
{
	log_level = (sig_atomic_t)level;
}

int log_enabled(enum runlet_log_level level)
{
	return (int)level <= (int)log_level;
}

const char *log_quote(const char *s, char *buf, size_t buflen)
{
	size_t o = 0;
	int need = s[0] == '\0';
	for (const char *p = s; *p; p++)
		if (*p == ' ' || *p == '"' || *p == '=' || *p == '\n' ||
		    *p == '\\')
			need = 1;
	if (buflen == 0)
		return buf;
	if (!need) {
		snprintf(buf, buflen, "%s", s);
		return buf;
	}
	if (o + 1 < buflen)
		buf[o++] = '"';
	for (const char *p = s; *p && o + 3 < buflen; p++) {
		if (*p == '"' || *p == '\\') {
			buf[o++] = '\\';
			buf[o++] = *p;
		} else if (*p == '\n') {
			buf[o++] = '\\';
			buf[o++] = 'n';
		} else {
			buf[o++] = *p;
		}
	}
	if (o + 1 < buflen)
		buf[o++] = '"';
	buf[o] = '\0';
	return buf;
}

void log_event(enum runlet_log_level level, const char *event,
	       const char *fmt, ...)
{
	char line[4096];
	struct timespec ts;
	struct tm tm;
	size_t n;
	int r;

	if (!log_enabled(level))
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	r = snprintf(line, sizeof(line),
		     "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ level=%s event=%s",
		     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		     tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000,
		     level_names[level], event);
	n = r < 0 ? 0 : (size_t)r;
	if (n >= sizeof(line))
		n = sizeof(line) - 1;
	if (fmt && fmt[0] && n + 2 < sizeof(line)) {
		va_list ap;
		line[n++] = ' ';
		va_start(ap, fmt);
		r = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
		va_end(ap);
		if (r > 0)
			n += (size_t)r;
		if (n >= sizeof(line))
			n = sizeof(line) - 1;
	}
	line[n++] = '\n';
	ssize_t w = write(STDERR_FILENO, line, n);
	(void)w;
}
