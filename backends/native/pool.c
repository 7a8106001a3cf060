/* Pre-forked single-use sandboxes and their refill thread. See pool.h. */
#include "pool.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "core/config.h"

#define POOL_RETRY_MS 1000  /* after a failed make, before the next try */
#define POOL_CHECK_MS 500   /* how often idle sandboxes are checked */
#define POOL_GRAVES 16      /* used sandboxes waiting for removal */
#define POOL_QUIET_MS 5     /* no job for this long: the refill may work */
#define POOL_BURST_MS 20    /* jobs closer than this to the last one's end */
#define POOL_STREAM 2       /* ... so many times in a row: a stream */

struct pool_lang {
	unsigned long uses;                 /* execute() calls so far */
	size_t n;                           /* ready sandboxes */
	struct sbx_pooled ready[SBX_POOL_MAX];
	uint64_t retry_at;                  /* no make before (after a failure) */
	int warned;
	int hurry;                          /* a job found none: refill even
					     * while jobs run, until full */
};

struct sbx_pool {
	const struct cfg *cfg;
	unsigned size;
	sbx_pool_make_fn make;
	void (*on_start)(void *arg);
	void *arg;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	pthread_t thread;
	int started, stop;
	unsigned busy;                      /* jobs in execute() */
	uint64_t quiet_at;                  /* busy == 0 since quiet_at - QUIET */
	uint64_t last_end;                  /* when a job was last done, 0 */
	unsigned streak;                    /* jobs begun within BURST of the
					     * previous end, in a row */
	struct pool_lang *langs;            /* one per cfg->runners entry */
	struct sbx_pooled graves[POOL_GRAVES]; /* used, cgroups to remove */
	size_t ngraves;
};

unsigned sbx_pool_size_env(void)
{
	const char *v = getenv(SBX_POOL_ENV);
	char *end;
	if (!v || !*v || *v < '0' || *v > '9')
		return SBX_POOL_DEFAULT;
	unsigned long n = strtoul(v, &end, 10);
	if (*end || end == v)
		return SBX_POOL_DEFAULT;
	return n > SBX_POOL_MAX ? SBX_POOL_MAX : (unsigned)n;
}

static struct pool_lang *lang_of(struct sbx_pool *p, const struct cfg_runner *r)
{
	if (!p || !p->size || !r || r < p->cfg->runners ||
	    r >= p->cfg->runners + p->cfg->nrunners)
		return NULL;
	return &p->langs[r - p->cfg->runners];
}

void sbx_pooled_destroy(struct sbx_pooled *s)
{
	sbx_proc_kill(&s->proc);
	if (s->have_cg && sbx_cg_destroy(&s->cg, 2000) < 0)
		fprintf(stderr, "runlet: native sandbox: cgroup %s could not be "
				"removed (processes left in it?)\n", s->cg.mem);
	s->have_cg = 0;
}

int sbx_pool_open(const struct cfg *cfg, unsigned size, sbx_pool_make_fn make,
		  void *arg, struct sbx_pool **out)
{
	struct sbx_pool *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->langs = calloc(cfg->nrunners ? cfg->nrunners : 1, sizeof(*p->langs));
	if (!p->langs) {
		free(p);
		return -ENOMEM;
	}
	p->cfg = cfg;
	p->size = size > SBX_POOL_MAX ? SBX_POOL_MAX : size;
	p->make = make;
	p->arg = arg;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->wake, NULL);
	*out = p;
	return 0;
}

void sbx_pool_on_start(struct sbx_pool *p, void (*fn)(void *arg))
{
	if (p)
		p->on_start = fn;
}

/* Under the lock: move the dead ready sandboxes of l into dead[]. */
static size_t collect_dead(struct pool_lang *l, struct sbx_pooled *dead,
			   size_t ndead)
{
	for (size_t i = 0; i < l->n;) {
		if (!sbx_proc_gone(&l->ready[i].proc)) {
			i++;
			continue;
		}
		dead[ndead++] = l->ready[i];
		l->ready[i] = l->ready[--l->n];
		memset(&l->ready[l->n], 0, sizeof(l->ready[l->n]));
	}
	return ndead;
}

