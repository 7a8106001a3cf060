/* broker: broker address resolution and one AMQP connection (see conn.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include <amqp_ssl_socket.h>
#include <amqp_tcp_socket.h>

#include "broker/conn.h"

/* Debian's bundle of the system's trusted CAs (ca-certificates) */
#define SYSTEM_CA_BUNDLE "/etc/ssl/certs/ca-certificates.crt"

static int copy_str(char *dst, size_t cap, const char *src)
{
	size_t n = src ? strlen(src) : 0;

	if (n >= cap)
		return -ENAMETOOLONG;
	memcpy(dst, src ? src : "", n);
	dst[n] = '\0';
	return 0;
}

static int from_url(const char *url, const char *what, struct mq_params *p,
		    char *err, size_t errlen)
{
	struct amqp_connection_info ci;
	char *buf = strdup(url);
	int rc = 0;

	if (buf == NULL)
		return -ENOMEM;
	amqp_default_connection_info(&ci);
	if (amqp_parse_url(buf, &ci) != AMQP_STATUS_OK) {
		snprintf(err, errlen,
			 "%s: cannot parse \"%s\" as an AMQP URL "
			 "(expected amqp://user:password@host:port/vhost or amqps://...)",
			 what, url);
		rc = -EINVAL;
		goto out;
	}
	if (copy_str(p->host, sizeof(p->host), ci.host) < 0 ||
	    copy_str(p->user, sizeof(p->user), ci.user) < 0 ||
	    copy_str(p->password, sizeof(p->password), ci.password) < 0 ||
	    copy_str(p->vhost, sizeof(p->vhost), ci.vhost) < 0) {
		snprintf(err, errlen, "%s: a part of the URL is too long", what);
		rc = -EINVAL;
		goto out;
	}
	/* "amqp://host/" names the empty vhost by the letter of the URI
	 * spec; nobody means that: take the default one, as pika and kombu do */
	if (p->vhost[0] == '\0')
		snprintf(p->vhost, sizeof(p->vhost), "/");
	p->port = ci.port;
	p->ssl = ci.ssl;
out:
	free(buf);
	return rc;
}

static int env_or(mq_env_fn env, const char *name, const char *def,
		  char *dst, size_t cap, char *err, size_t errlen)
{
	const char *v = env(name);

	if (v == NULL || *v == '\0')
		v = def;
	if (copy_str(dst, cap, v) < 0) {
		snprintf(err, errlen, "%s: value too long (at most %zu bytes)",
			 name, cap - 1);
		return -EINVAL;
	}
	return 0;
}

static int tls_env(mq_env_fn env, struct mq_params *p, char *err,
		   size_t errlen)
{
	const char *v;

	if (env_or(env, "RUNLET_AMQP_CACERT", "", p->cacert, sizeof(p->cacert), err, errlen) < 0 ||
	    env_or(env, "RUNLET_AMQP_CERT", "", p->cert, sizeof(p->cert), err, errlen) < 0 ||
	    env_or(env, "RUNLET_AMQP_KEY", "", p->key, sizeof(p->key), err, errlen) < 0)
		return -EINVAL;
	if ((p->cert[0] == '\0') != (p->key[0] == '\0')) {
		snprintf(err, errlen,
			 "RUNLET_AMQP_CERT and RUNLET_AMQP_KEY: set both (client "
			 "certificate and its key) or neither");
		return -EINVAL;
	}
	v = env("RUNLET_AMQP_TLS_VERIFY");
	p->verify = !(v != NULL && strcmp(v, "0") == 0);
	return 0;
}

int mq_params_resolve(const char *cfg_url, mq_env_fn env, struct mq_params *p,
		      char *err, size_t errlen)
{
	const char *url_env = env("RUNLET_AMQP_URL");
	const char *port;
	int rc;

	memset(p, 0, sizeof(*p));
	if (cfg_url != NULL && *cfg_url != '\0') {
		p->source = "broker.url";
		rc = from_url(cfg_url, "config broker.url", p, err, errlen);
	} else if (url_env != NULL && *url_env != '\0') {
		p->source = "RUNLET_AMQP_URL";
		rc = from_url(url_env, "RUNLET_AMQP_URL", p, err, errlen);
	} else {
		p->source = "RABBITMQ_*";
		rc = env_or(env, "RABBITMQ_HOST", "localhost", p->host, sizeof(p->host), err, errlen);
		if (rc == 0)
			rc = env_or(env, "RABBITMQ_USER", "guest", p->user, sizeof(p->user), err, errlen);
		if (rc == 0)
			rc = env_or(env, "RABBITMQ_PASSWORD", "guest", p->password, sizeof(p->password), err, errlen);
		if (rc == 0)
			rc = env_or(env, "RABBITMQ_VHOST", "/", p->vhost, sizeof(p->vhost), err, errlen);
		p->port = 5672;
		port = env("RABBITMQ_PORT");
		if (rc == 0 && port != NULL && *port != '\0') {
			char *end;
			long v;

			errno = 0;
			v = strtol(port, &end, 10);
			if (errno != 0 || *end != '\0' || v < 1 || v > 65535) {
				snprintf(err, errlen,
					 "RABBITMQ_PORT: expected a port number 1-65535, got \"%s\"",
					 port);
				rc = -EINVAL;
			}
			p->port = (int)v;
		}
	}
	if (rc == 0)
		rc = tls_env(env, p, err, errlen);
	return rc;
}

