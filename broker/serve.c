/* broker: `runlet serve`, the queue daemon: options, setup, the serve loop.
 *
 * Theory of operation
 * -------------------
 * Threads. One I/O thread (the caller of serve_main) owns the AMQP
 * connection and everything that touches it: it consumes, publishes, acks,
 * rejects, reconnects. rabbitmq-c connections are not thread-safe, so no
 * other thread ever sees it. N worker threads (broker.workers, default the
 * number of cores; pool.c) only judge (work.c): each takes a job (the body
 * and its metadata, copied out of rabbitmq-c's buffers), calls
 * runlet_judge_body (thread-safe) and leaves the encoded result in the job.
 *
 * Queues between them. I/O thread -> workers: the pool's job queue (mutex
 * + condition variable). Workers -> I/O thread: the pool's done list,
 * signalled on an eventfd. The I/O thread polls two fds: the broker socket
 * and that eventfd, with a 200 ms timeout so that signal flags (set by the
 * SIGTERM/SIGINT handler, signals.c) and heartbeats are seen in time.
 * Prefetch (basic.qos) equals the worker count by default, so the job
 * queue never holds more than that.
 *
 * Who acks what when (at-least-once: nothing is acked before its answer is
 * safely with the broker).
 *  - delivery without task_name = broker.task_name: basic.reject
 *    (requeue=false) at once: RabbitMQ dead-letters it to broker.dlx ->
 *    broker.dlq.
 *  - a delivery judging was started for more than broker.max_redeliveries
 *    times without finishing (attempts.c keeps the count in memory and in
 *    the state directory, so a count survives the daemon being killed):
 *    reject to the DLQ.
 *  - otherwise it becomes a job. When the job is done:
 *      result (also an error result for an invalid but identifiable
 *      submission): basic.publish to the default exchange, routing key
 *      broker.results_queue, persistent; the channel is in confirm mode
 *      and the submission is acked only when the broker confirms that
 *      publish (basic.ack from the broker; a basic.nack means publish
 *      again).
 *      The publish is mandatory: if the results queue has been deleted
 *      the broker returns the result (basic.return, ahead of its
 *      confirm); runlet then drops the connection before reading that
 *      confirm, so nothing is acked, and reconnecting declares the queue
 *      again and republishes.
 *      invalid and not identifiable: reject to the DLQ.
 *      runlet itself failed (out of memory): nack with requeue; the
 *      attempt counts.
 *  - a crash at any moment leaves the submission unacked: the broker
 *    redelivers it; a result published but not yet acked is then sent a
 *    second time (same message_id / correlation_id / "id" field: the
 *    duplicate is recognisable).
 *
 * Broker loss. Delivery tags belong to a channel, so each connection has
 * a generation number; tags of an older one are dead. Jobs keep running
 * while the broker is away and their results are kept. After reconnecting
 * (capped exponential backoff with jitter, backoff.c) runlet declares the
 * queues again, consumes again, and publishes every kept result (an
 * unconfirmed one again: it may arrive twice, never zero times). The
 * broker redelivers the submissions whose acks were lost; a redelivery of
 * a submission still in flight joins that job (one result, both acked);
 * one whose result was already confirmed is acked at once (a tombstone
 * remembers it for 10 minutes); anything else is judged again.
 *
 * Stopping. SIGTERM/SIGINT: basic.cancel, give back jobs no worker will
 * start (nack, requeue; mq_pool_take_queued leaves those an idle worker is
 * about to take), wait up to broker.drain_timeout for the running ones to
 * be judged, published, confirmed and acked, then close and exit 0. At the
 * deadline (or at a second signal) what is still running is nacked with
 * requeue and left behind; the process exits without waiting for it.
 * --once / --max-jobs N: after the Nth delivery, basic.cancel (deliveries
 * already on the wire are nacked back) and exit 0 once the N are settled,
 * without a deadline unless a signal comes.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "broker/options.h"
#include "broker/serve.h"
#include "broker/signals.h"
#include "broker/srv.h"
#include "broker/topology.h"
#include "core/config.h"
#include "core/dispatch.h"
#include "core/log.h"

#define HEARTBEAT_S 30
#define POLL_MS 200

uint64_t mq_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ---- connection lifecycle ---- */