int sbx_pool_take(struct sbx_pool *p, const struct cfg_runner *r,
		  uint64_t mem, uint64_t pids, struct sbx_pooled *out)
{
	struct pool_lang *l = lang_of(p, r);
	struct sbx_pooled dead[SBX_POOL_MAX];
	size_t ndead = 0;
	int got = 0;
	if (!l)
		return 0;
	pthread_mutex_lock(&p->lock);
	ndead = collect_dead(l, dead, 0);
	for (size_t i = 0; i < l->n; i++) {
		if (l->ready[i].mem_bytes < mem || l->ready[i].pids < pids)
			continue;
		*out = l->ready[i];
		l->ready[i] = l->ready[--l->n];
		memset(&l->ready[l->n], 0, sizeof(l->ready[l->n]));
		got = 1;
		break;
	}
	/* a refill now would contend with this job (cgroup and mount locks,
	 * CPU): it waits until jobs are done (sbx_pool_used), unless jobs
	 * come faster than the pool is refilled between them */
	if (!got && p->started) {
		l->hurry = 1;
		pthread_cond_signal(&p->wake);
	}
	pthread_mutex_unlock(&p->lock);
	for (size_t i = 0; i < ndead; i++)
		sbx_pooled_destroy(&dead[i]);
	return got;
}

unsigned sbx_pool_ready(struct sbx_pool *p, const struct cfg_runner *r)
{
	struct pool_lang *l = lang_of(p, r);
	unsigned n;
	if (!l)
		return 0;
	pthread_mutex_lock(&p->lock);
	n = (unsigned)l->n;
	pthread_mutex_unlock(&p->lock);
	return n;
}

size_t sbx_pool_pids(struct sbx_pool *p, const struct cfg_runner *r,
		     pid_t *pids, size_t max)
{
	struct pool_lang *l = lang_of(p, r);
	size_t n = 0;
	if (!l)
		return 0;
	pthread_mutex_lock(&p->lock);
	for (size_t i = 0; i < l->n && n < max; i++)
		pids[n++] = l->ready[i].proc.pid;
	pthread_mutex_unlock(&p->lock);
	return n;
}

void sbx_pool_bury(struct sbx_pool *p, struct sbx_pooled *s)
{
	int now = 1;
	/* dying from now on; the refill thread (the parent of every pooled
	 * init) reaps it with the rest of the grave */
	if (s->proc.pid > 0)
		kill(s->proc.pid, SIGKILL);
	sbx_proc_close_fds(&s->proc);
	if (p) {
		pthread_mutex_lock(&p->lock);
		if (p->started && !p->stop && p->ngraves < POOL_GRAVES) {
			p->graves[p->ngraves++] = *s;
			pthread_cond_signal(&p->wake);
			now = 0;
		}
		pthread_mutex_unlock(&p->lock);
	}
	if (now)
		sbx_pooled_destroy(s);
	memset(s, 0, sizeof(*s));
	sbx_proc_init(&s->proc);
}

/* Under the lock (dropped while removing): remove the buried cgroups. */
static void empty_graves(struct sbx_pool *p)
{
	while (p->ngraves) {
		struct sbx_pooled s = p->graves[--p->ngraves];
		pthread_mutex_unlock(&p->lock);
		sbx_pooled_destroy(&s);
		pthread_mutex_lock(&p->lock);
	}
}

/* Under the lock: no job runs and none ended in the last QUIET ms. */
static int quiet(const struct sbx_pool *p, uint64_t now)
{
	return p->busy == 0 && now >= p->quiet_at;
}

/* Under the lock: the language most in need of a sandbox, or -1. */
static long needy(struct sbx_pool *p, uint64_t now)
{
	long best = -1;
	int q = quiet(p, now) || p->streak >= POOL_STREAM;
	for (size_t i = 0; i < p->cfg->nrunners; i++) {
		struct pool_lang *l = &p->langs[i];
		if (l->uses < 2 || l->n >= p->size || now < l->retry_at ||
		    !(q || l->hurry))
			continue;
		if (best < 0 || l->n < p->langs[best].n)
			best = (long)i;
	}
	return best;
}

static void timed_wait(struct sbx_pool *p, unsigned ms)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_cond_timedwait(&p->wake, &p->lock, &ts);
}

/* The refill thread. It is the parent thread of every pooled init, whose
 * PR_SET_PDEATHSIG therefore fires when this thread ends: it lives until
 * sbx_pool_close. */
