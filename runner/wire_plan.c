/* The runner protocol: encoding and decoding plans (see wire.h). */
#include "wire.h"
#include "wire_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
		rc |= wire_put_str(out, "file", p->files[i].path);
		rc |= wire_put_mode(out, "mode", p->files[i].mode);
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
	if (rc == 0 && p->await_mem)
		rc = wire_put_u64(out, "await_mem", p->await_mem);
	if (rc == 0 && p->oomwatch)
		rc = wire_put_str(out, "oomwatch", "1");
	if (rc == 0)
		rc = wire_put_str(out, "end", "");
	return rc ? -ENOMEM : 0;
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
			return wire_parse_u64(v, len,
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
			rc = wire_dup_cstr(v, vl, &p->workdir);
		} else if (strcmp(tag, "uid") == 0) {
			rc = wire_parse_i64(v, vl, &p->uid);
		} else if (strcmp(tag, "gid") == 0) {
			rc = wire_parse_i64(v, vl, &p->gid);
		} else if (strcmp(tag, "seccomp") == 0) {
			rc = wire_parse_u64(v, vl, &u);
			p->seccomp = u != 0;
		} else if (strcmp(tag, "cgmem") == 0) {
			rc = wire_dup_cstr(v, vl, &p->cg_mem);
		} else if (strcmp(tag, "cgpids") == 0) {
			rc = wire_dup_cstr(v, vl, &p->cg_pids);
		} else if (strcmp(tag, "cgcpu") == 0) {
			rc = wire_dup_cstr(v, vl, &p->cg_cpu);
		} else if (strcmp(tag, "cgv2") == 0) {
			rc = wire_parse_u64(v, vl, &u);
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
			rc = wire_dup_cstr(v, vl, &file->path);
		} else if (strcmp(tag, "mode") == 0 && file) {
			rc = wire_parse_mode(v, vl, &file->mode);
		} else if (strcmp(tag, "data") == 0 && file) {
			free(file->data);
			file->data = wire_dupn(v, vl);
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
			rc = wire_dup_cstr(v, vl, &s);
			if (rc == 0)
				rc = wire_strv_push(&step->argv, &step->argc, s);
			free(s);
		} else if (strcmp(tag, "env") == 0 && step) {
			char *s = NULL;
			rc = wire_dup_cstr(v, vl, &s);
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
			rc = wire_parse_u64(v, vl, &test->num);
		} else if (strcmp(tag, "input") == 0 && test) {
			free(test->input);
			test->input = wire_dupn(v, vl);
			test->len = vl;
			if (!test->input)
				rc = -ENOMEM;
		} else if (strcmp(tag, "parallel") == 0) {
			rc = wire_parse_u64(v, vl, &p->parallel);
		} else if (strcmp(tag, "await_mem") == 0) {
			rc = wire_parse_u64(v, vl, &p->await_mem);
		} else if (strcmp(tag, "oomwatch") == 0) {
			rc = wire_parse_u64(v, vl, &u);
			p->oomwatch = u != 0;
		} else if (strcmp(tag, "emit") == 0) {
			rc = wire_parse_u64(v, vl, &u);
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
