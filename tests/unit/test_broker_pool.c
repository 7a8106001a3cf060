/* Unit tests of broker/pool.c: every job comes back exactly once through
 * the done list and its eventfd; jobs no worker will start can be taken
 * back, and a job an idle worker is about to take is not. */
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "broker/pool.h"
#include "test_broker_pool.h"

struct gate {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int open;
	int entered;
};

static void fake_judge(void *arg, struct mq_job *j)
{
	struct gate *g = arg;

	if (g != NULL) {
		pthread_mutex_lock(&g->mu);
		g->entered++;
		pthread_cond_broadcast(&g->cv);
		while (!g->open)
			pthread_cond_wait(&g->cv, &g->mu);
		pthread_mutex_unlock(&g->mu);
	}
	j->rc = 0;
	j->result = strdup(j->body);
	j->result_len = j->len;
}

static struct mq_job *mkjob(int i)
{
	struct mq_job *j = calloc(1, sizeof(*j));
	char buf[32];

	assert_non_null(j);
	snprintf(buf, sizeof(buf), "job-%d", i);
	j->body = strdup(buf);
	j->len = strlen(buf);
	return j;
}

/* Wait until want jobs came back done (freeing them); how many did. */
static unsigned wait_done(struct mq_pool *p, unsigned want)
{
	unsigned done = 0;

	while (done < want) {
		struct pollfd pfd = {.fd = mq_pool_fd(p), .events = POLLIN};
		struct mq_job *j, *next;

		assert_int_equal(poll(&pfd, 1, 5000), 1);
		for (j = mq_pool_take_done(p); j != NULL; j = next) {
			next = j->next;
			done++;
			mq_job_free(j);
		}
	}
	return done;
}

/* Take the queued jobs back and free them: how many there were. */
static unsigned take_back(struct mq_pool *p)
{
	struct mq_job *j, *next;
	unsigned back = 0;

	for (j = mq_pool_take_queued(p); j != NULL; j = next) {
		next = j->next;
		back++;
		mq_job_free(j);
	}
	return back;
}

static void gate_set(struct gate *g, int open)
{
	pthread_mutex_lock(&g->mu);
	g->open = open;
	pthread_cond_broadcast(&g->cv);
	pthread_mutex_unlock(&g->mu);
}

/* Wait until n workers are held at the gate. */
static void gate_wait(struct gate *g, int n)
{
	pthread_mutex_lock(&g->mu);
	while (g->entered < n)
		pthread_cond_wait(&g->cv, &g->mu);
	pthread_mutex_unlock(&g->mu);
}

void test_pool_all_done(void **state)
{
	struct mq_pool *p = NULL;
	int seen[100] = {0};
	unsigned got = 0;

	assert_int_equal(mq_pool_start(4, fake_judge, NULL, &p), 0);
	for (int i = 0; i < 100; i++)
		mq_pool_submit(p, mkjob(i));
	while (got < 100) {
		struct pollfd pfd = {.fd = mq_pool_fd(p), .events = POLLIN};
		struct mq_job *j, *next;

		assert_int_equal(poll(&pfd, 1, 5000), 1);
		for (j = mq_pool_take_done(p); j != NULL; j = next) {
			int n;

			next = j->next;
			assert_non_null(j->result);
			assert_string_equal(j->result, j->body);
			assert_int_equal(sscanf(j->body, "job-%d", &n), 1);
			seen[n]++;
			got++;
			mq_job_free(j);
		}
	}
	for (int i = 0; i < 100; i++)
		assert_int_equal(seen[i], 1);
	assert_int_equal(mq_pool_pending(p), 0);
	assert_null(mq_pool_take_done(p));
	mq_pool_stop(p);
}

void test_pool_take_queued(void **state)
{
	struct gate g = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0};
	struct mq_pool *p = NULL;

	assert_int_equal(mq_pool_start(2, fake_judge, &g, &p), 0);
	for (int i = 0; i < 6; i++)
		mq_pool_submit(p, mkjob(i));
	/* wait until both workers hold a job, stuck at the gate */
	gate_wait(&g, 2);
	assert_int_equal(take_back(p), 4);
	assert_int_equal(mq_pool_pending(p), 2);
	gate_set(&g, 1);
	assert_int_equal(wait_done(p, 2), 2);
	assert_int_equal(mq_pool_pending(p), 0);
	mq_pool_stop(p);
}

/* A job handed to an idle worker counts as started even before that
 * worker has woken: taking the queue back right after the submit must
 * leave it (the drain then waits for its result instead of requeueing a
 * job that is already running). Repeated, since the worker usually wins. */
void test_pool_idle_worker_keeps_job(void **state)
{
	struct gate g = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0};
	struct mq_pool *p = NULL;

	assert_int_equal(mq_pool_start(2, fake_judge, &g, &p), 0);
	/* a worker appends to the done list and goes idle in one critical
	 * section: once a job is back, its worker waits again. A first job
	 * for each (held at the gate until both have one), then, so that both
	 * are known to be waiting. */
	mq_pool_submit(p, mkjob(0));
	mq_pool_submit(p, mkjob(1));
	gate_wait(&g, 2);
	gate_set(&g, 1);
	wait_done(p, 2);
	for (int round = 0; round < 300; round++) {
		/* workers that take a job stop at the closed gate, so with
		 * k taken, 2 - k are idle and 3 - k queued: one is extra */
		gate_set(&g, 0);
		for (int i = 0; i < 3; i++)
			mq_pool_submit(p, mkjob(i));
		assert_int_equal(take_back(p), 1);
		assert_int_equal(mq_pool_pending(p), 2);
		gate_set(&g, 1);
		assert_int_equal(wait_done(p, 2), 2);
		assert_int_equal(mq_pool_pending(p), 0);
	}
	mq_pool_stop(p);
}
