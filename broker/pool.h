/* broker: the worker pool. N threads take jobs from a queue, run the judge
 * callback on each, and put them on a done list; every completion is
 * signalled on an eventfd the I/O thread polls. Workers never touch the
 * AMQP connection.
 *
 * Ownership: a struct mq_job belongs to the I/O thread, except between
 * mq_pool_submit and the moment mq_pool_take_done hands it back: then the
 * pool (and one worker) has it. The mutex hand-offs order all accesses.
 */
#ifndef RUNLET_BROKER_POOL_H
#define RUNLET_BROKER_POOL_H

#include <stddef.h>
#include <stdint.h>

#include "broker/message.h"

enum mq_job_state {
	MQ_JOB_QUEUED = 0, /* in the pool (waiting or being judged) */
	MQ_JOB_DONE,       /* judged, result not yet published */
	MQ_JOB_PUBLISHED,  /* published, waiting for the broker's confirm */
};

#define MQ_JOB_TAGS 4

struct mq_job {
	struct mq_job *next; /* list link: whoever holds the job */
	struct mq_job *all_next; /* the I/O thread's list of every live job */
	enum mq_job_state state;
	/* input, set by the I/O thread before submit */
	char *body;          /* owned */
	size_t len;
	struct mq_meta meta;
	/* deliveries answered by this job's result: the original and any
	 * redelivery that arrived while it was in flight; gen is the
	 * connection the tag belongs to (older ones are dead) */
	struct { uint64_t tag, gen; } tags[MQ_JOB_TAGS];
	unsigned ntags;
	uint64_t accepted_ms; /* monotonic, when it was taken */
	/* output, set by the worker */
	int rc;              /* the judge's return */
	char *result;        /* owned JSON body or NULL */
	size_t result_len;
	char lang[32];
	char verdict[16];
	char err[512];
	uint64_t judge_ms;
	/* publishing, I/O thread */
	uint64_t seq, seq_gen; /* publisher-confirm sequence, its connection */
};

void mq_job_free(struct mq_job *j);

/* The work: fill j's output fields. Called on a worker thread. */
typedef void (*mq_judge_fn)(void *arg, struct mq_job *j);

struct mq_pool;

/* Start n workers (n >= 1). 0 or -errno. */
int mq_pool_start(unsigned n, mq_judge_fn fn, void *arg, struct mq_pool **out);
/* Readable when jobs are done (EFD_NONBLOCK eventfd). */
int mq_pool_fd(const struct mq_pool *p);
void mq_pool_submit(struct mq_pool *p, struct mq_job *j);
/* Every finished job, in completion order (NULL if none); clears the fd. */
struct mq_job *mq_pool_take_done(struct mq_pool *p);
/* Jobs no worker will start, taken back (NULL if none): those queued
 * beyond the workers that are idle now (an idle worker's job counts as
 * started; it is judged and comes back through mq_pool_take_done). */
struct mq_job *mq_pool_take_queued(struct mq_pool *p);
/* Jobs submitted and not yet taken back as done. */
unsigned mq_pool_pending(struct mq_pool *p);
/* Stop: workers finish their current job and exit; joins them. Only call
 * when mq_pool_pending is 0, else jobs still being judged keep the pool
 * alive: then use mq_pool_abandon. */
void mq_pool_stop(struct mq_pool *p);
/* Leave workers that are still judging running (the process is about to
 * exit); frees nothing they could touch. */
void mq_pool_abandon(struct mq_pool *p);

#endif
