/* Unit tests of core/config.c: the repo's config.yaml, the contract's example,
 * defaults, synonyms, limits overrides, sizes and every kind of error message. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/config.h"

#define KB 1024ull
#define MB (1024ull * KB)
#define GB (1024ull * MB)

static struct cfg *load_ok(const char *text)
{
	struct cfg *c = NULL;
	char err[512];
	int rc = cfg_load_buffer("config.yaml", text, strlen(text), &c, err, sizeof(err));

	if (rc != 0)
		fail_msg("load failed (%d): %s", rc, err);
	assert_non_null(c);
	return c;
}

static void expect_err(const char *text, const char *want)
{
	struct cfg *c = (struct cfg *)1;
	char err[512];
	int rc = cfg_load_buffer("config.yaml", text, strlen(text), &c, err, sizeof(err));

	assert_int_equal(rc, -EINVAL);
	assert_null(c);
	assert_string_equal(err, want);
}

static const char *source_dir(void)
{
	const char *d = getenv("RUNLET_SOURCE_DIR");
	return d ? d : RUNLET_TEST_SOURCE_DIR;
}

static void test_repo_config(void **state)
{
	char path[1024], err[512];
	struct cfg *c = NULL;
	const struct cfg_runner *r;
	static const char *const codes[] = {"py", "go", "js", "cs", "cpp"};

	(void)state;
	snprintf(path, sizeof(path), "%s/config.yaml", source_dir());
	if (cfg_load(path, &c, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_int_equal(c->nrunners, 5);
	for (size_t i = 0; i < 5; i++)
		assert_string_equal(c->runners[i].code, codes[i]);

	r = cfg_runner_find(c, "py");
	assert_non_null(r);
	assert_string_equal(r->image, "python:3.13-alpine");
	assert_int_equal(r->mem_limit, 256 * MB);
	assert_true(r->cpu_cores == 1.5);
	assert_int_equal(r->nenvs, 2);
	assert_string_equal(r->envs[1], "PYTHONUNBUFFERED=1");
	assert_null(r->envs[2]);
	assert_true(r->has_compile_args);
	assert_int_equal(r->ncompile_args, 0);
	assert_non_null(r->compile_args);
	assert_null(r->compile_args[0]);
	assert_int_equal(r->nrun_args, 2);
	assert_string_equal(r->run_args[0], "python");
	assert_string_equal(r->run_args[1], "{src}");
	assert_int_equal(r->run_timeout_ms, 10000);
	assert_string_equal(r->plugin, "python");
	assert_null(r->backend);
	assert_int_equal(r->line, 10);
	assert_int_equal(r->col, 3);

	r = cfg_runner_find(c, "go");
	assert_int_equal(r->ncompile_args, 5);
	assert_string_equal(r->compile_args[3], "{bin}");
	assert_int_equal(r->mem_limit, 512 * MB);
	assert_string_equal(r->envs[1], "GOCACHE=/tmp/.cache");

	r = cfg_runner_find(c, "js");
	assert_string_equal(r->image, "node:lts-alpine3.23");
	assert_string_equal(r->run_args[0], "node");
	assert_true(r->has_compile_args && r->ncompile_args == 0);

	r = cfg_runner_find(c, "cs");
	assert_string_equal(r->image, "frolvlad/alpine-mono:latest");
	assert_string_equal(r->compile_args[1], "-out:{bin}");
	assert_string_equal(r->run_args[0], "mono");
	assert_string_equal(r->plugin, "csharp");

	r = cfg_runner_find(c, "cpp");
	assert_string_equal(r->image, "frolvlad/alpine-gxx:latest");
	assert_int_equal(r->ncompile_args, 4);
	assert_string_equal(r->compile_args[0], "g++");
	assert_string_equal(r->run_args[0], "{src}");

	assert_string_equal(c->runner_image_name_pattern, "{}_runner");
	assert_string_equal(c->tmpfs, "/tmp");
	assert_string_equal(c->runner_mountpoint, "/home/sandbox");
	assert_string_equal(c->backend, "native");
	assert_string_equal(c->path, path);
	assert_null(cfg_runner_find(c, "rb"));
	cfg_free(c);
}

/* CONTRACT.md §3 as written, minus its literal "..." placeholders. */
static const char contract_example[] =
	"runners:\n"
	"  py:\n"
	"    image: python:3.13-alpine        # Docker image with the language\n"
	"    mem_limit: 256m                  # container memory limit (k/m/g suffixes)\n"
	"    cpu_cores: 1.5                   # CPU limit (fractional cores)\n"
	"    envs: [\"PYTHONDONTWRITEBYTECODE=1\", \"PYTHONUNBUFFERED=1\"]   # optional; its README says `env`\n"
	"    compile_args: []                 # [] for interpreted languages; required\n"
	"    run_args: [\"python\", \"{src}\"]    # required\n"
	"    run_timeout: 10                  # seconds, per test\n"
	"  go:  {image: golang:alpine, mem_limit: 512m, cpu_cores: 1.5,\n"
	"        envs: [\"GOTMPDIR=/tmp\", \"GOCACHE=/tmp/.cache\"],\n"
	"        compile_args: [\"go\", \"build\", \"-o\", \"{bin}\", \"{src}\"], run_args: [\"{src}\"], run_timeout: 10}\n"
	"  js:  {image: node:lts-alpine3.23, run_args: [\"node\", \"{src}\"]}\n"
	"  cs:  {image: frolvlad/alpine-mono:latest, compile_args: [\"mcs\", \"-out:{bin}\", \"{src}\"], run_args: [\"mono\", \"{src}\"]}\n"
	"  cpp: {image: frolvlad/alpine-gxx:latest, compile_args: [\"g++\", \"-o\", \"{bin}\", \"{src}\"], run_args: [\"{src}\"]}\n"
	"context_path: .\n"
	"dockerfiles_path: dockerfiles\n"
	"runner_dockerfile_name: runner.dockerfile\n"
	"shared_dockerfile_name: shared.dockerfile\n"
	"runner_image_name_pattern: \"{}_runner\"     # {} = language code\n"
	"shared_image_name: runner_shared\n"
	"src_placeholder: \"{src}\"\n"
	"bin_placeholder: \"{bin}\"\n"
	"volume_name: runlet_code_storage\n"
	"runner_mountpoint: /home/sandbox\n"
	"gateway_source_data_dir: /tmp\n"
	"tmpfs: /tmp\n";

