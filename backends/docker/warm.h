/* backends/docker: warm containers (docs/DOCKER.md "Warm pool").
 *
 * A warm container is created with the language's hardening and limits,
 * stdin open (StdinOnce), attached with stdin (hijack.h) and started: its
 * runner (no --plan) blocks reading its plan from stdin. A job takes one,
 * sets what differs per job (memory, pids) through POST /update (nothing
 * for a job of the language's defaults), writes the encoded plan and
 * half-closes, then reads the outcomes as a cold container's. Single use:
 * whatever happens, the container is removed after its job (by the
 * refiller, off the job's path: dock_refill_bury).
 *
 * The refiller is one thread per backend: it keeps each language that had
 * a second job at docker.pool_size ready containers (pool.h), discards idle ones whose
 * stream has ended or has bytes (the container died, the attach broke),
 * replaces those idle for an hour, backs off after failures, and on stop
 * removes everything it holds.
 * Ownership: a struct dock_warm is owned by the pool while ready, then by
 * the job that took it until dock_warm_discard. */
#ifndef RUNLET_DOCK_WARM_H
#define RUNLET_DOCK_WARM_H

#include <jansson.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "backends/docker/hijack.h"
#include "backends/docker/pool.h"
#include "backends/docker/run.h"

struct dock_client;

/* A warm container idle longer is replaced (well before the sweep of
 * other runlets removes containers older than DOCK_SWEEP_MAX_AGE_S). */
#define DOCK_WARM_MAX_IDLE_MS (3600L * 1000)

struct dock_warm {
	char id[80];
	size_t lang;
	long made_ms;  /* dock_now_ms() when it was started */
	uint64_t mem;  /* its Memory and PidsLimit now (0: not set) */
	uint64_t pids;
	struct dock_hijack h;
};

/* create (body) -> attach with stdin -> start. 0 with *out, or -errno
 * (a container already made is removed). */
int dock_warm_make(struct dock_client *c, const struct dock_endpoint *ep,
		   const char *ver, json_t *body, size_t lang,
		   struct dock_warm **out, char *err, size_t errlen);
/* Close its stream, remove the container (force, volumes), free. */
void dock_warm_discard(struct dock_client *c, struct dock_warm *w);

/* The per-job resources (Memory = MemorySwap, PidsLimit; 0 leaves one);
 * no request when both are what the container has already. */
int dock_warm_update(struct dock_client *c, struct dock_warm *w, uint64_t mem,
		     uint64_t pids, char *err, size_t errlen);
/* Write the plan to the container's stdin and close it. */
int dock_warm_hand(struct dock_warm *w, const void *plan, size_t len,
		   char *err, size_t errlen);
/* Read until the end (run.h), after dock_warm_hand. */
int dock_warm_run(struct dock_client *c, struct dock_warm *w, uint64_t deadline_ms,
		  uint64_t run_mem, struct dock_sink *sc,
		  struct dock_fate *fate, char *err, size_t errlen);

/* Makes the create body of a warm container of lang (ensuring its image);
 * NULL with err on failure. */
typedef json_t *(*dock_warm_body_fn)(void *arg, struct dock_client *c,
				      size_t lang, char *err, size_t errlen);

struct dock_refill {
	struct dock_pool pool;
	const struct dock_endpoint *ep; /* borrowed until stop */
	const char *ver;                /* borrowed until stop */
	dock_warm_body_fn body;
	/* the image of lang was not found at create (may be NULL) */
	void (*image_gone)(void *arg, size_t lang);
	void *arg;
	pthread_t thread;
	int started;
};

/* Start the refiller for nlangs languages of size each. */
int dock_refill_start(struct dock_refill *r, size_t nlangs, size_t size,
		      char *err, size_t errlen);
/* A job begins / is done (every execute(), warm or cold): the refiller
 * works between jobs (dock_pool_begin). No-ops without a pool. */
void dock_refill_begin(struct dock_refill *r);
void dock_refill_end(struct dock_refill *r);
/* After its job: the used container goes to the refiller, which removes
 * it off the job's path (removal takes tens of ms); removed here when the
 * refiller is gone or full. The job's stream is closed at once. */
void dock_refill_bury(struct dock_refill *r, struct dock_client *c,
		      struct dock_warm *w);
/* A ready container of lang whose stream is intact, or NULL. Broken ones
 * met on the way are removed (through c). */
struct dock_warm *dock_refill_take(struct dock_refill *r,
				   struct dock_client *c, size_t lang);
/* Stop refilling, remove every pooled container, free the pool. */
void dock_refill_stop(struct dock_refill *r);

#endif /* RUNLET_DOCK_WARM_H */
