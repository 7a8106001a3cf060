/* Pre-forked single-use sandboxes: a few ready sandboxes per language, made
 * by a refill thread ahead of need, each handed out at most once. See the
 * theory of operation at the top of sandbox.c ("Pool").
 *
 * Ownership: the pool owns the sandboxes it holds; sbx_pool_take moves one
 * to the caller, who must sbx_finish it and destroy its cgroups. The cfg is
 * borrowed until sbx_pool_close; the maker's arg likewise.
 */
#ifndef RUNLET_SBX_POOL_H
#define RUNLET_SBX_POOL_H

#include <stddef.h>
#include <stdint.h>

#include "cgroup.h"
#include "sandbox.h"

struct cfg;
struct cfg_runner;
struct sbx_pool;

#define SBX_POOL_MAX 8        /* most ready sandboxes per language */
#define SBX_POOL_DEFAULT 2    /* RUNLET_NATIVE_POOL when unset */
#define SBX_POOL_ENV "RUNLET_NATIVE_POOL"

/* One ready sandbox: the runner exec'd, blocked reading its plan. */
struct sbx_pooled {
	struct sbx_proc proc;
	struct sbx_cg cg;
	int have_cg;
	uint64_t mem_bytes; /* the submission cgroup's memory limit */
	uint64_t pids;      /* and its pids limit */
};

/* Makes one ready sandbox of runner r: 0, or -errno with err set (the
 * pool retries later). Called on the refill thread. */
typedef int (*sbx_pool_make_fn)(void *arg, const struct cfg_runner *r,
				struct sbx_pooled *out, char *err,
				size_t errlen);

/* The pool size from the environment: RUNLET_NATIVE_POOL, 0..SBX_POOL_MAX,
 * SBX_POOL_DEFAULT when unset or not a number. */
unsigned sbx_pool_size_env(void);

/* A pool of size ready sandboxes per language of cfg (size 0: never
 * pre-forks; take always finds none). No thread is started until a
 * language is used twice. 0 or -errno. */
int sbx_pool_open(const struct cfg *cfg, unsigned size, sbx_pool_make_fn make,
		  void *arg, struct sbx_pool **out);

/* Call fn(arg of open) once on the refill thread when it starts (a long-
 * lived runlet's second job of a language), before its first sandbox:
 * for setup worth paying only in a long-lived runlet. Set before use. */
void sbx_pool_on_start(struct sbx_pool *p, void (*fn)(void *arg));

/* Take a ready sandbox of r whose limits are at least mem/pids: 1 with *out
 * the caller's (removed from the pool under its lock: no other caller can
 * get it), 0 when there is none. Dead idle sandboxes met on the way are
 * discarded. */
int sbx_pool_take(struct sbx_pool *p, const struct cfg_runner *r,
		  uint64_t mem, uint64_t pids, struct sbx_pooled *out);

/* A job of this backend begins (every execute(), pooled or not). The
 * refill thread makes no sandbox and removes no used one while a job runs,
 * nor for a few ms after the last is done: that work slows a running job
 * (kernel locks, CPU) more than it saves the next. Except for a language
 * whose job found none ready, and while jobs come in a stream (the third
 * in a row to begin within 20 ms of the previous one's end): no quiet
 * moment would come. */
void sbx_pool_begin(struct sbx_pool *p);

/* Count one execute() of r as done (after sbx_pool_begin). From the second
 * of a language on, the refill thread keeps its ready sandboxes at size. */
void sbx_pool_used(struct sbx_pool *p, const struct cfg_runner *r);

/* How many ready sandboxes of r the pool holds now (for tests and logs). */
unsigned sbx_pool_ready(struct sbx_pool *p, const struct cfg_runner *r);

/* The init pids of r's ready sandboxes, at most max into pids; returns how
 * many (for tests). */
size_t sbx_pool_pids(struct sbx_pool *p, const struct cfg_runner *r,
		     pid_t *pids, size_t max);

/* The pool of a native backend state (NULL in plain mode); native.c. */
struct sbx_pool *sbx_native_pool(void *native_state);

/* A used sandbox: its init is SIGKILLed now, and reaped and its cgroups
 * removed on the refill thread (at once on this one when there is no
 * refill thread or too many wait). Consumes *s. */
void sbx_pool_bury(struct sbx_pool *p, struct sbx_pooled *s);

/* Kill and reap one sandbox and remove its cgroups. */
void sbx_pooled_destroy(struct sbx_pooled *s);

/* Stop the refill thread, destroy every ready sandbox, free. */
void sbx_pool_close(struct sbx_pool *p);

#endif
