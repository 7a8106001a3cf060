/* Unit tests of the docker backend's warm pool bookkeeping (pool.h). */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "backends/docker/pool.h"

static int items[64];

/* A language is refilled once asked for twice (two misses here). */
static void ask_twice(struct dock_pool *p, size_t lang)
{
	assert_null(dock_pool_take(p, lang));
	assert_null(dock_pool_take(p, lang));
}

static void test_empty_take(void **st)
{
	(void)st;
	struct dock_pool p;
	assert_int_equal(dock_pool_init(&p, 2, 2), 0);
	assert_null(dock_pool_take(&p, 0));
	assert_null(dock_pool_take(&p, 1));
	assert_null(dock_pool_take(&p, 7)); /* no such language */
	assert_int_equal(p.missed, 2);
	size_t lang;
	/* asked for once each: a one-job process makes nothing */
	assert_int_equal(dock_pool_want(&p, 10, &lang), -ETIMEDOUT);
	assert_null(dock_pool_take(&p, 1));
	assert_int_equal(dock_pool_want(&p, 10, &lang), 0);
	assert_int_equal(lang, 1);
	dock_pool_close(&p, NULL, 0);
	dock_pool_destroy(&p);
}

static void test_want_counts_making(void **st)
{
	(void)st;
	struct dock_pool p;
	size_t lang = 99;
	assert_int_equal(dock_pool_init(&p, 2, 2), 0);
	ask_twice(&p, 0);
	ask_twice(&p, 1);
	size_t want[4];
	for (int i = 0; i < 4; i++) {
		assert_int_equal(dock_pool_want(&p, 10, &want[i]), 0);
	}
	/* every language gets its first before any gets its second */
	assert_int_equal(want[0], 0);
	assert_int_equal(want[1], 1);
	assert_int_equal(want[2], 0);
	assert_int_equal(want[3], 1);
	/* all four are being made: nothing is short */
	assert_int_equal(dock_pool_want(&p, 10, &lang), -ETIMEDOUT);
	dock_pool_failed(&p, 1);
	assert_int_equal(dock_pool_want(&p, 10, &lang), 0);
	assert_int_equal(lang, 1);
	assert_int_equal(dock_pool_put(&p, 0, &items[0]), 0);
	assert_int_equal(dock_pool_put(&p, 0, &items[1]), 0);
	assert_int_equal(dock_pool_ready(&p, 0), 2);
	/* a third for a full language is refused: the caller removes it */
	assert_int_equal(dock_pool_put(&p, 0, &items[2]), -ECANCELED);
	void *left[8];
	assert_int_equal(dock_pool_close(&p, left, 8), 2);
	dock_pool_destroy(&p);
}

static void test_single_use_fifo(void **st)
{
	(void)st;
	struct dock_pool p;
	size_t lang;
	assert_int_equal(dock_pool_init(&p, 1, 2), 0);
	ask_twice(&p, 0);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(dock_pool_want(&p, 10, &lang), 0);
		assert_int_equal(dock_pool_put(&p, lang, &items[i]), 0);
	}
	void *a = dock_pool_take(&p, 0), *b = dock_pool_take(&p, 0);
	assert_ptr_equal(a, &items[0]); /* oldest first */
	assert_ptr_equal(b, &items[1]);
	assert_null(dock_pool_take(&p, 0)); /* never handed out twice */
	assert_int_equal(p.taken, 2);
	/* taking made room: the refiller is asked for two more */
	assert_int_equal(dock_pool_want(&p, 10, &lang), 0);
	assert_int_equal(dock_pool_want(&p, 10, &lang), 0);
	assert_int_equal(dock_pool_want(&p, 10, &lang), -ETIMEDOUT);
	dock_pool_close(&p, NULL, 0);
	dock_pool_destroy(&p);
}

static int is_odd(void *arg, void *item)
{
	(void)arg;
	return (int)((int *)item - items) % 2;
}