static void test_contract_example(void **state)
{
	struct cfg *c = load_ok(contract_example);
	const struct cfg_runner *r;

	(void)state;
	assert_int_equal(c->nrunners, 5);
	r = cfg_runner_find(c, "go");
	assert_string_equal(r->image, "golang:alpine");
	assert_int_equal(r->mem_limit, 512 * MB);
	assert_int_equal(r->ncompile_args, 5);
	assert_int_equal(r->nrun_args, 1);
	r = cfg_runner_find(c, "js");
	assert_false(r->has_compile_args);
	assert_null(r->compile_args);
	assert_int_equal(r->mem_limit, 256 * MB); /* defaults */
	assert_true(r->cpu_cores == 1.0);
	assert_int_equal(r->run_timeout_ms, 10000);
	assert_int_equal(r->nenvs, 0);
	r = cfg_runner_find(c, "cpp");
	assert_string_equal(r->compile_args[2], "{bin}");
	assert_string_equal(c->context_path, ".");
	assert_string_equal(c->shared_image_name, "runner_shared");
	assert_string_equal(c->volume_name, "runlet_code_storage");
	assert_string_equal(c->gateway_source_data_dir, "/tmp");
	cfg_free(c);
}

static void test_defaults(void **state)
{
	struct cfg *c = load_ok("runners:\n  rb: {}\n");
	const struct cfg_runner *r = &c->runners[0];

	(void)state;
	assert_string_equal(r->plugin, "rb");
	assert_false(r->has_run_args);
	assert_null(r->run_args);
	assert_null(r->image);
	assert_int_equal(r->mem_limit, 256 * MB);
	assert_true(r->cpu_cores == 1.0);
	assert_int_equal(r->run_timeout_ms, 10000);
	assert_string_equal(c->context_path, ".");
	assert_string_equal(c->dockerfiles_path, "dockerfiles");
	assert_string_equal(c->runner_dockerfile_name, "runner.dockerfile");
	assert_string_equal(c->shared_dockerfile_name, "shared.dockerfile");
	assert_string_equal(c->runner_image_name_pattern, "{}_runner");
	assert_string_equal(c->shared_image_name, "runner_shared");
	assert_string_equal(c->src_placeholder, "{src}");
	assert_string_equal(c->bin_placeholder, "{bin}");
	assert_string_equal(c->volume_name, "runlet_code_storage");
	assert_string_equal(c->runner_mountpoint, "/home/sandbox");
	assert_string_equal(c->gateway_source_data_dir, "/tmp");
	assert_string_equal(c->tmpfs, "/tmp");
	assert_null(c->plugin_dir);
	assert_string_equal(c->backend, "native");
	/* limits */
	assert_int_equal(r->limits.compile_timeout_ms, 30000);
	assert_int_equal(r->limits.compile_mem_limit, GB);
	assert_int_equal(r->limits.wall_timeout_ms, 0);
	assert_int_equal(r->limits.output_limit, MB);
	assert_int_equal(r->limits.stderr_limit, 64 * KB);
	assert_int_equal(r->limits.pids_limit, 100);
	assert_int_equal(r->limits.tmpfs_size, 256 * MB);
	assert_int_equal(r->limits.max_code_size, 256 * KB);
	assert_int_equal(r->limits.max_input_size, 64 * MB);
	assert_int_equal(r->limits.max_tests, 1000);
	assert_int_equal(r->limits.max_run_timeout_ms, 0);
	assert_int_equal(r->limits.max_mem_limit, 0);
	assert_int_equal(r->limits.max_output_limit, 0);
	assert_memory_equal(&c->limits, &r->limits, sizeof(r->limits));
	/* broker, sandbox, docker */
	assert_null(c->broker.url);
	assert_string_equal(c->broker.queue, "test_solutions");
	assert_string_equal(c->broker.dlx, "dlx");
	assert_string_equal(c->broker.dlq, "test_solutions_dlq");
	assert_string_equal(c->broker.results_queue, "results");
	assert_string_equal(c->broker.task_name, "test_solution");
	assert_string_equal(c->broker.result_task_name, "handle_test_result");
	assert_int_equal(c->broker.dlq_ttl_ms, 86400);
	assert_int_equal(c->broker.workers, 0);
	assert_int_equal(c->broker.prefetch, 0);
	assert_int_equal(c->broker.max_redeliveries, 3);
	assert_int_equal(c->broker.drain_timeout_ms, 30000);
	assert_int_equal(c->sandbox.uid, 1001);
	assert_int_equal(c->sandbox.gid, 1001);
	assert_null(c->sandbox.rootfs);
	assert_null(c->sandbox.runner_path);
	assert_int_equal(c->sandbox.fast_cgroup_moves, 1);
	assert_null(c->docker.host);
	assert_int_equal(c->docker.pool_size, 0);
	cfg_free(c);
}

