/* Text helpers shared by the in-tree language plugins (see ptext.h). */
#include "ptext.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int ptext_next_line(const char *buf, size_t len, size_t *pos,
		    struct ptext_line *line)
{
	const char *nl;

	if (*pos >= len)
		return 0;
	line->s = buf + *pos;
	nl = memchr(line->s, '\n', len - *pos);
	if (nl) {
		line->len = (size_t)(nl - line->s);
		line->nl = 1;
		*pos += line->len + 1;
	} else {
		line->len = len - *pos;
		line->nl = 0;
		*pos = len;
	}
	return 1;
}

const char *ptext_find(const char *buf, size_t len, const char *needle)
{
	size_t n = strlen(needle);

	if (n == 0)
		return buf;
	if (!buf || len < n)
		return NULL;
	return memmem(buf, len, needle, n);
}

int ptext_starts(const struct ptext_line *line, const char *prefix,
		 int skip_blanks)
{
	const char *s = line->s;
	size_t len = line->len, n = strlen(prefix);

	while (skip_blanks && len > 0 && (*s == ' ' || *s == '\t')) {
		s++;
		len--;
	}
	return len >= n && memcmp(s, prefix, n) == 0;
}

int ptext_has_line(const char *buf, size_t len, const char *prefix)
{
	struct ptext_line line;
	size_t pos = 0;

	while (ptext_next_line(buf, len, &pos, &line))
		if (ptext_starts(&line, prefix, 1))
			return 1;
	return 0;
}

const char *ptext_basename(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

int ptext_append_clean(const struct runlet_host *host, const char *src_path,
		       const char *workdir, const char *s, size_t len,
		       struct runlet_buf *out)
{
	const char *base = src_path ? ptext_basename(src_path) : NULL;
	size_t srclen = src_path ? strlen(src_path) : 0;
	size_t wdlen = workdir ? strlen(workdir) : 0;
	size_t i = 0, start = 0;
	int rc;

	while (wdlen > 0 && workdir[wdlen - 1] == '/')
		wdlen--;
	while (i < len) {
		size_t skip = 0;
		const char *repl = NULL;

		if (srclen > 0 && len - i >= srclen &&
		    memcmp(s + i, src_path, srclen) == 0) {
			skip = srclen;
			repl = base;
		} else if (wdlen > 0 && len - i > wdlen &&
			   memcmp(s + i, workdir, wdlen) == 0 &&
			   s[i + wdlen] == '/') {
			skip = wdlen + 1;
			repl = "";
		}
		if (!skip) {
			i++;
			continue;
		}
		rc = host->buf_append(out, s + start, i - start);
		if (rc == 0 && repl[0])
			rc = host->buf_append(out, repl, strlen(repl));
		if (rc)
			return rc;
		i += skip;
		start = i;
	}
	return host->buf_append(out, s + start, len - start);
}

int ptext_append_line(const struct runlet_host *host, const char *src_path,
		      const char *workdir, const struct ptext_line *line,
		      struct runlet_buf *out)
{
	int rc = ptext_append_clean(host, src_path, workdir, line->s,
				    line->len, out);

	if (rc == 0 && line->nl)
		rc = host->buf_append(out, "\n", 1);
	return rc;
}

size_t ptext_rtrim_nl(const char *s, size_t len)
{
	while (len > 0 && s[len - 1] == '\n')
		len--;
	return len;
}

void ptext_raise_u64(uint64_t *v, uint64_t min)
{
	if (*v != 0 && *v < min)
		*v = min;
}

void ptext_raise_u32(uint32_t *v, uint32_t min)
{
	if (*v != 0 && *v < min)
		*v = min;
}

uint64_t ptext_heap_mb(uint64_t memory_bytes, uint64_t reserve_mb)
{
	uint64_t mb = memory_bytes >> 20, reserve = mb / 5;

	if (mb == 0)
		return 0;
	if (reserve < reserve_mb)
		reserve = reserve_mb;
	if (mb > reserve && mb - reserve >= mb / 3)
		return mb - reserve;
	return mb / 3 ? mb / 3 : 1;
}

int ptext_argv0_is(const struct runlet_host *host,
		   const struct runlet_strv *argv, const char *name)
{
	if (host->strv_len(argv) == 0)
		return 0;
	return strcmp(ptext_basename(host->strv_get(argv, 0)), name) == 0;
}

long ptext_argv_find(const struct runlet_host *host,
		     const struct runlet_strv *argv, const char *prefix)
{
	size_t i, n = host->strv_len(argv), plen = strlen(prefix);

	for (i = 0; i < n; i++)
		if (strncmp(host->strv_get(argv, i), prefix, plen) == 0)
			return (long)i;
	return -1;
}

int ptext_env_default(const struct runlet_host *host, struct runlet_strv *env,
		      const char *key, const char *value)
{
	if (host->env_get(env, key))
		return 0;
	return host->env_set(env, key, value);
}

int ptext_find_program(const struct runlet_plan *plan, const char *env_path,
		       const char *name, char *out, size_t outlen)
{
	const char *p, *e;

	if (!plan->backend || strcmp(plan->backend, "native") != 0)
		return -EOPNOTSUPP;
	if (strchr(name, '/'))
		return access(name, X_OK) == 0 &&
				       (size_t)snprintf(out, outlen, "%s", name) <
					       outlen
			       ? 0
			       : -ENOENT;
	for (p = env_path ? env_path : ""; *p; p = e ? e + 1 : p + strlen(p)) {
		size_t dl;

		e = strchr(p, ':');
		dl = e ? (size_t)(e - p) : strlen(p);
		if (dl == 0 || p[0] != '/')
			continue;
		if ((size_t)snprintf(out, outlen, "%.*s/%s", (int)dl, p, name) <
			    outlen &&
		    access(out, X_OK) == 0)
			return 0;
	}
	return -ENOENT;
}

int ptext_resolve_program(const struct runlet_host *host,
			  const struct runlet_plan *plan,
			  struct runlet_strv *argv, const char *plugin,
			  const char *name, const char *portable,
			  const char *const *alts, size_t nalts)
{
	const char *env_path = host->env_get(plan->env, "PATH");
	char path[4096];
	size_t i;
	int rc;

	if (host->strv_len(argv) == 0 ||
	    strcmp(host->strv_get(argv, 0), name) != 0)
		return 0;
	rc = ptext_find_program(plan, env_path, name, path, sizeof(path));
	if (rc == -EOPNOTSUPP)
		return portable ? host->strv_set(argv, 0, portable) : 0;
	if (rc == 0)
		return 0;
	for (i = 0; i < nalts; i++) {
		if (ptext_find_program(plan, env_path, alts[i], path,
				       sizeof(path)) == 0) {
			host->log(RUNLET_LOG_DEBUG, plugin,
				  "no `%s` on PATH, using %s", name, path);
			return host->strv_set(argv, 0, path);
		}
	}
	host->log(RUNLET_LOG_WARN, plugin,
		  "`%s` is not on PATH (%s) nor %s: install it or set run_args "
		  "in config.yaml", name, env_path ? env_path : "unset",
		  nalts ? alts[0] : "an alternative");
	return 0;
}
