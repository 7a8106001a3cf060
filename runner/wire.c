/* The runner protocol codec: records of "<tag> <len>\n<bytes>\n". See wire.h. */
#include "wire.h"

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

/* ---- plan ---- */

static int put_limits(struct wire_buf *b, const struct wire_limits *l)
{
	int rc = 0;
	rc |= wire_put_u64(b, "cpu_ms", l->cpu_ms);
	rc |= wire_put_u64(b, "wall_ms", l->wall_ms);
	rc |= wire_put_u64(b, "mem_kb", l->mem_kb);
	rc |= wire_put_u64(b, "out_kb", l->out_kb);
	rc |= wire_put_u64(b, "err_kb", l->err_kb);
	rc |= wire_put_u64(b, "errmax_kb", l->errmax_kb);
	rc |= wire_put_u64(b, "fsize_kb", l->fsize_kb);
	rc |= wire_put_u64(b, "nofile", l->nofile);
	rc |= wire_put_u64(b, "stack_kb", l->stack_kb);
	rc |= wire_put_u64(b, "pids", l->pids);
	return rc ? -ENOMEM : 0;
}

static int put_step(struct wire_buf *b, const char *name,
		    const struct wire_step *s)
{
	int rc = wire_put_str(b, "step", name);
	for (size_t i = 0; rc == 0 && i < s->argc; i++)
		rc = wire_put_str(b, "arg", s->argv[i]);
	for (size_t i = 0; rc == 0 && i < s->envc; i++)
		rc = wire_put_str(b, "env", s->envp[i]);
	if (rc == 0)
		rc = put_limits(b, &s->lim);
	return rc;
}

int wire_plan_encode(const struct wire_plan *p, struct wire_buf *out)
{
	int rc = 0;
	rc |= wire_put_str(out, "plan", WIRE_VERSION);
	rc |= wire_put_str(out, "workdir", p->workdir);
	rc |= wire_put_i64(out, "uid", p->uid);
	rc |= wire_put_i64(out, "gid", p->gid);
	rc |= wire_put_u64(out, "seccomp", p->seccomp ? 1 : 0);
	if (p->cg_mem)
		rc |= wire_put_str(out, "cgmem", p->cg_mem);
	if (p->cg_pids)
		rc |= wire_put_str(out, "cgpids", p->cg_pids);
	if (p->cg_cpu)
		rc |= wire_put_str(out, "cgcpu", p->cg_cpu);
	rc |= wire_put_u64(out, "cgv2", p->cg_v2 ? 1 : 0);
	for (size_t i = 0; rc == 0 && i < p->nfiles; i++) {
		char mode[16];
		snprintf(mode, sizeof(mode), "%o", p->files[i].mode & 07777);
		rc |= wire_put_str(out, "file", p->files[i].path);
		rc |= wire_put_str(out, "mode", mode);
		rc |= wire_put(out, "data", p->files[i].data, p->files[i].len);
	}
	if (rc == 0 && p->has_compile)
		rc = put_step(out, "compile", &p->compile);
	if (rc == 0)
		rc = put_step(out, "run", &p->run);
	for (size_t i = 0; rc == 0 && i < p->ntests; i++) {
		rc |= wire_put_u64(out, "test", p->tests[i].num);
		rc |= wire_put(out, "input", p->tests[i].input, p->tests[i].len);
	}
	if (rc == 0 && p->parallel > 1)
		rc = wire_put_u64(out, "parallel", p->parallel);
	if (rc == 0 && p->emit)
		rc = wire_put_str(out, "emit", "1");
	if (rc == 0)
		rc = wire_put_str(out, "end", "");
	return rc ? -ENOMEM : 0;
}

static int parse_u64(const char *v, size_t len, uint64_t *out)
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

static int parse_i64(const char *v, size_t len, int64_t *out)
{
	uint64_t u;
	int neg = len > 0 && v[0] == '-';
	if (parse_u64(v + neg, len - (size_t)neg, &u) < 0 ||
	    u > (uint64_t)INT64_MAX)
		return -EPROTO;
	*out = neg ? -(int64_t)u : (int64_t)u;
	return 0;
}

