/* backends/docker: the backend ops (theory of operation in docker.h). */
#include "backends/docker/docker.h"

#include <curl/curl.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backends/backend.h"
#include "backends/docker/api.h"
#include "backends/docker/collect.h"
#include "backends/docker/run.h"
#include "backends/docker/images.h"
#include "backends/docker/spec.h"
#include "backends/docker/staging.h"
#include "backends/docker/stream.h"
#include "backends/docker/sweep.h"
#include "backends/docker/tar.h"
#include "backends/docker/warm.h"
#include "core/config.h"
#include "core/log.h"

#define RUNNER_IN_IMAGE "/runlet/runlet-runner"
#define STAGING_ENV "RUNLET_DOCKER_STAGING"
#define STAGING_DIR_ENV "RUNLET_DOCKER_STAGING_DIR"

struct dock_state {
	const struct cfg *cfg; /* borrowed until close */
	struct dock_endpoint ep;
	char ver[16];
	char owner[320];
	char runner_path[PATH_MAX];
	int bind;              /* staging: host dir bind mounts */
	char staging_root[PATH_MAX];
	pthread_mutex_t lock;  /* guards images and ready */
	struct dock_image_ctx images;
	unsigned char *ready;  /* per cfg->runners entry: image checked */
	atomic_ulong seq;
	struct dock_refill refill; /* the warm pool (pool_on) */
	int pool_on;
};

static const char *dock_workdir(void *state, const struct cfg_runner *runner)
{
	struct dock_state *s = state;
	return s->cfg->tmpfs && *s->cfg->tmpfs ? s->cfg->tmpfs : "/tmp";
}

static void log_build(void *arg, const char *text, size_t len)
{
	while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r'))
		len--;
	if (len == 0)
		return;
	char q[600], line[512];
	snprintf(line, sizeof(line), "%.*s", (int)(len < 500 ? len : 500), text);
	int step = !strncmp(line, "Step ", 5) || !strncmp(line, "runlet:", 7);
	log_event(step ? RUNLET_LOG_INFO : RUNLET_LOG_DEBUG, "docker_build",
		  "output=%s", log_quote(line, q, sizeof(q)));
}

static json_t *warm_body(void *arg, struct dock_client *c, size_t lang,
			 char *err, size_t errlen);
static void warm_image_gone(void *arg, size_t lang);

