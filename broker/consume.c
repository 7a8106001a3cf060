/* broker: the incoming side of the serve loop: frames from the broker
 * (deliveries, publisher confirms, closes, cancels) and what runlet does
 * with each delivery. I/O thread only.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/srv.h"
#include "core/config.h"
#include "core/log.h"

/* A redelivery of a submission runlet is still answering (its first
 * delivery died with the old connection): answer both with one result. */
static struct mq_job *in_flight(struct srv *s, const char *key)
{
	for (struct mq_job *j = s->all; j != NULL; j = j->all_next) {
		int current = 0;

		if (strcmp(j->meta.key, key) != 0 || j->ntags >= MQ_JOB_TAGS)
			continue;
		for (unsigned i = 0; i < j->ntags; i++)
			if (j->tags[i].gen == s->gen)
				current = 1;
		if (!current)
			return j;
	}
	return NULL;
}

static void refuse(struct srv *s, uint64_t tag, const struct mq_meta *m,
		   const char *reason, const char *detail)
{
	char id[300], d[600];

	if (mq_reject(s, tag, 0) < 0)
		return;
	s->taken++;
	s->dead_lettered++;
	log_event(RUNLET_LOG_WARN, "dead_lettered",
		  "id=%s key=%s reason=%s detail=%s",
		  log_quote(mq_meta_id(m), id, sizeof(id)), m->key, reason,
		  log_quote(detail, d, sizeof(d)));
}

static void on_delivery(struct srv *s, uint64_t tag, int redelivered,
			const amqp_basic_properties_t *props, amqp_bytes_t body)
{
	const struct cfg_broker *b = s->b;
	struct mq_meta m;
	struct mq_job *j;
	char detail[400];
	unsigned prev;

	if (s->draining) {
		/* arrived before basic.cancel took effect: give it back */
		mq_reject(s, tag, 1);
		return;
	}
	mq_meta_read(props, body.bytes, body.len, "task_name", &m);
	if (!mq_meta_task_is(&m, b->task_name)) {
		if (m.has_task_name)
			snprintf(detail, sizeof(detail),
				 "header task_name is \"%s\", not \"%s\"",
				 m.task_name, b->task_name);
		else
			snprintf(detail, sizeof(detail),
				 "no task_name header (expected \"%s\")", b->task_name);
		refuse(s, tag, &m, "task_name", detail);
		goto counted;
	}
	if (redelivered) {
		j = in_flight(s, m.key);
		if (j != NULL) {
			j->tags[j->ntags].tag = tag;
			j->tags[j->ntags].gen = s->gen;
			j->ntags++;
			log_event(RUNLET_LOG_INFO, "redelivery_joined", "key=%s", m.key);
			return;
		}
		if (mq_tomb_take(s, m.key)) {
			log_event(RUNLET_LOG_INFO, "redelivery_answered", "key=%s", m.key);
			mq_ack(s, tag);
			return;
		}
	}
	prev = redelivered ? mq_attempts_get(s->att, m.key) : 0;
	if (prev > b->max_redeliveries) {
		snprintf(detail, sizeof(detail),
			 "judging it was started %u times and never finished "
			 "(broker.max_redeliveries is %llu); x-death count %llu",
			 prev, (unsigned long long)b->max_redeliveries,
			 (unsigned long long)m.deaths);
		refuse(s, tag, &m, "redeliveries", detail);
		mq_attempts_clear(s->att, m.key);
		goto counted;
	}
	j = calloc(1, sizeof(*j));
	if (j != NULL)
		j->body = malloc(body.len + 1);
	if (j == NULL || j->body == NULL) {
		free(j);
		log_event(RUNLET_LOG_ERROR, "out_of_memory", "key=%s bytes=%zu", m.key,
			  body.len);
		mq_reject(s, tag, 1);
		return;
	}
	memcpy(j->body, body.bytes, body.len);
	j->body[body.len] = '\0';
	j->len = body.len;
	j->meta = m;
	j->tags[0].tag = tag;
	j->tags[0].gen = s->gen;
	j->ntags = 1;
	j->accepted_ms = mq_now_ms();
	mq_attempts_set(s->att, m.key, prev + 1);
	s->taken++;
	mq_live_add(s, j);
	log_event(RUNLET_LOG_DEBUG, "job_taken", "key=%s bytes=%zu attempt=%u%s",
		  m.key, body.len, prev + 1, redelivered ? " redelivered=1" : "");
	mq_pool_submit(s->pool, j);
counted:
	if (s->max_jobs != 0 && s->taken >= s->max_jobs && !s->draining) {
		/* the jobs taken are finished whatever they take (their own
		 * limits bound them); only a signal sets a drain deadline */
		s->draining = 1;
		s->drain_deadline_ms = UINT64_MAX;
		log_event(RUNLET_LOG_INFO, "drain", "reason=max_jobs taken=%llu",
			  (unsigned long long)s->taken);
		mq_cancel_consumer(s);
	}
}

