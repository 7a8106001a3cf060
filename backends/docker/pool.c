/* backends/docker: warm pool bookkeeping (see pool.h). */
#include "backends/docker/pool.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int dock_pool_init(struct dock_pool *p, size_t nlangs, size_t size)
{
	memset(p, 0, sizeof(*p));
	if (!(p->langs = calloc(nlangs ? nlangs : 1, sizeof(*p->langs))))
		return -ENOMEM;
	p->nlangs = nlangs;
	p->size = size;
	for (size_t i = 0; i < nlangs; i++) {
		if (!(p->langs[i].items = calloc(size ? size : 1, sizeof(void *)))) {
			for (size_t j = 0; j < i; j++)
				free(p->langs[j].items);
			free(p->langs);
			p->langs = NULL;
			return -ENOMEM;
		}
	}
	pthread_mutex_init(&p->lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&p->cond, &ca);
	pthread_condattr_destroy(&ca);
	return 0;
}

void dock_pool_destroy(struct dock_pool *p)
{
	if (!p->langs)
		return;
	for (size_t i = 0; i < p->nlangs; i++)
		free(p->langs[i].items);
	free(p->langs);
	p->langs = NULL;
	pthread_cond_destroy(&p->cond);
	pthread_mutex_destroy(&p->lock);
}

static void *pop_front(struct dock_pool_lang *l)
{
	void *it = l->items[0];
	memmove(l->items, l->items + 1, (l->n - 1) * sizeof(void *));
	l->n--;
	return it;
}

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void *dock_pool_take(struct dock_pool *p, size_t lang)
{
	void *it = NULL;
	if (lang >= p->nlangs)
		return NULL;
	pthread_mutex_lock(&p->lock);
	struct dock_pool_lang *l = &p->langs[lang];
	l->asked++;
	if (l->n > 0 && !p->closing) {
		it = pop_front(l);
		p->taken++;
	} else {
		p->missed++;
	}
	/* the last one went (or none was there), or jobs come closer
	 * together than a container is made: the next job would make a
	 * whole container on its own path (some 250 ms), so this language
	 * is refilled at once, jobs running or not */
	if (l->asked >= 2 &&
	    (l->n + l->making == 0 ||
	     (p->last_end && now_ms() - p->last_end < DOCK_POOL_BURST_MS)))
		l->hurry = 1;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
	return it;
}

/* Under the lock: no job runs and none ended in the last QUIET ms. */
static int quiet(const struct dock_pool *p, long now)
{
	return p->busy == 0 && now >= p->quiet_at;
}

/* Of the languages asked for twice, the one with the fewest ready or being
 * made (the first of those), so that every language gets its first warm
 * container before any gets its second; at a quiet moment, or a language
 * in a hurry. */
static int short_lang(struct dock_pool *p, size_t *lang)
{
	size_t best = p->size;
	int q = quiet(p, now_ms());
	for (size_t i = 0; i < p->nlangs; i++) {
		size_t have = p->langs[i].n + p->langs[i].making;
		if (p->langs[i].asked >= 2 && have < best &&
		    (q || p->langs[i].hurry)) {
			best = have;
			*lang = i;
		}
	}
	return best < p->size;
}

static void deadline_in(struct timespec *end, long ms)
{
	clock_gettime(CLOCK_MONOTONIC, end);
	end->tv_sec += ms / 1000;
	end->tv_nsec += (ms % 1000) * 1000000L;
	if (end->tv_nsec >= 1000000000L) {
		end->tv_sec++;
		end->tv_nsec -= 1000000000L;
	}
}

int dock_pool_sleep(struct dock_pool *p, long ms)
{
	struct timespec end;
	int rc = 0;
	deadline_in(&end, ms);
	pthread_mutex_lock(&p->lock);
	while (!p->closing && rc == 0)
		rc = pthread_cond_timedwait(&p->cond, &p->lock, &end);
	rc = p->closing ? -ECANCELED : 0;
	pthread_mutex_unlock(&p->lock);
	return rc;
}

/* Under the lock: used containers to remove now. */
static int graves_due(const struct dock_pool *p)
{
	return p->ngraves &&
	       (quiet(p, now_ms()) || p->ngraves >= DOCK_POOL_GRAVES / 2);
}

void dock_pool_begin(struct dock_pool *p)
{
	pthread_mutex_lock(&p->lock);
	p->busy++;
	pthread_mutex_unlock(&p->lock);
}