static int dock_open(const struct cfg *cfg, const struct backend_opts *opts,
		     void **state, char *err, size_t errlen)
{
	struct dock_state *s = calloc(1, sizeof(*s));
	struct dock_client *c = NULL;
	const char *mode = getenv(STAGING_ENV);
	int rc;

	if (!s) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	s->cfg = cfg;
	pthread_mutex_init(&s->lock, NULL);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		snprintf(err, errlen, "libcurl: global init failed");
		free(s);
		return -ENOMEM;
	}
	if ((rc = dock_endpoint_parse(cfg->docker.host, &s->ep, err, errlen)) < 0)
		goto fail;
	if ((rc = dock_client_new(&s->ep, "", &c, err, errlen)) < 0)
		goto fail;
	if ((rc = dock_connect(c, s->ver, sizeof(s->ver), err, errlen)) < 0)
		goto fail;
	dock_owner_self(s->owner, sizeof(s->owner));
	snprintf(s->runner_path, sizeof(s->runner_path), "%s",
		 opts && opts->runner_path ? opts->runner_path : "runlet-runner");
	s->ready = calloc(cfg->nrunners ? cfg->nrunners : 1, 1);
	if (!s->ready) {
		rc = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	s->images = (struct dock_image_ctx){.cfg = cfg, .runner_path = s->runner_path,
					    .out = log_build};
	if (mode && !strcmp(mode, "bind")) {
		const char *dir = getenv(STAGING_DIR_ENV);
		s->bind = 1;
		snprintf(s->staging_root, sizeof(s->staging_root), "%s/runlet-staging",
			 cfg->gateway_source_data_dir && *cfg->gateway_source_data_dir
				 ? cfg->gateway_source_data_dir : "/tmp");
		if (dir && *dir)
			snprintf(s->staging_root, sizeof(s->staging_root), "%s", dir);
		if ((rc = dock_staging_root(s->staging_root, err, errlen)) < 0)
			goto fail;
	} else if (mode && *mode && strcmp(mode, "archive")) {
		snprintf(err, errlen, "%s=%s: expected archive (default) or bind",
			 STAGING_ENV, mode);
		rc = -EINVAL;
		goto fail;
	}
	char e2[512];
	int n = dock_sweep(c, e2, sizeof(e2));
	if (n < 0)
		log_event(RUNLET_LOG_WARN, "docker_sweep_failed", "error=\"%s\"", e2);
	else if (n > 0)
		log_event(RUNLET_LOG_INFO, "docker_swept", "removed=%d", n);
	if (s->bind && (n = dock_staging_sweep(s->staging_root)) > 0)
		log_event(RUNLET_LOG_INFO, "docker_staging_swept", "removed=%d", n);
	if (cfg->docker.pool_size && cfg->nrunners) {
		s->refill.ep = &s->ep;
		s->refill.ver = s->ver;
		s->refill.body = warm_body;
		s->refill.image_gone = warm_image_gone;
		s->refill.arg = s;
		if ((rc = dock_refill_start(&s->refill, cfg->nrunners,
					    (size_t)cfg->docker.pool_size, err, errlen)) < 0)
			goto fail;
		s->pool_on = 1;
		log_event(RUNLET_LOG_INFO, "docker_pool", "pool_size=%llu languages=%zu",
			  (unsigned long long)cfg->docker.pool_size, cfg->nrunners);
	}
	log_event(RUNLET_LOG_DEBUG, "docker_open", "engine=%s api=%s staging=%s",
		  s->ep.display, s->ver, s->bind ? "bind" : "archive");
	dock_client_free(c);
	*state = s;
	return 0;
fail:
	dock_client_free(c);
	free(s->ready);
	pthread_mutex_destroy(&s->lock);
	free(s);
	curl_global_cleanup();
	return rc;
}

static void dock_close(void *state)
{
	struct dock_state *s = state;
	if (!s)
		return;
	if (s->pool_on)
		dock_refill_stop(&s->refill);
	free(s->ready);
	pthread_mutex_destroy(&s->lock);
	free(s);
	curl_global_cleanup();
}

static size_t runner_index(const struct dock_state *s, const struct cfg_runner *r)
{
	if (r >= s->cfg->runners && r < s->cfg->runners + s->cfg->nrunners)
		return (size_t)(r - s->cfg->runners);
	return s->cfg->nrunners;
}

static int ensure_image(struct dock_state *s, struct dock_client *c,
			const struct cfg_runner *r, char *err, size_t errlen)
{
	size_t idx = runner_index(s, r);
	int rc = 0;
	pthread_mutex_lock(&s->lock);
	if (idx < s->cfg->nrunners && s->ready[idx])
		goto out;
	rc = dock_image_ensure(c, &s->images, r, err, errlen);
	if (rc == 0 && idx < s->cfg->nrunners)
		s->ready[idx] = 1;
out:
	pthread_mutex_unlock(&s->lock);
	return rc;
}

static void forget_image(struct dock_state *s, const struct cfg_runner *r)
{
	pthread_mutex_lock(&s->lock);
	if (r >= s->cfg->runners && r < s->cfg->runners + s->cfg->nrunners)
		s->ready[r - s->cfg->runners] = 0;
	s->images.shared_done = 0;
	pthread_mutex_unlock(&s->lock);
}

/* The backend's part of the plan. */
static int fill_plan(struct dock_state *s, struct wire_plan *p)
{
	char *wd = strdup(dock_workdir(s, NULL));
	if (!wd)
		return -ENOMEM;
	free(p->workdir);
	p->workdir = wd;
	p->uid = p->gid = -1;
	p->seccomp = 1;
	free(p->cg_mem);
	free(p->cg_pids);
	free(p->cg_cpu);
	p->cg_mem = p->cg_pids = p->cg_cpu = NULL;
	p->cg_v2 = 0;
	/* The container's pids cgroup (PidsLimit) bounds processes. Without
	 * cgroup dirs the runner would fall back to RLIMIT_NPROC, which counts
	 * every process of uid 1001 on the host: all containers together. */
	p->compile.lim.pids = p->run.lim.pids = 0;
	return 0;
}

