/* backends/docker: HTTP transport to the Docker Engine (libcurl easy/multi). */
#include "backends/docker/http.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_SOCK "/var/run/docker.sock"

struct dock_client {
	CURL *easy;
	struct dock_endpoint ep;
	char ver[16];
};

struct dock_stream {
	CURLM *multi;
	CURL *easy;
	const struct dock_endpoint *ep;
	dock_sink_fn sink;
	void *arg;
	int headers_done;
	int done;
	CURLcode result;
	char errbuf[CURL_ERROR_SIZE];
	char url[1024];
};

int dock_endpoint_parse(const char *host, struct dock_endpoint *ep, char *err,
			size_t errlen)
{
	memset(ep, 0, sizeof(*ep));
	if (!host || !*host)
		host = getenv("DOCKER_HOST");
	if (!host || !*host)
		host = "unix://" DEFAULT_SOCK;
	if (strncmp(host, "unix://", 7) == 0) {
		const char *p = host + 7;
		if (*p != '/' || strlen(p) >= sizeof(ep->sock)) {
			snprintf(err, errlen,
				 "docker host %s: expected unix:///absolute/path (at most %zu bytes)",
				 host, sizeof(ep->sock) - 1);
			return -EINVAL;
		}
		ep->is_unix = 1;
		snprintf(ep->sock, sizeof(ep->sock), "%s", p);
		snprintf(ep->base, sizeof(ep->base), "http://localhost");
	} else if (strncmp(host, "tcp://", 6) == 0 ||
		   strncmp(host, "http://", 7) == 0) {
		const char *p = host + (host[0] == 't' ? 6 : 7);
		size_t n = strcspn(p, "/");
		if (n == 0 || n + 8 >= sizeof(ep->base)) {
			snprintf(err, errlen,
				 "docker host %s: expected tcp://HOST:PORT", host);
			return -EINVAL;
		}
		snprintf(ep->base, sizeof(ep->base), "http://%.*s", (int)n, p);
		if (!memchr(p, ':', n))
			snprintf(ep->base, sizeof(ep->base), "http://%.*s:2375",
				 (int)n, p);
	} else {
		snprintf(err, errlen,
			 "docker host %s: runlet speaks unix:///path and tcp://HOST:PORT "
			 "(for TLS or ssh, run runlet next to the engine)",
			 host);
		return -EINVAL;
	}
	snprintf(ep->display, sizeof(ep->display), "%s", host);
	return 0;
}

static int setup_easy(CURL *e, const struct dock_endpoint *ep, char *errbuf)
{
	if (curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 10000L) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_PROXY, "") != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_NOPROXY, "*") != CURLE_OK)
		return -EINVAL;
	if (ep->is_unix &&
	    curl_easy_setopt(e, CURLOPT_UNIX_SOCKET_PATH, ep->sock) != CURLE_OK)
		return -EINVAL;
	return 0;
}

int dock_client_new(const struct dock_endpoint *ep, const char *api_version,
		    struct dock_client **out, char *err, size_t errlen)
{
	struct dock_client *c = calloc(1, sizeof(*c));
	if (!c) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	c->ep = *ep;
	dock_client_set_version(c, api_version);
	c->easy = curl_easy_init();
	if (!c->easy) {
		free(c);
		snprintf(err, errlen, "libcurl: cannot make a handle");
		return -ENOMEM;
	}
	*out = c;
	return 0;
}

void dock_client_free(struct dock_client *c)
{
	if (!c)
		return;
	curl_easy_cleanup(c->easy);
	free(c);
}

void dock_client_set_version(struct dock_client *c, const char *api_version)
{
	snprintf(c->ver, sizeof(c->ver), "%s", api_version ? api_version : "");
}

const struct dock_endpoint *dock_client_endpoint(const struct dock_client *c)
{
	return &c->ep;
}

void dock_resp_free(struct dock_resp *r)
{
	if (r)
		wire_buf_free(&r->body);
}