static void test_remove_if(void **st)
{
	(void)st;
	struct dock_pool p;
	size_t lang;
	void *bad[8];
	assert_int_equal(dock_pool_init(&p, 2, 3), 0);
	ask_twice(&p, 0);
	ask_twice(&p, 1);
	for (int i = 0; i < 6; i++) {
		assert_int_equal(dock_pool_want(&p, 10, &lang), 0);
		assert_int_equal(dock_pool_put(&p, lang, &items[i]), 0);
	}
	/* filled in turns: language 0 got 0, 2, 4 and language 1 got 1, 3, 5 */
	assert_int_equal(dock_pool_remove_if(&p, is_odd, NULL, bad, 8), 3);
	assert_int_equal(dock_pool_ready(&p, 0), 3);
	assert_int_equal(dock_pool_ready(&p, 1), 0);
	assert_ptr_equal(dock_pool_take(&p, 0), &items[0]);
	assert_ptr_equal(dock_pool_take(&p, 0), &items[2]);
	assert_ptr_equal(dock_pool_take(&p, 0), &items[4]);
	assert_null(dock_pool_take(&p, 1));
	/* the removed ones are short again */
	assert_int_equal(dock_pool_want(&p, 10, &lang), 0);
	dock_pool_close(&p, NULL, 0);
	dock_pool_destroy(&p);
}

static void test_close(void **st)
{
	(void)st;
	struct dock_pool p;
	size_t lang;
	void *left[8];
	assert_int_equal(dock_pool_init(&p, 1, 2), 0);
	ask_twice(&p, 0);
	assert_int_equal(dock_pool_want(&p, 10, &lang), 0);
	assert_int_equal(dock_pool_put(&p, 0, &items[0]), 0);
	assert_int_equal(dock_pool_want(&p, 10, &lang), 0); /* one being made */
	assert_int_equal(dock_pool_sleep(&p, 5), 0);
	assert_int_equal(dock_pool_close(&p, left, 8), 1);
	assert_ptr_equal(left[0], &items[0]);
	assert_int_equal(dock_pool_want(&p, 1000, &lang), -ECANCELED);
	assert_int_equal(dock_pool_sleep(&p, 60000), -ECANCELED);
	/* the one being made when closing is refused: the maker removes it */
	assert_int_equal(dock_pool_put(&p, 0, &items[1]), -ECANCELED);
	assert_null(dock_pool_take(&p, 0));
	dock_pool_destroy(&p);
}

/* A refiller and takers in threads: every item made is taken at most
 * once, and what is left after close plus what was taken is all of it. */
struct race {
	struct dock_pool p;
	int seen[4000];
	int made;
	pthread_mutex_t lock;
};

static void *refiller(void *arg)
{
	struct race *r = arg;
	size_t lang;
	while (dock_pool_want(&r->p, 50, &lang) != -ECANCELED) {
		if (r->made >= 4000) {
			dock_pool_failed(&r->p, lang);
			continue;
		}
		int *it = &r->seen[r->made++];
		if (dock_pool_put(&r->p, lang, it) < 0)
			*it += 100; /* refused: the maker's */
	}
	return NULL;
}

static void *taker(void *arg)
{
	struct race *r = arg;
	for (int i = 0; i < 3000; i++) {
		int *it = dock_pool_take(&r->p, (size_t)i % 3);
		if (it) {
			pthread_mutex_lock(&r->lock);
			(*it)++;
			pthread_mutex_unlock(&r->lock);
		}
	}
	return NULL;
}

/* Used items go to the refiller's graves: want() says so (-EAGAIN) when no
 * language is short, a short one still comes first; graves() hands each
 * back once; past the cap or once closing, bury() refuses (the job removes
 * its container itself). */
static void test_graves(void **st)
{
	(void)st;
	struct dock_pool p;
	int graves[DOCK_POOL_GRAVES + 1];
	void *out[DOCK_POOL_GRAVES + 1];
	size_t lang;
	assert_int_equal(dock_pool_init(&p, 1, 1), 0);
	assert_int_equal(dock_pool_want(&p, 10, &lang), -ETIMEDOUT);
	assert_int_equal(dock_pool_bury(&p, &graves[0]), 0);
	assert_int_equal(dock_pool_want(&p, 10, &lang), -EAGAIN);
	ask_twice(&p, 0);
	assert_int_equal(dock_pool_want(&p, 10, &lang), 0); /* short first */
	assert_int_equal(lang, 0);
	assert_int_equal(dock_pool_graves(&p, out, DOCK_POOL_GRAVES), 1);
	assert_ptr_equal(out[0], &graves[0]);
	assert_int_equal(dock_pool_graves(&p, out, DOCK_POOL_GRAVES), 0);
	for (int i = 0; i < DOCK_POOL_GRAVES; i++)
		assert_int_equal(dock_pool_bury(&p, &graves[i]), 0);
	assert_int_equal(dock_pool_bury(&p, &graves[DOCK_POOL_GRAVES]), -ENOSPC);
	assert_int_equal(dock_pool_graves(&p, out, 4), 4);
	assert_int_equal(dock_pool_graves(&p, out, DOCK_POOL_GRAVES + 1),
			 DOCK_POOL_GRAVES - 4);
	dock_pool_close(&p, NULL, 0);
	assert_int_equal(dock_pool_bury(&p, &graves[0]), -ENOSPC);
	dock_pool_destroy(&p);
}

