/* Shared by the pool tests (test_native_pool*.c): the backend config with
 * one language, plans for the probe and the real runner, and checks of
 * what is left on the host. See test_native_poollib.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backends/native/features.h"
#include "test_native_poollib.h"

static struct cfg cfg;
static struct cfg_runner runner;
static char probe[1024], real_runner[1024], job_id[64];

int tp_init(void)
{
	const char *b = getenv("RUNLET_BUILD_DIR");
	if (geteuid() != 0) {
		printf("SKIP: the native sandbox tests need root\n");
		return 77;
	}
	if (!b) {
		printf("SKIP: RUNLET_BUILD_DIR not set (run through ctest)\n");
		return getenv("CI") ? 1 : 77;
	}
	snprintf(probe, sizeof(probe), "%s/tests/test_native_probe", b);
	snprintf(real_runner, sizeof(real_runner), "%s/runlet-runner", b);
	snprintf(job_id, sizeof(job_id), "tnpool%d", (int)getpid());
	cfg.tmpfs = "/tmp";
	cfg.sandbox.uid = cfg.sandbox.gid = 1001;
	cfg.sandbox.fast_cgroup_moves = 1;
	runner.code = "probe";
	runner.mem_limit = 64 << 20;
	runner.limits.tmpfs_size = 16 << 20;
	runner.limits.pids_limit = 16;
	cfg.runners = &runner;
	cfg.nrunners = 1;
	return 0;
}

const struct cfg *tp_cfg(void)
{
	return &cfg;
}

const struct cfg_runner *tp_runner(void)
{
	return &runner;
}

const char *tp_probe(void)
{
	return probe;
}

const char *tp_real_runner(void)
{
	return real_runner;
}

const char *tp_job_id(void)
{
	return job_id;
}

void tp_plan_init(struct wire_plan *p, const char *mode)
{
	memset(p, 0, sizeof(*p));
	p->uid = p->gid = -1;
	assert_int_equal(wire_strv_push(&p->run.argv, &p->run.argc, mode), 0);
	p->run.lim.wall_ms = 5000;
	p->run.lim.mem_kb = 64 * 1024;
	p->run.lim.pids = 16;
	p->run.lim.out_kb = 64;
	p->run.lim.err_kb = 16;
	p->tests = calloc(1, sizeof(*p->tests));
	p->tests[0].num = 1;
	p->tests[0].input = strdup("");
	p->ntests = 1;
}

int tp_run_plan(void *st, struct wire_plan *p, struct wire_result *res,
		    char *err, size_t errlen)
{
	struct backend_job job = {
		.cfg = tp_cfg(), .runner = tp_runner(),
		.job_id = tp_job_id(), .plan = p,
	};
	return native_backend_ops.execute(st, &job, res, err, errlen);
}

/* Run mode; the test's out into out (may be NULL). Fails the test on an
 * error. */
void tp_run_mode(void *st, const char *mode, char *out, size_t outlen)
{
	struct wire_plan p;
	struct wire_result res;
	char err[1024];
	tp_plan_init(&p, mode);
	if (tp_run_plan(st, &p, &res, err, sizeof(err)) < 0)
		fail_msg("execute: %s", err);
	assert_true(res.complete);
	assert_int_equal(res.ntests, 1);
	if (out)
		snprintf(out, outlen, "%s", res.tests[0].out ? res.tests[0].out : "");
	wire_result_free(&res);
	wire_plan_free(&p);
}

void *tp_open_pool(const char *size, const char *runner_path)
{
	struct backend_opts o = {.insecure = 0, .runner_path = runner_path};
	void *st = NULL;
	char err[1024];
	setenv(SBX_POOL_ENV, size, 1);
	int rc = native_backend_ops.open(tp_cfg(), &o, &st, err, sizeof(err));
	unsetenv(SBX_POOL_ENV);
	if (rc < 0)
		fail_msg("open: %s", err);
	return st;
}

void *tp_open_warm(const char *size, const char *runner_path, const char *mode,
		   unsigned n)
{
	void *st = tp_open_pool(size, runner_path);
	tp_run_mode(st, mode, NULL, 0);
	tp_run_mode(st, mode, NULL, 0);
	tp_wait_ready(st, n);
	return st;
}