/* Say what is wrong with the connection and how to fix it. */
static int transport_error(const struct dock_endpoint *ep, CURLcode rc,
			   long os_errno, const char *detail, char *err,
			   size_t errlen)
{
	struct stat st;
	if (ep->is_unix && (rc == CURLE_COULDNT_CONNECT ||
			    rc == CURLE_COULDNT_RESOLVE_HOST)) {
		if (stat(ep->sock, &st) < 0 && errno == ENOENT) {
			snprintf(err, errlen,
				 "the Docker engine is not running: %s does not exist "
				 "(start dockerd: `systemctl start docker`, or "
				 "scripts/services.d/dockerd.sh start; or point DOCKER_HOST / "
				 "docker.host at a running engine)",
				 ep->sock);
			return -ENOENT;
		}
		if (os_errno == EACCES || access(ep->sock, R_OK | W_OK) < 0) {
			snprintf(err, errlen,
				 "permission denied on the Docker socket %s: run runlet as "
				 "root or as a member of the socket's group "
				 "(usermod -aG docker USER, then log in again)",
				 ep->sock);
			return -EACCES;
		}
		snprintf(err, errlen,
			 "the Docker engine does not answer on %s (connection refused: "
			 "a stale socket; restart dockerd)",
			 ep->sock);
		return -ECONNREFUSED;
	}
	if (rc == CURLE_COULDNT_CONNECT) {
		snprintf(err, errlen,
			 "cannot connect to the Docker engine at %s: %s (is dockerd "
			 "listening there? check DOCKER_HOST / docker.host)",
			 ep->display, detail && *detail ? detail : strerror((int)os_errno));
		return -ECONNREFUSED;
	}
	if (rc == CURLE_OPERATION_TIMEDOUT) {
		snprintf(err, errlen,
			 "the Docker engine at %s did not answer in time (%s)",
			 ep->display, detail && *detail ? detail : "timeout");
		return -ETIMEDOUT;
	}
	snprintf(err, errlen, "talking to the Docker engine at %s: %s",
		 ep->display, detail && *detail ? detail : curl_easy_strerror(rc));
	return -EIO;
}

struct xfer {
	CURL *easy;
	const struct dock_req *rq;
	struct dock_resp *resp;
	int sink_rc;
};

static size_t on_body(char *p, size_t sz, size_t n, void *arg)
{
	struct xfer *x = arg;
	size_t len = sz * n;
	long code = 0;
	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &code);
	if (x->rq->sink && code >= 200 && code < 300) {
		if ((x->sink_rc = x->rq->sink(x->rq->sink_arg, p, len)) != 0)
			return 0;
		return len;
	}
	if (wire_buf_append(&x->resp->body, p, len) < 0) {
		x->sink_rc = -ENOMEM;
		return 0;
	}
	return len;
}

static int make_url(char *url, size_t len, const struct dock_endpoint *ep,
		    const char *ver, const char *path)
{
	int n;
	if (*ver && strcmp(path, "/_ping") != 0 && strcmp(path, "/version") != 0)
		n = snprintf(url, len, "%s/v%s%s", ep->base, ver, path);
	else
		n = snprintf(url, len, "%s%s", ep->base, path);
	return (n < 0 || (size_t)n >= len) ? -ENAMETOOLONG : 0;
}

int dock_request(struct dock_client *c, const struct dock_req *rq,
		 struct dock_resp *resp, char *err, size_t errlen)
{
	char url[2048], errbuf[CURL_ERROR_SIZE] = "", ctype[128];
	struct curl_slist *hdrs = NULL;
	struct xfer x = {c->easy, rq, resp, 0};
	CURL *e = c->easy;
	int rc = 0;

	memset(resp, 0, sizeof(*resp));
	if (make_url(url, sizeof(url), &c->ep, c->ver, rq->path) < 0) {
		snprintf(err, errlen, "docker request path too long: %.80s...",
			 rq->path);
		return -ENAMETOOLONG;
	}
	curl_easy_reset(e);
	if (setup_easy(e, &c->ep, errbuf) < 0) {
		snprintf(err, errlen, "libcurl: cannot set up a request");
		return -EINVAL;
	}
	hdrs = curl_slist_append(hdrs, "Expect:");
	if (rq->content_type) {
		snprintf(ctype, sizeof(ctype), "Content-Type: %s",
			 rq->content_type);
		hdrs = curl_slist_append(hdrs, ctype);
	}
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, rq->method);
	if (strcmp(rq->method, "GET") == 0) {
		curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, NULL);
	} else if (strcmp(rq->method, "DELETE") != 0 || rq->body) {
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, rq->body ? rq->body : "");
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
				 (curl_off_t)(rq->body ? rq->body_len : 0));
	}
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, &x);
	if (rq->timeout_ms > 0)
		curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, rq->timeout_ms);

	CURLcode cc = curl_easy_perform(e);
	if (cc != CURLE_OK) {
		long os_errno = 0;
		curl_easy_getinfo(e, CURLINFO_OS_ERRNO, &os_errno);
		if (x.sink_rc < 0 && cc == CURLE_WRITE_ERROR) {
			rc = x.sink_rc;
			snprintf(err, errlen, "docker %s %s: %s", rq->method,
				 rq->path, strerror(-rc));
		} else if (x.sink_rc > 0 && cc == CURLE_WRITE_ERROR) {
			rc = -ECANCELED;
			snprintf(err, errlen, "docker %s %s: stopped", rq->method,
				 rq->path);
		} else {
			rc = transport_error(&c->ep, cc, os_errno, errbuf, err,
					     errlen);
		}
		wire_buf_free(&resp->body);
	} else {
		curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &resp->status);
	}
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(hdrs);
	return rc;
}

static size_t on_stream_body(char *p, size_t sz, size_t n, void *arg)
{
	struct dock_stream *s = arg;
	size_t len = sz * n;
	if (s->sink && s->sink(s->arg, p, len) != 0)
		return 0;
	return len;
}

