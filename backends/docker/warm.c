/* backends/docker: warm containers and their refiller (see warm.h). */
#include "backends/docker/warm.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/docker/api.h"
#include "core/log.h"

#define IDLE_CHECK_MS 500
#define BACKOFF_MAX_MS 30000

int dock_warm_make(struct dock_client *c, const struct dock_endpoint *ep,
		   const char *ver, json_t *body, size_t lang,
		   struct dock_warm **out, char *err, size_t errlen)
{
	struct dock_warm *w = calloc(1, sizeof(*w));
	char path[256];
	int rc;
	if (!w)
		return -ENOMEM;
	w->h.fd = -1;
	w->lang = lang;
	json_t *hc = json_object_get(body, "HostConfig");
	json_int_t v = json_integer_value(json_object_get(hc, "Memory"));
	w->mem = v > 0 ? (uint64_t)v : 0;
	v = json_integer_value(json_object_get(hc, "PidsLimit"));
	w->pids = v > 0 ? (uint64_t)v : 0;
	if ((rc = dock_container_create(c, NULL, body, w->id, sizeof(w->id), err,
					errlen)) < 0) {
		free(w);
		return rc;
	}
	snprintf(path, sizeof(path),
		 "/containers/%s/attach?stream=1&stdin=1&stdout=1&stderr=1", w->id);
	if ((rc = dock_hijack_open(ep, ver, path, &w->h, err, errlen)) < 0 ||
	    (rc = dock_container_start(c, w->id, err, errlen)) < 0) {
		dock_warm_discard(c, w);
		return rc;
	}
	w->made_ms = dock_now_ms();
	*out = w;
	return 0;
}

void dock_warm_discard(struct dock_client *c, struct dock_warm *w)
{
	char e2[512];
	if (!w)
		return;
	dock_hijack_close(&w->h);
	if (dock_container_remove(c, w->id, e2, sizeof(e2)) < 0)
		log_event(RUNLET_LOG_WARN, "docker_remove_failed",
			  "container=%.12s error=\"%s\"", w->id, e2);
	free(w);
}

int dock_warm_update(struct dock_client *c, struct dock_warm *w, uint64_t mem,
		     uint64_t pids, char *err, size_t errlen)
{
	json_t *r = json_object();
	int rc = r ? 0 : -ENOMEM;
	if (rc == 0 && mem && mem != w->mem) {
		rc |= json_object_set_new(r, "Memory", json_integer((json_int_t)mem));
		rc |= json_object_set_new(r, "MemorySwap", json_integer((json_int_t)mem));
	}
	if (rc == 0 && pids && pids != w->pids)
		rc |= json_object_set_new(r, "PidsLimit", json_integer((json_int_t)pids));
	if (rc != 0)
		rc = -ENOMEM;
	else if (json_object_size(r))
		rc = dock_container_update(c, w->id, r, err, errlen);
	json_decref(r);
	if (rc == 0) {
		w->mem = mem ? mem : w->mem;
		w->pids = pids ? pids : w->pids;
	}
	return rc;
}

static int hijack_pump(void *src, long timeout_ms, char *err, size_t errlen)
{
	struct dock_warm *w = ((void **)src)[0];
	struct dock_sink *sc = ((void **)src)[1];
	return dock_hijack_pump(&w->h, timeout_ms, dock_sink_feed, sc, err, errlen);
}

int dock_warm_hand(struct dock_warm *w, const void *plan, size_t len,
		   char *err, size_t errlen)
{
	return dock_hijack_send_eof(&w->h, plan, len, err, errlen);
}

int dock_warm_run(struct dock_client *c, struct dock_warm *w, uint64_t deadline_ms,
		  uint64_t run_mem, struct dock_sink *sc,
		  struct dock_fate *fate, char *err, size_t errlen)
{
	void *src[2] = {w, sc};
	return dock_run_pump(c, w->id, deadline_ms, run_mem, hijack_pump, src, sc,
			     fate, err, errlen);
}

static int is_broken(void *arg, void *item)
{
	struct dock_warm *w = item;
	(void)arg;
	return dock_hijack_broken(&w->h) ||
	       dock_now_ms() - w->made_ms > DOCK_WARM_MAX_IDLE_MS;
}

/* Remove ready containers that died or whose stream broke. */
static void drop_broken(struct dock_refill *r, struct dock_client *c)
{
	void *bad[16];
	size_t n;
	while ((n = dock_pool_remove_if(&r->pool, is_broken, NULL, bad, 16)) > 0)
		for (size_t i = 0; i < n; i++) {
			log_event(RUNLET_LOG_INFO, "docker_pool_discarded",
				  "container=%.12s reason=\"ended, its attach broke or idle too long\"",
				  ((struct dock_warm *)bad[i])->id);
			dock_warm_discard(c, bad[i]);
		}
}