static char *dupn(const char *v, size_t len)
{
	char *s = malloc(len + 1);
	if (!s)
		return NULL;
	memcpy(s, v, len);
	s[len] = '\0';
	return s;
}

/* A string value that must hold no NUL byte (paths, argv, env). */
static int dup_cstr(const char *v, size_t len, char **out)
{
	if (memchr(v, '\0', len))
		return -EPROTO;
	free(*out);
	*out = dupn(v, len);
	return *out ? 0 : -ENOMEM;
}

static int limits_field(struct wire_limits *l, const char *tag,
			const char *v, size_t len, int *matched)
{
	static const struct {
		const char *tag;
		size_t off;
	} fields[] = {
		{"cpu_ms", offsetof(struct wire_limits, cpu_ms)},
		{"wall_ms", offsetof(struct wire_limits, wall_ms)},
		{"mem_kb", offsetof(struct wire_limits, mem_kb)},
		{"out_kb", offsetof(struct wire_limits, out_kb)},
		{"err_kb", offsetof(struct wire_limits, err_kb)},
		{"errmax_kb", offsetof(struct wire_limits, errmax_kb)},
		{"fsize_kb", offsetof(struct wire_limits, fsize_kb)},
		{"nofile", offsetof(struct wire_limits, nofile)},
		{"stack_kb", offsetof(struct wire_limits, stack_kb)},
		{"pids", offsetof(struct wire_limits, pids)},
	};
	*matched = 0;
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		if (strcmp(tag, fields[i].tag) == 0) {
			*matched = 1;
			return parse_u64(v, len,
					 (uint64_t *)((char *)l + fields[i].off));
		}
	}
	return 0;
}