void mq_params_display(const struct mq_params *p, char *out, size_t outlen)
{
	snprintf(out, outlen, "%s://%s@%s:%d/%s", p->ssl ? "amqps" : "amqp",
		 p->user, p->host, p->port,
		 strcmp(p->vhost, "/") == 0 ? "" : p->vhost);
}

int mq_reply_describe(amqp_rpc_reply_t r, const char *what, char *err,
		      size_t errlen, int *code)
{
	if (code != NULL)
		*code = 0;
	switch (r.reply_type) {
	case AMQP_RESPONSE_NORMAL:
		snprintf(err, errlen, "%s: ok", what);
		return 0;
	case AMQP_RESPONSE_NONE:
		snprintf(err, errlen, "%s: no reply from the broker", what);
		return -EIO;
	case AMQP_RESPONSE_LIBRARY_EXCEPTION:
		snprintf(err, errlen, "%s: %s", what,
			 amqp_error_string2(r.library_error));
		return -EIO;
	case AMQP_RESPONSE_SERVER_EXCEPTION:
		break;
	}
	if (r.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
		const amqp_channel_close_t *m = r.reply.decoded;

		if (code != NULL)
			*code = m->reply_code;
		snprintf(err, errlen, "%s: the broker closed the channel: %.*s",
			 what, (int)m->reply_text.len,
			 (const char *)m->reply_text.bytes);
	} else if (r.reply.id == AMQP_CONNECTION_CLOSE_METHOD) {
		const amqp_connection_close_t *m = r.reply.decoded;

		if (code != NULL)
			*code = m->reply_code;
		snprintf(err, errlen, "%s: the broker closed the connection: %.*s",
			 what, (int)m->reply_text.len,
			 (const char *)m->reply_text.bytes);
	} else {
		snprintf(err, errlen, "%s: unexpected method 0x%08x from the broker",
			 what, r.reply.id);
	}
	return -EPROTO;
}

static int open_socket(struct mq_conn *c, const struct mq_params *p,
		       char *err, size_t errlen)
{
	struct timeval tv = {.tv_sec = 10};
	amqp_socket_t *s;
	int rc;

	if (p->ssl) {
		s = amqp_ssl_socket_new(c->st);
		if (s == NULL)
			goto nomem;
		amqp_ssl_socket_set_verify_peer(s, p->verify);
		amqp_ssl_socket_set_verify_hostname(s, p->verify);
		if (p->cacert[0] != '\0') {
			if (amqp_ssl_socket_set_cacert(s, p->cacert) != AMQP_STATUS_OK) {
				snprintf(err, errlen,
					 "RUNLET_AMQP_CACERT: cannot load CA certificates from %s",
					 p->cacert);
				return -EINVAL;
			}
		} else if (p->verify && access(SYSTEM_CA_BUNDLE, R_OK) == 0 &&
			   amqp_ssl_socket_set_cacert(s, SYSTEM_CA_BUNDLE) != AMQP_STATUS_OK) {
			snprintf(err, errlen, "cannot load the system's CA certificates from %s "
				 "(set RUNLET_AMQP_CACERT)", SYSTEM_CA_BUNDLE);
			return -EINVAL;
		}
		if (p->cert[0] != '\0' &&
		    amqp_ssl_socket_set_key(s, p->cert, p->key) != AMQP_STATUS_OK) {
			snprintf(err, errlen,
				 "RUNLET_AMQP_CERT/RUNLET_AMQP_KEY: cannot load %s / %s",
				 p->cert, p->key);
			return -EINVAL;
		}
	} else {
		s = amqp_tcp_socket_new(c->st);
		if (s == NULL)
			goto nomem;
	}
	rc = amqp_socket_open_noblock(s, p->host, p->port, &tv);
	if (rc != AMQP_STATUS_OK) {
		snprintf(err, errlen, "cannot connect to %s:%d: %s", p->host,
			 p->port, amqp_error_string2(rc));
		return -ECONNREFUSED;
	}
	c->fd = amqp_socket_get_sockfd(s);
	return 0;
nomem:
	snprintf(err, errlen, "out of memory creating the socket");
	return -ENOMEM;
}