static void test_threads(void **st)
{
	(void)st;
	struct race *r = calloc(1, sizeof(*r));
	pthread_t rt, tt[3];
	void *left[16];
	assert_non_null(r);
	pthread_mutex_init(&r->lock, NULL);
	assert_int_equal(dock_pool_init(&r->p, 3, 2), 0);
	pthread_create(&rt, NULL, refiller, r);
	for (int i = 0; i < 3; i++)
		pthread_create(&tt[i], NULL, taker, r);
	for (int i = 0; i < 3; i++)
		pthread_join(tt[i], NULL);
	size_t n = dock_pool_close(&r->p, left, 16);
	pthread_join(rt, NULL);
	for (size_t i = 0; i < n; i++)
		(*(int *)left[i]) += 1000;
	int taken = 0;
	for (int i = 0; i < r->made; i++) {
		int v = r->seen[i];
		assert_true(v == 1 || v == 100 || v == 1000); /* once, exactly */
		taken += v == 1;
	}
	assert_int_equal((unsigned long)taken, r->p.taken);
	dock_pool_destroy(&r->p);
	pthread_mutex_destroy(&r->lock);
	free(r);
}

/* No work is handed out while a job runs, nor just after the last ended;
 * a language whose job found none ready is refilled at once, until full. */
static void test_quiet_refill(void **st)
{
	(void)st;
	struct dock_pool p;
	size_t lang;
	assert_int_equal(dock_pool_init(&p, 1, 2), 0);
	ask_twice(&p, 0); /* two misses: hurry */
	dock_pool_begin(&p);
	assert_int_equal(dock_pool_want(&p, 10, &lang), 0); /* hurry: at once */
	assert_int_equal(dock_pool_want(&p, 10, &lang), 0);
	assert_int_equal(dock_pool_put(&p, 0, &items[0]), 0);
	assert_int_equal(dock_pool_put(&p, 0, &items[1]), 0); /* full: calm */
	assert_ptr_equal(dock_pool_take(&p, 0), &items[0]);
	/* a job runs: the one short is not made meanwhile (one is left) */
	assert_int_equal(dock_pool_want(&p, 30, &lang), -ETIMEDOUT);
	assert_int_equal(dock_pool_bury(&p, &items[0]), 0);
	assert_int_equal(dock_pool_want(&p, 30, &lang), -ETIMEDOUT); /* nor removed */
	dock_pool_end(&p);
	/* a moment after it: both, the replacement first */
	assert_int_equal(dock_pool_want(&p, 1000, &lang), 0);
	assert_int_equal(dock_pool_want(&p, 1000, &lang), -EAGAIN);
	void *g[4];
	assert_int_equal(dock_pool_graves(&p, g, 4), 1);
	assert_int_equal(dock_pool_put(&p, 0, &items[2]), 0);
	/* a job right after the last one's end (a burst): the container it
	 * took is replaced at once, though one is left */
	dock_pool_begin(&p);
	assert_ptr_equal(dock_pool_take(&p, 0), &items[1]);
	assert_int_equal(dock_pool_want(&p, 10, &lang), 0);
	assert_int_equal(dock_pool_want(&p, 10, &lang), -ETIMEDOUT);
	/* and so is the last one */
	assert_ptr_equal(dock_pool_take(&p, 0), &items[2]);
	assert_int_equal(dock_pool_want(&p, 10, &lang), 0);
	assert_int_equal(dock_pool_want(&p, 10, &lang), -ETIMEDOUT);
	dock_pool_end(&p);
	dock_pool_close(&p, NULL, 0);
	dock_pool_destroy(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty_take),
		cmocka_unit_test(test_want_counts_making),
		cmocka_unit_test(test_single_use_fifo),
		cmocka_unit_test(test_remove_if),
		cmocka_unit_test(test_close),
		cmocka_unit_test(test_graves),
		cmocka_unit_test(test_quiet_refill),
		cmocka_unit_test(test_threads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
