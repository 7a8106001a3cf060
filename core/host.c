/* The host side of the plugin ABI: string lists, buffers, logging, lookup. */
#include "core/host.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "runner/wire.h"
#include "core/plan.h"

int strv_push(struct runlet_strv *s, const char *str)
{
	return host_get()->strv_insert(s, s->n, str);
}

int strv_push_all(struct runlet_strv *s, char *const *src, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strv_push(s, src[i]) < 0)
			return -ENOMEM;
	return 0;
}

int strv_push_const(struct runlet_strv *s, const char *const *src)
{
	for (; src && *src; src++)
		if (strv_push(s, *src) < 0)
			return -ENOMEM;
	return 0;
}

void strv_clear(struct runlet_strv *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

void strv_take(struct runlet_strv *s, char ***v, size_t *n)
{
	if (!s->v) {
		s->v = calloc(1, sizeof(char *));
	}
	*v = s->v;
	*n = s->n;
	s->v = NULL;
	s->n = 0;
}

int buf_add(struct runlet_buf *b, const char *data, size_t len)
{
	/* the runner protocol's buffer does the growing; a runlet_buf is
	 * always allocated (and NUL-terminated) once added to, even with 0 */
	struct wire_buf w = {b->data, b->len, b->cap};
	int rc = len ? wire_buf_append(&w, data, len) : 0;
	if (rc == 0 && !w.data) {
		w.data = malloc(16);
		if (!w.data)
			return -ENOMEM;
		w.cap = 16;
		w.data[0] = '\0';
	}
	b->data = w.data;
	b->len = w.len;
	b->cap = w.cap;
	return rc;
}

void buf_clear(struct runlet_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

/* ---- the table ---- */

static void h_log(enum runlet_log_level level, const char *plugin,
		  const char *fmt, ...)
{
	char msg[1024], q[1100];
	va_list ap;
	if (!log_enabled(level))
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_event(level, "plugin", "plugin=%s msg=%s", plugin ? plugin : "?",
		  log_quote(msg, q, sizeof(q)));
}

static size_t h_strv_len(const struct runlet_strv *v)
{
	return v->n;
}

static const char *h_strv_get(const struct runlet_strv *v, size_t i)
{
	return i < v->n ? v->v[i] : NULL;
}

static int h_strv_set(struct runlet_strv *v, size_t i, const char *s)
{
	if (i >= v->n || !s)
		return -EINVAL;
	char *d = strdup(s);
	if (!d)
		return -ENOMEM;
	free(v->v[i]);
	v->v[i] = d;
	return 0;
}

static int h_strv_insert(struct runlet_strv *v, size_t i, const char *s)
{
	if (i > v->n || !s)
		return -EINVAL;
	char **nv = realloc(v->v, (v->n + 2) * sizeof(char *));
	if (!nv)
		return -ENOMEM;
	v->v = nv;
	char *d = strdup(s);
	if (!d)
		return -ENOMEM;
	memmove(nv + i + 1, nv + i, (v->n - i) * sizeof(char *));
	nv[i] = d;
	v->n++;
	nv[v->n] = NULL;
	return 0;
}

static int h_strv_remove(struct runlet_strv *v, size_t i)
{
	if (i >= v->n)
		return -EINVAL;
	free(v->v[i]);
	memmove(v->v + i, v->v + i + 1, (v->n - i - 1) * sizeof(char *));
	v->n--;
	v->v[v->n] = NULL;
	return 0;
}

static int env_index(const struct runlet_strv *env, const char *key,
		     size_t *idx)
{
	size_t kl = strlen(key);
	for (size_t i = 0; i < env->n; i++) {
		if (strncmp(env->v[i], key, kl) == 0 && env->v[i][kl] == '=') {
			*idx = i;
			return 1;
		}
	}
	return 0;
}

static int h_env_set(struct runlet_strv *env, const char *key,
		     const char *value)
{
	size_t kl, vl, i;
	if (!key || !*key || strchr(key, '=') || !value)
		return -EINVAL;
	kl = strlen(key);
	vl = strlen(value);
	char *kv = malloc(kl + vl + 2);
	if (!kv)
		return -ENOMEM;
	memcpy(kv, key, kl);
	kv[kl] = '=';
	memcpy(kv + kl + 1, value, vl + 1);
	int rc;
	if (env_index(env, key, &i))
		rc = h_strv_set(env, i, kv);
	else
		rc = h_strv_insert(env, env->n, kv);
	free(kv);
	return rc;
}

static const char *h_env_get(const struct runlet_strv *env, const char *key)
{
	size_t i;
	if (!env_index(env, key, &i))
		return NULL;
	return env->v[i] + strlen(key) + 1;
}

static int h_buf_append(struct runlet_buf *b, const char *data, size_t len)
{
	return buf_add(b, data, len);
}

static int h_buf_printf(struct runlet_buf *b, const char *fmt, ...)
{
	char small[512];
	va_list ap;
	int n;
	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return -EINVAL;
	if ((size_t)n < sizeof(small))
		return buf_add(b, small, (size_t)n);
	char *big = malloc((size_t)n + 1);
	if (!big)
		return -ENOMEM;
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	int rc = buf_add(b, big, (size_t)n);
	free(big);
	return rc;
}

static int h_find_program(const char *name, char *out, size_t outlen)
{
	/* The sandbox's PATH, not runlet's own: the native sandbox shows the
	 * host's /usr, /bin and /sbin, so a program found here runs there. */
	const char *path = SANDBOX_PATH;
	if (strchr(name, '/')) {
		if (access(name, X_OK) == 0 &&
		    (size_t)snprintf(out, outlen, "%s", name) < outlen)
			return 0;
		return -ENOENT;
	}
	const char *p = path;
	while (*p) {
		const char *e = strchr(p, ':');
		size_t dl = e ? (size_t)(e - p) : strlen(p);
		char cand[PATH_MAX];
		if (dl > 0 && dl + strlen(name) + 2 < sizeof(cand)) {
			memcpy(cand, p, dl);
			cand[dl] = '/';
			strcpy(cand + dl + 1, name);
			if (access(cand, X_OK) == 0) {
				if ((size_t)snprintf(out, outlen, "%s", cand) >=
				    outlen)
					return -ENAMETOOLONG;
				return 0;
			}
		}
		if (!e)
			break;
		p = e + 1;
	}
	return -ENOENT;
}

static const struct runlet_host host_table = {
	.abi_major = RUNLET_PLUGIN_ABI_MAJOR,
	.struct_size = sizeof(struct runlet_host),
	.log = h_log,
	.strv_len = h_strv_len,
	.strv_get = h_strv_get,
	.strv_set = h_strv_set,
	.strv_insert = h_strv_insert,
	.strv_remove = h_strv_remove,
	.env_set = h_env_set,
	.env_get = h_env_get,
	.buf_append = h_buf_append,
	.buf_printf = h_buf_printf,
	.find_program = h_find_program,
};

const struct runlet_host *host_get(void)
{
	return &host_table;
}