/* Put the plan into the container's volume before start. */
static int put_plan(struct dock_client *c, const char *id, const char *dir,
		    const struct wire_buf *plan, char *err, size_t errlen)
{
	struct dock_tar *t = NULL;
	struct wire_buf tar = {0};
	int rc = dock_tar_new(&t);
	if (rc == 0)
		rc = dock_tar_add_file(t, "plan", 0444, 0, 0, plan->data, plan->len);
	if (rc == 0) {
		rc = dock_tar_finish(t, &tar);
		t = NULL;
	}
	if (rc < 0) {
		dock_tar_free(t);
		snprintf(err, errlen, "packing the plan: %s", strerror(-rc));
		return rc;
	}
	rc = dock_container_put_archive(c, id, dir, tar.data, tar.len, err, errlen);
	wire_buf_free(&tar);
	return rc;
}

static int stream_pump(void *src, long timeout_ms, char *err, size_t errlen)
{
	return dock_stream_pump(src, timeout_ms, err, errlen);
}

/* Attach, start, read until the end or the deadline. After the compile
 * step, the container's memory goes down to the tests' limit run_mem (the
 * compiler's pages are freed by then; the tmpfs keeps only its output). */
static int run_container(struct dock_client *c, const char *id,
			 uint64_t deadline_ms, uint64_t run_mem,
			 struct dock_sink *sc, struct dock_fate *fate, char *err,
			 size_t errlen)
{
	struct dock_stream *st = NULL;
	char path[256];
	long status = 0;
	int rc;

	snprintf(path, sizeof(path),
		 "/containers/%s/attach?stream=1&stdout=1&stderr=1", id);
	if ((rc = dock_stream_open(c, "POST", path, dock_sink_feed, sc, &st, err,
				   errlen)) < 0)
		return rc;
	if ((rc = dock_stream_headers(st, 30000, &status, err, errlen)) < 0)
		goto out;
	if (status != 200) {
		snprintf(err, errlen, "docker attach: HTTP %ld", status);
		rc = -EIO;
		goto out;
	}
	if ((rc = dock_container_start(c, id, err, errlen)) < 0)
		goto out;
	rc = dock_run_pump(c, id, deadline_ms, run_mem, stream_pump, st, sc, fate,
			   err, errlen);
out:
	dock_stream_free(st);
	return rc;
}

/* The job on a warm container of its language: 0 or -errno (the job's
 * outcome, to be collected), 1 when none could be had (go cold). The
 * container is removed whatever happens: single use. */
static int run_warm(struct dock_state *s, struct dock_client *c,
		    const struct backend_job *job, const struct wire_buf *plan,
		    const struct dock_spec *spec, uint64_t run_mem,
		    struct dock_sink *sc, struct dock_fate *fate, char *err,
		    size_t errlen)
{
	size_t lang = runner_index(s, job->runner);
	char e2[512], q[600];
	struct dock_warm *w = s->pool_on && lang < s->cfg->nrunners
				      ? dock_refill_take(&s->refill, c, lang)
				      : NULL;
	if (!w)
		return 1;
	long t0 = dock_now_ms();
	char w_id[16];
	snprintf(w_id, sizeof(w_id), "%.12s", w->id);
	int rc = dock_warm_update(c, w, spec->memory, spec->pids_limit, e2, sizeof(e2));
	if (rc == 0)
		rc = dock_warm_hand(w, plan->data, plan->len, e2, sizeof(e2));
	if (rc < 0) {
		log_event(RUNLET_LOG_WARN, "docker_pool_handover_failed",
			  "container=%.12s error=%s note=\"the job gets a new container\"",
			  w->id, log_quote(e2, q, sizeof(q)));
		dock_warm_discard(c, w);
		return 1;
	}
	log_event(RUNLET_LOG_INFO, "docker_pool_take", "container=%.12s job=%s lang=%s ms=%ld",
		  w->id, job->job_id ? job->job_id : "", job->runner->code,
		  dock_now_ms() - t0);
	long t1 = dock_now_ms();
	/* The job is over at the runner's end record. The container's exit
	 * and the engine's account of it (wait, inspect: OOMKilled) took
	 * 20-25 ms more; they are needed only when the runner did not find
	 * the OOM kills itself. The refiller removes the container. */
	sc->stop_at_end = 1;
	rc = dock_warm_run(c, w, fate->deadline_ms, run_mem, sc, fate, err, errlen);
	long t2 = dock_now_ms();
	if (rc == 0 && !(sc->col.ended && sc->col.oom_watched && !fate->deadline))
		rc = dock_read_fate(c, w->id, fate, err, errlen);
	long t3 = dock_now_ms();
	dock_refill_bury(&s->refill, c, w);
	log_event(RUNLET_LOG_DEBUG, "docker_pool_job",
		  "container=%.12s update_ms=%ld run_ms=%ld fate_ms=%ld remove_ms=%ld",
		  w_id, t1 - t0, t2 - t1, t3 - t2, dock_now_ms() - t3);
	return rc;
}