static void test_runlet_keys(void **state)
{
	struct cfg *c = load_ok(
		"plugin_dir: /opt/runlet/plugins\n"
		"backend: docker\n"
		"workers: 4\n"
		"broker:\n"
		"  url: amqp://u:p@127.0.0.1:5673/\n"
		"  queue: q\n"
		"  dead_letter_exchange: x\n"
		"  dead_letter_queue: q_dlq\n"
		"  results_queue: res\n"
		"  task_name: t\n"
		"  result_task_name: rt\n"
		"  dlq_ttl: 1000\n"
		"  prefetch: 8\n"
		"  max_redeliveries: 0\n"
		"  drain_timeout: 2.5\n"
		"sandbox: {uid: 2000, gid: 2001, rootfs: /srv/root, runner_path: /usr/bin/rr}\n"
		"docker: {host: \"tcp://127.0.0.1:2375\", pool_size: 2}\n"
		"runners:\n"
		"  py: {plugin: /x/runlet-python.so, backend: native}\n");

	(void)state;
	assert_string_equal(c->plugin_dir, "/opt/runlet/plugins");
	assert_string_equal(c->backend, "docker");
	assert_int_equal(c->broker.workers, 4);
	assert_string_equal(c->broker.url, "amqp://u:p@127.0.0.1:5673/");
	assert_string_equal(c->broker.queue, "q");
	assert_string_equal(c->broker.dlx, "x");
	assert_string_equal(c->broker.dlq, "q_dlq");
	assert_string_equal(c->broker.results_queue, "res");
	assert_string_equal(c->broker.task_name, "t");
	assert_string_equal(c->broker.result_task_name, "rt");
	assert_int_equal(c->broker.dlq_ttl_ms, 1000);
	assert_int_equal(c->broker.prefetch, 8);
	assert_int_equal(c->broker.max_redeliveries, 0);
	assert_int_equal(c->broker.drain_timeout_ms, 2500);
	assert_int_equal(c->sandbox.uid, 2000);
	assert_int_equal(c->sandbox.gid, 2001);
	assert_string_equal(c->sandbox.rootfs, "/srv/root");
	assert_string_equal(c->sandbox.runner_path, "/usr/bin/rr");
	assert_string_equal(c->docker.host, "tcp://127.0.0.1:2375");
	assert_int_equal(c->docker.pool_size, 2);
	assert_string_equal(c->runners[0].plugin, "/x/runlet-python.so");
	assert_string_equal(c->runners[0].backend, "native");
	cfg_free(c);

	c = load_ok("sandbox: {fast_cgroup_moves: false}\nrunners: {py: {}}\n");
	assert_int_equal(c->sandbox.fast_cgroup_moves, 0);
	cfg_free(c);
	expect_err("sandbox: {fast_cgroup_moves: yes}\nrunners: {py: {}}\n",
		   "config.yaml:1:30: sandbox.fast_cgroup_moves: expected true or false, got \"yes\"");

	c = load_ok("broker: {workers: 3}\nrunners: {py: {}}\n");
	assert_int_equal(c->broker.workers, 3);
	cfg_free(c);
	expect_err("workers: 2\nbroker:\n  workers: 3\nrunners: {py: {}}\n",
		   "config.yaml:3:3: broker.workers: duplicate key (already given as workers at line 1; keep one)");
}

