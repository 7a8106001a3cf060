/* backends/docker: runner result collection (see collect.h). */
#include "backends/docker/collect.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runlet/plugin.h"

#define ERR_CAP (64u << 10)

void dock_collect_init(struct dock_collect *c, size_t out_limit,
		       void (*progress)(void *, const struct wire_outcome *),
		       void *arg)
{
	memset(c, 0, sizeof(*c));
	c->open = SIZE_MAX;
	c->out_limit = out_limit;
	c->progress = progress;
	c->arg = arg;
}

void dock_collect_free(struct dock_collect *c)
{
	wire_buf_free(&c->out);
	wire_buf_free(&c->err);
}

int dock_wire_frame(const char *buf, size_t len, size_t off, size_t *tag_end,
		    size_t *end)
{
	size_t i = off, t = 0;
	uint64_t n = 0;
	while (i < len && buf[i] != ' ') {
		char ch = buf[i];
		if (t >= 15 || !((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_'))
			return -EPROTO;
		t++;
		i++;
	}
	if (i >= len)
		return 0;
	if (t == 0)
		return -EPROTO;
	*tag_end = i++;
	size_t digits = 0;
	while (i < len && buf[i] != '\n') {
		if (buf[i] < '0' || buf[i] > '9' || ++digits > 12)
			return -EPROTO;
		n = n * 10 + (uint64_t)(buf[i] - '0');
		i++;
	}
	if (i >= len)
		return 0;
	if (digits == 0 || n > WIRE_MAX_RECORD)
		return -EPROTO;
	i++;
	if (len - i < n + 1)
		return 0;
	if (buf[i + n] != '\n')
		return -EPROTO;
	*end = i + n + 1;
	return 1;
}

/* An outcome's records [from, to) decoded on their own, passed on. */
static void emit(struct dock_collect *c, size_t from, size_t to)
{
	static const char head[] = "result 1\n" WIRE_VERSION "\n";
	struct wire_buf b = {0};
	struct wire_result r;
	char err[128];
	if (wire_buf_append(&b, head, sizeof(head) - 1) < 0 ||
	    wire_buf_append(&b, c->out.data + from, to - from) < 0) {
		wire_buf_free(&b);
		c->held = 1;
		return;
	}
	if (wire_result_decode(b.data, b.len, &r, err, sizeof(err)) == 0) {
		const struct wire_outcome *o =
			r.has_compile ? &r.compile : r.ntests ? &r.tests[0] : NULL;
		/* A SIGKILL may turn out to be an OOM kill, known only when
		 * the container has ended: from here on, report at the end. */
		if (o && o->status == RUNLET_EXIT_SIGNALED && o->signal == SIGKILL)
			c->held = 1;
		else if (o)
			c->progress(c->arg, o);
	} else {
		c->held = 1;
	}
	wire_result_free(&r);
	wire_buf_free(&b);
}

static void scan(struct dock_collect *c)
{
	size_t tag_end, end;
	int rc;
	while (!c->malformed &&
	       (rc = dock_wire_frame(c->out.data, c->out.len, c->scan, &tag_end,
				     &end)) != 0) {
		if (rc < 0) {
			c->malformed = 1;
			return;
		}
		const char *tag = c->out.data + c->scan;
		size_t tl = tag_end - c->scan;
		int boundary = (tl == 7 && memcmp(tag, "outcome", 7) == 0) ||
			       (tl == 3 && memcmp(tag, "end", 3) == 0) ||
			       (tl == 5 && memcmp(tag, "await", 5) == 0) ||
			       (tl == 5 && memcmp(tag, "error", 5) == 0);
		if (tl == 3 && memcmp(tag, "end", 3) == 0)
			c->ended = 1;
		else if (tl == 8 && memcmp(tag, "oomwatch", 8) == 0 &&
			 c->open == SIZE_MAX)
			c->oom_watched = 1;
		if (boundary) {
			if (c->open != SIZE_MAX && c->progress && !c->held &&
			    !c->open_emitted)
				emit(c, c->open, c->scan);
			/* the compile outcome is whole (artifacts included)
			 * only at the next boundary: the runner's "await"
			 * when runlet is to lower the memory (run.c; the
			 * runner starts no test before), so a kill after a
			 * failed lowering never cuts the compile's outcome */
			if (c->open != SIZE_MAX && c->open_compile)
				c->compile_done = 1;
			c->open = (tl == 7) ? c->scan : SIZE_MAX;
			c->open_done = c->open_emitted = 0;
			c->open_compile = tl == 7 && end - tag_end == 1 + 1 + 7 + 1 + 1 &&
					  memcmp(c->out.data + end - 8, "compile", 7) == 0;
		} else if (c->open != SIZE_MAX &&
			   ((tl == 9 && memcmp(tag, "err_trunc", 9) == 0) ||
			    (tl == 4 && memcmp(tag, "note", 4) == 0))) {
			c->open_done = !(c->open_compile && c->need_artifact);
			if (c->open_compile && c->open_done)
				c->compile_done = 1;
		}
		/* a compile outcome that carries artifacts (artifact, amode,
		 * adata, repeated) ends only at the next boundary */
		c->scan = end;
	}
}

void dock_collect_idle(struct dock_collect *c)
{
	if (c->open != SIZE_MAX && c->open_done && !c->open_emitted &&
	    c->progress && !c->held) {
		emit(c, c->open, c->scan);
		c->open_emitted = 1;
	}
}

int dock_collect_frame(void *arg, int stream, const char *data, size_t len)
{
	struct dock_collect *c = arg;
	if (stream == 2) {
		size_t room = c->err.len < ERR_CAP ? ERR_CAP - c->err.len : 0;
		if (wire_buf_append(&c->err, data, len < room ? len : room) < 0)
			return -ENOMEM;
		return 0;
	}
	if (stream != 1)
		return 0;
	if (c->out.len + len > c->out_limit)
		return -E2BIG;
	if (wire_buf_append(&c->out, data, len) < 0)
		return -ENOMEM;
	scan(c);
	return 0;
}

static int set_note(struct wire_outcome *o, const char *note)
{
	free(o->note);
	o->note = strdup(note);
	return o->note ? 0 : -ENOMEM;
}

static int have_test(const struct wire_result *r, uint64_t num)
{
	for (size_t i = 0; i < r->ntests; i++)
		if (r->tests[i].num == num)
			return 1;
	return 0;
}

/* Outcomes the runner never wrote, after it died with the container. */
static int fill_remaining(const struct wire_plan *plan, struct wire_result *r,
			  int status, const char *note)
{
	int compile_died = plan->has_compile && !r->has_compile;
	if (compile_died) {
		memset(&r->compile, 0, sizeof(r->compile));
		r->has_compile = 1;
		r->compile.is_compile = 1;
		r->compile.status = status;
		r->compile.signal = SIGKILL;
		r->compile.oom = status == RUNLET_EXIT_MEMORY;
		if (set_note(&r->compile, note) < 0)
			return -ENOMEM;
	}
	for (size_t i = 0; i < plan->ntests; i++) {
		if (have_test(r, plan->tests[i].num))
			continue;
		struct wire_outcome *nt =
			realloc(r->tests, (r->ntests + 1) * sizeof(*nt));
		if (!nt)
			return -ENOMEM;
		r->tests = nt;
		struct wire_outcome *o = &nt[r->ntests++];
		memset(o, 0, sizeof(*o));
		o->num = plan->tests[i].num;
		if (compile_died) {
			o->status = WIRE_STATUS_NOT_RUN;
			continue;
		}
		o->status = status;
		o->signal = SIGKILL;
		o->oom = status == RUNLET_EXIT_MEMORY;
		if (set_note(o, note) < 0)
			return -ENOMEM;
	}
	r->complete = 1;
	return 0;
}

static void mark_oom(struct wire_outcome *o)
{
	if (o->status == RUNLET_EXIT_SIGNALED && o->signal == SIGKILL) {
		o->status = RUNLET_EXIT_MEMORY;
		o->oom = 1;
	}
}

static void err_tail(const struct dock_collect *c, char *out, size_t outlen)
{
	size_t n = c->err.len;
	while (n > 0 && (c->err.data[n - 1] == '\n' || c->err.data[n - 1] == ' '))
		n--;
	size_t from = n > 600 ? n - 600 : 0;
	if (n == 0)
		snprintf(out, outlen, "(it printed nothing on stderr)");
	else
		snprintf(out, outlen, "%.*s", (int)(n - from), c->err.data + from);
}

int dock_collect_finish(struct dock_collect *c, const struct wire_plan *plan,
			const struct dock_fate *fate, struct wire_result *res,
			char *err, size_t errlen)
{
	char derr[256], tail[700], note[256];
	int rc;

	/* an outcome cut short by the runner's death is left out */
	size_t usable = c->open != SIZE_MAX && !c->open_done ? c->open : c->scan;

	memset(res, 0, sizeof(*res));
	err_tail(c, tail, sizeof(tail));
	if (c->scan == 0 && !fate->oom && !fate->deadline) {
		snprintf(err, errlen,
			 "runlet-runner in the container wrote no result (exit code %lld): %s",
			 (long long)fate->exit_code, tail);
		return -EPROTO;
	}
	if (c->scan == 0) {
		/* died before the header: an empty result to fill */
		res->complete = 0;
	} else if ((rc = wire_result_decode(c->out.data, usable, res, derr,
					    sizeof(derr))) < 0) {
		wire_result_free(res);
		snprintf(err, errlen, "%s; runlet-runner's stderr: %s", derr, tail);
		return rc == -ENOMEM ? rc : -EPROTO;
	}
	if (fate->oom) {
		if (res->has_compile)
			mark_oom(&res->compile);
		for (size_t i = 0; i < res->ntests; i++)
			mark_oom(&res->tests[i]);
	}
	if (!res->complete) {
		if (fate->oom) {
			snprintf(note, sizeof(note),
				 "the container ran out of memory (mem_limit %llu MiB) and "
				 "runlet-runner was killed",
				 (unsigned long long)(fate->mem_limit >> 20));
			rc = fill_remaining(plan, res, RUNLET_EXIT_MEMORY, note);
		} else if (fate->deadline) {
			snprintf(note, sizeof(note),
				 "the container ran past its deadline of %llu ms and was killed",
				 (unsigned long long)fate->deadline_ms);
			rc = fill_remaining(plan, res, RUNLET_EXIT_TIMEOUT, note);
		} else if (res->error) {
			rc = 0; /* the runner said why; the core reports it */
		} else {
			wire_result_free(res);
			snprintf(err, errlen,
				 "runlet-runner in the container stopped before the end of its "
				 "result (exit code %lld): %s",
				 (long long)fate->exit_code, tail);
			return -EPROTO;
		}
		if (rc < 0) {
			wire_result_free(res);
			snprintf(err, errlen, "out of memory");
			return rc;
		}
	}
	return 0;
}