static void warm_image_gone(void *arg, size_t lang)
{
	struct dock_state *s = arg;
	forget_image(s, &s->cfg->runners[lang]);
}

/* The create body of a warm container of cfg->runners[lang]. */
static json_t *warm_body(void *arg, struct dock_client *c, size_t lang,
			 char *err, size_t errlen)
{
	struct dock_state *s = arg;
	const struct cfg_runner *r = &s->cfg->runners[lang];
	struct dock_spec spec = {0};
	char image[256], job[64];
	const char *argv[] = {RUNNER_IN_IMAGE, NULL};
	if (ensure_image(s, c, r, err, errlen) < 0)
		return NULL;
	if (dock_image_name(s->cfg, r->code, image, sizeof(image)) < 0) {
		snprintf(err, errlen, "runner image name too long");
		return NULL;
	}
	dock_spec_from_cfg(&spec, s->cfg, r);
	/* the limits a job of the language's defaults asks for (execute()),
	 * so that such a job needs no update at hand-over */
	spec.memory = dock_step_memory(&(struct wire_step){0}, spec.memory);
	uint64_t pids = dock_plan_pids(&(struct wire_plan){0}, r->limits.pids_limit);
	if (pids)
		spec.pids_limit = pids;
	spec.mount_target = NULL; /* the plan comes on stdin */
	spec.open_stdin = 1;
	spec.image = image;
	spec.argv = argv;
	snprintf(job, sizeof(job), "pool-%s", r->code);
	spec.job_id = job;
	spec.owner = s->owner;
	json_t *body = dock_spec_json(&spec);
	if (!body)
		snprintf(err, errlen, "out of memory");
	return body;
}

static int dock_execute(void *state, const struct backend_job *job,
			struct wire_result *res, char *err, size_t errlen)
{
	struct dock_state *s = state;
	struct dock_client *c = NULL;
	struct wire_buf plan = {0};
	struct dock_sink sc;
	struct dock_fate fate = {0};
	struct dock_spec spec = {0};
	json_t *body = NULL;
	char image[256], id[128] = "", dir[PATH_MAX] = "", plan_path[PATH_MAX];
	char e2[512];
	int rc;