void mq_disconnected(struct srv *s, const char *cause)
{
	char q[600];
	uint64_t delay;

	if (!s->connected)
		return;
	mq_conn_close(&s->conn, 0);
	s->connected = 0;
	s->consuming = 0;
	s->gen++;
	for (struct mq_job *j = s->all; j != NULL; j = j->all_next)
		if (j->state == MQ_JOB_PUBLISHED)
			j->state = MQ_JOB_DONE; /* unconfirmed: publish again */
	delay = mq_backoff_next(&s->bo);
	s->next_connect_ms = mq_now_ms() + delay;
	log_event(RUNLET_LOG_WARN, "disconnected", "broker=%s cause=%s retry_ms=%llu",
		  s->display, log_quote(cause, q, sizeof(q)), (unsigned long long)delay);
}

static void try_connect(struct srv *s)
{
	char err[1024], q[1100];
	amqp_rpc_reply_t r;
	uint64_t delay;
	int rc;

	rc = mq_conn_open(&s->conn, &s->params, s->conn_name, HEARTBEAT_S,
			  s->prefetch, err, sizeof(err));
	if (rc == 0) {
		rc = mq_declare(&s->conn, s->b, err, sizeof(err));
		if (rc == -EPROTO) {
			log_event(RUNLET_LOG_ERROR, "declare_refused", "broker=%s msg=%s",
				  s->display, log_quote(err, q, sizeof(q)));
			mq_conn_close(&s->conn, 1);
			s->fatal = 2;
			return;
		}
	}
	if (rc == 0 && !s->draining) {
		amqp_basic_consume(s->conn.st, s->conn.ch, amqp_cstring_bytes(s->b->queue),
				   amqp_cstring_bytes(s->consumer_tag), 0, 0, 0,
				   amqp_empty_table);
		r = amqp_get_rpc_reply(s->conn.st);
		if (r.reply_type != AMQP_RESPONSE_NORMAL)
			rc = mq_reply_describe(r, "basic.consume", err, sizeof(err), NULL);
	}
	if (rc < 0) {
		mq_conn_close(&s->conn, 0);
		delay = mq_backoff_next(&s->bo);
		s->next_connect_ms = mq_now_ms() + delay;
		log_event(rc == -EACCES ? RUNLET_LOG_ERROR : RUNLET_LOG_WARN,
			  "connect_failed", "broker=%s cause=%s retry_ms=%llu", s->display,
			  log_quote(err, q, sizeof(q)), (unsigned long long)delay);
		return;
	}
	s->connected = 1;
	s->consuming = !s->draining;
	mq_backoff_reset(&s->bo);
	log_event(RUNLET_LOG_INFO, "connected",
		  "broker=%s queue=%s prefetch=%u workers=%u consuming=%d", s->display,
		  s->b->queue, (unsigned)s->prefetch, s->workers, s->consuming);
	mq_flush_done(s);
}

/* ---- stopping ---- */

static void give_back_queued(struct srv *s)
{
	struct mq_job *j = mq_pool_take_queued(s->pool), *next;

	for (; j != NULL; j = next) {
		next = j->next;
		for (unsigned i = 0; i < j->ntags; i++)
			if (s->connected && j->tags[i].gen == s->gen)
				mq_reject(s, j->tags[i].tag, 1);
		mq_attempts_clear(s->att, j->meta.key);
		mq_live_drop(s, j);
		mq_job_free(j);
	}
}

static void begin_drain(struct srv *s, const char *reason)
{
	s->draining = 1;
	s->drain_deadline_ms = mq_now_ms() + s->b->drain_timeout_ms;
	log_event(RUNLET_LOG_INFO, "drain", "reason=%s in_flight=%u timeout_ms=%llu",
		  reason, mq_pool_pending(s->pool),
		  (unsigned long long)s->b->drain_timeout_ms);
	mq_cancel_consumer(s);
	give_back_queued(s);
}

/* The deadline passed: requeue what is left. Returns how many jobs are
 * still held by workers. */
