/* backends/docker: a small HTTP client for the Docker Engine API over libcurl.
 *
 * One curl easy handle per client (a client is used by one thread at a time);
 * unix sockets through CURLOPT_UNIX_SOCKET_PATH, TCP for DOCKER_HOST=tcp://.
 * Paths are given without the version prefix; the client adds /v<api>.
 * Ownership: a dock_client owns its handle and copies of the endpoint;
 * response bodies (struct dock_resp) are owned by the caller (dock_resp_free).
 */
#ifndef RUNLET_DOCK_HTTP_H
#define RUNLET_DOCK_HTTP_H

#include <stddef.h>

#include "runner/wire.h"

/* Oldest and newest Engine API versions runlet speaks. */
#define DOCK_API_MIN "1.25"
#define DOCK_API_MAX "1.49"

/* Where the engine listens. */
struct dock_endpoint {
	int is_unix;
	char sock[108];   /* unix socket path when is_unix */
	char base[256];   /* "http://localhost" or "http://HOST:PORT" */
	char display[300]; /* for messages: unix:///var/run/docker.sock, tcp://... */
};

/* host: "unix:///path", "tcp://host:port", "http://host:port", or NULL for
 * $DOCKER_HOST, else unix:///var/run/docker.sock. 0 or -EINVAL with err. */
int dock_endpoint_parse(const char *host, struct dock_endpoint *ep, char *err,
			size_t errlen);

/* Pick the API version to speak from the body of GET /version: the engine's
 * ApiVersion capped at DOCK_API_MAX; -ENOTSUP when below DOCK_API_MIN (or
 * when DOCK_API_MIN is below the engine's MinAPIVersion), -EPROTO when the
 * body is not a version document. out gets e.g. "1.41". */
int dock_version_negotiate(const char *body, size_t len, char *out,
			   size_t outlen, char *err, size_t errlen);

/* "1.41" < "1.9"? Compare dotted versions numerically: <0, 0, >0. */
int dock_version_cmp(const char *a, const char *b);

struct dock_client;

/* api_version: "" (unversioned paths) or e.g. "1.41". */
int dock_client_new(const struct dock_endpoint *ep, const char *api_version,
		    struct dock_client **out, char *err, size_t errlen);
void dock_client_free(struct dock_client *c);
void dock_client_set_version(struct dock_client *c, const char *api_version);
const struct dock_endpoint *dock_client_endpoint(const struct dock_client *c);

/* Receives body bytes as they arrive; nonzero return aborts the transfer. */
typedef int (*dock_sink_fn)(void *arg, const char *data, size_t len);

struct dock_req {
	const char *method;       /* "GET", "POST", "PUT", "DELETE" */
	const char *path;         /* "/containers/create?name=x" */
	const char *content_type; /* NULL: none */
	const void *body;         /* may be NULL */
	size_t body_len;
	long timeout_ms;          /* whole request; 0: none */
	/* when set, a 2xx body goes here instead of into resp->body */
	dock_sink_fn sink;
	void *sink_arg;
};

struct dock_resp {
	long status;
	struct wire_buf body; /* owned */
};

/* Perform one request. 0 when the engine answered (any HTTP status: look at
 * resp->status), or -errno for a transport failure with err naming the
 * engine and the fix (engine not running, permission denied...). */
int dock_request(struct dock_client *c, const struct dock_req *rq,
		 struct dock_resp *resp, char *err, size_t errlen);
void dock_resp_free(struct dock_resp *r);

/* A streaming request driven step by step (attach): open sends the request,
 * dock_stream_headers waits until the response headers arrived, then
 * dock_stream_pump moves data to the sink until the engine closes. */
struct dock_stream;
int dock_stream_open(struct dock_client *c, const char *method,
		     const char *path, dock_sink_fn sink, void *arg,
		     struct dock_stream **out, char *err, size_t errlen);
/* 0 when headers are in (status through *status), -ETIMEDOUT, -errno. */
int dock_stream_headers(struct dock_stream *s, long timeout_ms, long *status,
			char *err, size_t errlen);
/* Wait up to timeout_ms for data: 1 = the transfer ended (cleanly or with
 * the engine closing), 0 = still open, -errno on failure. */
int dock_stream_pump(struct dock_stream *s, long timeout_ms, char *err,
		     size_t errlen);
void dock_stream_free(struct dock_stream *s);

/* Percent-encode s for a query string into out. 0 or -ENOSPC. */
int dock_urlencode(const char *s, char *out, size_t outlen);

/* The human part of an Engine API error body: its JSON "message", else the
 * body's text trimmed, else "HTTP <status>". Always writes a string. */
void dock_error_message(long status, const char *body, size_t len, char *out,
			size_t outlen);

#endif /* RUNLET_DOCK_HTTP_H */