int wire_plan_decode(const char *buf, size_t len, struct wire_plan *p,
		     char *err, size_t errlen)
{
	struct wire_reader r = {buf, len, 0};
	struct wire_step *step = NULL;
	struct wire_file *file = NULL;
	struct wire_test *test = NULL;
	char tag[16];
	const char *v;
	size_t vl;
	int rc, seen_end = 0, first = 1;

	memset(p, 0, sizeof(*p));
	p->uid = p->gid = -1;
	while ((rc = wire_next(&r, tag, &v, &vl)) == 1) {
		uint64_t u = 0; /* read below even when parsing failed */
		int matched;
		rc = 0;
		if (first && strcmp(tag, "plan") != 0) {
			rc = -EPROTO;
			break;
		}
		if (strcmp(tag, "plan") == 0) {
			if (!first || vl != strlen(WIRE_VERSION) ||
			    memcmp(v, WIRE_VERSION, vl) != 0) {
				snprintf(err, errlen,
					 "plan: unsupported version \"%.*s\"",
					 (int)(vl > 16 ? 16 : vl), v);
				return -EPROTO;
			}
		} else if (strcmp(tag, "workdir") == 0) {
			rc = dup_cstr(v, vl, &p->workdir);
		} else if (strcmp(tag, "uid") == 0) {
			rc = parse_i64(v, vl, &p->uid);
		} else if (strcmp(tag, "gid") == 0) {
			rc = parse_i64(v, vl, &p->gid);
		} else if (strcmp(tag, "seccomp") == 0) {
			rc = parse_u64(v, vl, &u);
			p->seccomp = u != 0;
		} else if (strcmp(tag, "cgmem") == 0) {
			rc = dup_cstr(v, vl, &p->cg_mem);
		} else if (strcmp(tag, "cgpids") == 0) {
			rc = dup_cstr(v, vl, &p->cg_pids);
		} else if (strcmp(tag, "cgcpu") == 0) {
			rc = dup_cstr(v, vl, &p->cg_cpu);
		} else if (strcmp(tag, "cgv2") == 0) {
			rc = parse_u64(v, vl, &u);
			p->cg_v2 = u != 0;
		} else if (strcmp(tag, "file") == 0) {
			struct wire_file *nf = realloc(
				p->files, (p->nfiles + 1) * sizeof(*nf));
			if (!nf) {
				rc = -ENOMEM;
				break;
			}
			p->files = nf;
			file = &nf[p->nfiles++];
			memset(file, 0, sizeof(*file));
			file->mode = 0644;
			rc = dup_cstr(v, vl, &file->path);
		} else if (strcmp(tag, "mode") == 0 && file) {
			char tmp[16];
			if (vl == 0 || vl >= sizeof(tmp)) {
				rc = -EPROTO;
				break;
			}
			memcpy(tmp, v, vl);
			tmp[vl] = '\0';
			char *end;
			unsigned long m = strtoul(tmp, &end, 8);
			if (*end || m > 07777)
				rc = -EPROTO;
			file->mode = (uint32_t)m;
		} else if (strcmp(tag, "data") == 0 && file) {
			free(file->data);
			file->data = dupn(v, vl);
			file->len = vl;
			if (!file->data)
				rc = -ENOMEM;
		} else if (strcmp(tag, "step") == 0) {
			if (vl == 7 && memcmp(v, "compile", 7) == 0) {
				p->has_compile = 1;
				step = &p->compile;
			} else if (vl == 3 && memcmp(v, "run", 3) == 0) {
				step = &p->run;
			} else {
				rc = -EPROTO;
			}
		} else if (strcmp(tag, "arg") == 0 && step) {
			char *s = NULL;
			rc = dup_cstr(v, vl, &s);
			if (rc == 0)
				rc = wire_strv_push(&step->argv, &step->argc, s);
			free(s);
		} else if (strcmp(tag, "env") == 0 && step) {
			char *s = NULL;
			rc = dup_cstr(v, vl, &s);
			if (rc == 0)
				rc = wire_strv_push(&step->envp, &step->envc, s);
			free(s);
		} else if (step && (rc = limits_field(&step->lim, tag, v, vl,
						       &matched),
				    matched)) {
			/* handled */
		} else if (strcmp(tag, "test") == 0) {
			struct wire_test *nt = realloc(
				p->tests, (p->ntests + 1) * sizeof(*nt));
			if (!nt) {
				rc = -ENOMEM;
				break;
			}
			p->tests = nt;
			test = &nt[p->ntests++];
			memset(test, 0, sizeof(*test));
			rc = parse_u64(v, vl, &test->num);
		} else if (strcmp(tag, "input") == 0 && test) {
			free(test->input);
			test->input = dupn(v, vl);
			test->len = vl;
			if (!test->input)
				rc = -ENOMEM;
		} else if (strcmp(tag, "parallel") == 0) {
			rc = parse_u64(v, vl, &p->parallel);
		} else if (strcmp(tag, "emit") == 0) {
			rc = parse_u64(v, vl, &u);
			p->emit = u != 0;
		} else if (strcmp(tag, "end") == 0) {
			seen_end = 1;
			break;
		} else {
			snprintf(err, errlen, "plan: unexpected record \"%s\"",
				 tag);
			return -EPROTO;
		}
		if (rc < 0)
			break;
		first = 0;
	}
	if (rc < 0) {
		snprintf(err, errlen, "plan: malformed record near byte %zu (%s)",
			 r.off, tag);
		return rc;
	}
	if (!seen_end) {
		snprintf(err, errlen, "plan: truncated (no end record)");
		return -EPROTO;
	}
	if (!p->workdir || p->run.argc == 0) {
		snprintf(err, errlen, "plan: workdir and a run step are required");
		return -EPROTO;
	}
	return 0;
}

static void step_free(struct wire_step *s)
{
	wire_strv_free(s->argv, s->argc);
	wire_strv_free(s->envp, s->envc);
	memset(s, 0, sizeof(*s));
}

void wire_plan_free(struct wire_plan *p)
{
	if (!p)
		return;
	free(p->workdir);
	free(p->cg_mem);
	free(p->cg_pids);
	free(p->cg_cpu);
	for (size_t i = 0; i < p->nfiles; i++) {
		free(p->files[i].path);
		free(p->files[i].data);
	}
	free(p->files);
	step_free(&p->compile);
	step_free(&p->run);
	for (size_t i = 0; i < p->ntests; i++)
		free(p->tests[i].input);
	free(p->tests);
	memset(p, 0, sizeof(*p));
}

/* ---- result ---- */