static void test_env_synonym(void **state)
{
	struct cfg *c = load_ok("runners:\n  py:\n    env: [A=1, \"B=x=y\", C=]\n");

	(void)state;
	assert_int_equal(c->runners[0].nenvs, 3);
	assert_string_equal(c->runners[0].envs[0], "A=1");
	assert_string_equal(c->runners[0].envs[1], "B=x=y");
	assert_string_equal(c->runners[0].envs[2], "C=");
	assert_null(c->runners[0].envs[3]);
	cfg_free(c);
	expect_err("runners:\n  py:\n    envs: [A=1]\n    env: [B=2]\n",
		   "config.yaml:4:5: runners.py.env: duplicate key (already given as runners.py.envs at line 3; keep one)");
}

static void test_limits_overrides(void **state)
{
	struct cfg *c = load_ok(
		"runners:\n"
		"  py:\n"
		"    output_limit: 4m\n"
		"    compile_timeout: 0.5\n"
		"    max_tests: 10\n"
		"  cpp:\n"
		"    mem_limit: 2g\n"
		"  go:\n"
		"    compile_mem_limit: 300m\n"
		"output_limit: 2m\n"          /* after the runners: order is free */
		"max_tests: 50\n"
		"wall_timeout: 7\n"
		"max_run_timeout: 20\n"
		"max_mem_limit: 1g\n"
		"pids_limit: 64\n");
	const struct cfg_runner *py = cfg_runner_find(c, "py");
	const struct cfg_runner *cpp = cfg_runner_find(c, "cpp");
	const struct cfg_runner *go = cfg_runner_find(c, "go");

	(void)state;
	assert_int_equal(c->limits.output_limit, 2 * MB);
	assert_int_equal(py->limits.output_limit, 4 * MB);
	assert_int_equal(cpp->limits.output_limit, 2 * MB);
	assert_int_equal(py->limits.compile_timeout_ms, 500);
	assert_int_equal(cpp->limits.compile_timeout_ms, 30000);
	assert_int_equal(py->limits.max_tests, 10);
	assert_int_equal(cpp->limits.max_tests, 50);
	assert_int_equal(py->limits.wall_timeout_ms, 7000);
	assert_int_equal(go->limits.max_run_timeout_ms, 20000);
	assert_int_equal(go->limits.max_mem_limit, GB);
	assert_int_equal(go->limits.pids_limit, 64);
	/* compile memory: the larger of the runner's memory and 1g, unless set */
	assert_int_equal(py->limits.compile_mem_limit, GB);
	assert_int_equal(cpp->limits.compile_mem_limit, 2 * GB);
	assert_int_equal(go->limits.compile_mem_limit, 300 * MB);
	cfg_free(c);

	c = load_ok("compile_mem_limit: 512m\nrunners:\n  cpp: {mem_limit: 2g}\n");
	assert_int_equal(c->runners[0].limits.compile_mem_limit, 512 * MB);
	cfg_free(c);
}

