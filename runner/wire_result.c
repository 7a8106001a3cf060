/* The runner protocol: encoding and decoding results (see wire.h). */
#include "wire.h"
#include "wire_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
		rc |= wire_put_str(b, "artifact", o->artifacts[i].name);
		rc |= wire_put_mode(b, "amode", o->artifacts[i].mode);
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
		if ((rc = wire_parse_i64(v, vl, &i)) < 0)
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
		char *s = wire_dupn(v, vl);
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
		    wire_dup_cstr(v, vl, &name) < 0) {
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
		if (tag[1] == 'm')
			return wire_parse_mode(v, vl, &a->mode);
		if (vl > WIRE_MAX_ARTIFACT)
			return -EPROTO;
		free(a->data);
		a->data = wire_dupn(v, vl);
		a->len = vl;
		return a->data ? 0 : -ENOMEM;
	}
	if (strcmp(tag, "note") == 0) {
		free(o->note);
		o->note = wire_dupn(v, vl);
		return o->note ? 0 : -ENOMEM;
	}
	if ((rc = wire_parse_u64(v, vl, &u)) < 0)
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
				if ((rc = wire_parse_u64(v, vl, &num)) < 0)
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
			res->error = wire_dupn(v, vl);
			if (!res->error)
				rc = -ENOMEM;
		} else if (strcmp(tag, "end") == 0) {
			res->complete = 1;
			break;
		} else if (strcmp(tag, "await") == 0) {
			cur = NULL; /* the compile outcome is whole (memwait.h) */
		} else if (strcmp(tag, "oomwatch") == 0 && !cur &&
			   !res->has_compile && !res->ntests) {
			res->oom_watched = 1;
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
	a->data = wire_dupn(data, len);
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

void wire_artifacts_clear(struct wire_outcome *o)
{
	for (size_t i = 0; i < o->nartifacts; i++) {
		free(o->artifacts[i].name);
		free(o->artifacts[i].data);
	}
	free(o->artifacts);
	o->artifacts = NULL;
	o->nartifacts = 0;
}

void wire_outcome_free(struct wire_outcome *o)
{
	if (!o)
		return;
	free(o->out);
	free(o->err);
	free(o->note);
	wire_artifacts_clear(o);
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
