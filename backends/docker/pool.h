/* backends/docker: the bookkeeping of the warm container pool (no engine
 * calls: docker.c and warm.c make and remove the containers).
 *
 * Per language (an index into cfg->runners) up to `size` items wait, ready,
 * in FIFO order. A language is refilled once a second job asked for it, so
 * a process that judges one job (runlet run) never makes any. A refiller asks dock_pool_want() which language is short
 * (ready + being made < size), makes one and hands it in with
 * dock_pool_put() (or dock_pool_failed()). A job takes an item with
 * dock_pool_take(): the item leaves the pool for good (single use: it is
 * never put back; the taker removes the container). dock_pool_close() stops
 * the refiller and hands out everything left for removal.
 * Ownership: the pool owns its arrays; items are opaque pointers owned by
 * the pool while they wait and by whoever took them out afterwards. */
#ifndef RUNLET_DOCK_POOL_H
#define RUNLET_DOCK_POOL_H

#include <pthread.h>
#include <stddef.h>

struct dock_pool_lang {
	void **items;   /* ready, oldest first */
	size_t n;
	size_t making;  /* handed out by want(), not yet put or failed */
	unsigned long asked; /* take() calls: refilled from the second on */
	int hurry;      /* its last one was taken, or jobs came in a burst:
			 * refilled even while jobs run, until full */
};

/* No job for this long: the refiller may work (see dock_pool_begin). */
#define DOCK_POOL_QUIET_MS 5
/* A job taken within this long of the previous one's end: jobs come
 * faster than containers are made (100-200 ms), refill at once. */
#define DOCK_POOL_BURST_MS 300

/* Used items waiting for the refiller to remove them. */
#define DOCK_POOL_GRAVES 32

struct dock_pool {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct dock_pool_lang *langs;
	size_t nlangs;
	size_t size;
	int closing;
	unsigned long taken, made, missed; /* counters, for logs and tests */
	void *graves[DOCK_POOL_GRAVES];
	size_t ngraves;
	unsigned busy;  /* jobs between dock_pool_begin and dock_pool_end */
	long quiet_at;  /* CLOCK_MONOTONIC ms: busy == 0 and this passed */
	long last_end;  /* CLOCK_MONOTONIC ms of the last dock_pool_end, 0 */
};

int dock_pool_init(struct dock_pool *p, size_t nlangs, size_t size);
/* Frees the arrays; the pool must be empty (dock_pool_close drained it). */
void dock_pool_destroy(struct dock_pool *p);

/* The oldest ready item of lang, removed from the pool, or NULL (none
 * ready: the caller goes without). Wakes the refiller. */
void *dock_pool_take(struct dock_pool *p, size_t lang);

/* A job of this backend begins / is done. While one runs, and for
 * DOCK_POOL_QUIET_MS after the last is done, want() hands out no work:
 * making or removing a container (dockerd, containerd and runc: some
 * 100 ms of CPU) on the same cores slows the running job more than a
 * ready container saves the next one. A language whose last ready
 * container was taken, or taken within DOCK_POOL_BURST_MS of the previous
 * job's end (hurry), is refilled at once all the same, until full: a job
 * that finds none makes its own, which costs it far more. */
void dock_pool_begin(struct dock_pool *p);
void dock_pool_end(struct dock_pool *p);

/* Wait up to wait_ms for a language that is short (asked for twice; the
 * one with the fewest ready or being made first) at a quiet moment (see
 * dock_pool_begin). 0 with *lang (counted as being made), -EAGAIN when
 * graves wait instead, -ETIMEDOUT, or -ECANCELED once closing. */
int dock_pool_want(struct dock_pool *p, long wait_ms, size_t *lang);
/* A made item joins lang's ready list: 0, or -ECANCELED when closing (the
 * caller removes it). */
int dock_pool_put(struct dock_pool *p, size_t lang, void *item);
/* Making one failed. */
void dock_pool_failed(struct dock_pool *p, size_t lang);

/* Remove the ready items for which bad(arg, item) is nonzero; up to cap of
 * them go to out (the caller removes them). Returns how many. */
size_t dock_pool_remove_if(struct dock_pool *p, int (*bad)(void *, void *),
			   void *arg, void **out, size_t cap);

/* Hand a used item to the refiller for removal (off the job's path): 0,
 * or -ENOSPC when closing or DOCK_POOL_GRAVES wait already (the caller
 * removes it itself). want() returns -EAGAIN while graves wait and no
 * language is short, at a quiet moment or once half the graves are
 * taken. */
int dock_pool_bury(struct dock_pool *p, void *item);
/* Move the waiting graves to out (up to cap); how many. */
size_t dock_pool_graves(struct dock_pool *p, void **out, size_t cap);

/* Sleep up to ms, woken early by close: 0, or -ECANCELED once closing. */
int dock_pool_sleep(struct dock_pool *p, long ms);

/* Stop: want() returns -ECANCELED from now on. Moves every ready item to
 * out (up to cap); returns how many. */
size_t dock_pool_close(struct dock_pool *p, void **out, size_t cap);
/* Items ready for lang (for tests and logs). */
size_t dock_pool_ready(struct dock_pool *p, size_t lang);

#endif /* RUNLET_DOCK_POOL_H */