static int login(struct mq_conn *c, const struct mq_params *p,
		 const char *conn_name, unsigned heartbeat_s, char *err,
		 size_t errlen)
{
	amqp_table_entry_t props[2];
	amqp_table_t table;
	amqp_rpc_reply_t r;
	int code, rc;

	props[0].key = amqp_cstring_bytes("connection_name");
	props[0].value.kind = AMQP_FIELD_KIND_UTF8;
	props[0].value.value.bytes = amqp_cstring_bytes(conn_name);
	props[1].key = amqp_cstring_bytes("product");
	props[1].value.kind = AMQP_FIELD_KIND_UTF8;
	props[1].value.value.bytes = amqp_cstring_bytes("runlet " RUNLET_VERSION);
	table.num_entries = 2;
	table.entries = props;
	r = amqp_login_with_properties(c->st, p->vhost, 0, 131072,
				       (int)heartbeat_s, &table,
				       AMQP_SASL_METHOD_PLAIN, p->user,
				       p->password);
	if (r.reply_type == AMQP_RESPONSE_NORMAL)
		return 0;
	rc = mq_reply_describe(r, "login", err, errlen, &code);
	if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION &&
	    r.library_error == AMQP_STATUS_CONNECTION_CLOSED) {
		/* RabbitMQ drops the socket on bad credentials */
		snprintf(err, errlen,
			 "login as \"%s\" on vhost \"%s\" refused: check the user, "
			 "password and vhost (%s)", p->user, p->vhost, p->source);
		return -EACCES;
	}
	if (code == AMQP_ACCESS_REFUSED || code == AMQP_NOT_ALLOWED)
		return -EACCES;
	return rc;
}

int mq_conn_open(struct mq_conn *c, const struct mq_params *p,
		 const char *conn_name, unsigned heartbeat_s, uint16_t prefetch,
		 char *err, size_t errlen)
{
	struct timeval rpc_tv = {.tv_sec = 30};
	amqp_rpc_reply_t r;
	int rc;

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->ch = 1;
	c->st = amqp_new_connection();
	if (c->st == NULL) {
		snprintf(err, errlen, "out of memory creating the connection");
		return -ENOMEM;
	}
	amqp_set_rpc_timeout(c->st, &rpc_tv);
	amqp_set_handshake_timeout(c->st, &rpc_tv);
	rc = open_socket(c, p, err, errlen);
	if (rc < 0)
		goto fail;
	rc = login(c, p, conn_name, heartbeat_s, err, errlen);
	if (rc < 0)
		goto fail;
	amqp_channel_open(c->st, c->ch);
	r = amqp_get_rpc_reply(c->st);
	if (r.reply_type != AMQP_RESPONSE_NORMAL) {
		rc = mq_reply_describe(r, "channel.open", err, errlen, NULL);
		goto fail;
	}
	amqp_basic_qos(c->st, c->ch, 0, prefetch, 0);
	r = amqp_get_rpc_reply(c->st);
	if (r.reply_type != AMQP_RESPONSE_NORMAL) {
		rc = mq_reply_describe(r, "basic.qos", err, errlen, NULL);
		goto fail;
	}
	amqp_confirm_select(c->st, c->ch);
	r = amqp_get_rpc_reply(c->st);
	if (r.reply_type != AMQP_RESPONSE_NORMAL) {
		rc = mq_reply_describe(r, "confirm.select", err, errlen, NULL);
		goto fail;
	}
	c->next_seq = 1;
	return 0;
fail:
	if (rc == -EPROTO)
		rc = -EIO;
	amqp_destroy_connection(c->st);
	c->st = NULL;
	c->fd = -1;
	return rc;
}

void mq_conn_close(struct mq_conn *c, int graceful)
{
	struct timeval tv = {.tv_sec = 2};

	if (c->st == NULL)
		return;
	if (graceful) {
		/* best effort, and quick: the rpc timeout bounds each step */
		amqp_set_rpc_timeout(c->st, &tv);
		amqp_channel_close(c->st, c->ch, AMQP_REPLY_SUCCESS);
		amqp_connection_close(c->st, AMQP_REPLY_SUCCESS);
	}
	amqp_destroy_connection(c->st);
	c->st = NULL;
	c->fd = -1;
}