static unsigned give_up(struct srv *s)
{
	unsigned left = 0;

	give_back_queued(s);
	for (struct mq_job *j = s->all; j != NULL; j = j->all_next) {
		for (unsigned i = 0; i < j->ntags; i++)
			if (s->connected && j->tags[i].gen == s->gen)
				mq_reject(s, j->tags[i].tag, 1);
		mq_attempts_clear(s->att, j->meta.key);
		left++;
	}
	log_event(RUNLET_LOG_WARN, "drain_timeout", "requeued=%u", left);
	return mq_pool_pending(s->pool);
}

/* ---- the loop ---- */

static int poll_timeout(const struct srv *s, uint64_t now)
{
	uint64_t t = POLL_MS;

	if (s->connected && (amqp_frames_enqueued(s->conn.st) ||
			     amqp_data_in_buffer(s->conn.st)))
		return 0;
	if (!s->connected && s->next_connect_ms > now && s->next_connect_ms - now < t)
		t = s->next_connect_ms - now;
	if (!s->connected && s->next_connect_ms <= now)
		t = 0;
	if (s->draining)
		t = s->drain_deadline_ms > now ? (s->drain_deadline_ms - now < t ?
						  s->drain_deadline_ms - now : t) : 0;
	return (int)t;
}

static int serve_loop(struct srv *s)
{
	int handled_sigs = 0;

	for (;;) {
		struct pollfd pfd[2];
		uint64_t now = mq_now_ms();
		int sigs = mq_signals_count();
		nfds_t n = 0;

		if (sigs > handled_sigs) {
			char reason[32];

			snprintf(reason, sizeof(reason), "%s",
				 mq_signals_last() == SIGINT ? "SIGINT" : "SIGTERM");
			if (!s->draining) {
				begin_drain(s, reason);
			} else if (s->drain_deadline_ms == UINT64_MAX) {
				/* draining after --max-jobs: now with a deadline */
				s->drain_deadline_ms = now + s->b->drain_timeout_ms;
				log_event(RUNLET_LOG_INFO, "drain", "reason=%s timeout_ms=%llu",
					  reason, (unsigned long long)s->b->drain_timeout_ms);
			} else if (s->drain_deadline_ms > now) {
				log_event(RUNLET_LOG_WARN, "drain_cut", "reason=%s", reason);
				s->drain_deadline_ms = now;
			}
			handled_sigs = sigs;
		}
		if (!s->connected && now >= s->next_connect_ms &&
		    !(s->draining && s->all == NULL))
			try_connect(s);
		if (s->fatal)
			return s->fatal;
		mq_collect_done(s);
		if (s->connected)
			mq_read_frames(s);
		if (s->draining) {
			if (s->all == NULL)
				return 0;
			if (mq_now_ms() >= s->drain_deadline_ms) {
				give_up(s);
				return 0;
			}
		}
		now = mq_now_ms();
		if (s->connected) {
			pfd[n].fd = s->conn.fd;
			pfd[n].events = POLLIN;
			n++;
		}
		pfd[n].fd = mq_pool_fd(s->pool);
		pfd[n].events = POLLIN;
		n++;
		if (poll(pfd, n, poll_timeout(s, now)) < 0 && errno != EINTR) {
			log_event(RUNLET_LOG_ERROR, "poll_failed", "errno=%d", errno);
			return 1;
		}
	}
}

/* ---- setup ---- */

static const char *env_lookup(const char *name)
{
	return getenv(name);
}

