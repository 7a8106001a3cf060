/* Verdicts: raw outcomes -> statuses and the texts a student sees. */
#include "core/verdict.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/host.h"

#define TIMEOUT_TEXT "timeout exceeded"

void verdict_default_normalize(char *buf, size_t *len)
{
	while (*len > 0 && buf[*len - 1] == '\n')
		(*len)--;
	buf[*len] = '\0';
}

static void normalize(const struct runlet_plugin *p, char *buf, size_t *len)
{
	if (RUNLET_PLUGIN_HAS(p, normalize_output) && p->normalize_output) {
		p->normalize_output(buf, len);
		buf[*len] = '\0';
	} else {
		verdict_default_normalize(buf, len);
	}
}

/* Default diagnostics cleaning: "<workdir>/" and the source path become the
 * bare file name. */
static int default_clean(const char *workdir, const char *in, size_t len,
			 struct runlet_buf *out)
{
	char pfx[4200];
	int pl = snprintf(pfx, sizeof(pfx), "%s/", workdir);
	size_t i = 0;
	if (pl <= 1 || (size_t)pl >= sizeof(pfx))
		return buf_add(out, in, len);
	while (i < len) {
		if (len - i >= (size_t)pl && memcmp(in + i, pfx, (size_t)pl) == 0) {
			i += (size_t)pl;
			continue;
		}
		if (buf_add(out, in + i, 1) < 0)
			return -ENOMEM;
		i++;
	}
	if (!out->data)
		return buf_add(out, "", 0);
	return 0;
}

static int clean(const struct runlet_plugin *p, const struct plan_info *pi,
		 enum runlet_phase phase, const char *in, size_t len,
		 struct runlet_buf *out)
{
	if (RUNLET_PLUGIN_HAS(p, clean_diagnostics) && p->clean_diagnostics) {
		p->clean_diagnostics(host_get(), phase, pi->src_path,
				     pi->workdir, in ? in : "", len, out);
		return out->data ? 0 : buf_add(out, "", 0);
	}
	return default_clean(pi->workdir, in ? in : "", len, out);
}

static void fill_exit(const struct wire_outcome *o, enum runlet_phase phase,
		      const struct runlet_limits *l, struct runlet_exit *ex)
{
	memset(ex, 0, sizeof(*ex));
	ex->phase = phase;
	ex->kind = o->status >= RUNLET_EXIT_EXITED &&
				   o->status <= RUNLET_EXIT_SETUP
			   ? (enum runlet_exit_kind)o->status
			   : RUNLET_EXIT_SETUP;
	ex->exit_code = o->exit_code;
	ex->signal = o->signal;
	ex->cpu_ms = o->cpu_ms;
	ex->wall_ms = o->wall_ms;
	ex->memory_kb = o->mem_kb;
	ex->limits = l;
	ex->out = o->out ? o->out : "";
	ex->out_len = o->out_len;
	ex->err = o->err ? o->err : "";
	ex->err_len = o->err_len;
}

static enum runlet_verdict default_classify(const struct runlet_exit *ex,
					    int oom)
{
	switch (ex->kind) {
	case RUNLET_EXIT_TIMEOUT:
	case RUNLET_EXIT_CPU_TIMEOUT:
		return RUNLET_VERDICT_TLE;
	case RUNLET_EXIT_MEMORY:
		return RUNLET_VERDICT_MLE;
	case RUNLET_EXIT_OUTPUT_LIMIT:
		return RUNLET_VERDICT_OLE;
	case RUNLET_EXIT_SETUP:
		return RUNLET_VERDICT_IE;
	case RUNLET_EXIT_SIGNALED:
		if (ex->signal == SIGKILL && oom)
			return RUNLET_VERDICT_MLE;
		if (ex->signal == SIGXCPU)
			return RUNLET_VERDICT_TLE;
		if (ex->signal == SIGXFSZ)
			return RUNLET_VERDICT_OLE;
		return RUNLET_VERDICT_RE;
	case RUNLET_EXIT_EXITED:
		return ex->exit_code == 0 ? RUNLET_VERDICT_OK : RUNLET_VERDICT_RE;
	}
	return RUNLET_VERDICT_IE;
}