static void test_times_and_cores(void **state)
{
	struct cfg *c = load_ok("runners:\n  py: {run_timeout: 2.5, cpu_cores: 0.25}\n"
				"  go: {run_timeout: 0.0001, cpu_cores: \"2\"}\n");

	(void)state;
	assert_int_equal(c->runners[0].run_timeout_ms, 2500);
	assert_true(c->runners[0].cpu_cores == 0.25);
	assert_int_equal(c->runners[1].run_timeout_ms, 1); /* rounded up, not to 0 */
	assert_true(c->runners[1].cpu_cores == 2.0);
	cfg_free(c);
}

static void test_parse_size(void **state)
{
	static const struct { const char *s; uint64_t v; } good[] = {
		{"0", 0}, {"1024", 1024}, {"64k", 64 * KB}, {"64K", 64 * KB},
		{"64kb", 64 * KB}, {"64KiB", 64 * KB}, {"256m", 256 * MB},
		{"256MB", 256 * MB}, {"1g", GB}, {"1.5g", 3 * GB / 2},
		{"0.5k", 512}, {"100b", 100}, {"100B", 100}, {"2t", 2048 * GB},
		{"18446744073709551615", UINT64_MAX},
	};
	static const char *const bad[] = {
		"", "m", "k1", "-1", "1.5", "1.", ".5k", "1 m", " 1m", "1m ",
		"1x", "1mm", "1ib", "1kbb", "ten", "1e3", "1,5m",
		"18446744073709551616", "17179869184g",
	};
	uint64_t v;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		v = 12345;
		if (cfg_parse_size(good[i].s, &v) != 0 || v != good[i].v)
			fail_msg("cfg_parse_size(\"%s\") = %llu", good[i].s, (unsigned long long)v);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (cfg_parse_size(bad[i], &v) != -EINVAL)
			fail_msg("cfg_parse_size(\"%s\") accepted", bad[i]);
	assert_int_equal(cfg_parse_size(NULL, &v), -EINVAL);
}

static void test_default_plugin(void **state)
{
	(void)state;
	assert_string_equal(cfg_default_plugin("py"), "python");
	assert_string_equal(cfg_default_plugin("go"), "go");
	assert_string_equal(cfg_default_plugin("js"), "js");
	assert_string_equal(cfg_default_plugin("cs"), "csharp");
	assert_string_equal(cfg_default_plugin("cpp"), "cpp");
	assert_string_equal(cfg_default_plugin("rust"), "rust");
	assert_null(cfg_runner_find(NULL, "py"));
}

#define PY "runners:\n  py:\n"