void dock_pool_end(struct dock_pool *p)
{
	pthread_mutex_lock(&p->lock);
	if (p->busy)
		p->busy--;
	p->last_end = now_ms();
	p->quiet_at = p->last_end + DOCK_POOL_QUIET_MS;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
}

int dock_pool_want(struct dock_pool *p, long wait_ms, size_t *lang)
{
	int rc;
	long end = now_ms() + wait_ms;
	pthread_mutex_lock(&p->lock);
	while (!p->closing && !short_lang(p, lang) && !graves_due(p)) {
		long now = now_ms(), wake = end;
		if (now >= end)
			break;
		/* quiet soon: look again then */
		if (p->busy == 0 && p->quiet_at > now && p->quiet_at < wake)
			wake = p->quiet_at;
		struct timespec ts = {wake / 1000, (wake % 1000) * 1000000L};
		pthread_cond_timedwait(&p->cond, &p->lock, &ts);
	}
	if (p->closing)
		rc = -ECANCELED;
	else if (short_lang(p, lang)) {
		/* a replacement first: the next job needs it sooner than a
		 * used container needs removing */
		p->langs[*lang].making++;
		rc = 0;
	} else {
		rc = graves_due(p) ? -EAGAIN : -ETIMEDOUT;
	}
	pthread_mutex_unlock(&p->lock);
	return rc;
}

int dock_pool_put(struct dock_pool *p, size_t lang, void *item)
{
	int rc = 0;
	if (lang >= p->nlangs)
		return -EINVAL;
	pthread_mutex_lock(&p->lock);
	struct dock_pool_lang *l = &p->langs[lang];
	if (l->making)
		l->making--;
	if (p->closing || l->n >= p->size) {
		rc = -ECANCELED;
	} else {
		l->items[l->n++] = item;
		p->made++;
	}
	if (l->n + l->making >= p->size)
		l->hurry = 0;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
	return rc;
}

void dock_pool_failed(struct dock_pool *p, size_t lang)
{
	if (lang >= p->nlangs)
		return;
	pthread_mutex_lock(&p->lock);
	if (p->langs[lang].making)
		p->langs[lang].making--;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
}

size_t dock_pool_remove_if(struct dock_pool *p, int (*bad)(void *, void *),
			   void *arg, void **out, size_t cap)
{
	size_t got = 0;
	pthread_mutex_lock(&p->lock);
	for (size_t i = 0; i < p->nlangs; i++) {
		struct dock_pool_lang *l = &p->langs[i];
		size_t keep = 0;
		for (size_t j = 0; j < l->n; j++) {
			if (got < cap && bad(arg, l->items[j]))
				out[got++] = l->items[j];
			else
				l->items[keep++] = l->items[j];
		}
		l->n = keep;
	}
	if (got)
		pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
	return got;
}

int dock_pool_bury(struct dock_pool *p, void *item)
{
	int rc = -ENOSPC;
	pthread_mutex_lock(&p->lock);
	if (!p->closing && p->ngraves < DOCK_POOL_GRAVES) {
		p->graves[p->ngraves++] = item;
		pthread_cond_broadcast(&p->cond);
		rc = 0;
	}
	pthread_mutex_unlock(&p->lock);
	return rc;
}

size_t dock_pool_graves(struct dock_pool *p, void **out, size_t cap)
{
	size_t got = 0;
	pthread_mutex_lock(&p->lock);
	while (p->ngraves > 0 && got < cap)
		out[got++] = p->graves[--p->ngraves];
	pthread_mutex_unlock(&p->lock);
	return got;
}

size_t dock_pool_close(struct dock_pool *p, void **out, size_t cap)
{
	size_t got = 0;
	pthread_mutex_lock(&p->lock);
	p->closing = 1;
	for (size_t i = 0; i < p->nlangs; i++) {
		struct dock_pool_lang *l = &p->langs[i];
		while (l->n > 0 && got < cap)
			out[got++] = pop_front(l);
	}
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
	return got;
}

size_t dock_pool_ready(struct dock_pool *p, size_t lang)
{
	size_t n = 0;
	pthread_mutex_lock(&p->lock);
	if (lang < p->nlangs)
		n = p->langs[lang].n;
	pthread_mutex_unlock(&p->lock);
	return n;
}