static enum runlet_verdict classify(const struct runlet_plugin *p,
				    const struct runlet_exit *ex, int oom,
				    struct runlet_buf *note)
{
	enum runlet_verdict v = RUNLET_VERDICT_NONE;
	/* runlet's own measurements beat the plugin's reading of stderr */
	if (ex->kind == RUNLET_EXIT_TIMEOUT || ex->kind == RUNLET_EXIT_CPU_TIMEOUT ||
	    ex->kind == RUNLET_EXIT_OUTPUT_LIMIT || ex->kind == RUNLET_EXIT_MEMORY ||
	    ex->kind == RUNLET_EXIT_SETUP)
		return default_classify(ex, oom);
	/* killed outright near the memory limit: the memory cgroup (or the
	 * container's) did it, even when its OOM flag was not seen */
	if (ex->kind == RUNLET_EXIT_SIGNALED && ex->signal == SIGKILL &&
	    ex->limits && ex->limits->memory_bytes &&
	    ex->memory_kb * 1024 >= ex->limits->memory_bytes / 10 * 9)
		return RUNLET_VERDICT_MLE;
	if (RUNLET_PLUGIN_HAS(p, classify) && p->classify)
		v = p->classify(host_get(), ex, note);
	if (v == RUNLET_VERDICT_NONE || v > RUNLET_VERDICT_IE)
		v = default_classify(ex, oom);
	return v;
}

static int describe_exit(const struct runlet_exit *ex, struct runlet_buf *b)
{
	char line[160];
	if (ex->kind == RUNLET_EXIT_SIGNALED) {
		const char *name = strsignal(ex->signal);
		snprintf(line, sizeof(line), "killed by signal %d (%s)",
			 ex->signal, name ? name : "unknown");
	} else {
		snprintf(line, sizeof(line), "exit code %d", ex->exit_code);
	}
	return buf_add(b, line, strlen(line));
}

