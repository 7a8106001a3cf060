/* broker: what runlet reads from an incoming message's properties and
 * headers: the task_name header, the ids that travel with the result, the
 * x-death count, and the key that identifies the message across
 * redeliveries. Pure functions over rabbitmq-c structs, no I/O.
 * Ownership: struct mq_meta holds copies (fixed arrays).
 */
#ifndef RUNLET_BROKER_MESSAGE_H
#define RUNLET_BROKER_MESSAGE_H

#include <stddef.h>
#include <stdint.h>

#include <amqp.h>

#define MQ_ID_MAX 256

struct mq_meta {
	int has_task_name;
	char task_name[MQ_ID_MAX];     /* truncated copy */
	size_t task_name_len;          /* the header's real length */
	char message_id[MQ_ID_MAX];    /* "" when absent */
	char correlation_id[MQ_ID_MAX];/* "" when absent */
	uint64_t deaths;               /* sum of x-death[].count */
	char key[17];                  /* hex of a 64-bit hash: id or body */
};

/* Fill m from the properties (may be NULL) and the body. */
void mq_meta_read(const amqp_basic_properties_t *props, const void *body,
		  size_t len, const char *task_header, struct mq_meta *m);

/* Whether the task_name header is present and equals want exactly. */
int mq_meta_task_is(const struct mq_meta *m, const char *want);

/* The id a result carries (and that logs show): message_id, else
 * correlation_id, else "" (then the key identifies it in logs). */
const char *mq_meta_id(const struct mq_meta *m);

/* FNV-1a 64. */
uint64_t mq_hash64(const void *data, size_t len, uint64_t h);

#endif
