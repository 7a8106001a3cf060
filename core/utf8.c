/* UTF-8 validation, repair (invalid bytes -> U+FFFD) and safe cutting. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/result.h"
#include "core/utf8.h"

/* Length of the well-formed sequence at s[0..len), or 0 with *bad set to
 * the length of the maximal ill-formed subpart to replace (>= 1). */
static size_t seq_len(const unsigned char *s, size_t len, size_t *bad)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	size_t need, i;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		need = 2;
	else if (c >= 0xe0 && c <= 0xef)
		need = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		need = 4;
	else {
		*bad = 1;
		return 0;
	}
	/* the second byte's range excludes overlongs, surrogates, > U+10FFFF */
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	for (i = 1; i < need; i++) {
		if (i >= len || s[i] < lo || s[i] > hi) {
			*bad = i;
			return 0;
		}
		lo = 0x80;
		hi = 0xbf;
	}
	return need;
}

int utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, bad;

	while (i < len) {
		size_t n;
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		n = seq_len(p + i, len - i, &bad);
		if (n == 0)
			return 0;
		i += n;
	}
	return 1;
}

size_t utf8_cut(const char *s, size_t len, size_t max)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, bad;

	if (max >= len)
		return len;
	while (i < max) {
		size_t n = p[i] < 0x80 ? 1 : seq_len(p + i, len - i, &bad);
		if (n == 0)
			n = bad; /* ill-formed bytes may be cut anywhere */
		if (i + n > max)
			break;
		i += n;
	}
	return i;
}

/* Write the repaired text into out (when not NULL); return its length. */
static size_t repair(const unsigned char *p, size_t len, char *out)
{
	static const char repl[] = "\xef\xbf\xbd";
	size_t i = 0, o = 0, bad;

	while (i < len) {
		size_t n = p[i] < 0x80 ? 1 : seq_len(p + i, len - i, &bad);
		if (n) {
			if (out)
				memcpy(out + o, p + i, n);
			o += n;
			i += n;
		} else {
			if (out)
				memcpy(out + o, repl, 3);
			o += 3;
			i += bad;
		}
	}
	return o;
}

char *utf8_sanitize(const char *s, size_t len, size_t *outlen)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t n;
	char *out;

	if (!s)
		len = 0;
	n = repair(p, len, NULL); /* at most 3 * len: no overflow for real buffers */
	out = malloc(n + 1);
	if (!out)
		return NULL;
	repair(p, len, out);
	out[n] = '\0';
	if (outlen)
		*outlen = n;
	return out;
}
