/* broker: the queues and exchange of CONTRACT.md §1, declared exactly as the
 * platform's library declares them (names from config):
 *   exchange <dlx>            direct, durable
 *   queue    <dlq>            durable, x-message-ttl = <dlq_ttl> (int32 when it
 *                             fits, else int64: what py-amqp/kombu send)
 *   binding  <dlq> <- <dlx>   routing key <dlq>
 *   queue    <queue>          durable, x-dead-letter-exchange = <dlx>,
 *                             x-dead-letter-routing-key = <dlq> (long strings)
 *   queue    <results_queue>  durable; an existing one is used as it is
 * Declarations run on their own channel so a refusal never touches the
 * consuming channel.
 */
#ifndef RUNLET_BROKER_TOPOLOGY_H
#define RUNLET_BROKER_TOPOLOGY_H

#include <stddef.h>

#include "broker/conn.h"

struct cfg_broker;

/* 0; -EPROTO when the broker refused a declaration (PRECONDITION_FAILED:
 * an existing queue has other arguments; err names the queue, the
 * argument, both values and the fix); -EIO for connection trouble. */
int mq_declare(struct mq_conn *c, const struct cfg_broker *b, char *err,
	       size_t errlen);

/* Build the argument table of the submission queue / the DLQ into
 * caller-provided entries (2 / 1). Exposed for tests. */
amqp_table_t mq_queue_args(const struct cfg_broker *b,
			   amqp_table_entry_t entries[2]);
amqp_table_t mq_dlq_args(const struct cfg_broker *b,
			 amqp_table_entry_t entries[1]);

#endif
