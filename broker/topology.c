/* broker: declaring the contract's queues and exchange (see topology.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "broker/topology.h"
#include "core/config.h"

#define TOPOLOGY_CH 2

amqp_table_t mq_queue_args(const struct cfg_broker *b,
			   amqp_table_entry_t entries[2])
{
	amqp_table_t t;

	entries[0].key = amqp_cstring_bytes("x-dead-letter-exchange");
	entries[0].value.kind = AMQP_FIELD_KIND_UTF8;
	entries[0].value.value.bytes = amqp_cstring_bytes(b->dlx);
	entries[1].key = amqp_cstring_bytes("x-dead-letter-routing-key");
	entries[1].value.kind = AMQP_FIELD_KIND_UTF8;
	entries[1].value.value.bytes = amqp_cstring_bytes(b->dlq);
	t.num_entries = 2;
	t.entries = entries;
	return t;
}

amqp_table_t mq_dlq_args(const struct cfg_broker *b,
			 amqp_table_entry_t entries[1])
{
	amqp_table_t t;

	entries[0].key = amqp_cstring_bytes("x-message-ttl");
	/* py-amqp writes a Python int as 'I' (int32) when it fits, else 'L' */
	if (b->dlq_ttl_ms <= 2147483647u) {
		entries[0].value.kind = AMQP_FIELD_KIND_I32;
		entries[0].value.value.i32 = (int32_t)b->dlq_ttl_ms;
	} else {
		entries[0].value.kind = AMQP_FIELD_KIND_I64;
		entries[0].value.value.i64 = (int64_t)b->dlq_ttl_ms;
	}
	t.num_entries = 1;
	t.entries = entries;
	return t;
}

/* After the broker closed the topology channel: acknowledge, reopen. */
static int reopen(struct mq_conn *c, char *err, size_t errlen)
{
	amqp_channel_close_ok_t ok = {0};
	amqp_rpc_reply_t r;

	if (amqp_send_method(c->st, TOPOLOGY_CH, AMQP_CHANNEL_CLOSE_OK_METHOD,
			     &ok) != AMQP_STATUS_OK) {
		snprintf(err, errlen, "channel.close-ok: connection lost");
		return -EIO;
	}
	amqp_channel_open(c->st, TOPOLOGY_CH);
	r = amqp_get_rpc_reply(c->st);
	if (r.reply_type != AMQP_RESPONSE_NORMAL) {
		mq_reply_describe(r, "channel.open", err, errlen, NULL);
		return -EIO;
	}
	return 0;
}

/* A refused declaration: say what, and how to fix it. */
static int refused(amqp_rpc_reply_t r, const char *kind, const char *name,
		   const char *declared, char *err, size_t errlen)
{
	char why[768];
	int code = 0;
	int rc = mq_reply_describe(r, "", why, sizeof(why), &code);

	if (rc != -EPROTO) {
		snprintf(err, errlen, "declaring %s \"%s\"%s", kind, name, why);
		return -EIO;
	}
	if (code == AMQP_PRECONDITION_FAILED) {
		snprintf(err, errlen,
			 "%s \"%s\" exists with other arguments than runlet "
			 "declares (%s)%s. Fix: make broker.* in config.yaml match "
			 "the existing declaration, or delete the %s so it is "
			 "declared again",
			 kind, name, declared, why, kind);
	} else {
		snprintf(err, errlen, "declaring %s \"%s\" (%s)%s", kind, name,
			 declared, why);
	}
	return r.reply.id == AMQP_CONNECTION_CLOSE_METHOD ? -EIO : -EPROTO;
}

static int declare_queue(struct mq_conn *c, const char *name, amqp_table_t args,
			 const char *declared, char *err, size_t errlen)
{
	amqp_queue_declare(c->st, TOPOLOGY_CH, amqp_cstring_bytes(name), 0, 1, 0,
			   0, args);
	amqp_rpc_reply_t r = amqp_get_rpc_reply(c->st);

	if (r.reply_type == AMQP_RESPONSE_NORMAL)
		return 0;
	return refused(r, "queue", name, declared, err, errlen);
}

/* The results queue belongs to the platform: use it as it is when it
 * exists (whatever its arguments), declare it durable otherwise. */
static int ensure_results(struct mq_conn *c, const char *name, char *err,
			  size_t errlen)
{
	amqp_rpc_reply_t r;
	int code = 0;
	char why[512];

	amqp_queue_declare(c->st, TOPOLOGY_CH, amqp_cstring_bytes(name), 1, 0, 0,
			   0, amqp_empty_table);
	r = amqp_get_rpc_reply(c->st);
	if (r.reply_type == AMQP_RESPONSE_NORMAL)
		return 0;
	if (mq_reply_describe(r, "", why, sizeof(why), &code) != -EPROTO ||
	    code != AMQP_NOT_FOUND || r.reply.id != AMQP_CHANNEL_CLOSE_METHOD)
		return refused(r, "queue", name, "passive", err, errlen);
	if (reopen(c, err, errlen) < 0)
		return -EIO;
	return declare_queue(c, name, amqp_empty_table, "durable", err, errlen);
}

int mq_declare(struct mq_conn *c, const struct cfg_broker *b, char *err,
	       size_t errlen)
{
	amqp_table_entry_t qe[2], de[1];
	amqp_rpc_reply_t r;
	char declared[768];
	int rc;

	amqp_channel_open(c->st, TOPOLOGY_CH);
	r = amqp_get_rpc_reply(c->st);
	if (r.reply_type != AMQP_RESPONSE_NORMAL) {
		mq_reply_describe(r, "channel.open", err, errlen, NULL);
		return -EIO;
	}
	amqp_exchange_declare(c->st, TOPOLOGY_CH, amqp_cstring_bytes(b->dlx),
			      amqp_cstring_bytes("direct"), 0, 1, 0, 0,
			      amqp_empty_table);
	r = amqp_get_rpc_reply(c->st);
	if (r.reply_type != AMQP_RESPONSE_NORMAL)
		return refused(r, "exchange", b->dlx, "direct, durable", err, errlen);

	snprintf(declared, sizeof(declared), "durable, x-message-ttl=%llu",
		 (unsigned long long)b->dlq_ttl_ms);
	rc = declare_queue(c, b->dlq, mq_dlq_args(b, de), declared, err, errlen);
	if (rc < 0)
		return rc;
	amqp_queue_bind(c->st, TOPOLOGY_CH, amqp_cstring_bytes(b->dlq),
			amqp_cstring_bytes(b->dlx), amqp_cstring_bytes(b->dlq),
			amqp_empty_table);
	r = amqp_get_rpc_reply(c->st);
	if (r.reply_type != AMQP_RESPONSE_NORMAL)
		return refused(r, "binding of queue", b->dlq, "to the dead-letter exchange",
			       err, errlen);

	snprintf(declared, sizeof(declared),
		 "durable, x-dead-letter-exchange=\"%s\", x-dead-letter-routing-key=\"%s\"",
		 b->dlx, b->dlq);
	rc = declare_queue(c, b->queue, mq_queue_args(b, qe), declared, err, errlen);
	if (rc < 0)
		return rc;
	rc = ensure_results(c, b->results_queue, err, errlen);
	if (rc < 0)
		return rc;
	r = amqp_channel_close(c->st, TOPOLOGY_CH, AMQP_REPLY_SUCCESS);
	if (r.reply_type != AMQP_RESPONSE_NORMAL) {
		mq_reply_describe(r, "channel.close", err, errlen, NULL);
		return -EIO;
	}
	return 0;
}