int mq_cancel_consumer(struct srv *s)
{
	if (!s->connected || !s->consuming)
		return 0;
	s->consuming = 0;
	if (amqp_basic_cancel(s->conn.st, s->conn.ch,
			      amqp_cstring_bytes(s->consumer_tag)) == NULL) {
		char why[300];

		mq_reply_describe(amqp_get_rpc_reply(s->conn.st), "basic.cancel", why,
				  sizeof(why), NULL);
		mq_disconnected(s, why);
		return -EIO;
	}
	return 0;
}

static void read_delivery(struct srv *s, const amqp_frame_t *f)
{
	const amqp_basic_deliver_t *d = f->payload.method.decoded;
	uint64_t tag = d->delivery_tag;
	int redelivered = d->redelivered;
	amqp_message_t msg;
	amqp_rpc_reply_t r = amqp_read_message(s->conn.st, f->channel, &msg, 0);

	if (r.reply_type != AMQP_RESPONSE_NORMAL) {
		char why[300];

		mq_reply_describe(r, "reading a message", why, sizeof(why), NULL);
		mq_disconnected(s, why);
		return;
	}
	on_delivery(s, tag, redelivered, &msg.properties, msg.body);
	amqp_destroy_message(&msg);
}

/* A result came back unroutable: the results queue was deleted. Its
 * confirm follows on the wire; dropping the connection before reading it
 * keeps the submission unacked and the result kept, and the reconnect
 * declares the queue again and publishes the result again. */
static void on_return(struct srv *s, const amqp_frame_t *f)
{
	const amqp_basic_return_t *m = f->payload.method.decoded;
	char why[400];
	amqp_message_t msg;
	amqp_rpc_reply_t r;

	snprintf(why, sizeof(why),
		 "a result came back unroutable (%u %.*s): is queue \"%s\" deleted? "
		 "reconnecting to declare it again",
		 (unsigned)m->reply_code, (int)m->reply_text.len,
		 (const char *)m->reply_text.bytes, s->b->results_queue);
	r = amqp_read_message(s->conn.st, f->channel, &msg, 0);
	if (r.reply_type == AMQP_RESPONSE_NORMAL)
		amqp_destroy_message(&msg);
	log_event(RUNLET_LOG_ERROR, "result_returned", "queue=%s", s->b->results_queue);
	mq_disconnected(s, why);
}

static void on_close(struct srv *s, const amqp_frame_t *f)
{
	char why[600];
	amqp_rpc_reply_t r = {.reply_type = AMQP_RESPONSE_SERVER_EXCEPTION,
			      .reply = f->payload.method};

	mq_reply_describe(r, "", why, sizeof(why), NULL);
	if (f->payload.method.id == AMQP_CONNECTION_CLOSE_METHOD) {
		amqp_connection_close_ok_t ok = {0};

		amqp_send_method(s->conn.st, 0, AMQP_CONNECTION_CLOSE_OK_METHOD, &ok);
	} else {
		amqp_channel_close_ok_t ok = {0};

		amqp_send_method(s->conn.st, f->channel, AMQP_CHANNEL_CLOSE_OK_METHOD, &ok);
	}
	mq_disconnected(s, why + 2); /* skip the ": " of the empty prefix */
}

void mq_read_frames(struct srv *s)
{
	/* bounded, so completions and signals are looked at in between */
	for (int n = 0; n < 256 && s->connected; n++) {
		struct timeval zero = {0, 0};
		amqp_frame_t f;
		int rc = amqp_simple_wait_frame_noblock(s->conn.st, &f, &zero);

		if (rc == AMQP_STATUS_TIMEOUT)
			break;
		if (rc != AMQP_STATUS_OK) {
			char why[200];

			snprintf(why, sizeof(why), "reading from the broker: %s",
				 amqp_error_string2(rc));
			mq_disconnected(s, why);
			break;
		}
		if (f.frame_type != AMQP_FRAME_METHOD)
			continue;
		switch (f.payload.method.id) {
		case AMQP_BASIC_DELIVER_METHOD:
			read_delivery(s, &f);
			break;
		case AMQP_BASIC_ACK_METHOD: {
			const amqp_basic_ack_t *a = f.payload.method.decoded;

			mq_on_confirm(s, a->delivery_tag, a->multiple, 1);
			break;
		}
		case AMQP_BASIC_NACK_METHOD: {
			const amqp_basic_nack_t *a = f.payload.method.decoded;

			mq_on_confirm(s, a->delivery_tag, a->multiple, 0);
			break;
		}
		case AMQP_BASIC_RETURN_METHOD:
			on_return(s, &f);
			break;
		case AMQP_BASIC_CANCEL_METHOD:
			/* the broker cancelled us (queue deleted?): start over,
			 * which declares the queues again */
			mq_disconnected(s, "the broker cancelled the consumer (queue deleted?)");
			break;
		case AMQP_CHANNEL_CLOSE_METHOD:
		case AMQP_CONNECTION_CLOSE_METHOD:
			on_close(s, &f);
			break;
		default:
			break;
		}
		if (s->connected)
			amqp_maybe_release_buffers(s->conn.st);
	}
}
