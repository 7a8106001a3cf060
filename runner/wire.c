/* The runner protocol's records ("<tag> <len>\n<bytes>\n"), buffers and
 * values; the plan and result codecs are wire_plan.c and wire_result.c. */
#include "wire.h"
#include "wire_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int wire_buf_append(struct wire_buf *b, const void *data, size_t len)
{
	if (len == 0)
		return 0;
	if (b->len + len + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + len + 1)
			cap *= 2;
		char *n = realloc(b->data, cap);
		if (!n)
			return -ENOMEM;
		b->data = n;
		b->cap = cap;
	}
	memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
	return 0;
}

void wire_buf_free(struct wire_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

int wire_put(struct wire_buf *b, const char *tag, const void *val, size_t len)
{
	char head[48];
	int n = snprintf(head, sizeof(head), "%s %zu\n", tag, len);
	if (n < 0 || (size_t)n >= sizeof(head))
		return -EINVAL;
	if (wire_buf_append(b, head, (size_t)n) < 0 ||
	    wire_buf_append(b, val, len) < 0 || wire_buf_append(b, "\n", 1) < 0)
		return -ENOMEM;
	return 0;
}

int wire_put_str(struct wire_buf *b, const char *tag, const char *s)
{
	return wire_put(b, tag, s ? s : "", s ? strlen(s) : 0);
}

int wire_put_u64(struct wire_buf *b, const char *tag, uint64_t v)
{
	char num[24];
	int n = snprintf(num, sizeof(num), "%" PRIu64, v);
	return wire_put(b, tag, num, (size_t)n);
}

int wire_put_i64(struct wire_buf *b, const char *tag, int64_t v)
{
	char num[24];
	int n = snprintf(num, sizeof(num), "%" PRId64, v);
	return wire_put(b, tag, num, (size_t)n);
}

int wire_next(struct wire_reader *r, char tag[16], const char **val,
	      size_t *len)
{
	/* tag stays a terminated string even when the record is malformed:
	 * callers print it in their error messages */
	tag[0] = '\0';
	if (r->off >= r->len)
		return 0;
	size_t i = r->off, t = 0;
	while (i < r->len && r->p[i] != ' ') {
		char c = r->p[i];
		if (t >= 15 || !((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
			return -EPROTO;
		tag[t++] = c;
		tag[t] = '\0';
		i++;
	}
	if (i >= r->len || t == 0)
		return -EPROTO;
	tag[t] = '\0';
	i++;
	uint64_t n = 0;
	size_t digits = 0;
	while (i < r->len && r->p[i] >= '0' && r->p[i] <= '9') {
		n = n * 10 + (uint64_t)(r->p[i] - '0');
		if (++digits > 12 || n > WIRE_MAX_RECORD)
			return -EPROTO;
		i++;
	}
	if (digits == 0 || i >= r->len || r->p[i] != '\n')
		return -EPROTO;
	i++;
	if (r->len - i < n + 1 || r->p[i + n] != '\n')
		return -EPROTO;
	*val = r->p + i;
	*len = (size_t)n;
	r->off = i + n + 1;
	return 1;
}

int wire_strv_push(char ***v, size_t *n, const char *s)
{
	char **nv = realloc(*v, (*n + 2) * sizeof(char *));
	if (!nv)
		return -ENOMEM;
	*v = nv;
	nv[*n] = strdup(s);
	if (!nv[*n]) {
		nv[*n] = NULL;
		return -ENOMEM;
	}
	(*n)++;
	nv[*n] = NULL;
	return 0;
}

void wire_strv_free(char **v, size_t n)
{
	if (!v)
		return;
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* ---- values shared by the plan and result codecs (wire_int.h) ---- */

int wire_parse_u64(const char *v, size_t len, uint64_t *out)
{
	uint64_t n = 0;
	if (len == 0 || len > 20)
		return -EPROTO;
	for (size_t i = 0; i < len; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -EPROTO;
		uint64_t d = (uint64_t)(v[i] - '0');
		if (n > (UINT64_MAX - d) / 10)
			return -EPROTO;
		n = n * 10 + d;
	}
	*out = n;
	return 0;
}

int wire_parse_i64(const char *v, size_t len, int64_t *out)
{
	uint64_t u;
	int neg = len > 0 && v[0] == '-';
	if (wire_parse_u64(v + neg, len - (size_t)neg, &u) < 0 ||
	    u > (uint64_t)INT64_MAX)
		return -EPROTO;
	*out = neg ? -(int64_t)u : (int64_t)u;
	return 0;
}

char *wire_dupn(const char *v, size_t len)
{
	char *s = malloc(len + 1);
	if (!s)
		return NULL;
	memcpy(s, v, len);
	s[len] = '\0';
	return s;
}

/* A string value that must hold no NUL byte (paths, argv, env). */
int wire_dup_cstr(const char *v, size_t len, char **out)
{
	if (memchr(v, '\0', len))
		return -EPROTO;
	free(*out);
	*out = wire_dupn(v, len);
	return *out ? 0 : -ENOMEM;
}

int wire_put_mode(struct wire_buf *b, const char *tag, uint32_t mode)
{
	char m[16];
	snprintf(m, sizeof(m), "%o", (unsigned)(mode & 07777));
	return wire_put_str(b, tag, m);
}

int wire_parse_mode(const char *v, size_t len, uint32_t *out)
{
	char tmp[16], *end;
	unsigned long m;
	if (len == 0 || len >= sizeof(tmp))
		return -EPROTO;
	memcpy(tmp, v, len);
	tmp[len] = '\0';
	m = strtoul(tmp, &end, 8);
	if (*end || m > 07777)
		return -EPROTO;
	*out = (uint32_t)m;
	return 0;
}