	memset(&sc, 0, sizeof(sc));
	memset(res, 0, sizeof(*res));
	dock_demux_init(&sc.dm);
	dock_refill_begin(&s->refill);
	uint64_t pids = dock_plan_pids(job->plan, job->runner->limits.pids_limit);
	if ((rc = fill_plan(s, job->plan)) < 0) {
		snprintf(err, errlen, "encoding the plan: %s", strerror(-rc));
		goto out;
	}
	dock_collect_init(&sc.col, dock_output_bound(job->plan), job->progress,
			  job->progress_arg);
#ifdef WIRE_MAX_ARTIFACT
	sc.col.need_artifact = job->plan->emit != 0;
#endif
	if ((rc = dock_client_new(&s->ep, s->ver, &c, err, errlen)) < 0)
		goto out;
	dock_spec_from_cfg(&spec, s->cfg, job->runner);
	if (pids)
		spec.pids_limit = pids;
	spec.memory = dock_step_memory(&job->plan->run, spec.memory);
	if (job->plan->has_compile) {
		uint64_t cm = dock_step_memory(&job->plan->compile, spec.memory);
		if (cm > spec.memory)
			spec.memory = cm;
	}
	fate.deadline_ms = dock_deadline_ms(job->plan);
	fate.mem_limit = dock_step_memory(&job->plan->run, spec.memory);
	uint64_t run_mem = dock_step_memory(&job->plan->run, spec.memory);
	if (!job->plan->has_compile || run_mem >= spec.memory)
		run_mem = 0;
	/* the runner waits for the lowered limit before its first test */
	job->plan->await_mem = run_mem;
	/* and tells an OOM-killed step itself (runner/oomwatch.h) */
	job->plan->oomwatch = 1;
	if ((rc = wire_plan_encode(job->plan, &plan)) < 0) {
		snprintf(err, errlen, "encoding the plan: %s", strerror(-rc));
		goto out;
	}
	if ((rc = run_warm(s, c, job, &plan, &spec, run_mem, &sc, &fate, err,
			   errlen)) <= 0)
		goto done;
	if ((rc = ensure_image(s, c, job->runner, err, errlen)) < 0)
		goto out;
	if ((rc = dock_image_name(s->cfg, job->runner->code, image, sizeof(image))) < 0) {
		snprintf(err, errlen, "runner image name too long");
		goto out;
	}
	if (s->bind) {
		unsigned long seq = atomic_fetch_add(&s->seq, 1);
		if ((rc = dock_staging_create(s->staging_root, seq, plan.data, plan.len,
					      dir, sizeof(dir), err, errlen)) < 0)
			goto out;
		spec.bind_source = dir;
	}
	snprintf(plan_path, sizeof(plan_path), "%s/plan", spec.mount_target);
	const char *argv[] = {RUNNER_IN_IMAGE, "--plan", plan_path, NULL};
	spec.image = image;
	spec.argv = argv;
	spec.job_id = job->job_id;
	spec.owner = s->owner;
	if (!(body = dock_spec_json(&spec))) {
		rc = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	rc = dock_container_create(c, NULL, body, id, sizeof(id), err, errlen);
	if (rc == -ENOENT) {
		/* the image went away since it was checked: build it again */
		forget_image(s, job->runner);
		if ((rc = ensure_image(s, c, job->runner, err, errlen)) == 0)
			rc = dock_container_create(c, NULL, body, id, sizeof(id), err,
						   errlen);
	}
	if (rc < 0)
		goto out;
	if (!s->bind &&
	    (rc = put_plan(c, id, spec.mount_target, &plan, err, errlen)) < 0)
		goto out;
	if ((rc = run_container(c, id, fate.deadline_ms, run_mem, &sc, &fate, err,
				errlen)) < 0)
		goto out;
	if ((rc = dock_read_fate(c, id, &fate, err, errlen)) < 0)
		goto out;
done:
	if (rc == 0)
		rc = dock_collect_finish(&sc.col, job->plan, &fate, res, err, errlen);
out:
	if (id[0] && dock_container_remove(c, id, e2, sizeof(e2)) < 0)
		log_event(RUNLET_LOG_WARN, "docker_remove_failed",
			  "container=%.12s error=\"%s\"", id, e2);
	if (dir[0] && dock_staging_remove(s->staging_root, dir) < 0)
		log_event(RUNLET_LOG_WARN, "docker_staging_remove_failed", "dir=%s", dir);
	json_decref(body);
	dock_collect_free(&sc.col);
	wire_buf_free(&plan);
	dock_client_free(c);
	dock_refill_end(&s->refill);
	return rc;
}

const struct backend_ops docker_backend_ops = {
	.name = "docker",
	.workdir = dock_workdir,
	.open = dock_open,
	.execute = dock_execute,
	.close = dock_close,
};