int wire_outcome_encode(const struct wire_outcome *o, struct wire_buf *b)
{
	int rc = 0;
	if (o->is_compile)
		rc |= wire_put_str(b, "outcome", "compile");
	else
		rc |= wire_put_u64(b, "outcome", o->num);
	rc |= wire_put_i64(b, "status", o->status);
	rc |= wire_put_i64(b, "exit", o->exit_code);
	rc |= wire_put_i64(b, "signal", o->signal);
	rc |= wire_put_u64(b, "cpu_ms", o->cpu_ms);
	rc |= wire_put_u64(b, "wall_ms", o->wall_ms);
	rc |= wire_put_u64(b, "mem_kb", o->mem_kb);
	rc |= wire_put_u64(b, "oom", o->oom ? 1 : 0);
	rc |= wire_put(b, "out", o->out ? o->out : "", o->out_len);
	rc |= wire_put_u64(b, "out_trunc", o->out_trunc ? 1 : 0);
	rc |= wire_put(b, "err", o->err ? o->err : "", o->err_len);
	rc |= wire_put_u64(b, "err_trunc", o->err_trunc ? 1 : 0);
	if (o->note)
		rc |= wire_put_str(b, "note", o->note);
	for (size_t i = 0; i < o->nartifacts; i++) {
		char mode[16];
		snprintf(mode, sizeof(mode), "%o", o->artifacts[i].mode & 07777);
		rc |= wire_put_str(b, "artifact", o->artifacts[i].name);
		rc |= wire_put_str(b, "amode", mode);
		rc |= wire_put(b, "adata", o->artifacts[i].data, o->artifacts[i].len);
	}
	return rc ? -ENOMEM : 0;
}

static int outcome_field(struct wire_outcome *o, const char *tag,
			 const char *v, size_t vl)
{
	int64_t i;
	uint64_t u;
	int rc;
	if (strcmp(tag, "status") == 0 || strcmp(tag, "exit") == 0 ||
	    strcmp(tag, "signal") == 0) {
		if ((rc = parse_i64(v, vl, &i)) < 0)
			return rc;
		if (i < INT32_MIN || i > INT32_MAX)
			return -EPROTO;
		if (tag[0] == 's' && tag[1] == 't')
			o->status = (int)i;
		else if (tag[0] == 'e')
			o->exit_code = (int)i;
		else
			o->signal = (int)i;
		return 0;
	}
	if (strcmp(tag, "out") == 0 || strcmp(tag, "err") == 0) {
		char *s = dupn(v, vl);
		if (!s)
			return -ENOMEM;
		if (tag[0] == 'o') {
			free(o->out);
			o->out = s;
			o->out_len = vl;
		} else {
			free(o->err);
			o->err = s;
			o->err_len = vl;
		}
		return 0;
	}
	if (strcmp(tag, "artifact") == 0) {
		char *name = NULL;
		if (!o->is_compile || vl == 0 || memchr(v, '/', vl) ||
		    dup_cstr(v, vl, &name) < 0) {
			free(name);
			return -EPROTO;
		}
		rc = wire_artifact_add(o, name, 0644, "", 0);
		free(name);
		return rc;
	}
	if ((strcmp(tag, "amode") == 0 || strcmp(tag, "adata") == 0)) {
		struct wire_artifact *a;
		if (!o->nartifacts)
			return -EPROTO;
		a = &o->artifacts[o->nartifacts - 1];
		if (tag[1] == 'm') {
			char tmp[16];
			char *end;
			if (vl == 0 || vl >= sizeof(tmp))
				return -EPROTO;
			memcpy(tmp, v, vl);
			tmp[vl] = '\0';
			unsigned long m = strtoul(tmp, &end, 8);
			if (*end || m > 07777)
				return -EPROTO;
			a->mode = (uint32_t)m;
			return 0;
		}
		if (vl > WIRE_MAX_ARTIFACT)
			return -EPROTO;
		free(a->data);
		a->data = dupn(v, vl);
		a->len = vl;
		return a->data ? 0 : -ENOMEM;
	}
	if (strcmp(tag, "note") == 0) {
		free(o->note);
		o->note = dupn(v, vl);
		return o->note ? 0 : -ENOMEM;
	}
	if ((rc = parse_u64(v, vl, &u)) < 0)
		return rc;
	if (strcmp(tag, "cpu_ms") == 0)
		o->cpu_ms = u;
	else if (strcmp(tag, "wall_ms") == 0)
		o->wall_ms = u;
	else if (strcmp(tag, "mem_kb") == 0)
		o->mem_kb = u;
	else if (strcmp(tag, "oom") == 0)
		o->oom = u != 0;
	else if (strcmp(tag, "out_trunc") == 0)
		o->out_trunc = u != 0;
	else if (strcmp(tag, "err_trunc") == 0)
		o->err_trunc = u != 0;
	else
		return -EPROTO;
	return 0;
}

