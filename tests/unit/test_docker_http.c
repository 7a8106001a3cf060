/* Unit tests of the docker backend's HTTP client against a small fake
 * engine on a unix socket: versioned paths, bodies, error messages, the
 * build stream, the attach stream, and what a missing or dead engine says. */
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "backends/docker/api.h"
#include "backends/docker/http.h"
#include "backends/docker/stream.h"

/* One canned answer per request, in order. */
struct fake {
	int lfd;
	char path[108];
	const char *answers[8];
	int nanswers;
	char reqs[8][4096]; /* request line + body seen */
	int nreqs;
	pthread_t th;
};

static void read_request(int fd, char *out, size_t outlen)
{
	char buf[65536];
	size_t n = 0, need = 0;
	char *hdr_end = NULL;
	for (;;) {
		ssize_t r = read(fd, buf + n, sizeof(buf) - 1 - n);
		if (r <= 0)
			break;
		n += (size_t)r;
		buf[n] = '\0';
		if (!hdr_end && (hdr_end = strstr(buf, "\r\n\r\n"))) {
			char *cl = strcasestr(buf, "Content-Length:");
			need = (size_t)(hdr_end + 4 - buf) + (cl ? strtoul(cl + 15, NULL, 10) : 0);
		}
		if (hdr_end && n >= need)
			break;
	}
	char *eol = strstr(buf, "\r\n");
	size_t ll = eol ? (size_t)(eol - buf) : n;
	snprintf(out, outlen, "%.*s|%s", (int)ll, buf, hdr_end ? hdr_end + 4 : "");
}

static void *serve(void *arg)
{
	struct fake *f = arg;
	for (int i = 0; i < f->nanswers; i++) {
		int c = accept(f->lfd, NULL, NULL);
		if (c < 0)
			break;
		read_request(c, f->reqs[f->nreqs], sizeof(f->reqs[0]));
		f->nreqs++;
		const char *a = f->answers[i];
		size_t len = strlen(a);
		/* '@' stands for a NUL in frame headers */
		char *w = malloc(len + 1);
		for (size_t k = 0; k < len; k++)
			w[k] = a[k] == '@' ? '\0' : a[k];
		ssize_t wr = write(c, w, len);
		(void)wr;
		free(w);
		close(c);
	}
	return NULL;
}

static void fake_start(struct fake *f)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(f->path, sizeof(f->path), "/tmp/runlet-fake-%d.sock", (int)getpid());
	unlink(f->path);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", f->path);
	f->lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(f->lfd >= 0);
	assert_int_equal(bind(f->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(f->lfd, 8), 0);
	assert_int_equal(pthread_create(&f->th, NULL, serve, f), 0);
}

static void fake_stop(struct fake *f)
{
	pthread_join(f->th, NULL);
	close(f->lfd);
	unlink(f->path);
}

static struct dock_client *client_for(struct fake *f, const char *ver)
{
	struct dock_endpoint ep;
	struct dock_client *c;
	char host[200], err[256];
	snprintf(host, sizeof(host), "unix://%s", f->path);
	assert_int_equal(dock_endpoint_parse(host, &ep, err, sizeof(err)), 0);
	assert_int_equal(dock_client_new(&ep, ver, &c, err, sizeof(err)), 0);
	return c;
}

#define JSON_OK(body) "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " #body "\r\n\r\n"

static char *answer(const char *status, const char *body)
{
	static char bufs[8][2048];
	static int k;
	char *b = bufs[k++ % 8];
	snprintf(b, 2048, "HTTP/1.1 %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
		 status, strlen(body), body);
	return b;
}

static void test_connect_negotiates(void **st)
{
	struct fake f = {.nanswers = 3};
	f.answers[0] = answer("200 OK", "OK");
	f.answers[1] = answer("200 OK", "{\"ApiVersion\":\"1.41\",\"MinAPIVersion\":\"1.12\"}");
	f.answers[2] = answer("404 Not Found", "{\"message\":\"No such image: py_runner:latest\"}");
	fake_start(&f);
	struct dock_client *c = client_for(&f, "");
	char ver[16], err[512];
	json_t *j = NULL;
	assert_int_equal(dock_connect(c, ver, sizeof(ver), err, sizeof(err)), 0);
	assert_string_equal(ver, "1.41");
	assert_int_equal(dock_image_inspect(c, "py_runner", &j, err, sizeof(err)), -ENOENT);
	assert_null(j);
	assert_non_null(strstr(err, "No such image: py_runner:latest"));
	dock_client_free(c);
	fake_stop(&f);
	assert_non_null(strstr(f.reqs[0], "GET /_ping HTTP/1.1"));
	assert_non_null(strstr(f.reqs[1], "GET /version HTTP/1.1"));
	/* after negotiation every path carries the version */
	assert_non_null(strstr(f.reqs[2], "GET /v1.41/images/py_runner/json HTTP/1.1"));
}

