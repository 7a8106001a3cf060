/* broker: the outgoing side of the serve loop: results published with
 * publisher confirms, and submissions settled only once their result is
 * confirmed (ack), or rejected to the DLQ, or requeued. I/O thread only.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "broker/srv.h"
#include "core/config.h"
#include "core/log.h"

void mq_live_add(struct srv *s, struct mq_job *j)
{
	j->all_next = s->all;
	s->all = j;
}

void mq_live_drop(struct srv *s, struct mq_job *j)
{
	for (struct mq_job **pp = &s->all; *pp != NULL; pp = &(*pp)->all_next) {
		if (*pp == j) {
			*pp = j->all_next;
			return;
		}
	}
}

static void tomb_add(struct srv *s, const char *key)
{
	struct mq_tomb *t = &s->tombs[s->tomb_next++ % MQ_TOMBS];

	snprintf(t->key, sizeof(t->key), "%s", key);
	t->until_ms = mq_now_ms() + MQ_TOMB_TTL_MS;
}

int mq_tomb_take(struct srv *s, const char *key)
{
	uint64_t now = mq_now_ms();

	for (unsigned i = 0; i < MQ_TOMBS; i++) {
		struct mq_tomb *t = &s->tombs[i];

		if (t->key[0] != '\0' && t->until_ms > now &&
		    strcmp(t->key, key) == 0) {
			t->key[0] = '\0';
			return 1;
		}
	}
	return 0;
}

int mq_ack(struct srv *s, uint64_t tag)
{
	if (amqp_basic_ack(s->conn.st, s->conn.ch, tag, 0) != AMQP_STATUS_OK) {
		mq_disconnected(s, "basic.ack failed");
		return -EIO;
	}
	return 0;
}

int mq_reject(struct srv *s, uint64_t tag, int requeue)
{
	int rc = requeue ? amqp_basic_nack(s->conn.st, s->conn.ch, tag, 0, 1)
			 : amqp_basic_reject(s->conn.st, s->conn.ch, tag, 0);

	if (rc != AMQP_STATUS_OK) {
		mq_disconnected(s, requeue ? "basic.nack failed" : "basic.reject failed");
		return -EIO;
	}
	return 0;
}

enum settle { SETTLE_ACK, SETTLE_REJECT, SETTLE_REQUEUE };

/* Settle every live delivery of j the way given; returns how many were
 * live (0: all its deliveries died with an older connection). */
static unsigned settle_tags(struct srv *s, struct mq_job *j, enum settle how)
{
	unsigned live = 0;

	for (unsigned i = 0; i < j->ntags; i++) {
		if (!s->connected || j->tags[i].gen != s->gen)
			continue;
		live++;
		if ((how == SETTLE_ACK ? mq_ack(s, j->tags[i].tag)
				       : mq_reject(s, j->tags[i].tag,
						   how == SETTLE_REQUEUE)) < 0)
			break;
	}
	return live;
}

static void log_job(const struct mq_job *j, const char *event,
		    enum runlet_log_level level)
{
	char id[300], err[700];
	uint64_t total = mq_now_ms() - j->accepted_ms;

	log_event(level, event,
		  "id=%s key=%s lang=%s verdict=%s duration_ms=%llu judge_ms=%llu%s%s",
		  log_quote(mq_meta_id(&j->meta), id, sizeof(id)), j->meta.key,
		  j->lang[0] ? j->lang : "-", j->verdict[0] ? j->verdict : "-",
		  (unsigned long long)total, (unsigned long long)j->judge_ms,
		  j->err[0] ? " error=" : "",
		  j->err[0] ? log_quote(j->err, err, sizeof(err)) : "");
}

static void finish(struct srv *s, struct mq_job *j)
{
	mq_live_drop(s, j);
	mq_job_free(j);
}

