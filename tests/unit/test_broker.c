/* Unit tests of broker/: reconnect backoff, broker address resolution
 * (URL, RUNLET_AMQP_URL, the gateway's RABBITMQ_* environment), incoming
 * message metadata (task_name, ids, x-death, key), attempt counts that
 * survive a restart, the declaration arguments of CONTRACT.md §1, and the
 * contract's defaults in the config. The pool's tests: test_broker_pool.c. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "broker/attempts.h"
#include "broker/backoff.h"
#include "broker/conn.h"
#include "broker/message.h"
#include "broker/topology.h"
#include "core/config.h"
#include "test_broker_pool.h"

/* ---- backoff ---- */

static void test_backoff_grows_capped_jittered(void **state)
{
	struct mq_backoff b;
	uint64_t prev_hi = 0;

	mq_backoff_init(&b, 100, 5000, 42);
	for (unsigned n = 0; n < 20; n++) {
		uint64_t d = mq_backoff_next(&b);
		uint64_t hi = 100;

		for (unsigned i = 0; i < n && hi < 5000; i++)
			hi *= 2;
		if (hi > 5000)
			hi = 5000;
		assert_true(d <= hi);
		assert_true(d >= hi - hi / 2);
		assert_true(hi >= prev_hi);
		prev_hi = hi;
	}
	mq_backoff_reset(&b);
	assert_true(mq_backoff_next(&b) <= 100);
}

static void test_backoff_jitter_varies(void **state)
{
	struct mq_backoff a, b;
	int differ = 0;

	mq_backoff_init(&a, 1000, 60000, 1);
	mq_backoff_init(&b, 1000, 60000, 2);
	for (int i = 0; i < 6; i++)
		differ += mq_backoff_next(&a) != mq_backoff_next(&b);
	assert_true(differ > 0);
}

/* ---- broker address ---- */

static const char *const *fake_env;

static const char *env_fn(const char *name)
{
	for (const char *const *p = fake_env; p != NULL && *p != NULL; p += 2)
		if (strcmp(p[0], name) == 0)
			return p[1];
	return NULL;
}

static void test_params_gateway_env(void **state)
{
	static const char *const env[] = {"RABBITMQ_HOST", "mq.example", "RABBITMQ_USER",
					  "judge", "RABBITMQ_PASSWORD", "s3cret", NULL};
	struct mq_params p;
	char err[256], disp[300];

	fake_env = env;
	assert_int_equal(mq_params_resolve(NULL, env_fn, &p, err, sizeof(err)), 0);
	assert_string_equal(p.host, "mq.example");
	assert_int_equal(p.port, 5672);
	assert_string_equal(p.user, "judge");
	assert_string_equal(p.password, "s3cret");
	assert_string_equal(p.vhost, "/");
	assert_int_equal(p.ssl, 0);
	assert_string_equal(p.source, "RABBITMQ_*");
	mq_params_display(&p, disp, sizeof(disp));
	assert_string_equal(disp, "amqp://judge@mq.example:5672/");
	assert_null(strstr(disp, "s3cret"));
}

static void test_params_defaults_and_port(void **state)
{
	static const char *const env[] = {"RABBITMQ_PORT", "5673", NULL};
	static const char *const bad[] = {"RABBITMQ_PORT", "56x", NULL};
	struct mq_params p;
	char err[256];

	fake_env = env;
	assert_int_equal(mq_params_resolve(NULL, env_fn, &p, err, sizeof(err)), 0);
	assert_string_equal(p.host, "localhost");
	assert_string_equal(p.user, "guest");
	assert_int_equal(p.port, 5673);
	fake_env = bad;
	assert_int_equal(mq_params_resolve(NULL, env_fn, &p, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "RABBITMQ_PORT"));
	assert_non_null(strstr(err, "56x"));
}