static void test_create_and_errors(void **st)
{
	struct fake f = {.nanswers = 3};
	f.answers[0] = answer("201 Created", "{\"Id\":\"abc123\",\"Warnings\":[]}");
	f.answers[1] = answer("500 Internal Server Error",
			      "{\"message\":\"OCI runtime create failed: bad\"}");
	f.answers[2] = answer("409 Conflict", "{\"message\":\"is not running\"}");
	fake_start(&f);
	struct dock_client *c = client_for(&f, "1.41");
	char id[80], err[512];
	json_t *spec = json_pack("{s:s}", "Image", "py_runner");
	assert_int_equal(dock_container_create(c, NULL, spec, id, sizeof(id), err, sizeof(err)), 0);
	assert_string_equal(id, "abc123");
	assert_int_equal(dock_container_start(c, id, err, sizeof(err)), -EIO);
	assert_non_null(strstr(err, "start container: OCI runtime create failed: bad (HTTP 500)"));
	/* killing a container that already stopped is fine */
	assert_int_equal(dock_container_kill(c, id, err, sizeof(err)), 0);
	json_decref(spec);
	dock_client_free(c);
	fake_stop(&f);
	assert_non_null(strstr(f.reqs[0], "POST /v1.41/containers/create HTTP/1.1|{\"Image\":\"py_runner\"}"));
	assert_non_null(strstr(f.reqs[1], "POST /v1.41/containers/abc123/start"));
	assert_non_null(strstr(f.reqs[2], "POST /v1.41/containers/abc123/kill?signal=KILL"));
}

struct prog {
	char text[4096];
};

static void on_prog(void *arg, const char *t, size_t n)
{
	struct prog *p = arg;
	strncat(p->text, t, n < 200 ? n : 200);
}

static void test_build_stream(void **st)
{
	struct fake f = {.nanswers = 2};
	f.answers[0] = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n"
		       "{\"stream\":\"Step 1/2 : FROM x\"}\n{\"stream\":\"\\n\"}\n"
		       "{\"aux\":{\"ID\":\"sha256:1\"}}\n";
	f.answers[1] = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n"
		       "{\"stream\":\"Step 2/2 : RUN false\\n\"}\n"
		       "{\"error\":\"The command '/bin/sh -c false' returned a non-zero code: 1\","
		       "\"errorDetail\":{\"code\":1}}\n";
	fake_start(&f);
	struct dock_client *c = client_for(&f, "1.41");
	struct prog p = {""};
	char err[4096];
	struct dock_build b = {.tag = "py_runner", .dockerfile = "Dockerfile",
			       .context = "TAR", .context_len = 3,
			       .progress = on_prog, .arg = &p};
	json_t *args = json_pack("{s:s}", "IMAGE", "python:3");
	b.buildargs = args;
	assert_int_equal(dock_image_build(c, &b, err, sizeof(err)), 0);
	assert_non_null(strstr(p.text, "Step 1/2 : FROM x\n"));
	assert_int_equal(dock_image_build(c, &b, err, sizeof(err)), -EIO);
	/* the engine's error, then the build's last output */
	assert_non_null(strstr(err, "returned a non-zero code: 1"));
	assert_non_null(strstr(err, "Step 2/2 : RUN false"));
	json_decref(args);
	dock_client_free(c);
	fake_stop(&f);
	assert_non_null(strstr(f.reqs[0], "POST /v1.41/build?t=py_runner&dockerfile=Dockerfile&rm=1&forcerm=1"
					  "&buildargs=%7B%22IMAGE%22%3A%22python%3A3%22%7D HTTP/1.1|TAR"));
}

struct col {
	struct dock_demux d;
	struct wire_buf out, err;
};

