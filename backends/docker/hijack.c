/* backends/docker: attach with stdin over a raw socket (see hijack.h). */
#include "backends/docker/hijack.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define HEADERS_MS 30000
#define SEND_MS 60000

static long mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int connect_ep(const struct dock_endpoint *ep, int *out, char *err,
		      size_t errlen)
{
	int fd;
	if (ep->is_unix) {
		struct sockaddr_un sa = {.sun_family = AF_UNIX};
		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", ep->sock);
		if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
			return -errno;
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
			int e = errno;
			close(fd);
			snprintf(err, errlen, "docker attach: cannot connect to %s: %s",
				 ep->display, strerror(e));
			return -e;
		}
		*out = fd;
		return 0;
	}
	/* base is http://HOST:PORT */
	char host[256], *port;
	snprintf(host, sizeof(host), "%s", ep->base + 7);
	if (!(port = strrchr(host, ':')))
		return -EINVAL;
	*port++ = '\0';
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai = NULL, *a;
	int g = getaddrinfo(host, port, &hints, &ai);
	if (g != 0) {
		snprintf(err, errlen, "docker attach: %s: %s", ep->display,
			 gai_strerror(g));
		return -EHOSTUNREACH;
	}
	int rc = -ECONNREFUSED;
	for (a = ai; a; a = a->ai_next) {
		if ((fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC,
				 a->ai_protocol)) < 0)
			continue;
		if (connect(fd, a->ai_addr, a->ai_addrlen) == 0) {
			*out = fd;
			rc = 0;
			break;
		}
		rc = -errno;
		close(fd);
	}
	freeaddrinfo(ai);
	if (rc < 0)
		snprintf(err, errlen, "docker attach: cannot connect to %s: %s",
			 ep->display, strerror(-rc));
	return rc;
}

static int send_all(int fd, const char *p, size_t n)
{
	long end = mono_ms() + SEND_MS;
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			struct pollfd pf = {.fd = fd, .events = POLLOUT};
			long left = end - mono_ms();
			if (left <= 0)
				return -ETIMEDOUT;
			poll(&pf, 1, (int)left);
			continue;
		}
		if (w < 0)
			return -errno;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Read the status line and headers; keep what follows. */
static int read_headers(struct dock_hijack *h, char *err, size_t errlen)
{
	char buf[8192];
	size_t len = 0;
	long end = mono_ms() + HEADERS_MS;
	for (;;) {
		struct pollfd pf = {.fd = h->fd, .events = POLLIN};
		long left = end - mono_ms();
		if (left <= 0 || poll(&pf, 1, (int)left) == 0) {
			snprintf(err, errlen, "docker attach: no answer in %d s",
				 HEADERS_MS / 1000);
			return -ETIMEDOUT;
		}
		ssize_t n = read(h->fd, buf + len, sizeof(buf) - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(err, errlen, "docker attach: the engine closed the connection");
			return n < 0 ? -errno : -ECONNRESET;
		}
		len += (size_t)n;
		buf[len] = '\0';
		char *eoh = strstr(buf, "\r\n\r\n");
		if (!eoh) {
			if (len >= sizeof(buf) - 1) {
				snprintf(err, errlen, "docker attach: headers too long");
				return -EPROTO;
			}
			continue;
		}
		int status = 0;
		if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1) {
			snprintf(err, errlen, "docker attach: not an HTTP answer");
			return -EPROTO;
		}
		if (status != 101 && status != 200) {
			char *body = eoh + 4;
			snprintf(err, errlen, "docker attach: HTTP %d %.200s", status, body);
			return status == 404 ? -ENOENT : -EIO;
		}
		size_t rest = len - (size_t)(eoh + 4 - buf);
		if (rest > sizeof(h->pending))
			return -EPROTO;
		memcpy(h->pending, eoh + 4, rest);
		h->npending = rest;
		return 0;
	}
}

int dock_hijack_open(const struct dock_endpoint *ep, const char *ver,
		     const char *path, struct dock_hijack *h, char *err,
		     size_t errlen)
{
	char req[1400];
	int rc;
	memset(h, 0, sizeof(*h));
	h->fd = -1;
	int n = snprintf(req, sizeof(req),
			 "POST %s%s%s HTTP/1.1\r\nHost: docker\r\n"
			 "Content-Type: text/plain\r\nContent-Length: 0\r\n"
			 "Connection: Upgrade\r\nUpgrade: tcp\r\n\r\n",
			 ver && *ver ? "/v" : "", ver && *ver ? ver : "", path);
	if (n < 0 || (size_t)n >= sizeof(req))
		return -ENAMETOOLONG;
	if ((rc = connect_ep(ep, &h->fd, err, errlen)) < 0) {
		h->fd = -1;
		return rc;
	}
	/* a blocked send returns EAGAIN after this: send_all's deadline */
	struct timeval tv = {.tv_sec = 1};
	setsockopt(h->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if ((rc = send_all(h->fd, req, (size_t)n)) < 0) {
		snprintf(err, errlen, "docker attach: sending the request: %s",
			 strerror(-rc));
		goto fail;
	}
	if ((rc = read_headers(h, err, errlen)) < 0)
		goto fail;
	return 0;
fail:
	dock_hijack_close(h);
	return rc;
}

int dock_hijack_send_eof(struct dock_hijack *h, const void *data, size_t len,
			 char *err, size_t errlen)
{
	int rc = send_all(h->fd, data, len);
	if (rc == 0 && shutdown(h->fd, SHUT_WR) < 0)
		rc = -errno;
	if (rc < 0)
		snprintf(err, errlen, "docker attach: handing the plan over: %s",
			 strerror(-rc));
	return rc;
}

int dock_hijack_pump(struct dock_hijack *h, long timeout_ms, dock_sink_fn sink,
		     void *arg, char *err, size_t errlen)
{
	char buf[65536];
	int rc;
	if (h->npending) {
		size_t n = h->npending;
		h->npending = 0;
		if ((rc = sink(arg, h->pending, n)) != 0)
			return rc < 0 ? rc : -ECANCELED;
		return 0;
	}
	struct pollfd pf = {.fd = h->fd, .events = POLLIN};
	int p = poll(&pf, 1, timeout_ms < 0 ? 0 : (int)timeout_ms);
	if (p < 0)
		return errno == EINTR ? 0 : -errno;
	if (p == 0)
		return 0;
	ssize_t n = read(h->fd, buf, sizeof(buf));
	if (n < 0) {
		if (errno == EINTR || errno == EAGAIN)
			return 0;
		if (errno == ECONNRESET)
			return 1;
		snprintf(err, errlen, "docker attach: reading: %s", strerror(errno));
		return -errno;
	}
	if (n == 0)
		return 1;
	if ((rc = sink(arg, buf, (size_t)n)) != 0)
		return rc < 0 ? rc : -ECANCELED;
	return 0;
}

int dock_hijack_broken(struct dock_hijack *h)
{
	if (h->fd < 0)
		return 1;
	for (;;) {
		struct pollfd pf = {.fd = h->fd, .events = POLLIN};
		int p = poll(&pf, 1, 0);
		if (p == 0)
			return 0;
		if (p < 0)
			return errno == EINTR ? 0 : 1;
		if (h->npending >= sizeof(h->pending))
			return 1;
		ssize_t n = read(h->fd, h->pending + h->npending,
				 sizeof(h->pending) - h->npending);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			return 0;
		if (n <= 0)
			return 1;
		h->npending += (size_t)n;
	}
}

void dock_hijack_close(struct dock_hijack *h)
{
	if (h->fd >= 0)
		close(h->fd);
	h->fd = -1;
	h->npending = 0;
}
