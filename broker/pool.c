/* broker: worker threads with a job queue and a done list (see pool.h). */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "broker/pool.h"

struct mq_pool {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct mq_job *queue_head, *queue_tail; /* waiting */
	struct mq_job *done_head, *done_tail;   /* finished */
	unsigned pending;                       /* submitted - taken back */
	unsigned idle;                          /* workers waiting for a job */
	int stopping;
	int efd;
	mq_judge_fn fn;
	void *arg;
	unsigned n;
	pthread_t *threads;
};

void mq_job_free(struct mq_job *j)
{
	if (j == NULL)
		return;
	free(j->body);
	free(j->result);
	free(j);
}

static void append(struct mq_job **head, struct mq_job **tail, struct mq_job *j)
{
	j->next = NULL;
	if (*tail != NULL)
		(*tail)->next = j;
	else
		*head = j;
	*tail = j;
}

static void *worker(void *arg)
{
	struct mq_pool *p = arg;
	uint64_t one = 1;

	pthread_mutex_lock(&p->mu);
	for (;;) {
		struct mq_job *j;

		p->idle++;
		while (p->queue_head == NULL && !p->stopping)
			pthread_cond_wait(&p->cv, &p->mu);
		p->idle--;
		if (p->queue_head == NULL)
			break;
		j = p->queue_head;
		p->queue_head = j->next;
		if (p->queue_head == NULL)
			p->queue_tail = NULL;
		pthread_mutex_unlock(&p->mu);

		p->fn(p->arg, j);

		pthread_mutex_lock(&p->mu);
		append(&p->done_head, &p->done_tail, j);
		/* an eventfd counter cannot overflow at these rates */
		if (write(p->efd, &one, sizeof(one)) < 0) {
			/* EAGAIN only: the fd is readable already */
		}
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

int mq_pool_start(unsigned n, mq_judge_fn fn, void *arg, struct mq_pool **out)
{
	struct mq_pool *p = calloc(1, sizeof(*p));
	int rc;

	if (p == NULL)
		return -ENOMEM;
	p->fn = fn;
	p->arg = arg;
	p->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	p->threads = calloc(n, sizeof(*p->threads));
	if (p->efd < 0 || p->threads == NULL) {
		rc = p->efd < 0 ? -errno : -ENOMEM;
		goto fail;
	}
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	for (p->n = 0; p->n < n; p->n++) {
		rc = -pthread_create(&p->threads[p->n], NULL, worker, p);
		if (rc < 0) {
			mq_pool_stop(p);
			return rc;
		}
	}
	*out = p;
	return 0;
fail:
	if (p->efd >= 0)
		close(p->efd);
	free(p->threads);
	free(p);
	return rc;
}

int mq_pool_fd(const struct mq_pool *p)
{
	return p->efd;
}

void mq_pool_submit(struct mq_pool *p, struct mq_job *j)
{
	pthread_mutex_lock(&p->mu);
	j->state = MQ_JOB_QUEUED;
	append(&p->queue_head, &p->queue_tail, j);
	p->pending++;
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

static unsigned count(const struct mq_job *j)
{
	unsigned n = 0;

	for (; j != NULL; j = j->next)
		n++;
	return n;
}

struct mq_job *mq_pool_take_done(struct mq_pool *p)
{
	struct mq_job *j;
	uint64_t v;

	if (read(p->efd, &v, sizeof(v)) < 0) {
		/* EAGAIN: nothing signalled since the last take */
	}
	pthread_mutex_lock(&p->mu);
	j = p->done_head;
	p->done_head = p->done_tail = NULL;
	p->pending -= count(j);
	pthread_mutex_unlock(&p->mu);
	return j;
}

/* A worker waiting on the condition variable takes the queue's head as
 * soon as it gets the mutex back, so the first p->idle queued jobs are as
 * good as started: they stay. The rest are handed back. */
struct mq_job *mq_pool_take_queued(struct mq_pool *p)
{
	struct mq_job *keep_tail = NULL, *j;
	unsigned keep;

	pthread_mutex_lock(&p->mu);
	j = p->queue_head;
	for (keep = 0; keep < p->idle && j != NULL; keep++) {
		keep_tail = j;
		j = j->next;
	}
	if (keep_tail != NULL) {
		keep_tail->next = NULL;
		p->queue_tail = keep_tail;
	} else {
		p->queue_head = p->queue_tail = NULL;
	}
	p->pending -= count(j);
	pthread_mutex_unlock(&p->mu);
	return j;
}

unsigned mq_pool_pending(struct mq_pool *p)
{
	unsigned n;

	pthread_mutex_lock(&p->mu);
	n = p->pending;
	pthread_mutex_unlock(&p->mu);
	return n;
}

void mq_pool_stop(struct mq_pool *p)
{
	struct mq_job *j, *next;

	if (p == NULL)
		return;
	pthread_mutex_lock(&p->mu);
	p->stopping = 1;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	for (unsigned i = 0; i < p->n; i++)
		pthread_join(p->threads[i], NULL);
	for (j = p->queue_head; j != NULL; j = next) {
		next = j->next;
		mq_job_free(j);
	}
	for (j = p->done_head; j != NULL; j = next) {
		next = j->next;
		mq_job_free(j);
	}
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mu);
	close(p->efd);
	free(p->threads);
	free(p);
}

void mq_pool_abandon(struct mq_pool *p)
{
	if (p == NULL)
		return;
	pthread_mutex_lock(&p->mu);
	p->stopping = 1;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	for (unsigned i = 0; i < p->n; i++)
		pthread_detach(p->threads[i]);
}