/* Wait until the pool holds n ready sandboxes of the runner. */
void tp_wait_ready(void *st, unsigned n)
{
	struct sbx_pool *p = sbx_native_pool(st);
	assert_non_null(p);
	for (int i = 0; i < 1000; i++) {
		if (sbx_pool_ready(p, tp_runner()) == n)
			return;
		usleep(10000);
	}
	fail_msg("the pool did not reach %u ready sandboxes in 10 s (has %u)",
		 n, sbx_pool_ready(p, tp_runner()));
}

unsigned tp_gone(const pid_t *pids, size_t n, unsigned want)
{
	unsigned gone = 0;
	for (int t = 0; t < 2500; t++) {
		gone = 0;
		for (size_t i = 0; i < n; i++)
			gone += !tp_alive(pids[i]);
		if (gone >= want)
			break;
		usleep(2000);
	}
	return gone;
}

int tp_alive(pid_t pid)
{
	char path[64], buf[256];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	const char *rp = strrchr(buf, ')');
	return rp && rp[1] == ' ' && rp[2] != 'Z' && rp[2] != 'X';
}

const char *tp_field(const char *text, const char *key, char *out, size_t len)
{
	const char *at = strstr(text, key);
	if (!at)
		return "";
	at += strlen(key);
	snprintf(out, len, "%.*s", (int)strcspn(at, "\n"), at);
	return out;
}

/* No submission cgroup of this process is left (pooled ones are named
 * "<pid>-pool-..."), and none of the test's jobs. */
void tp_assert_no_cgroups(void)
{
	struct sbx_features f;
	char pool_prefix[64];
	snprintf(pool_prefix, sizeof(pool_prefix), "%d-", (int)getpid());
	sbx_features_detect("/sys/fs/cgroup", NULL, tp_probe(), "/tmp", &f);
	const char *bases[] = {f.cg.mem, f.cg.pids, f.cg.cpu};
	for (int i = 0; i < 3; i++) {
		DIR *d = bases[i][0] ? opendir(bases[i]) : NULL;
		struct dirent *e;
		while (d && (e = readdir(d)))
			if (strncmp(e->d_name, pool_prefix, strlen(pool_prefix)) == 0 ||
			    strncmp(e->d_name, tp_job_id(), strlen(tp_job_id())) == 0)
				fail_msg("cgroup %s/%s left behind", bases[i], e->d_name);
		if (d)
			closedir(d);
	}
}

/* A shell plan for the real runner; the test's stdout into out; returns
 * its status (enum runlet_exit_kind). */
int tp_run_sh(void *st, const char *script, uint64_t mem_kb, char *out,
		  size_t outlen)
{
	struct wire_plan p;
	struct wire_result res;
	char err[1024];
	tp_plan_init(&p, "/bin/sh");
	wire_strv_push(&p.run.argv, &p.run.argc, "-c");
	wire_strv_push(&p.run.argv, &p.run.argc, script);
	wire_strv_push(&p.run.envp, &p.run.envc, "PATH=/usr/bin:/bin");
	p.run.lim.cpu_ms = 2000;
	p.run.lim.nofile = 64;
	p.run.lim.fsize_kb = 1024;
	p.run.lim.stack_kb = 8192;
	if (mem_kb)
		p.run.lim.mem_kb = mem_kb;
	if (tp_run_plan(st, &p, &res, err, sizeof(err)) < 0)
		fail_msg("execute: %s", err);
	if (res.error)
		fail_msg("runner error: %s", res.error);
	assert_int_equal(res.ntests, 1);
	snprintf(out, outlen, "%s", res.tests[0].out ? res.tests[0].out : "");
	int status = res.tests[0].status;
	wire_result_free(&res);
	wire_plan_free(&p);
	return status;
}

int tp_count_procs(const char *needle)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int n = 0;
	while ((e = readdir(d))) {
		char p[300], buf[512];
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(p, sizeof(p), "/proc/%s/cmdline", e->d_name);
		int fd = open(p, O_RDONLY);
		if (fd < 0)
			continue;
		ssize_t k = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		for (ssize_t i = 0; i < k; i++)
			if (!buf[i])
				buf[i] = ' ';
		buf[k > 0 ? k : 0] = '\0';
		if (strstr(buf, needle))
			n++;
	}
	closedir(d);
	return n;
}
