/* Dispatch: judge one submission with an opened context (core/context.c).
 *
 * Flow of runlet_judge: registry[job.lang] -> plan_build (plugin hooks) ->
 * backend.execute (runner in a sandbox) -> verdict_compile / verdict_test
 * (plugin hooks) -> struct result with every test once, in request order.
 */
#include "core/dispatch.h"

#include <errno.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/context.h"
#include "core/cache.h"
#include "core/config.h"
#include "core/log.h"
#include "core/plan.h"
#include "core/registry.h"
#include "core/verdict.h"

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- judging ---- */

struct judge_state {
	const struct job *job;
	const struct runlet_plugin *plugin;
	const struct plan_info *info;
	const struct judge_hooks *hooks;
	struct result *res;
	size_t done;      /* tests judged so far (in order) */
	int compiled_ok;  /* -1 unknown, 0 failed, 1 ok */
	int started;      /* some test's program did start */
	int oom;          /* out of memory while judging */
};

static void judge_outcome(struct judge_state *st, const struct wire_outcome *o)
{
	if (o->is_compile) {
		int ok = 0;
		if (verdict_compile(st->plugin, st->info, o, st->res, &ok) < 0)
			st->oom = 1;
		st->compiled_ok = ok;
		if (st->hooks && st->hooks->on_compiled)
			st->hooks->on_compiled(st->hooks->arg, st->job, ok);
		return;
	}
	if (st->done >= st->job->ntests ||
	    (uint64_t)st->job->tests[st->done].num != o->num)
		return; /* not the next test in order: handled at the end */
	struct res_test *rt = &st->res->tests[st->done];
	struct wire_outcome blamed;
	if (o->status == RUNLET_EXIT_SETUP &&
	    (st->started || (o->note && strstr(o->note, "worker")))) {
		/* The program started for an earlier test and cannot start now
		 * (the submission changed its own files), or the runner's
		 * worker for parallel tests was killed (by the submission's
		 * neighbour tests, or the sandbox's memory running out): the
		 * program's doing, not runlet's. */
		blamed = *o;
		blamed.status = RUNLET_EXIT_EXITED;
		blamed.exit_code = 127;
		blamed.err = blamed.note ? blamed.note : "the program could not be started again";
		blamed.err_len = strlen(blamed.err);
		o = &blamed;
	} else if (o->status != RUNLET_EXIT_SETUP) {
		st->started = 1;
	}
	if (verdict_test(st->plugin, st->info, &st->job->tests[st->done], o,
			 rt) < 0)
		st->oom = 1;
	if (st->hooks && st->hooks->on_test)
		st->hooks->on_test(st->hooks->arg, st->job, st->done, rt);
	st->done++;
}

static void on_progress(void *arg, const struct wire_outcome *o)
{
	judge_outcome(arg, o);
}

/* Tests the runner did not report: CE after a failed compile, IE when the
 * runner or backend failed. */
static int fill_missing(struct judge_state *st, enum runlet_verdict v,
			const char *text)
{
	for (; st->done < st->job->ntests; st->done++) {
		struct res_test *rt = &st->res->tests[st->done];
		if (verdict_not_run(&st->job->tests[st->done], v, text, rt) < 0)
			return -ENOMEM;
		if (st->hooks && st->hooks->on_test)
			st->hooks->on_test(st->hooks->arg, st->job, st->done, rt);
	}
	return 0;
}

static int fail_all(struct judge_state *st, enum runlet_verdict v,
		    const char *msg)
{
	char text[1200];
	st->res->status = v;
	if (result_set_err(st->res, msg) < 0)
		return -ENOMEM;
	snprintf(text, sizeof(text), "%s%s",
		 v == RUNLET_VERDICT_IE ? "internal error: " : "", msg);
	return fill_missing(st, v, text);
}

/* A cache hit: the plan carries the compile's artifacts as files instead of
 * a compile step. Takes the artifacts' data out of o. */
static int plan_use_artifacts(struct wire_plan *plan, struct wire_outcome *o)
{
	struct wire_file *nf = realloc(plan->files, (plan->nfiles + o->nartifacts) *
							    sizeof(*nf));
	if (!nf)
		return -ENOMEM;
	plan->files = nf;
	for (size_t i = 0; i < o->nartifacts; i++) {
		struct wire_file *f = &nf[plan->nfiles];
		memset(f, 0, sizeof(*f));
		f->path = o->artifacts[i].name;
		f->mode = o->artifacts[i].mode;
		f->data = o->artifacts[i].data;
		f->len = o->artifacts[i].len;
		o->artifacts[i].name = o->artifacts[i].data = NULL;
		plan->nfiles++;
	}
	wire_strv_free(plan->compile.argv, plan->compile.argc);
	wire_strv_free(plan->compile.envp, plan->compile.envc);
	memset(&plan->compile, 0, sizeof(plan->compile));
	plan->has_compile = 0;
	plan->emit = 0;
	return 0;
}