/* Remove the used containers jobs left (dock_refill_bury). */
static void empty_graves(struct dock_refill *r, struct dock_client *c)
{
	void *dead[DOCK_POOL_GRAVES];
	size_t n;
	while ((n = dock_pool_graves(&r->pool, dead, DOCK_POOL_GRAVES)) > 0)
		for (size_t i = 0; i < n; i++)
			dock_warm_discard(c, dead[i]);
}

void dock_refill_bury(struct dock_refill *r, struct dock_client *c,
		      struct dock_warm *w)
{
	if (!w)
		return;
	dock_hijack_close(&w->h);
	if (!r->started || dock_pool_bury(&r->pool, w) < 0)
		dock_warm_discard(c, w);
}

static void *refill_main(void *arg)
{
	struct dock_refill *r = arg;
	struct dock_client *c = NULL;
	char err[1024], q[1200];
	long backoff = 0;
	size_t lang;
	int rc;

	if (dock_client_new(r->ep, r->ver, &c, err, sizeof(err)) < 0) {
		log_event(RUNLET_LOG_WARN, "docker_pool_failed", "error=%s",
			  log_quote(err, q, sizeof(q)));
		return NULL;
	}
	for (;;) {
		drop_broken(r, c);
		rc = dock_pool_want(&r->pool, backoff ? backoff : IDLE_CHECK_MS, &lang);
		if (rc == -ECANCELED)
			break;
		if (rc < 0) {
			if (rc == -EAGAIN)
				empty_graves(r, c);
			continue;
		}
		struct dock_warm *w = NULL;
		json_t *body = r->body(r->arg, c, lang, err, sizeof(err));
		rc = body ? dock_warm_make(c, r->ep, r->ver, body, lang, &w, err,
					   sizeof(err))
			  : -EIO;
		json_decref(body);
		if (rc == -ENOENT && body && r->image_gone)
			r->image_gone(r->arg, lang); /* built again next time */
		if (rc < 0) {
			dock_pool_failed(&r->pool, lang);
			backoff = backoff ? backoff * 2 : 1000;
			if (backoff > BACKOFF_MAX_MS)
				backoff = BACKOFF_MAX_MS;
			log_event(RUNLET_LOG_WARN, "docker_pool_refill_failed",
				  "lang=%zu retry_ms=%ld error=%s", lang, backoff,
				  log_quote(err, q, sizeof(q)));
			/* jobs go without meanwhile; wait before trying again */
			if (dock_pool_sleep(&r->pool, backoff) < 0)
				break;
			continue;
		}
		backoff = 0;
		if (dock_pool_put(&r->pool, lang, w) < 0)
			dock_warm_discard(c, w); /* stopping meanwhile */
		else
			log_event(RUNLET_LOG_DEBUG, "docker_pool_ready",
				  "container=%.12s lang=%zu", w->id, lang);
	}
	empty_graves(r, c);
	dock_client_free(c);
	return NULL;
}

int dock_refill_start(struct dock_refill *r, size_t nlangs, size_t size,
		      char *err, size_t errlen)
{
	int rc = dock_pool_init(&r->pool, nlangs, size);
	if (rc < 0) {
		snprintf(err, errlen, "out of memory for the warm pool");
		return rc;
	}
	if ((rc = pthread_create(&r->thread, NULL, refill_main, r)) != 0) {
		dock_pool_destroy(&r->pool);
		snprintf(err, errlen, "cannot start the warm pool thread: %s",
			 strerror(rc));
		return -rc;
	}
	r->started = 1;
	return 0;
}

void dock_refill_begin(struct dock_refill *r)
{
	if (r->started)
		dock_pool_begin(&r->pool);
}

void dock_refill_end(struct dock_refill *r)
{
	if (r->started)
		dock_pool_end(&r->pool);
}

struct dock_warm *dock_refill_take(struct dock_refill *r,
				   struct dock_client *c, size_t lang)
{
	struct dock_warm *w;
	if (!r->started)
		return NULL;
	while ((w = dock_pool_take(&r->pool, lang)) && dock_hijack_broken(&w->h)) {
		log_event(RUNLET_LOG_INFO, "docker_pool_discarded",
			  "container=%.12s reason=\"ended or its attach broke while idle\"",
			  w->id);
		dock_warm_discard(c, w);
	}
	return w;
}

void dock_refill_stop(struct dock_refill *r)
{
	char err[512];
	void *left[64];
	size_t n;
	struct dock_client *c = NULL;
	if (!r->started)
		return;
	dock_pool_close(&r->pool, NULL, 0);
	pthread_join(r->thread, NULL);
	r->started = 0;
	if (dock_client_new(r->ep, r->ver, &c, err, sizeof(err)) < 0)
		c = NULL;
	while ((n = dock_pool_close(&r->pool, left, 64)) > 0 ||
	       (n = dock_pool_graves(&r->pool, left, 64)) > 0)
		for (size_t i = 0; i < n; i++) {
			if (c)
				dock_warm_discard(c, left[i]);
			else {
				dock_hijack_close(&((struct dock_warm *)left[i])->h);
				free(left[i]);
			}
		}
	dock_client_free(c);
	dock_pool_destroy(&r->pool);
}
