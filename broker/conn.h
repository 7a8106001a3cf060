/* broker: where the broker is (URL or the existing system's environment)
 * and one AMQP connection with one channel: TCP or TLS, login, prefetch,
 * publisher confirms.
 *
 * Sources, first match wins: broker.url in config, RUNLET_AMQP_URL, then
 * RABBITMQ_HOST / RABBITMQ_PORT (5672) / RABBITMQ_USER / RABBITMQ_PASSWORD
 * / RABBITMQ_VHOST ("/"), the environment of the gateway runlet replaces.
 * TLS (amqps://): RUNLET_AMQP_CACERT, RUNLET_AMQP_CERT + RUNLET_AMQP_KEY,
 * RUNLET_AMQP_TLS_VERIFY=0 to skip peer verification (tests only).
 *
 * Ownership: struct mq_params holds copies (fixed arrays, nothing to
 * free). struct mq_conn owns its rabbitmq-c state; mq_conn_close frees it.
 * A connection is used by one thread only (rabbitmq-c is not thread-safe).
 */
#ifndef RUNLET_BROKER_CONN_H
#define RUNLET_BROKER_CONN_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include <amqp.h>

struct mq_params {
	char host[256];
	int port;
	char user[256];
	char password[256];
	char vhost[256];
	int ssl;
	char cacert[PATH_MAX];
	char cert[PATH_MAX];
	char key[PATH_MAX];
	int verify;          /* TLS peer and host name verification */
	const char *source;  /* static: "broker.url", "RUNLET_AMQP_URL", "RABBITMQ_*" */
};

/* Look up an environment variable; getenv in production, a table in tests. */
typedef const char *(*mq_env_fn)(const char *name);

/* Resolve the broker's address. cfg_url may be NULL. 0 or -EINVAL (err says
 * which setting is wrong and how to fix it). */
int mq_params_resolve(const char *cfg_url, mq_env_fn env, struct mq_params *p,
		      char *err, size_t errlen);

/* "amqp://user@host:port/vhost": for logs, never shows the password. */
void mq_params_display(const struct mq_params *p, char *out, size_t outlen);

struct mq_conn {
	amqp_connection_state_t st; /* owned; NULL when closed */
	int fd;                     /* the socket, for poll */
	amqp_channel_t ch;          /* the one channel: 1 */
	uint64_t next_seq;          /* publisher-confirm sequence of the next publish */
};

/* Connect, log in, open the channel, set prefetch, select confirms.
 * 0, or -ECONNREFUSED/-EIO (network, retry later) or -EACCES (login
 * refused); err says what happened. On failure c is closed. */
int mq_conn_open(struct mq_conn *c, const struct mq_params *p,
		 const char *conn_name, unsigned heartbeat_s, uint16_t prefetch,
		 char *err, size_t errlen);
/* graceful: channel.close + connection.close first (skip it when the
 * socket is known dead). Always releases everything. Idempotent. */
void mq_conn_close(struct mq_conn *c, int graceful);

/* Describe a failed RPC reply ("broker closed the channel: 406
 * PRECONDITION_FAILED - ..."); returns -EPROTO for a server channel/
 * connection close (with *code the AMQP reply code when code != NULL),
 * -EIO for a library/socket error. */
int mq_reply_describe(amqp_rpc_reply_t r, const char *what, char *err,
		      size_t errlen, int *code);

#endif
