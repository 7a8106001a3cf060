/* Unit tests of the docker backend's protocol helpers: endpoints, API
 * version negotiation, error bodies, query encoding, and the tar writer. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "backends/docker/http.h"
#include "backends/docker/tar.h"

static void test_endpoint_unix(void **st)
{
	struct dock_endpoint ep;
	char err[256];
	assert_int_equal(dock_endpoint_parse("unix:///run/x.sock", &ep, err, sizeof(err)), 0);
	assert_true(ep.is_unix);
	assert_string_equal(ep.sock, "/run/x.sock");
	assert_string_equal(ep.base, "http://localhost");
	assert_int_equal(dock_endpoint_parse("unix://relative", &ep, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "unix:///"));
}

static void test_endpoint_tcp_and_default(void **st)
{
	struct dock_endpoint ep;
	char err[256];
	assert_int_equal(dock_endpoint_parse("tcp://127.0.0.1:2375", &ep, err, sizeof(err)), 0);
	assert_false(ep.is_unix);
	assert_string_equal(ep.base, "http://127.0.0.1:2375");
	assert_int_equal(dock_endpoint_parse("tcp://engine", &ep, err, sizeof(err)), 0);
	assert_string_equal(ep.base, "http://engine:2375");
	assert_int_equal(dock_endpoint_parse("ssh://u@h", &ep, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "tcp://"));

	setenv("DOCKER_HOST", "tcp://127.0.0.2:1234", 1);
	assert_int_equal(dock_endpoint_parse(NULL, &ep, err, sizeof(err)), 0);
	assert_string_equal(ep.base, "http://127.0.0.2:1234");
	/* the config's docker.host wins over the environment */
	assert_int_equal(dock_endpoint_parse("unix:///a.sock", &ep, err, sizeof(err)), 0);
	assert_string_equal(ep.sock, "/a.sock");
	unsetenv("DOCKER_HOST");
	assert_int_equal(dock_endpoint_parse(NULL, &ep, err, sizeof(err)), 0);
	assert_string_equal(ep.sock, "/var/run/docker.sock");
}

static void test_version_cmp(void **st)
{
	assert_true(dock_version_cmp("1.41", "1.9") > 0);
	assert_true(dock_version_cmp("1.9", "1.41") < 0);
	assert_int_equal(dock_version_cmp("1.41", "1.41"), 0);
	assert_int_equal(dock_version_cmp("1.41", "1.41.0"), 0);
	assert_true(dock_version_cmp("2.0", "1.99") > 0);
}

static void test_negotiate(void **st)
{
	char v[16], err[256];
	const char *old = "{\"ApiVersion\":\"1.41\",\"MinAPIVersion\":\"1.12\"}";
	assert_int_equal(dock_version_negotiate(old, strlen(old), v, sizeof(v), err, sizeof(err)), 0);
	assert_string_equal(v, "1.41");

	/* a newer engine: runlet caps at the newest version it speaks */
	const char *newer = "{\"ApiVersion\":\"1.52\",\"MinAPIVersion\":\"1.24\"}";
	assert_int_equal(dock_version_negotiate(newer, strlen(newer), v, sizeof(v), err, sizeof(err)), 0);
	assert_string_equal(v, DOCK_API_MAX);

	const char *ancient = "{\"ApiVersion\":\"1.24\"}";
	assert_int_equal(dock_version_negotiate(ancient, strlen(ancient), v, sizeof(v), err, sizeof(err)), -ENOTSUP);
	assert_non_null(strstr(err, "upgrade Docker"));

	/* an engine that no longer speaks what runlet knows */
	const char *future = "{\"ApiVersion\":\"2.10\",\"MinAPIVersion\":\"2.0\"}";
	assert_int_equal(dock_version_negotiate(future, strlen(future), v, sizeof(v), err, sizeof(err)), -ENOTSUP);
	assert_non_null(strstr(err, "upgrade runlet"));

	assert_int_equal(dock_version_negotiate("<html>", 6, v, sizeof(v), err, sizeof(err)), -EPROTO);
	const char *nover = "{\"Version\":\"20.10\"}";
	assert_int_equal(dock_version_negotiate(nover, strlen(nover), v, sizeof(v), err, sizeof(err)), -EPROTO);
	const char *bad = "{\"ApiVersion\":\"1.x\"}";
	assert_int_equal(dock_version_negotiate(bad, strlen(bad), v, sizeof(v), err, sizeof(err)), -EPROTO);
}

static void test_error_message(void **st)
{
	char m[256];
	const char *j = "{\"message\":\"No such image: py_runner:latest\"}\n";
	dock_error_message(404, j, strlen(j), m, sizeof(m));
	assert_string_equal(m, "No such image: py_runner:latest");
	const char *t = "  page not found\r\n";
	dock_error_message(404, t, strlen(t), m, sizeof(m));
	assert_string_equal(m, "page not found");
	dock_error_message(500, NULL, 0, m, sizeof(m));
	assert_string_equal(m, "HTTP 500");
	const char *nomsg = "{\"other\":1}";
	dock_error_message(500, nomsg, strlen(nomsg), m, sizeof(m));
	assert_string_equal(m, "{\"other\":1}");
}

static void test_urlencode(void **st)
{
	char out[64];
	assert_int_equal(dock_urlencode("{\"label\":[\"runlet=1\"]}", out, sizeof(out)), 0);
	assert_string_equal(out, "%7B%22label%22%3A%5B%22runlet%3D1%22%5D%7D");
	assert_int_equal(dock_urlencode("a-b_c.d~e", out, sizeof(out)), 0);
	assert_string_equal(out, "a-b_c.d~e");
	assert_int_equal(dock_urlencode("/////", out, 8), -ENOSPC);
}

static void test_tar_roundtrip(void **st)
{
	struct dock_tar *t;
	struct wire_buf b = {0};
	assert_int_equal(dock_tar_new(&t), 0);
	assert_int_equal(dock_tar_add_dir(t, "d", 0755, 0, 0), 0);
	assert_int_equal(dock_tar_add_file(t, "d/plan", 0444, 1001, 1001, "abc\0def", 7), 0);
	assert_int_equal(dock_tar_finish(t, &b), 0);
	assert_true(b.len >= 1024);

	struct archive *a = archive_read_new();
	struct archive_entry *e;
	char data[16];
	archive_read_support_format_tar(a);
	assert_int_equal(archive_read_open_memory(a, b.data, b.len), ARCHIVE_OK);
	assert_int_equal(archive_read_next_header(a, &e), ARCHIVE_OK);
	assert_string_equal(archive_entry_pathname(e), "d/");
	assert_true(archive_entry_filetype(e) == AE_IFDIR);
	assert_int_equal(archive_read_next_header(a, &e), ARCHIVE_OK);
	assert_string_equal(archive_entry_pathname(e), "d/plan");
	assert_int_equal(archive_entry_perm(e), 0444);
	assert_int_equal(archive_entry_uid(e), 1001);
	assert_int_equal(archive_entry_size(e), 7);
	assert_int_equal(archive_read_data(a, data, sizeof(data)), 7);
	assert_memory_equal(data, "abc\0def", 7);
	assert_int_equal(archive_read_next_header(a, &e), ARCHIVE_EOF);
	archive_read_free(a);
	wire_buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_endpoint_unix),
		cmocka_unit_test(test_endpoint_tcp_and_default),
		cmocka_unit_test(test_version_cmp),
		cmocka_unit_test(test_negotiate),
		cmocka_unit_test(test_error_message),
		cmocka_unit_test(test_urlencode),
		cmocka_unit_test(test_tar_roundtrip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