static void test_errors_values(void **state)
{
	static const struct { const char *yaml, *want; } cases[] = {
		{PY "    run_args: [python]\n    run_timeout: ten\n",
		 "config.yaml:4:18: runners.py.run_timeout: expected a positive number, got \"ten\""},
		{PY "    run_timeout: 0\n",
		 "config.yaml:3:18: runners.py.run_timeout: expected a positive number, got \"0\""},
		{PY "    run_timeout: -1\n",
		 "config.yaml:3:18: runners.py.run_timeout: expected a positive number, got \"-1\""},
		{PY "    run_timeout: [1]\n",
		 "config.yaml:3:18: runners.py.run_timeout: expected a positive number, got a list"},
		{PY "    mem_limit: lots\n",
		 "config.yaml:3:16: runners.py.mem_limit: expected a positive size (bytes, or with a k/m/g suffix as in 256m), got \"lots\""},
		{PY "    mem_limit: 0\n",
		 "config.yaml:3:16: runners.py.mem_limit: expected a positive size (bytes, or with a k/m/g suffix as in 256m), got \"0\""},
		{PY "    cpu_cores: 0\n",
		 "config.yaml:3:16: runners.py.cpu_cores: expected a positive number of CPU cores, got \"0\""},
		{PY "    image: [a, b]\n",
		 "config.yaml:3:12: runners.py.image: expected a non-empty string, got a list"},
		{PY "    image:\n",
		 "config.yaml:3:11: runners.py.image: expected a non-empty string, got nothing"},
		{PY "    image: ~\n",
		 "config.yaml:3:12: runners.py.image: expected a non-empty string, got null"},
		{PY "    image: \"\"\n",
		 "config.yaml:3:12: runners.py.image: expected a non-empty string, got \"\""},
		{PY "    envs: A=1\n",
		 "config.yaml:3:11: runners.py.envs: expected a list of KEY=VALUE strings, got \"A=1\""},
		{PY "    envs: [A=1, NOEQUALS]\n",
		 "config.yaml:3:17: runners.py.envs[1]: expected KEY=VALUE, got \"NOEQUALS\""},
		{PY "    envs: [=1]\n",
		 "config.yaml:3:12: runners.py.envs[0]: expected KEY=VALUE, got \"=1\""},
		{PY "    run_args: []\n",
		 "config.yaml:3:15: runners.py.run_args: expected a non-empty list of strings (the command that runs the program), got []"},
		{PY "    run_args: [python, {a: 1}]\n",
		 "config.yaml:3:24: runners.py.run_args[1]: expected a string, got a mapping"},
		{PY "    compile_args: {}\n",
		 "config.yaml:3:19: runners.py.compile_args: expected a list of strings, got {}"},
		{PY "    backend: podman\n",
		 "config.yaml:3:14: runners.py.backend: expected \"native\" or \"docker\", got \"podman\""},
		{"backend: Docker\nrunners: {py: {}}\n",
		 "config.yaml:1:10: backend: expected \"native\" or \"docker\", got \"Docker\""},
		{"tmpfs: tmp\nrunners: {py: {}}\n",
		 "config.yaml:1:8: tmpfs: expected an absolute path, got \"tmp\""},
		{"runner_image_name_pattern: runner\nrunners: {py: {}}\n",
		 "config.yaml:1:28: runner_image_name_pattern: expected a name pattern containing \"{}\" (the language code), got \"runner\""},
		{"max_tests: 1.5\nrunners: {py: {}}\n",
		 "config.yaml:1:12: max_tests: expected a positive integer, got \"1.5\""},
		{"sandbox: {uid: 0}\nrunners: {py: {}}\n",
		 "config.yaml:1:16: sandbox.uid: expected an integer from 1 to 4294967294, got \"0\""},
		{"broker: {prefetch: 70000}\nrunners: {py: {}}\n",
		 "config.yaml:1:20: broker.prefetch: expected an integer from 0 to 65535, got \"70000\""},
		{"broker: {url: \"http://x\"}\nrunners: {py: {}}\n",
		 "config.yaml:1:15: broker.url: expected an AMQP URL such as amqp://user:password@host:5672/, got \"http://x\""},
		{"broker: amqp\nrunners: {py: {}}\n",
		 "config.yaml:1:9: broker: expected a mapping, got \"amqp\""},
		{PY "    image: \"a\\0b\"\n",
		 "config.yaml:3:12: runners.py.image: expected a non-empty string, got \"a\\x00b\""},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		expect_err(cases[i].yaml, cases[i].want);
}

static void test_errors_structure(void **state)
{
	static const struct { const char *yaml, *want; } cases[] = {
		{"runners: {}\n",
		 "config.yaml:1:10: runners: expected at least one language, got an empty mapping"},
		{"runners: [py]\n",
		 "config.yaml:1:10: runners: expected a mapping of language codes to runner settings, got a list"},
		{"tmpfs: /tmp\n",
		 "config.yaml:1:1: runners: missing: declare at least one language (see docs/CONFIG.md)"},
		{"runners:\n  C#: {}\n",
		 "config.yaml:2:3: runners.C#: expected a language code of lowercase letters, digits, '_' or '-' (such as py or cpp), got \"C#\""},
		{"runners:\n  py: python\n",
		 "config.yaml:2:7: runners.py: expected a mapping of runner settings (image, run_args, ...), got \"python\""},
		{"runners:\n  py: {}\n  py: {}\n",
		 "config.yaml:3:3: runners.py: duplicate key (first at line 2)"},
		{PY "    image: a\n    image: b\n",
		 "config.yaml:4:5: runners.py.image: duplicate key (first at line 3)"},
		{"- a\n- b\n",
		 "config.yaml:1:1: expected a mapping of config keys, got a list"},
		{"", "config.yaml:1:1: empty config: expected a mapping with a runners: section"},
		{"# only a comment\n",
		 "config.yaml:1:1: empty config: expected a mapping with a runners: section"},
		{"runners: {py: {}}\n---\nx: 1\n",
		 "config.yaml:2:1: a second YAML document: a config file holds one"},
		{"base: &b {image: x}\nrunners: {py: *b}\n",
		 "config.yaml:1:7: anchors (&b) are not supported: write the value out"},
		{"runners: {py: *b}\n",
		 "config.yaml:1:15: aliases (*b) are not supported: write the value out"},
		{"runners:\n  py: {}\n    image: x\n",
		 "config.yaml:3:5: YAML syntax error: did not find expected key (while parsing a block mapping at line 2, column 3)"},
		{PY "    image: a: b\n",
		 "config.yaml:3:13: YAML syntax error: mapping values are not allowed in this context"},
		{"runners:\n  py: [a, b\n",
		 "config.yaml:3:1: YAML syntax error: did not find expected ',' or ']' (while parsing a flow sequence at line 2, column 7)"},
		{"? [a]\n: 1\nrunners: {py: {}}\n",
		 "config.yaml:1:3: expected a key name, got a list"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		expect_err(cases[i].yaml, cases[i].want);
}

static void test_errors_unknown_keys(void **state)
{
	static const struct { const char *yaml, *want; } cases[] = {
		{"runners:\n  py:\n    image: x\n    run_args: [python]\n\n\n    run_timout: 5\n",
		 "config.yaml:7:5: runners.py.run_timout: unknown key (did you mean \"run_timeout\"?)"},
		{"runner:\n  py: {}\n",
		 "config.yaml:1:1: runner: unknown key (did you mean \"runners\"?)"},
		{PY "    mem_limits: 1g\n",
		 "config.yaml:3:5: runners.py.mem_limits: unknown key (did you mean \"mem_limit\"?)"},
		{PY "    output_limt: 1m\n",
		 "config.yaml:3:5: runners.py.output_limt: unknown key (did you mean \"output_limit\"?)"},
		{"broker: {queu: x}\nrunners: {py: {}}\n",
		 "config.yaml:1:10: broker.queu: unknown key (did you mean \"queue\"?)"},
		{PY "    colour: blue\n",
		 "config.yaml:3:5: runners.py.colour: unknown key"},
		{"run_timeout: 5\nrunners: {py: {}}\n",
		 "config.yaml:1:1: run_timeout: unknown key at the top level (run_timeout is a per-runner key: put it under runners.<code>)"},
		{PY "    tmpfs: /tmp\n",
		 "config.yaml:3:5: runners.py.tmpfs: unknown key in a runner (tmpfs is a top-level key)"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		expect_err(cases[i].yaml, cases[i].want);
}

static void test_missing_file(void **state)
{
	struct cfg *c = (struct cfg *)1;
	char err[512];

	(void)state;
	assert_int_equal(cfg_load("/nonexistent/runlet.yaml", &c, err, sizeof(err)), -ENOENT);
	assert_null(c);
	assert_string_equal(err, "/nonexistent/runlet.yaml: cannot read the config file: No such file or directory");
	assert_int_equal(cfg_load("/", &c, err, sizeof(err)), -EISDIR);
	assert_string_equal(err, "/: cannot read the config file: Is a directory");
}

static void test_small_err_buffer(void **state)
{
	struct cfg *c = NULL;
	char err[8];

	(void)state;
	assert_int_equal(cfg_load_buffer("config.yaml", "x: 1\n", 5, &c, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "config.");
	assert_int_equal(cfg_load_buffer("config.yaml", "x: 1\n", 5, &c, NULL, 0), -EINVAL);
	cfg_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_repo_config),
		cmocka_unit_test(test_contract_example),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_runlet_keys),
		cmocka_unit_test(test_env_synonym),
		cmocka_unit_test(test_limits_overrides),
		cmocka_unit_test(test_times_and_cores),
		cmocka_unit_test(test_parse_size),
		cmocka_unit_test(test_default_plugin),
		cmocka_unit_test(test_errors_values),
		cmocka_unit_test(test_errors_structure),
		cmocka_unit_test(test_errors_unknown_keys),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_small_err_buffer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