static size_t on_stream_header(char *p, size_t sz, size_t n, void *arg)
{
	struct dock_stream *s = arg;
	size_t len = sz * n;
	if ((len == 2 && p[0] == '\r' && p[1] == '\n') ||
	    (len == 1 && p[0] == '\n'))
		s->headers_done = 1;
	return len;
}

int dock_stream_open(struct dock_client *c, const char *method,
		     const char *path, dock_sink_fn sink, void *arg,
		     struct dock_stream **out, char *err, size_t errlen)
{
	struct dock_stream *s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	s->ep = &c->ep;
	s->sink = sink;
	s->arg = arg;
	if (make_url(s->url, sizeof(s->url), &c->ep, c->ver, path) < 0 ||
	    !(s->multi = curl_multi_init()) || !(s->easy = curl_easy_init()) ||
	    setup_easy(s->easy, &c->ep, s->errbuf) < 0) {
		dock_stream_free(s);
		snprintf(err, errlen, "libcurl: cannot set up a stream to %s",
			 path);
		return -ENOMEM;
	}
	curl_easy_setopt(s->easy, CURLOPT_URL, s->url);
	curl_easy_setopt(s->easy, CURLOPT_CUSTOMREQUEST, method);
	if (strcmp(method, "POST") == 0) {
		curl_easy_setopt(s->easy, CURLOPT_POSTFIELDS, "");
		curl_easy_setopt(s->easy, CURLOPT_POSTFIELDSIZE_LARGE,
				 (curl_off_t)0);
	}
	curl_easy_setopt(s->easy, CURLOPT_WRITEFUNCTION, on_stream_body);
	curl_easy_setopt(s->easy, CURLOPT_WRITEDATA, s);
	curl_easy_setopt(s->easy, CURLOPT_HEADERFUNCTION, on_stream_header);
	curl_easy_setopt(s->easy, CURLOPT_HEADERDATA, s);
	if (curl_multi_add_handle(s->multi, s->easy) != CURLM_OK) {
		dock_stream_free(s);
		snprintf(err, errlen, "libcurl: cannot start a stream to %s",
			 path);
		return -ENOMEM;
	}
	*out = s;
	return 0;
}

/* One round of the multi loop: perform, then note a finished transfer. */
static int stream_step(struct dock_stream *s, long wait_ms)
{
	int running = 0, nq;
	CURLMsg *m;
	if (curl_multi_perform(s->multi, &running) != CURLM_OK)
		return -EIO;
	while ((m = curl_multi_info_read(s->multi, &nq))) {
		if (m->msg == CURLMSG_DONE) {
			s->done = 1;
			s->result = m->data.result;
		}
	}
	if (!s->done && running && wait_ms > 0)
		curl_multi_poll(s->multi, NULL, 0, (int)wait_ms, NULL);
	return 0;
}

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int stream_failed(struct dock_stream *s, char *err, size_t errlen)
{
	long os_errno = 0;
	curl_easy_getinfo(s->easy, CURLINFO_OS_ERRNO, &os_errno);
	return transport_error(s->ep, s->result, os_errno, s->errbuf, err,
			       errlen);
}

int dock_stream_headers(struct dock_stream *s, long timeout_ms, long *status,
			char *err, size_t errlen)
{
	long end = now_ms() + timeout_ms;
	while (!s->headers_done && !s->done) {
		long left = end - now_ms();
		if (left <= 0) {
			snprintf(err, errlen,
				 "the Docker engine at %s sent no answer to an attach within %ld ms",
				 s->ep->display, timeout_ms);
			return -ETIMEDOUT;
		}
		if (stream_step(s, left < 100 ? left : 100) < 0) {
			snprintf(err, errlen, "libcurl: stream failed");
			return -EIO;
		}
	}
	if (!s->headers_done && s->done && s->result != CURLE_OK)
		return stream_failed(s, err, errlen);
	*status = 0;
	curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, status);
	return 0;
}

int dock_stream_pump(struct dock_stream *s, long timeout_ms, char *err,
		     size_t errlen)
{
	if (!s->done && stream_step(s, timeout_ms) < 0) {
		snprintf(err, errlen, "libcurl: stream failed");
		return -EIO;
	}
	if (!s->done)
		return 0;
	/* The engine ends an attach by closing the connection. */
	if (s->result == CURLE_OK || s->result == CURLE_PARTIAL_FILE ||
	    s->result == CURLE_RECV_ERROR || s->result == CURLE_GOT_NOTHING)
		return 1;
	if (s->result == CURLE_WRITE_ERROR) {
		snprintf(err, errlen, "attach stream: the reader gave up");
		return -ECANCELED;
	}
	return stream_failed(s, err, errlen);
}

void dock_stream_free(struct dock_stream *s)
{
	if (!s)
		return;
	if (s->multi && s->easy)
		curl_multi_remove_handle(s->multi, s->easy);
	if (s->easy)
		curl_easy_cleanup(s->easy);
	if (s->multi)
		curl_multi_cleanup(s->multi);
	free(s);
}
