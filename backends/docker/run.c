/* backends/docker: one container's run until its end (see run.h). */
#include "backends/docker/run.h"

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "backends/docker/api.h"
#include "core/log.h"

long dock_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int dock_sink_feed(void *arg, const char *p, size_t n)
{
	struct dock_sink *sc = arg;
	int rc = dock_demux_feed(&sc->dm, p, n, dock_collect_frame, &sc->col);
	if (rc != 0)
		sc->rc = rc;
	return rc;
}

int dock_set_memory(struct dock_client *c, const char *id, uint64_t mem)
{
	char e2[512], q[600];
	long t0 = dock_now_ms();
	json_t *r = json_pack("{s:I, s:I}", "Memory", (json_int_t)mem,
			      "MemorySwap", (json_int_t)mem);
	int rc = r ? dock_container_update(c, id, r, e2, sizeof(e2)) : -ENOMEM;
	json_decref(r);
	if (rc == 0) {
		log_event(RUNLET_LOG_DEBUG, "docker_memory_set",
			  "container=%.12s bytes=%llu ms=%ld", id,
			  (unsigned long long)mem, dock_now_ms() - t0);
		return 0;
	}
	/* a container that ended meanwhile is no failure */
	int gone = rc == -ENOMEM ? 0 : (strstr(e2, "stopped") || strstr(e2, "not found") ||
					strstr(e2, "not running") ||
					strstr(e2, "deleted process"));
	log_event(gone ? RUNLET_LOG_DEBUG : RUNLET_LOG_WARN, "docker_update_failed",
		  "container=%.12s error=%s", id, log_quote(e2, q, sizeof(q)));
	return gone ? 1 : rc;
}

int dock_run_pump(struct dock_client *c, const char *id, uint64_t deadline_ms,
		  uint64_t run_mem, dock_pump_fn pump, void *src,
		  struct dock_sink *sc, struct dock_fate *fate, char *err,
		  size_t errlen)
{
	char e2[512];
	int rc;
	long end = dock_now_ms() + (long)(deadline_ms > LONG_MAX / 2 ? LONG_MAX / 2 : deadline_ms);
	long grace = 0;
	for (;;) {
		long t = dock_now_ms();
		if (!fate->deadline && t >= end) {
			fate->deadline = 1;
			dock_container_kill(c, id, e2, sizeof(e2));
			grace = t + 15000;
		}
		if (fate->deadline && t >= grace)
			return 0; /* killed and the stream lingers: take what came */
		long wait = (fate->deadline ? grace : end) - t;
		size_t before = sc->col.out.len;
		rc = pump(src, wait > 20 ? 20 : wait, err, errlen);
		if (rc == 1)
			break;
		if (rc == 0 && sc->stop_at_end && sc->col.ended)
			return 0; /* the runner said all it will */
		if (rc == 0 && sc->col.out.len == before)
			dock_collect_idle(&sc->col);
		if (run_mem && sc->col.compile_done) {
			if (dock_set_memory(c, id, run_mem) < 0) {
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
			return rc;
		}
	}
	if (dock_demux_end(&sc->dm) < 0 && !fate->deadline) {
		snprintf(err, errlen, "docker attach: the stream ended inside a frame");
		return -EPROTO;
	}
	return 0;
}

int dock_read_fate(struct dock_client *c, const char *id,
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