static void test_params_urls(void **state)
{
	static const char *const env[] = {"RUNLET_AMQP_URL", "amqps://u:p@secure.example/prod",
					  "RABBITMQ_HOST", "ignored", NULL};
	struct mq_params p;
	char err[256];

	fake_env = env;
	/* config wins over the environment */
	assert_int_equal(mq_params_resolve("amqp://a:b@cfg.example:1234/%2f", env_fn, &p,
					   err, sizeof(err)), 0);
	assert_string_equal(p.source, "broker.url");
	assert_string_equal(p.host, "cfg.example");
	assert_int_equal(p.port, 1234);
	assert_string_equal(p.vhost, "/");
	/* then RUNLET_AMQP_URL; amqps defaults to 5671 and verifies peers */
	assert_int_equal(mq_params_resolve(NULL, env_fn, &p, err, sizeof(err)), 0);
	assert_string_equal(p.source, "RUNLET_AMQP_URL");
	assert_int_equal(p.ssl, 1);
	assert_int_equal(p.port, 5671);
	assert_int_equal(p.verify, 1);
	assert_string_equal(p.vhost, "prod");
	/* "amqp://host/" means the default vhost */
	assert_int_equal(mq_params_resolve("amqp://h/", env_fn, &p, err, sizeof(err)), 0);
	assert_string_equal(p.vhost, "/");
	assert_int_equal(mq_params_resolve("http://nope", env_fn, &p, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "broker.url"));
}

static void test_params_tls_pairs(void **state)
{
	static const char *const env[] = {"RUNLET_AMQP_CERT", "/c.pem", NULL};
	static const char *const off[] = {"RUNLET_AMQP_TLS_VERIFY", "0", NULL};
	struct mq_params p;
	char err[256];

	fake_env = env;
	assert_int_equal(mq_params_resolve("amqps://h", env_fn, &p, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "RUNLET_AMQP_KEY"));
	fake_env = off;
	assert_int_equal(mq_params_resolve("amqps://h", env_fn, &p, err, sizeof(err)), 0);
	assert_int_equal(p.verify, 0);
}

/* ---- message metadata ---- */

static amqp_basic_properties_t props_with(amqp_table_entry_t *e, int n)
{
	amqp_basic_properties_t p;

	memset(&p, 0, sizeof(p));
	p._flags = AMQP_BASIC_HEADERS_FLAG;
	p.headers.num_entries = n;
	p.headers.entries = e;
	return p;
}

static void test_meta_task_name(void **state)
{
	amqp_table_entry_t e[1];
	amqp_basic_properties_t p;
	struct mq_meta m;

	e[0].key = amqp_cstring_bytes("task_name");
	e[0].value.kind = AMQP_FIELD_KIND_UTF8;
	e[0].value.value.bytes = amqp_cstring_bytes("test_solution");
	p = props_with(e, 1);
	mq_meta_read(&p, "{}", 2, "task_name", &m);
	assert_true(mq_meta_task_is(&m, "test_solution"));
	assert_false(mq_meta_task_is(&m, "test_solutio"));
	e[0].value.value.bytes = amqp_cstring_bytes("test_solution_v2");
	mq_meta_read(&p, "{}", 2, "task_name", &m);
	assert_false(mq_meta_task_is(&m, "test_solution"));
	/* a non-string header value is not a task name */
	e[0].value.kind = AMQP_FIELD_KIND_I32;
	e[0].value.value.i32 = 1;
	mq_meta_read(&p, "{}", 2, "task_name", &m);
	assert_false(m.has_task_name);
	/* no properties at all */
	mq_meta_read(NULL, "{}", 2, "task_name", &m);
	assert_false(mq_meta_task_is(&m, "test_solution"));
}

static void test_meta_ids_and_key(void **state)
{
	amqp_basic_properties_t p;
	struct mq_meta a, b, c;

	memset(&p, 0, sizeof(p));
	mq_meta_read(&p, "body-1", 6, "task_name", &a);
	mq_meta_read(&p, "body-2", 6, "task_name", &b);
	assert_string_equal(mq_meta_id(&a), "");
	assert_string_not_equal(a.key, b.key);
	assert_int_equal(strlen(a.key), 16);
	p._flags = AMQP_BASIC_MESSAGE_ID_FLAG | AMQP_BASIC_CORRELATION_ID_FLAG;
	p.message_id = amqp_cstring_bytes("m-1");
	p.correlation_id = amqp_cstring_bytes("c-1");
	mq_meta_read(&p, "body-1", 6, "task_name", &a);
	mq_meta_read(&p, "body-2", 6, "task_name", &c);
	/* the id, not the body, identifies a message that has one */
	assert_string_equal(a.key, c.key);
	assert_string_equal(mq_meta_id(&a), "m-1");
	assert_string_equal(a.correlation_id, "c-1");
	p._flags = AMQP_BASIC_CORRELATION_ID_FLAG;
	mq_meta_read(&p, "x", 1, "task_name", &a);
	assert_string_equal(mq_meta_id(&a), "c-1");
}