static void *refill_main(void *arg)
{
	struct sbx_pool *p = arg;
	struct sbx_pooled dead[SBX_POOL_MAX];
	sigset_t all;
	/* process signals are for the other threads (the inits reset their
	 * mask before anything else); but not SIGCHLD: the pooled inits'
	 * exits are signalled to this thread, and a SIGCHLD it blocked
	 * would stay pending for another thread, whose cgroup writes it
	 * interrupts (EINTR) */
	sigfillset(&all);
	sigdelset(&all, SIGCHLD);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	/* Background work: a job's own path (its runner, the result's
	 * publication) goes first on a busy core. Linux keeps a nice value
	 * per thread; the inits made here take runlet's back before they
	 * exec the runner (child.c). A hint: failing changes only speed. */
	errno = 0;
	int nice = getpriority(PRIO_PROCESS, 0);
	if (errno == 0)
		(void)setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid),
				  sbx_background_nice(nice));
	if (p->on_start)
		p->on_start(p->arg);
	pthread_mutex_lock(&p->lock);
	while (!p->stop) {
		/* used sandboxes wait for a quiet moment too, unless so many
		 * wait that the next would be removed on a job's path */
		if (quiet(p, sbx_now_ms()) || p->ngraves >= POOL_GRAVES / 2)
			empty_graves(p);
		for (size_t i = 0; i < p->cfg->nrunners; i++) {
			size_t nd = collect_dead(&p->langs[i], dead, 0);
			if (!nd)
				continue;
			pthread_mutex_unlock(&p->lock);
			for (size_t k = 0; k < nd; k++)
				sbx_pooled_destroy(&dead[k]);
			pthread_mutex_lock(&p->lock);
		}
		/* the lock was dropped above: close() may have asked to stop
		 * meanwhile, and its wake-up is gone */
		if (p->stop)
			break;
		/* Making a sandbox while a job runs slows that job (cgroup
		 * and mount locks, CPU: a cached C++ resubmission took 4.6 ms
		 * against 2.6 ms, measured), so sandboxes are made when no
		 * job has run for POOL_QUIET_MS (the next job of a burst
		 * often comes right after: a broker round trip), or at once
		 * for a language whose jobs outran its pool (hurry), or while
		 * jobs come in a stream, each right after the last (no quiet
		 * moment would come). */
		uint64_t now = sbx_now_ms();
		long i = needy(p, now);
		if (i < 0) {
			timed_wait(p, !p->busy && now < p->quiet_at
					      ? (unsigned)(p->quiet_at - now)
					      : POOL_CHECK_MS);
			continue;
		}
		const struct cfg_runner *r = &p->cfg->runners[i];
		struct sbx_pooled s;
		memset(&s, 0, sizeof(s));
		sbx_proc_init(&s.proc);
		pthread_mutex_unlock(&p->lock);
		char err[512] = "";
		int rc = p->make(p->arg, r, &s, err, sizeof(err));
		pthread_mutex_lock(&p->lock);
		struct pool_lang *l = &p->langs[i];
		if (rc < 0) {
			l->retry_at = sbx_now_ms() + POOL_RETRY_MS;
			if (!l->warned++)
				fprintf(stderr, "runlet: native sandbox: pre-forking a "
					"sandbox for \"%s\" failed (%s); its jobs make "
					"their own\n", r->code ? r->code : "?",
					err[0] ? err : strerror(-rc));
			continue;
		}
		if (p->stop || l->n >= p->size) {
			pthread_mutex_unlock(&p->lock);
			sbx_pooled_destroy(&s);
			pthread_mutex_lock(&p->lock);
			continue;
		}
		l->ready[l->n++] = s;
		if (l->n >= p->size)
			l->hurry = 0;
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

void sbx_pool_begin(struct sbx_pool *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->busy++;
	uint64_t now = sbx_now_ms();
	p->streak = p->last_end && now - p->last_end < POOL_BURST_MS
			    ? p->streak + 1 : 0;
	if (p->streak >= POOL_STREAM)
		pthread_cond_signal(&p->wake);
	pthread_mutex_unlock(&p->lock);
}

void sbx_pool_used(struct sbx_pool *p, const struct cfg_runner *r)
{
	struct pool_lang *l = lang_of(p, r);
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	if (p->busy)
		p->busy--;
	p->last_end = sbx_now_ms();
	p->quiet_at = p->last_end + POOL_QUIET_MS;
	if (l)
		l->uses++;
	if (l && l->uses >= 2 && !p->started && !p->stop) {
		int e = pthread_create(&p->thread, NULL, refill_main, p);
		if (e == 0)
			p->started = 1;
		else
			fprintf(stderr, "runlet: native sandbox: no refill thread "
				"(%s): sandboxes are made per job\n", strerror(e));
	}
	pthread_cond_signal(&p->wake);
	pthread_mutex_unlock(&p->lock);
}

void sbx_pool_close(struct sbx_pool *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->stop = 1;
	pthread_cond_broadcast(&p->wake);
	int started = p->started;
	pthread_mutex_unlock(&p->lock);
	if (started)
		pthread_join(p->thread, NULL);
	for (size_t k = 0; k < p->ngraves; k++)
		sbx_pooled_destroy(&p->graves[k]);
	for (size_t i = 0; i < p->cfg->nrunners; i++)
		for (size_t k = 0; k < p->langs[i].n; k++)
			sbx_pooled_destroy(&p->langs[i].ready[k]);
	pthread_cond_destroy(&p->wake);
	pthread_mutex_destroy(&p->lock);
	free(p->langs);
	free(p);
}