static int publish(struct srv *s, struct mq_job *j)
{
	const struct cfg_broker *b = s->b;
	amqp_basic_properties_t props;
	amqp_table_entry_t hdr[1];
	const char *corr;
	int rc;

	memset(&props, 0, sizeof(props));
	props._flags = AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_CONTENT_ENCODING_FLAG |
		       AMQP_BASIC_DELIVERY_MODE_FLAG | AMQP_BASIC_HEADERS_FLAG;
	props.content_type = amqp_cstring_bytes("application/json");
	props.content_encoding = amqp_cstring_bytes("utf-8");
	props.delivery_mode = AMQP_DELIVERY_PERSISTENT;
	hdr[0].key = amqp_cstring_bytes("task_name");
	hdr[0].value.kind = AMQP_FIELD_KIND_UTF8;
	hdr[0].value.value.bytes = amqp_cstring_bytes(b->result_task_name);
	props.headers.num_entries = 1;
	props.headers.entries = hdr;
	if (j->meta.message_id[0] != '\0') {
		props._flags |= AMQP_BASIC_MESSAGE_ID_FLAG;
		props.message_id = amqp_cstring_bytes(j->meta.message_id);
	}
	corr = j->meta.correlation_id[0] ? j->meta.correlation_id : j->meta.message_id;
	if (corr[0] != '\0') {
		props._flags |= AMQP_BASIC_CORRELATION_ID_FLAG;
		props.correlation_id = amqp_cstring_bytes(corr);
	}
	/* mandatory: if the results queue is gone the broker returns the
	 * result (basic.return, before its confirm) instead of dropping it */
	rc = amqp_basic_publish(s->conn.st, s->conn.ch, amqp_cstring_bytes(""),
				amqp_cstring_bytes(b->results_queue), 1, 0, &props,
				(amqp_bytes_t){.len = j->result_len, .bytes = j->result});
	if (rc != AMQP_STATUS_OK) {
		char cause[200];

		snprintf(cause, sizeof(cause), "basic.publish: %s", amqp_error_string2(rc));
		mq_disconnected(s, cause);
		return -EIO;
	}
	j->seq = s->conn.next_seq++;
	j->seq_gen = s->gen;
	j->state = MQ_JOB_PUBLISHED;
	return 0;
}

/* A job came back from the pool (or waits for a connection): act on its
 * outcome. The job is freed here unless it waits for a confirm or for
 * the broker to come back. */
static void dispose(struct srv *s, struct mq_job *j)
{
	j->state = MQ_JOB_DONE;
	if (j->result != NULL) {
		/* a result (also an error result for an invalid submission) */
		if (s->connected)
			publish(s, j);
		return;
	}
	if (!s->connected)
		return; /* settle it once the broker is back */
	if (j->rc == -EINVAL) {
		/* not identifiable: nothing to answer, dead-letter it */
		settle_tags(s, j, SETTLE_REJECT);
		s->dead_lettered++;
		mq_attempts_clear(s->att, j->meta.key);
		log_job(j, "dead_lettered", RUNLET_LOG_WARN);
	} else {
		/* runlet failed (not the submission): requeue, the attempt
		 * counts, so a message that always fails ends in the DLQ */
		settle_tags(s, j, SETTLE_REQUEUE);
		log_job(j, "job_failed", RUNLET_LOG_ERROR);
	}
	finish(s, j);
}

void mq_collect_done(struct srv *s)
{
	struct mq_job *j = mq_pool_take_done(s->pool), *next;

	for (; j != NULL; j = next) {
		next = j->next;
		j->next = NULL;
		dispose(s, j);
	}
}

void mq_flush_done(struct srv *s)
{
	struct mq_job *j, *next;

	for (j = s->all; j != NULL && s->connected; j = next) {
		next = j->all_next;
		if (j->state == MQ_JOB_DONE)
			dispose(s, j);
	}
}

static void confirmed(struct srv *s, struct mq_job *j)
{
	unsigned live = settle_tags(s, j, SETTLE_ACK);

	if (live == 0)
		tomb_add(s, j->meta.key); /* the redelivery is still to come */
	mq_attempts_clear(s->att, j->meta.key);
	s->answered++;
	log_job(j, "job_done", RUNLET_LOG_INFO);
	finish(s, j);
}

void mq_on_confirm(struct srv *s, uint64_t tag, int multiple, int ack)
{
	struct mq_job *j, *next;

	for (j = s->all; j != NULL; j = next) {
		next = j->all_next;
		if (j->state != MQ_JOB_PUBLISHED || j->seq_gen != s->gen)
			continue;
		if (!(multiple ? j->seq <= tag : j->seq == tag))
			continue;
		if (ack) {
			confirmed(s, j);
		} else {
			/* the broker could not take it: publish again */
			log_event(RUNLET_LOG_WARN, "publish_nacked", "key=%s seq=%llu",
				  j->meta.key, (unsigned long long)j->seq);
			j->state = MQ_JOB_DONE;
			if (s->connected)
				publish(s, j);
		}
		if (!s->connected)
			return;
	}
}
