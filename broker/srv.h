/* broker: the serve loop's state, shared by serve.c (the loop), consume.c
 * (incoming frames and deliveries) and publish.c (results, confirms,
 * settling). Internal to broker/; every field is the I/O thread's.
 */
#ifndef RUNLET_BROKER_SRV_H
#define RUNLET_BROKER_SRV_H

#include <stdint.h>

#include "broker/attempts.h"
#include "broker/backoff.h"
#include "broker/conn.h"
#include "broker/pool.h"

struct cfg_broker;

#define MQ_TOMBS 1024
#define MQ_TOMB_TTL_MS (10 * 60 * 1000)

/* A result confirmed while its delivery was already dead (the connection
 * dropped): the broker redelivers that submission later; the tombstone
 * lets runlet ack the redelivery instead of judging it again. */
struct mq_tomb {
	char key[17];
	uint64_t until_ms;
};

struct srv {
	const struct cfg_broker *b;
	struct mq_params params;
	char display[600];      /* the broker, without the password */
	char conn_name[160];
	char consumer_tag[160];
	unsigned workers;
	uint16_t prefetch;
	uint64_t max_jobs;      /* 0: no limit */
	struct mq_pool *pool;
	struct mq_attempts *att;
	struct mq_backoff bo;

	struct mq_conn conn;
	int connected;
	int consuming;
	uint64_t gen;           /* bumped at every disconnect: older tags are dead */
	uint64_t next_connect_ms;

	struct mq_job *all;     /* every live job (all_next links) */
	struct mq_tomb tombs[MQ_TOMBS];
	unsigned tomb_next;

	uint64_t taken;         /* deliveries runlet took charge of */
	uint64_t answered;      /* results confirmed */
	uint64_t dead_lettered; /* rejected to the DLQ */
	int draining;
	uint64_t drain_deadline_ms;
	int fatal;              /* exit code when a fatal error stopped the loop */
};

uint64_t mq_now_ms(void);

/* consume.c */
/* Read every frame available now; on connection trouble calls
 * mq_disconnected. */
void mq_read_frames(struct srv *s);
/* Stop consuming (basic.cancel); 0 or -EIO. */
int mq_cancel_consumer(struct srv *s);

/* publish.c */
/* Take finished jobs from the pool, publish / reject / requeue them. */
void mq_collect_done(struct srv *s);
/* Publish every DONE job (after a reconnect). */
void mq_flush_done(struct srv *s);
/* A publisher confirm (ack=1) or nack from the broker. */
void mq_on_confirm(struct srv *s, uint64_t tag, int multiple, int ack);
/* Settle a delivery: ack, reject (to the DLQ) or requeue. 0 or -EIO. */
int mq_ack(struct srv *s, uint64_t tag);
int mq_reject(struct srv *s, uint64_t tag, int requeue);
/* Add / drop j in the live list. */
void mq_live_add(struct srv *s, struct mq_job *j);
void mq_live_drop(struct srv *s, struct mq_job *j);
int mq_tomb_take(struct srv *s, const char *key);

/* work.c: the pool's judge callback; arg is the struct runlet_ctx */
void mq_judge(void *arg, struct mq_job *j);

/* serve.c */
/* The connection failed: log, forget it, schedule a reconnect. */
void mq_disconnected(struct srv *s, const char *cause);

#endif