/* Look the compile up in the cache: 1 hit (plan changed, compile outcome
 * judged from the entry), 0 miss (the plan asks for the artifacts), <0 no
 * cache for this job. */
static int cache_lookup(struct runlet_ctx *ctx, struct judge_state *st,
			const struct cfg_runner *cr, const char *bname,
			struct wire_plan *plan, char key[CACHE_KEY_HEX])
{
	const char *ident[] = {st->plugin->name, st->plugin->version, bname,
			       cr->image ? cr->image : ""};
	struct wire_outcome o;
	int rc;

	if (!ctx->cache || !plan->has_compile)
		return -1;
	plan->emit = 1;
	if (cache_key(plan, ident, 4, key) < 0) {
		plan->emit = 0;
		return -1;
	}
	rc = cache_get(ctx->cache, key, &o);
	if (rc != 1)
		return 0;
	/* judged as the compile it was: same messages, same warnings */
	judge_outcome(st, &o);
	if (plan_use_artifacts(plan, &o) < 0)
		st->oom = 1;
	wire_outcome_free(&o);
	log_event(RUNLET_LOG_DEBUG, "compile_cache_hit", "key=%.16s", key);
	return 1;
}

/* Tests of one submission run at once on the cores no other judgement is
 * using, bounded by parallel_tests (and by the container's CPU share on
 * docker). busy counts this judgement too. */
static uint64_t parallel_for(const struct runlet_ctx *ctx,
			     const struct cfg_runner *cr, const char *bname,
			     long busy, size_t ntests)
{
	long idle = ctx->ncpu - (busy - 1);
	uint64_t max = cr->limits.parallel_tests ? cr->limits.parallel_tests
						 : (uint64_t)ctx->ncpu;
	if (strcmp(bname, "docker") == 0 && cr->cpu_cores >= 1.0 &&
	    (uint64_t)cr->cpu_cores < max)
		max = (uint64_t)cr->cpu_cores;
	if (idle < 1)
		idle = 1;
	if ((uint64_t)idle < max)
		max = (uint64_t)idle;
	if (max > ntests)
		max = ntests;
	return max ? max : 1;
}

static void cache_store(struct runlet_ctx *ctx, const char *key,
			const struct wire_result *wr)
{
	const struct wire_outcome *c = &wr->compile;
	if (!wr->has_compile || c->status != RUNLET_EXIT_EXITED ||
	    c->exit_code != 0 || !c->nartifacts)
		return;
	int rc = cache_put(ctx->cache, key, c);
	if (rc < 0)
		log_event(RUNLET_LOG_WARN, "compile_cache_store_failed",
			  "key=%.16s error=\"%s\"", key, strerror(-rc));
}

int runlet_judge(struct runlet_ctx *ctx, const struct job *job,
		 const struct judge_hooks *hooks, struct result **out)
{
	uint64_t t0 = now_ms();
	const struct cfg_runner *cr = cfg_runner_find(ctx->cfg, job->lang);
	const char *bname = ctx_runner_backend(ctx, cr);
	struct ctx_backend *be = ctx_find_backend(ctx, bname);
	struct result *res = result_new(job->ntests);
	struct wire_plan plan;
	struct wire_result wr;
	struct plan_info info;
	char err[1024] = "", job_id[96];
	struct judge_state st = {0};
	int rc;

	memset(&plan, 0, sizeof(plan));
	memset(&wr, 0, sizeof(wr));
	if (!res)
		return -ENOMEM;
	res->student_id = job->student_id;
	res->problem_id = job->problem_id;
	res->course_id = job->course_id;
	res->code = job->code;
	res->code_len = job->code_len;
	res->host = ctx->host;
	res->backend = bname;
	res->id = job->id;
	st.job = job;
	st.hooks = hooks;
	st.res = res;
	st.compiled_ok = -1;
	st.plugin = registry_get(ctx->reg, job->lang);

	if (!cr || !st.plugin || !be) {
		snprintf(err, sizeof(err), "language %s is not configured",
			 job->lang);
		rc = fail_all(&st, RUNLET_VERDICT_IE, err);
		goto done;
	}
	rc = plan_build(ctx->cfg, cr, st.plugin, bname,
			be->ops->workdir(be->state, cr), job, &plan, &info, err,
			sizeof(err));
	if (rc < 0) {
		rc = fail_all(&st, RUNLET_VERDICT_IE, err);
		goto done;
	}
	st.info = &info;
	char key[CACHE_KEY_HEX];
	int cached = cache_lookup(ctx, &st, cr, bname, &plan, key);
	if (st.oom) {
		rc = -ENOMEM;
		goto done;
	}
	long busy = atomic_fetch_add(&ctx->busy, 1) + 1;
	plan.parallel = parallel_for(ctx, cr, bname, busy, job->ntests);
	snprintf(job_id, sizeof(job_id), "%ld-%lu", (long)getpid(),
		 (unsigned long)atomic_fetch_add(&ctx->seq, 1));
	struct backend_job bj = {
		.cfg = ctx->cfg,
		.runner = cr,
		.job_id = job_id,
		.plan = &plan,
		.progress = on_progress,
		.progress_arg = &st,
	};
	rc = be->ops->execute(be->state, &bj, &wr, err, sizeof(err));
	atomic_fetch_sub(&ctx->busy, 1);
	if (rc < 0) {
		log_event(RUNLET_LOG_ERROR, "backend_failed", "backend=%s job=%s error=\"%s\"",
			  bname, job_id, err);
		rc = fail_all(&st, RUNLET_VERDICT_IE, err[0] ? err : strerror(-rc));
		goto done;
	}
	if (cached == 0)
		cache_store(ctx, key, &wr);
	/* outcomes the backend did not stream */
	if (wr.has_compile && st.compiled_ok < 0)
		judge_outcome(&st, &wr.compile);
	if (st.compiled_ok != 0) {
		for (size_t i = 0; i < wr.ntests; i++) {
			if (st.done < job->ntests &&
			    (uint64_t)job->tests[st.done].num == wr.tests[i].num)
				judge_outcome(&st, &wr.tests[i]);
		}
	}
	if (info.has_compile && st.compiled_ok < 0) {
		rc = fail_all(&st, RUNLET_VERDICT_IE,
			      wr.error ? wr.error
				       : "the runner reported no compile outcome");
	} else if (st.compiled_ok == 0) {
		rc = fill_missing(&st, res->status == RUNLET_VERDICT_IE
					       ? RUNLET_VERDICT_IE
					       : RUNLET_VERDICT_CE,
				  res->status == RUNLET_VERDICT_IE
					  ? res->err_msg
					  : "compilation error");
	} else if (st.done < job->ntests) {
		snprintf(err, sizeof(err), "%s",
			 wr.error ? wr.error
				  : "the runner stopped before every test ran");
		rc = fail_all(&st, RUNLET_VERDICT_IE, err);
	} else {
		rc = 0;
	}
done:
	wire_result_free(&wr);
	wire_plan_free(&plan);
	if (rc < 0 || st.oom) {
		result_free(res);
		return -ENOMEM;
	}
	if (res->status != RUNLET_VERDICT_CE && res->status != RUNLET_VERDICT_IE)
		res->status = result_overall(res);
	res->duration_ms = now_ms() - t0;
	*out = res;
	return 0;
}