static void test_meta_x_death(void **state)
{
	amqp_table_entry_t d1[2], d2[2], hdr[1];
	amqp_field_value_t arr[2];
	amqp_basic_properties_t p;
	struct mq_meta m;

	d1[0].key = amqp_cstring_bytes("queue");
	d1[0].value.kind = AMQP_FIELD_KIND_UTF8;
	d1[0].value.value.bytes = amqp_cstring_bytes("test_solutions");
	d1[1].key = amqp_cstring_bytes("count");
	d1[1].value.kind = AMQP_FIELD_KIND_I64;
	d1[1].value.value.i64 = 2;
	d2[0] = d1[0];
	d2[1].key = amqp_cstring_bytes("count");
	d2[1].value.kind = AMQP_FIELD_KIND_I64;
	d2[1].value.value.i64 = 3;
	arr[0].kind = AMQP_FIELD_KIND_TABLE;
	arr[0].value.table = (amqp_table_t){2, d1};
	arr[1].kind = AMQP_FIELD_KIND_TABLE;
	arr[1].value.table = (amqp_table_t){2, d2};
	hdr[0].key = amqp_cstring_bytes("x-death");
	hdr[0].value.kind = AMQP_FIELD_KIND_ARRAY;
	hdr[0].value.value.array = (amqp_array_t){2, arr};
	p = props_with(hdr, 1);
	mq_meta_read(&p, "{}", 2, "task_name", &m);
	assert_int_equal(m.deaths, 5);
}

/* ---- attempt counts ---- */

static void test_attempts_survive_restart(void **state)
{
	char dir[] = "/tmp/runlet-test-attempts-XXXXXX";
	char sub[128], err[512];
	struct mq_attempts *a;
	int warned;

	assert_non_null(mkdtemp(dir));
	snprintf(sub, sizeof(sub), "%s/state/deep", dir);
	assert_int_equal(mq_attempts_open(sub, &a, &warned, err, sizeof(err)), 0);
	assert_int_equal(warned, 0);
	assert_int_equal(mq_attempts_get(a, "00ff00ff00ff00ff"), 0);
	mq_attempts_set(a, "00ff00ff00ff00ff", 2);
	assert_int_equal(mq_attempts_get(a, "00ff00ff00ff00ff"), 2);
	/* not a key: refused, never a path */
	mq_attempts_set(a, "../../etc/passwd", 1);
	assert_int_equal(mq_attempts_get(a, "../../etc/passwd"), 0);
	mq_attempts_close(a); /* as if the daemon died */
	assert_int_equal(mq_attempts_open(sub, &a, &warned, err, sizeof(err)), 0);
	assert_int_equal(mq_attempts_get(a, "00ff00ff00ff00ff"), 2);
	mq_attempts_clear(a, "00ff00ff00ff00ff");
	assert_int_equal(mq_attempts_get(a, "00ff00ff00ff00ff"), 0);
	mq_attempts_close(a);
	snprintf(sub, sizeof(sub), "%s/state/deep/00ff00ff00ff00ff", dir);
	assert_int_equal(access(sub, F_OK), -1);
	snprintf(sub, sizeof(sub), "rm -rf '%s'", dir);
	assert_int_equal(system(sub), 0);
}

