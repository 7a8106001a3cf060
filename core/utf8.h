/* UTF-8 helpers for text that comes from programs (arbitrary bytes) and goes
 * into JSON (must be valid UTF-8). Valid means what jansson accepts: no
 * overlong forms, no surrogates, nothing above U+10FFFF; U+0000 is valid.
 */
#ifndef RUNLET_UTF8_H
#define RUNLET_UTF8_H

#include <stddef.h>

/* 1 when s[0..len) is valid UTF-8, else 0. */
int utf8_valid(const char *s, size_t len);

/* The largest n <= max such that s[0..n) does not end inside a multi-byte
 * sequence that would be complete within s[0..len): for capping text
 * without splitting a character. */
size_t utf8_cut(const char *s, size_t len, size_t max);

/* Copy s[0..len) into a new NUL-terminated string, replacing each maximal
 * ill-formed subsequence by U+FFFD (the Unicode practice). *outlen (may be
 * NULL) gets the length without the terminator. Caller frees; NULL on OOM.
 * Also declared in core/result.h. */
char *utf8_sanitize(const char *s, size_t len, size_t *outlen);

#endif /* RUNLET_UTF8_H */