/* An error result for an invalid but identifiable submission. */
static json_t *error_result(struct runlet_ctx *ctx, const struct job_ids *ids,
			    const char *msg_id, const char *msg)
{
	size_t n = ids->run_data ? json_array_size(ids->run_data) : 0;
	struct result *res = result_new(n);
	json_t *j = NULL;
	char text[1200];

	if (!res)
		return NULL;
	res->student_id = ids->student_id;
	res->problem_id = ids->problem_id;
	res->course_id = ids->course_id;
	res->code = ids->code ? json_string_value(ids->code) : "";
	res->code_len = ids->code ? json_string_length(ids->code) : 0;
	res->host = ctx->host;
	res->backend = "none";
	res->id = msg_id;
	res->status = RUNLET_VERDICT_IE;
	snprintf(text, sizeof(text), "invalid submission: %s", msg);
	if (result_set_err(res, text) < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		json_t *e = json_array_get(ids->run_data, i);
		json_t *num = json_is_object(e) ? json_object_get(e, "test_num") : NULL;
		json_t *in = json_is_object(e) ? json_object_get(e, "input") : NULL;
		struct res_test *rt = &res->tests[i];
		rt->num = json_is_integer(num) ? json_integer_value(num) : (int64_t)i + 1;
		rt->input = json_is_string(in) ? json_string_value(in) : "";
		rt->input_len = json_is_string(in) ? json_string_length(in) : 0;
		rt->status = RUNLET_VERDICT_IE;
		rt->output = strdup(text);
		if (!rt->output)
			goto out;
		rt->output_len = strlen(text);
	}
	j = result_to_json(res);
out:
	result_free(res);
	return j;
}

int runlet_judge_body(struct runlet_ctx *ctx, const char *body, size_t len,
		      const char *msg_id, const struct judge_hooks *hooks,
		      json_t **out, char *err, size_t errlen)
{
	struct job *job = NULL;
	struct job_ids ids;
	struct result *res = NULL;
	int rc;

	memset(&ids, 0, sizeof(ids));
	*out = NULL;
	rc = job_parse(body, len, ctx->cfg, &job, &ids, err, errlen);
	if (rc < 0) {
		if (ids.identifiable)
			*out = error_result(ctx, &ids, msg_id, err);
		job_ids_clear(&ids);
		return -EINVAL;
	}
	if (msg_id) {
		job->id = strdup(msg_id);
		if (!job->id) {
			job_free(job);
			return -ENOMEM;
		}
	}
	rc = runlet_judge(ctx, job, hooks, &res);
	if (rc == 0) {
		*out = result_to_json(res);
		if (!*out)
			rc = -ENOMEM;
		result_free(res);
	}
	job_free(job);
	if (rc < 0)
		snprintf(err, errlen, "out of memory while judging");
	return rc;
}