int wire_result_decode(const char *buf, size_t len, struct wire_result *res,
		       char *err, size_t errlen)
{
	struct wire_reader r = {buf, len, 0};
	struct wire_outcome *cur = NULL;
	char tag[16] = "";
	const char *v;
	size_t vl;
	int rc, first = 1;

	memset(res, 0, sizeof(*res));
	while ((rc = wire_next(&r, tag, &v, &vl)) == 1) {
		rc = 0;
		if (first) {
			if (strcmp(tag, "result") != 0 ||
			    vl != strlen(WIRE_VERSION) ||
			    memcmp(v, WIRE_VERSION, vl) != 0) {
				snprintf(err, errlen,
					 "runner result: bad header");
				return -EPROTO;
			}
			first = 0;
			continue;
		}
		if (strcmp(tag, "outcome") == 0) {
			if (vl == 7 && memcmp(v, "compile", 7) == 0) {
				wire_outcome_free(&res->compile);
				res->has_compile = 1;
				cur = &res->compile;
				cur->is_compile = 1;
			} else {
				uint64_t num;
				if ((rc = parse_u64(v, vl, &num)) < 0)
					break;
				struct wire_outcome *nt = realloc(
					res->tests,
					(res->ntests + 1) * sizeof(*nt));
				if (!nt) {
					rc = -ENOMEM;
					break;
				}
				res->tests = nt;
				cur = &nt[res->ntests++];
				memset(cur, 0, sizeof(*cur));
				cur->num = num;
			}
		} else if (strcmp(tag, "error") == 0) {
			free(res->error);
			res->error = dupn(v, vl);
			if (!res->error)
				rc = -ENOMEM;
		} else if (strcmp(tag, "end") == 0) {
			res->complete = 1;
			break;
		} else if (cur) {
			rc = outcome_field(cur, tag, v, vl);
		} else {
			rc = -EPROTO;
		}
		if (rc < 0)
			break;
	}
	if (rc < 0) {
		snprintf(err, errlen,
			 "runner result: malformed record near byte %zu (%s)",
			 r.off, tag);
		return rc;
	}
	if (first) {
		snprintf(err, errlen, "runner result: empty");
		return -EPROTO;
	}
	return 0;
}

int wire_artifact_add(struct wire_outcome *o, const char *name, uint32_t mode,
		      const char *data, size_t len)
{
	struct wire_artifact *na = realloc(o->artifacts,
					   (o->nartifacts + 1) * sizeof(*na));
	if (!na)
		return -ENOMEM;
	o->artifacts = na;
	struct wire_artifact *a = &na[o->nartifacts];
	a->name = strdup(name);
	a->data = dupn(data, len);
	a->mode = mode;
	a->len = len;
	if (!a->name || !a->data) {
		free(a->name);
		free(a->data);
		return -ENOMEM;
	}
	o->nartifacts++;
	return 0;
}

void wire_outcome_free(struct wire_outcome *o)
{
	if (!o)
		return;
	free(o->out);
	free(o->err);
	free(o->note);
	for (size_t i = 0; i < o->nartifacts; i++) {
		free(o->artifacts[i].name);
		free(o->artifacts[i].data);
	}
	free(o->artifacts);
	o->artifacts = NULL;
	o->nartifacts = 0;
	o->out = o->err = o->note = NULL;
	o->out_len = o->err_len = 0;
}

void wire_result_free(struct wire_result *r)
{
	if (!r)
		return;
	wire_outcome_free(&r->compile);
	for (size_t i = 0; i < r->ntests; i++)
		wire_outcome_free(&r->tests[i]);
	free(r->tests);
	free(r->error);
	memset(r, 0, sizeof(*r));
}