static int on_frame(void *arg, int stream, const char *p, size_t n)
{
	struct col *c = arg;
	return wire_buf_append(stream == 1 ? &c->out : &c->err, p, n);
}

static int on_attach(void *arg, const char *p, size_t n)
{
	struct col *c = arg;
	return dock_demux_feed(&c->d, p, n, on_frame, c);
}

static void test_attach_stream(void **st)
{
	struct fake f = {.nanswers = 1};
	/* hijacked: no length, the engine closes at the end; @ = NUL */
	f.answers[0] = "HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.multiplexed-stream\r\n\r\n"
		       "\x01@@@@@@\x05hello"
		       "\x02@@@@@@\x04" "err\n"
		       "\x01@@@@@@\x06 world";
	fake_start(&f);
	struct dock_client *c = client_for(&f, "1.41");
	struct dock_stream *s;
	struct col col;
	char err[512];
	long status = 0;
	int rc;
	memset(&col, 0, sizeof(col));
	assert_int_equal(dock_stream_open(c, "POST", "/containers/x/attach?stream=1&stdout=1&stderr=1",
					  on_attach, &col, &s, err, sizeof(err)), 0);
	assert_int_equal(dock_stream_headers(s, 5000, &status, err, sizeof(err)), 0);
	assert_int_equal(status, 200);
	for (int i = 0; i < 100 && (rc = dock_stream_pump(s, 100, err, sizeof(err))) == 0; i++)
		;
	assert_int_equal(rc, 1);
	assert_int_equal(dock_demux_end(&col.d), 0);
	assert_int_equal(col.out.len, 11);
	assert_memory_equal(col.out.data, "hello world", 11);
	assert_memory_equal(col.err.data, "err\n", 4);
	dock_stream_free(s);
	dock_client_free(c);
	fake_stop(&f);
	assert_non_null(strstr(f.reqs[0], "POST /v1.41/containers/x/attach?stream=1&stdout=1&stderr=1"));
	wire_buf_free(&col.out);
	wire_buf_free(&col.err);
}

static void test_engine_missing_or_dead(void **st)
{
	struct dock_endpoint ep;
	struct dock_client *c;
	struct dock_resp resp;
	char err[512], path[160];
	struct dock_req rq = {"GET", "/_ping", NULL, NULL, 0, 2000, NULL, NULL};

	snprintf(path, sizeof(path), "unix:///tmp/runlet-nosuch-%d.sock", (int)getpid());
	assert_int_equal(dock_endpoint_parse(path, &ep, err, sizeof(err)), 0);
	assert_int_equal(dock_client_new(&ep, "", &c, err, sizeof(err)), 0);
	assert_int_equal(dock_request(c, &rq, &resp, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "not running"));
	assert_non_null(strstr(err, "does not exist"));
	dock_client_free(c);

	/* a socket nobody listens on any more */
	struct fake f = {.nanswers = 0};
	fake_start(&f);
	fake_stop(&f);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", f.path);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd); /* bound, never listening: connection refused */
	snprintf(path, sizeof(path), "unix://%s", f.path);
	assert_int_equal(dock_endpoint_parse(path, &ep, err, sizeof(err)), 0);
	assert_int_equal(dock_client_new(&ep, "", &c, err, sizeof(err)), 0);
	int rc = dock_request(c, &rq, &resp, err, sizeof(err));
	if (geteuid() == 0) {
		assert_int_equal(rc, -ECONNREFUSED);
		assert_non_null(strstr(err, "restart dockerd"));
	} else {
		assert_true(rc == -ECONNREFUSED || rc == -EACCES);
	}
	dock_client_free(c);
	unlink(f.path);

	/* a TCP engine that is not there (loopback, a closed port) */
	assert_int_equal(dock_endpoint_parse("tcp://127.0.0.1:1", &ep, err, sizeof(err)), 0);
	assert_int_equal(dock_client_new(&ep, "", &c, err, sizeof(err)), 0);
	assert_int_equal(dock_request(c, &rq, &resp, err, sizeof(err)), -ECONNREFUSED);
	assert_non_null(strstr(err, "tcp://127.0.0.1:1"));
	dock_client_free(c);
}

int main(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_connect_negotiates),
		cmocka_unit_test(test_create_and_errors),
		cmocka_unit_test(test_build_stream),
		cmocka_unit_test(test_attach_stream),
		cmocka_unit_test(test_engine_missing_or_dead),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return rc;
}