static char *dup_bytes(const char *s, size_t n)
{
	char *d = malloc(n + 1);
	if (!d)
		return NULL;
	if (n)
		memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

int verdict_compile(const struct runlet_plugin *p, const struct plan_info *pi,
		    const struct wire_outcome *o, struct result *res, int *ok)
{
	struct runlet_exit ex;
	struct runlet_buf raw = {0}, text = {0}, note = {0};
	int rc = -ENOMEM;

	fill_exit(o, RUNLET_PHASE_COMPILE, &pi->compile_limits, &ex);
	*ok = ex.kind == RUNLET_EXIT_EXITED && ex.exit_code == 0;
	/* compilers write to both streams: show them together */
	if (buf_add(&raw, ex.out, ex.out_len) < 0 ||
	    (ex.out_len && ex.err_len && ex.out[ex.out_len - 1] != '\n' &&
	     buf_add(&raw, "\n", 1) < 0) ||
	    buf_add(&raw, ex.err, ex.err_len) < 0)
		goto out;
	if (!*ok && RUNLET_PLUGIN_HAS(p, classify) && p->classify)
		(void)p->classify(host_get(), &ex, &note);
	if (note.len && (buf_add(&text, note.data, note.len) < 0 ||
			 buf_add(&text, "\n", 1) < 0))
		goto out;
	if (clean(p, pi, RUNLET_PHASE_COMPILE, raw.data, raw.len, &text) < 0)
		goto out;
	if (!*ok) {
		char line[200];
		line[0] = '\0';
		switch (ex.kind) {
		case RUNLET_EXIT_TIMEOUT:
		case RUNLET_EXIT_CPU_TIMEOUT:
			snprintf(line, sizeof(line),
				 "compilation timed out after %.1f s",
				 (double)pi->compile_limits.time_ms / 1000.0);
			break;
		case RUNLET_EXIT_MEMORY:
			snprintf(line, sizeof(line),
				 "compilation ran out of memory (limit %llu MB)",
				 (unsigned long long)(pi->compile_limits.memory_bytes >> 20));
			break;
		case RUNLET_EXIT_OUTPUT_LIMIT:
			snprintf(line, sizeof(line),
				 "compiler output exceeded %llu KB",
				 (unsigned long long)(pi->compile_limits.output_bytes >> 10));
			break;
		case RUNLET_EXIT_SIGNALED:
			snprintf(line, sizeof(line),
				 "compiler killed by signal %d (%s)", ex.signal,
				 strsignal(ex.signal));
			break;
		default:
			break;
		}
		while (text.len && text.data[text.len - 1] == '\n')
			text.data[--text.len] = '\0';
		if (line[0] && ((text.len && buf_add(&text, "\n", 1) < 0) ||
				buf_add(&text, line, strlen(line)) < 0))
			goto out;
		if (ex.kind == RUNLET_EXIT_SETUP) {
			char msg[600];
			snprintf(msg, sizeof(msg),
				 "internal error: the compiler could not start: %s",
				 o->note ? o->note : "unknown reason");
			res->status = RUNLET_VERDICT_IE;
			if (result_set_err(res, msg) < 0)
				goto out;
		} else {
			res->status = RUNLET_VERDICT_CE;
			if (result_set_err(res, text.data ? text.data : "") < 0)
				goto out;
		}
	}
	free(res->compile_output);
	res->compile_output = dup_bytes(text.data ? text.data : "", text.len);
	rc = res->compile_output ? 0 : -ENOMEM;
out:
	buf_clear(&raw);
	buf_clear(&text);
	buf_clear(&note);
	return rc;
}

int verdict_not_run(const struct job_test *jt, enum runlet_verdict v,
		    const char *output, struct res_test *rt)
{
	memset(rt, 0, sizeof(*rt));
	rt->num = jt->num;
	rt->input = jt->input;
	rt->input_len = jt->input_len;
	rt->status = v;
	rt->output = strdup(output);
	rt->output_len = strlen(output);
	return rt->output ? 0 : -ENOMEM;
}

int verdict_test(const struct runlet_plugin *p, const struct plan_info *pi,
		 const struct job_test *jt, const struct wire_outcome *o,
		 struct res_test *rt)
{
	struct runlet_exit ex;
	struct runlet_buf note = {0}, err = {0}, out = {0};
	enum runlet_verdict v;
	int rc = -ENOMEM;

	memset(rt, 0, sizeof(*rt));
	rt->num = jt->num;
	rt->input = jt->input;
	rt->input_len = jt->input_len;
	rt->time_ms = o->cpu_ms;
	rt->wall_ms = o->wall_ms;
	rt->memory_kb = o->mem_kb;
	rt->exit_code = o->exit_code;
	rt->signal = o->signal;

	fill_exit(o, RUNLET_PHASE_RUN, &pi->run_limits, &ex);
	v = classify(p, &ex, o->oom, &note);
	if (clean(p, pi, RUNLET_PHASE_RUN, ex.err, ex.err_len, &err) < 0)
		goto out;
	while (err.len && err.data[err.len - 1] == '\n')
		err.data[--err.len] = '\0';

	switch (v) {
	case RUNLET_VERDICT_OK:
	case RUNLET_VERDICT_WA:
		if (buf_add(&out, ex.out, ex.out_len) < 0)
			goto out;
		normalize(p, out.data, &out.len);
		if (jt->expected) {
			char *exp = dup_bytes(jt->expected, jt->expected_len);
			size_t el = jt->expected_len;
			if (!exp)
				goto out;
			normalize(p, exp, &el);
			v = (el == out.len && memcmp(exp, out.data, el) == 0)
				    ? RUNLET_VERDICT_OK
				    : RUNLET_VERDICT_WA;
			free(exp);
		}
		break;
	case RUNLET_VERDICT_TLE:
		if (buf_add(&out, TIMEOUT_TEXT, strlen(TIMEOUT_TEXT)) < 0)
			goto out;
		break;
	case RUNLET_VERDICT_IE: {
		char msg[600];
		snprintf(msg, sizeof(msg), "internal error: %s",
			 o->note ? o->note : "the program could not start");
		if (buf_add(&out, msg, strlen(msg)) < 0)
			goto out;
		break;
	}
	default: {
		/* RE, MLE, OLE: the note, then stderr, as the contract says */
		const char *fallback = v == RUNLET_VERDICT_MLE
					       ? "memory limit exceeded"
				       : v == RUNLET_VERDICT_OLE
					       ? "output limit exceeded"
					       : NULL;
		if (note.len) {
			while (note.len && note.data[note.len - 1] == '\n')
				note.data[--note.len] = '\0';
			if (buf_add(&out, note.data, note.len) < 0)
				goto out;
		}
		if (err.len) {
			if ((out.len && buf_add(&out, "\n", 1) < 0) ||
			    buf_add(&out, err.data, err.len) < 0)
				goto out;
		}
		if (!out.len) {
			if (fallback) {
				if (buf_add(&out, fallback, strlen(fallback)) < 0)
					goto out;
			} else if (describe_exit(&ex, &out) < 0) {
				goto out;
			}
		}
		break;
	}
	}
	rt->status = v;
	rt->output = dup_bytes(out.data ? out.data : "", out.len);
	rt->output_len = out.len;
	rt->stderr_text = dup_bytes(err.data ? err.data : "", err.len);
	rt->stderr_len = err.len;
	rc = rt->output && rt->stderr_text ? 0 : -ENOMEM;
out:
	buf_clear(&note);
	buf_clear(&err);
	buf_clear(&out);
	return rc;
}
