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
#include "backends/docker/images.h"
#include "backends/docker/spec.h"
#include "backends/docker/staging.h"
#include "backends/docker/stream.h"
#include "backends/docker/sweep.h"
#include "backends/docker/tar.h"
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
	if (cfg->docker.pool_size)
		log_event(RUNLET_LOG_WARN, "docker_pool_unsupported",
			  "pool_size=%llu note=\"runlet starts one container per job\"",
			  (unsigned long long)cfg->docker.pool_size);
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
	free(s->ready);
	pthread_mutex_destroy(&s->lock);
	free(s);
	curl_global_cleanup();
}

static int ensure_image(struct dock_state *s, struct dock_client *c,
			const struct cfg_runner *r, char *err, size_t errlen)
{
	size_t idx = s->cfg->nrunners;
	int rc = 0;
	if (r >= s->cfg->runners && r < s->cfg->runners + s->cfg->nrunners)
		idx = (size_t)(r - s->cfg->runners);
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

/* The container's pids limit: the largest the plan asks for (or the
 * config's), plus the runner itself. */
static uint64_t plan_pids(const struct wire_plan *p, uint64_t cfg_pids)
{
	uint64_t n = cfg_pids;
	if (p->run.lim.pids > n)
		n = p->run.lim.pids;
	if (p->has_compile && p->compile.lim.pids > n)
		n = p->compile.lim.pids;
	return n ? n + 1 : 0;
}

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct sink_ctx {
	struct dock_demux dm;
	struct dock_collect col;
	int rc;
};

static int on_attach(void *arg, const char *p, size_t n)
{
	struct sink_ctx *sc = arg;
	int rc = dock_demux_feed(&sc->dm, p, n, dock_collect_frame, &sc->col);
	if (rc != 0)
		sc->rc = rc;
	return rc;
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

/* The container's memory while the plan's step runs: the step's limit
 * (the job's, clamped by the config), else the runner's mem_limit. */
static uint64_t step_memory(const struct wire_step *st, uint64_t fallback)
{
	uint64_t m = st->lim.mem_kb ? st->lim.mem_kb * 1024 : fallback;
	return m && m < (6u << 20) ? (6u << 20) : m; /* the engine's minimum */
}

/* After the compile step, the container's memory goes down to the tests'
 * limit (the compiler's pages are freed by then; the tmpfs keeps only its
 * output). */
/* 0 done, 1 the container ended meanwhile, -errno refused (its usage is
 * above mem: the running test is over its limit). */
static int lower_memory(struct dock_client *c, const char *id, uint64_t mem)
{
	char e2[512], q[600];
	long t0 = now_ms();
	json_t *r = json_pack("{s:I, s:I}", "Memory", (json_int_t)mem,
			      "MemorySwap", (json_int_t)mem);
	int rc = r ? dock_container_update(c, id, r, e2, sizeof(e2)) : -ENOMEM;
	json_decref(r);
	if (rc == 0) {
		log_event(RUNLET_LOG_DEBUG, "docker_memory_lowered",
			  "container=%.12s bytes=%llu ms=%ld", id,
			  (unsigned long long)mem, now_ms() - t0);
		return 0;
	}
	/* a container that ended meanwhile is no failure */
	int gone = rc == -ENOMEM ? 0 : (strstr(e2, "stopped") || strstr(e2, "not found"));
	log_event(gone ? RUNLET_LOG_DEBUG : RUNLET_LOG_WARN, "docker_update_failed",
		  "container=%.12s error=%s", id, log_quote(e2, q, sizeof(q)));
	return gone ? 1 : rc;
}

/* Attach, start, read until the end or the deadline. */
static int run_container(struct dock_client *c, const char *id,
			 uint64_t deadline_ms, uint64_t run_mem,
			 struct sink_ctx *sc, struct dock_fate *fate, char *err,
			 size_t errlen)
{
	struct dock_stream *st = NULL;
	char path[256], e2[512];
	long status = 0;
	int rc;

	snprintf(path, sizeof(path),
		 "/containers/%s/attach?stream=1&stdout=1&stderr=1", id);
	if ((rc = dock_stream_open(c, "POST", path, on_attach, sc, &st, err, errlen)) < 0)
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
	long end = now_ms() + (long)(deadline_ms > LONG_MAX / 2 ? LONG_MAX / 2 : deadline_ms);
	long grace = 0;
	for (;;) {
		long t = now_ms();
		if (!fate->deadline && t >= end) {
			fate->deadline = 1;
			dock_container_kill(c, id, e2, sizeof(e2));
			grace = t + 15000;
		}
		if (fate->deadline && t >= grace) {
			rc = 0; /* killed and the stream lingers: take what came */
			break;
		}
		long wait = (fate->deadline ? grace : end) - t;
		size_t before = sc->col.out.len;
		rc = dock_stream_pump(st, wait > 20 ? 20 : wait, err, errlen);
		if (rc == 1) {
			rc = 0;
			break;
		}
		if (rc == 0 && sc->col.out.len == before)
			dock_collect_idle(&sc->col);
		if (run_mem && sc->col.compile_done) {
			if (lower_memory(c, id, run_mem) < 0) {
				/* a test already holds more than its limit */
				fate->oom = 1;
				dock_container_kill(c, id, e2, sizeof(e2));
			}
			run_mem = 0;
		}
		if (rc < 0) {
			if (sc->rc == -E2BIG)
				snprintf(err, errlen,
					 "runlet-runner wrote more than the plan allows (%llu bytes)",
					 (unsigned long long)sc->col.out_limit);
			else if (sc->rc == -EPROTO)
				snprintf(err, errlen, "docker attach: a malformed stream frame");
			dock_container_kill(c, id, e2, sizeof(e2));
			goto out;
		}
	}
	if (dock_demux_end(&sc->dm) < 0 && !fate->deadline) {
		snprintf(err, errlen, "docker attach: the stream ended inside a frame");
		rc = -EPROTO;
	}
out:
	dock_stream_free(st);
	return rc;
}

static int read_fate(struct dock_client *c, const char *id,
		     struct dock_fate *fate, char *err, size_t errlen)
{
	json_t *j = NULL;
	int64_t code = -1;
	int rc = dock_container_wait(c, id, 30000, &code, err, errlen);
	if (rc < 0)
		return rc;
	fate->exit_code = code;
	if ((rc = dock_container_inspect(c, id, &j, err, errlen)) < 0)
		return rc;
	json_t *state = json_object_get(j, "State");
	fate->oom |= json_is_true(json_object_get(state, "OOMKilled"));
	json_decref(j);
	return 0;
}

static int dock_execute(void *state, const struct backend_job *job,
			struct wire_result *res, char *err, size_t errlen)
{
	struct dock_state *s = state;
	struct dock_client *c = NULL;
	struct wire_buf plan = {0};
	struct sink_ctx sc;
	struct dock_fate fate = {0};
	struct dock_spec spec = {0};
	json_t *body = NULL;
	char image[256], id[128] = "", dir[PATH_MAX] = "", plan_path[PATH_MAX];
	char e2[512];
	int rc;

	memset(&sc, 0, sizeof(sc));
	memset(res, 0, sizeof(*res));
	dock_demux_init(&sc.dm);
	uint64_t pids = plan_pids(job->plan, job->runner->limits.pids_limit);
	if ((rc = fill_plan(s, job->plan)) < 0 ||
	    (rc = wire_plan_encode(job->plan, &plan)) < 0) {
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
	if ((rc = ensure_image(s, c, job->runner, err, errlen)) < 0)
		goto out;
	if ((rc = dock_image_name(s->cfg, job->runner->code, image, sizeof(image))) < 0) {
		snprintf(err, errlen, "runner image name too long");
		goto out;
	}
	dock_spec_from_cfg(&spec, s->cfg, job->runner);
	if (pids)
		spec.pids_limit = pids;
	spec.memory = step_memory(&job->plan->run, spec.memory);
	if (job->plan->has_compile) {
		uint64_t cm = step_memory(&job->plan->compile, spec.memory);
		if (cm > spec.memory)
			spec.memory = cm;
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
	fate.deadline_ms = dock_deadline_ms(job->plan);
	fate.mem_limit = step_memory(&job->plan->run, spec.memory);
	uint64_t run_mem = step_memory(&job->plan->run, spec.memory);
	if ((rc = run_container(c, id, fate.deadline_ms,
				job->plan->has_compile && run_mem < spec.memory ? run_mem : 0,
				&sc, &fate, err, errlen)) < 0)
		goto out;
	if ((rc = read_fate(c, id, &fate, err, errlen)) < 0)
		goto out;
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
	return rc;
}

const struct backend_ops docker_backend_ops = {
	.name = "docker",
	.workdir = dock_workdir,
	.open = dock_open,
	.execute = dock_execute,
	.close = dock_close,
};