static int setup(struct srv *s, const struct serve_opts *o, const struct cfg *cfg)
{
	char err[1024], q[1100], host[128], sdir[PATH_MAX];
	const char *dir = o->state_dir;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int warned = 0, rc;

	memset(s, 0, sizeof(*s));
	s->b = &cfg->broker;
	rc = mq_params_resolve(s->b->url, env_lookup, &s->params, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "runlet serve: %s\n", err);
		return 2;
	}
	mq_params_display(&s->params, s->display, sizeof(s->display));
	s->workers = o->workers > 0 ? (unsigned)o->workers
		     : s->b->workers > 0 ? (unsigned)s->b->workers
		     : ncpu > 0 ? (unsigned)ncpu : 1;
	if (s->workers > 1024)
		s->workers = 1024;
	s->prefetch = (uint16_t)(o->prefetch > 0 ? (unsigned long)o->prefetch
				 : s->b->prefetch > 0 ? s->b->prefetch : s->workers);
	s->max_jobs = o->max_jobs;
	if (s->max_jobs > 0 && s->prefetch > s->max_jobs)
		s->prefetch = (uint16_t)s->max_jobs;
	if (gethostname(host, sizeof(host)) < 0)
		snprintf(host, sizeof(host), "unknown");
	host[sizeof(host) - 1] = '\0';
	snprintf(s->conn_name, sizeof(s->conn_name), "runlet@%s:%d", host, (int)getpid());
	snprintf(s->consumer_tag, sizeof(s->consumer_tag), "runlet-%s-%d", host,
		 (int)getpid());
	mq_backoff_init(&s->bo, 250, 30000,
			(uint64_t)getpid() * 0x9e3779b97f4a7c15ull ^ mq_now_ms());
	s->gen = 1;
	if (dir == NULL || *dir == '\0')
		dir = mq_default_state_dir(sdir, sizeof(sdir));
	rc = mq_attempts_open(dir, &s->att, &warned, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "runlet serve: out of memory\n");
		return 1;
	}
	if (warned)
		log_event(RUNLET_LOG_WARN, "state_dir", "msg=%s", log_quote(err, q, sizeof(q)));
	return 0;
}

int serve_main(int argc, char **argv)
{
	struct serve_opts o;
	struct runlet_ctx *ctx = NULL;
	struct mq_signals sigs;
	struct srv *s = NULL;
	char err[2048];
	enum runlet_log_level lvl = RUNLET_LOG_INFO;
	int rc, code = 1, abandoned = 0;

	rc = mq_parse_opts(argc, argv, &o);
	if (rc != 0)
		return rc > 0 ? 0 : 2;
	if (o.log_level != NULL && *o.log_level != '\0' &&
	    log_parse_level(o.log_level, &lvl) < 0) {
		fprintf(stderr, "runlet serve: --log-level: expected error, warn, info "
				"or debug, got \"%s\"\n", o.log_level);
		return 2;
	}
	log_set_level(lvl);
	rc = runlet_ctx_open(&o.ctx, &ctx, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "runlet serve: %s\n", err);
		return rc == -EINVAL ? 2 : 1;
	}
	s = malloc(sizeof(*s));
	if (s == NULL)
		goto out;
	code = setup(s, &o, runlet_ctx_cfg(ctx));
	if (code != 0) {
		mq_attempts_close(s->att);
		free(s);
		s = NULL;
		goto out;
	}
	code = 1;
	rc = mq_pool_start(s->workers, mq_judge, ctx, &s->pool);
	if (rc < 0) {
		fprintf(stderr, "runlet serve: cannot start %u workers: %s\n", s->workers,
			strerror(-rc));
		goto out_srv;
	}
	if (mq_signals_install(&sigs) < 0)
		goto out_pool;
	log_event(RUNLET_LOG_INFO, "start",
		  "version=%s broker=%s source=%s queue=%s results=%s workers=%u prefetch=%u max_jobs=%llu",
		  RUNLET_VERSION, s->display, s->params.source, s->b->queue,
		  s->b->results_queue, s->workers, (unsigned)s->prefetch,
		  (unsigned long long)s->max_jobs);
	code = serve_loop(s);
	mq_signals_restore(&sigs);
	mq_conn_close(&s->conn, s->connected);
	s->connected = 0;
	log_event(code == 0 ? RUNLET_LOG_INFO : RUNLET_LOG_ERROR, "stop",
		  "code=%d taken=%llu answered=%llu dead_lettered=%llu", code,
		  (unsigned long long)s->taken, (unsigned long long)s->answered,
		  (unsigned long long)s->dead_lettered);
out_pool:
	if (mq_pool_pending(s->pool) > 0) {
		/* workers still judging past the drain deadline: leave them,
		 * their jobs, the pool and the ctx to the process exit */
		mq_pool_abandon(s->pool);
		abandoned = 1;
	} else {
		mq_pool_stop(s->pool);
	}
	while (s->all != NULL) {
		struct mq_job *j = s->all;

		s->all = j->all_next;
		if (!abandoned || j->state != MQ_JOB_QUEUED)
			mq_job_free(j); /* else a worker still has it */
	}
out_srv:
	mq_attempts_close(s->att);
	free(s);
	s = NULL;
out:
	if (!abandoned)
		runlet_ctx_close(ctx);
	return code;
}