static void test_attempts_memory_fallback(void **state)
{
	struct mq_attempts *a;
	char err[512];
	int warned;

	/* a file where the directory should be */
	assert_int_equal(mq_attempts_open("/dev/null/state", &a, &warned, err, sizeof(err)), 0);
	assert_int_equal(warned, 1);
	assert_non_null(strstr(err, "/dev/null/state"));
	mq_attempts_set(a, "0123456789abcdef", 3);
	assert_int_equal(mq_attempts_get(a, "0123456789abcdef"), 3);
	mq_attempts_close(a);
	assert_int_equal(mq_attempts_open(NULL, &a, &warned, err, sizeof(err)), 0);
	assert_int_equal(warned, 0);
	mq_attempts_close(a);
}

/* ---- declarations and the contract's defaults ---- */

static struct cfg *load_default_cfg(void)
{
	static const char text[] = "runners:\n  py: {run_args: [python, \"{src}\"]}\n";
	struct cfg *c = NULL;
	char err[256];

	assert_int_equal(cfg_load_buffer("t.yaml", text, sizeof(text) - 1, &c, err, sizeof(err)), 0);
	return c;
}

static void test_contract_defaults(void **state)
{
	struct cfg *c = load_default_cfg();
	const struct cfg_broker *b = &c->broker;

	assert_string_equal(b->queue, "test_solutions");
	assert_string_equal(b->dlx, "dlx");
	assert_string_equal(b->dlq, "test_solutions_dlq");
	assert_string_equal(b->results_queue, "results");
	assert_string_equal(b->task_name, "test_solution");
	assert_string_equal(b->result_task_name, "handle_test_result");
	assert_int_equal(b->dlq_ttl_ms, 86400);
	cfg_free(c);
}

static void test_declare_args(void **state)
{
	struct cfg *c = load_default_cfg();
	amqp_table_entry_t qe[2], de[1];
	amqp_table_t t;

	t = mq_queue_args(&c->broker, qe);
	assert_int_equal(t.num_entries, 2);
	assert_memory_equal(t.entries[0].key.bytes, "x-dead-letter-exchange", 22);
	/* long strings ('S'), what py-amqp sends for a str */
	assert_int_equal(t.entries[0].value.kind, AMQP_FIELD_KIND_UTF8);
	assert_int_equal(t.entries[0].value.value.bytes.len, 3);
	assert_memory_equal(t.entries[0].value.value.bytes.bytes, "dlx", 3);
	assert_memory_equal(t.entries[1].key.bytes, "x-dead-letter-routing-key", 25);
	assert_memory_equal(t.entries[1].value.value.bytes.bytes, "test_solutions_dlq", 18);
	t = mq_dlq_args(&c->broker, de);
	assert_int_equal(t.num_entries, 1);
	assert_memory_equal(t.entries[0].key.bytes, "x-message-ttl", 13);
	/* py-amqp: a Python int that fits is 'I' (signed 32-bit) */
	assert_int_equal(t.entries[0].value.kind, AMQP_FIELD_KIND_I32);
	assert_int_equal(t.entries[0].value.value.i32, 86400);
	c->broker.dlq_ttl_ms = 3000000000ull;
	t = mq_dlq_args(&c->broker, de);
	assert_int_equal(t.entries[0].value.kind, AMQP_FIELD_KIND_I64);
	assert_int_equal(t.entries[0].value.value.i64, 3000000000ll);
	cfg_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_backoff_grows_capped_jittered),
		cmocka_unit_test(test_backoff_jitter_varies),
		cmocka_unit_test(test_params_gateway_env),
		cmocka_unit_test(test_params_defaults_and_port),
		cmocka_unit_test(test_params_urls),
		cmocka_unit_test(test_params_tls_pairs),
		cmocka_unit_test(test_meta_task_name),
		cmocka_unit_test(test_meta_ids_and_key),
		cmocka_unit_test(test_meta_x_death),
		cmocka_unit_test(test_attempts_survive_restart),
		cmocka_unit_test(test_attempts_memory_fallback),
		cmocka_unit_test(test_contract_defaults),
		cmocka_unit_test(test_declare_args),
		cmocka_unit_test(test_pool_all_done),
		cmocka_unit_test(test_pool_take_queued),
		cmocka_unit_test(test_pool_idle_worker_keeps_job),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
