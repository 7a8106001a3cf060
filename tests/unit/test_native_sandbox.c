/* The native sandbox for real (as root): a probe in the runner's place
 * reports what a sandboxed process sees; deadlines, floods, orphans,
 * concurrency and the cost of one sandbox; then the real runlet-runner with
 * a tiny plan. Skips (77) when not root. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backends/backend.h"
#include "backends/native/features.h"
#include "backends/native/sandbox.h"
#include "core/config.h"

static struct cfg cfg;
static struct cfg_runner runner;
static char probe[1024], real_runner[1024], job_prefix[64];

static void plan_init(struct wire_plan *p, const char *mode, uint64_t wall_ms)
{
	memset(p, 0, sizeof(*p));
	p->uid = p->gid = -1;
	assert_int_equal(wire_strv_push(&p->run.argv, &p->run.argc, mode), 0);
	p->run.lim.wall_ms = wall_ms;
	p->run.lim.mem_kb = 64 * 1024;
	p->run.lim.pids = 16;
	p->run.lim.out_kb = 64;
	p->run.lim.err_kb = 16;
	p->tests = calloc(1, sizeof(*p->tests));
	p->tests[0].num = 1;
	p->tests[0].input = strdup("");
	p->ntests = 1;
}

static int run_plan(void *state, struct wire_plan *p, struct wire_result *res,
		    char *err, size_t errlen)
{
	struct backend_job job = {
		.cfg = &cfg, .runner = &runner, .job_id = job_prefix, .plan = p,
	};
	return native_backend_ops.execute(state, &job, res, err, errlen);
}

static void *open_with(const char *runner_path)
{
	struct backend_opts o = {.insecure = 0, .runner_path = runner_path};
	void *st = NULL;
	char err[1024];
	int rc = native_backend_ops.open(&cfg, &o, &st, err, sizeof(err));
	if (rc < 0)
		fail_msg("open: %s", err);
	return st;
}

/* No cgroup of ours is left, in any controller. */
static void assert_no_cgroups(void)
{
	struct sbx_features f;
	sbx_features_detect("/sys/fs/cgroup", NULL, probe, "/tmp", &f);
	const char *bases[] = {f.cg.mem, f.cg.pids, f.cg.cpu};
	for (int i = 0; i < 3; i++) {
		DIR *d = bases[i][0] ? opendir(bases[i]) : NULL;
		struct dirent *e;
		while (d && (e = readdir(d)))
			if (strncmp(e->d_name, job_prefix, strlen(job_prefix)) == 0)
				fail_msg("cgroup %s/%s left behind", bases[i], e->d_name);
		if (d)
			closedir(d);
	}
}

/* No process whose command line holds needle is alive on the host. */
static int count_procs(const char *needle)
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
		if (k <= 0)
			continue;
		for (ssize_t i = 0; i < k; i++)
			if (!buf[i])
				buf[i] = ' ';
		buf[k] = '\0';
		if (strstr(buf, needle))
			n++;
	}
	closedir(d);
	return n;
}

static const char *field(const char *text, const char *key, char *out, size_t len)
{
	const char *at = strstr(text, key);
	if (!at)
		return NULL;
	at += strlen(key);
	size_t n = strcspn(at, "\n");
	snprintf(out, len, "%.*s", (int)n, at);
	return out;
}

static void test_probe_sees_sandbox(void **s)
{
	void *st = open_with(probe);
	struct wire_plan p;
	struct wire_result res;
	char err[1024], v[1024];
	plan_init(&p, "report", 5000);
	int rc = run_plan(st, &p, &res, err, sizeof(err));
	if (rc < 0)
		fail_msg("execute: %s", err);
	assert_true(res.complete);
	assert_int_equal(res.ntests, 1);
	const char *o = res.tests[0].out;
	print_message("%s", o);
	assert_string_equal(field(o, "pid=", v, sizeof(v)), "1");
	assert_string_equal(field(o, "hostname=", v, sizeof(v)), "runlet");
	assert_string_equal(field(o, "cwd=", v, sizeof(v)), "/tmp");
	assert_string_equal(field(o, "ifaces=", v, sizeof(v)), "lo,");
	/* only what the table puts there */
	field(o, "root=", v, sizeof(v));
	const char *names[] = {"usr", "etc", "proc", "dev", "tmp", ".runlet"};
	for (size_t i = 0; i < 6; i++)
		assert_non_null(strstr(v, names[i]));
	assert_null(strstr(v, "root,"));
	assert_null(strstr(v, "home"));
	assert_null(strstr(v, "var"));
	assert_null(strstr(v, "sys,"));
	assert_null(strstr(v, "run,"));
	assert_string_equal(field(o, "host_root_visible=", v, sizeof(v)), "no");
	assert_string_equal(field(o, "dev=", v, sizeof(v)) ? v : "", v);
	assert_null(strstr(v, "sda"));
	assert_null(strstr(v, "mem,"));
	assert_non_null(strstr(v, "shm"));
	assert_non_null(strstr(v, "urandom"));
	/* the bounding set: chown(0) dac_override(1) fowner(3) kill(5)
	 * setgid(6) setuid(7) */
	assert_string_equal(field(o, "CapBnd:\t", v, sizeof(v)), "00000000000000eb");
	assert_string_equal(field(o, "CapEff:\t", v, sizeof(v)), "00000000000000eb");
	assert_string_equal(field(o, "NoNewPrivs:\t", v, sizeof(v)), "1");
	/* masked: /dev/null on a nodev mount, so not even root reads it */
	field(o, "shadow=", v, sizeof(v));
	assert_true(strcmp(v, "0:") == 0 || strcmp(v, "ERR:Permission denied") == 0);
	field(o, "kcore=", v, sizeof(v));
	assert_null(strstr(v, "ELF"));
	/* read-only everywhere but the work dir */
	assert_string_equal(field(o, "write/usr/probe=", v, sizeof(v)), "Read-only file system");
	assert_string_equal(field(o, "write/etc/probe=", v, sizeof(v)), "Read-only file system");
	assert_string_equal(field(o, "write/probe=", v, sizeof(v)), "Read-only file system");
	assert_string_equal(field(o, "write/proc/sys/kernel/hostname=", v, sizeof(v)),
			    "Read-only file system");
	assert_string_equal(field(o, "workdir_write=", v, sizeof(v)), "OK");
	assert_string_equal(field(o, "workdir_owner=", v, sizeof(v)), "1001");
	/* the cgroup namespace starts at the submission's cgroup */
	assert_non_null(strstr(o, "memory:/|"));
	wire_result_free(&res);
	wire_plan_free(&p);
	assert_no_cgroups();
	native_backend_ops.close(st);
}

static void test_deadline_kills(void **s)
{
	void *st = open_with(probe);
	struct wire_plan p;
	struct wire_result res;
	char err[1024];
	plan_init(&p, "sleep", 100);
	uint64_t t0 = sbx_now_ms();
	int rc = run_plan(st, &p, &res, err, sizeof(err));
	uint64_t dt = sbx_now_ms() - t0;
	assert_int_equal(rc, -ETIMEDOUT);
	assert_non_null(strstr(err, "did not finish"));
	assert_true(dt >= 5000 && dt < 9000);
	wire_plan_free(&p);
	assert_no_cgroups();
	native_backend_ops.close(st);
}

static void test_flood_capped(void **s)
{
	void *st = open_with(probe);
	struct wire_plan p;
	struct wire_result res;
	char err[1024];
	plan_init(&p, "flood", 5000);
	int rc = run_plan(st, &p, &res, err, sizeof(err));
	assert_int_equal(rc, -EMSGSIZE);
	wire_plan_free(&p);
	assert_no_cgroups();
	native_backend_ops.close(st);
}

static void test_orphan_dies(void **s)
{
	void *st = open_with(probe);
	struct wire_plan p;
	struct wire_result res;
	char err[1024];
	plan_init(&p, "orphan", 5000);
	int rc = run_plan(st, &p, &res, err, sizeof(err));
	if (rc < 0)
		fail_msg("execute: %s", err);
	wire_result_free(&res);
	wire_plan_free(&p);
	assert_int_equal(count_procs("sleep 987654"), 0);
	assert_no_cgroups();
	native_backend_ops.close(st);
}

static void *worker(void *arg)
{
	for (int i = 0; i < 3; i++) {
		struct wire_plan p;
		struct wire_result res;
		char err[1024];
		plan_init(&p, "report", 5000);
		int rc = run_plan(arg, &p, &res, err, sizeof(err));
		if (rc < 0 || !res.complete || res.ntests != 1) {
			fprintf(stderr, "concurrent run failed: %s\n", err);
			wire_plan_free(&p);
			return (void *)1;
		}
		wire_result_free(&res);
		wire_plan_free(&p);
	}
	return NULL;
}

static void test_concurrent(void **s)
{
	void *st = open_with(probe);
	pthread_t t[4];
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, worker, st), 0);
	for (int i = 0; i < 4; i++) {
		void *r;
		pthread_join(t[i], &r);
		assert_null(r);
	}
	assert_no_cgroups();
	native_backend_ops.close(st);
}

/* The cost of one sandbox: cgroup, clone, mounts, exec, teardown. */
static void test_cost(void **s)
{
	void *st = open_with(probe);
	const int n = 20;
	uint64_t t0 = sbx_now_ms();
	for (int i = 0; i < n; i++) {
		struct wire_plan p;
		struct wire_result res;
		char err[1024];
		plan_init(&p, "noop", 5000);
		if (run_plan(st, &p, &res, err, sizeof(err)) < 0)
			fail_msg("execute: %s", err);
		wire_result_free(&res);
		wire_plan_free(&p);
	}
	uint64_t dt = sbx_now_ms() - t0;
	print_message("native sandbox setup+teardown: %.1f ms per submission "
		      "(%d runs)\n", (double)dt / n, n);
	assert_true(dt / n < 1000);
	native_backend_ops.close(st);
}

static void test_real_runner(void **s)
{
	void *st = open_with(real_runner);
	struct wire_plan p;
	struct wire_result res;
	char err[1024];
	plan_init(&p, "/bin/sh", 5000);
	wire_strv_push(&p.run.argv, &p.run.argc, "-c");
	wire_strv_push(&p.run.argv, &p.run.argc,
		       "id; hostname; ls /; grep -E '^(Cap|NoNewPrivs|Seccomp)' /proc/self/status");
	wire_strv_push(&p.run.envp, &p.run.envc, "PATH=/usr/bin:/bin");
	p.run.lim.cpu_ms = 2000;
	p.run.lim.nofile = 64;
	p.run.lim.fsize_kb = 1024;
	p.run.lim.stack_kb = 8192;
	int rc = run_plan(st, &p, &res, err, sizeof(err));
	if (rc < 0)
		fail_msg("execute: %s", err);
	if (res.error)
		fail_msg("runner error: %s", res.error);
	assert_int_equal(res.ntests, 1);
	const char *o = res.tests[0].out;
	print_message("%s%s", o, res.tests[0].err ? res.tests[0].err : "");
	assert_int_equal(res.tests[0].status, 0);
	assert_int_equal(res.tests[0].exit_code, 0);
	assert_non_null(strstr(o, "uid=1001"));
	assert_non_null(strstr(o, "\nrunlet\n"));
	assert_non_null(strstr(o, "CapEff:\t0000000000000000"));
	assert_non_null(strstr(o, "CapBnd:\t00000000000000eb"));
	assert_non_null(strstr(o, "NoNewPrivs:\t1"));
	assert_non_null(strstr(o, "Seccomp:\t2"));
	wire_result_free(&res);
	wire_plan_free(&p);
	assert_no_cgroups();
	native_backend_ops.close(st);
}

/* Without root and with --insecure: a plain process in a private temp dir
 * that is emptied after each submission and removed on close. Run as
 * nobody in a child process. */
static void test_insecure_plain(void **s)
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (setgid(65534) < 0 || setuid(65534) < 0)
			_exit(10);
		struct backend_opts o = {.insecure = 0, .runner_path = probe};
		void *st = NULL;
		char err[1024];
		/* refused without --insecure, naming root and the way out */
		if (native_backend_ops.open(&cfg, &o, &st, err, sizeof(err)) == 0 ||
		    !strstr(err, "root") || !strstr(err, "--insecure"))
			_exit(11);
		o.insecure = 1;
		if (native_backend_ops.open(&cfg, &o, &st, err, sizeof(err)) < 0)
			_exit(12);
		char wd[512];
		snprintf(wd, sizeof(wd), "%s", native_backend_ops.workdir(st, &runner));
		if (strncmp(wd, "/tmp/runlet-insecure-", 21) != 0)
			_exit(13);
		struct wire_plan p;
		struct wire_result res;
		plan_init(&p, "report", 5000);
		int rc = run_plan(st, &p, &res, err, sizeof(err));
		wire_plan_free(&p);
		if (rc < 0 || res.ntests != 1 || !strstr(res.tests[0].out, "workdir_write=OK"))
			_exit(14);
		wire_result_free(&res);
		/* emptied after the run (the probe left probe.txt) */
		char f[600];
		struct stat sb;
		snprintf(f, sizeof(f), "%s/probe.txt", wd);
		if (stat(f, &sb) == 0)
			_exit(15);
		native_backend_ops.close(st);
		if (stat(wd, &sb) == 0)
			_exit(16);
		_exit(0);
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* A cgroup left by a runlet that died is removed by the next open(). */
static void test_stale_swept(void **s)
{
	struct sbx_features f;
	char dir[SBX_PATH + 64];
	sbx_features_detect("/sys/fs/cgroup", NULL, probe, "/tmp", &f);
	mkdir(f.cg.mem, 0755);
	/* pid_max is at most 2^22: this pid cannot exist */
	snprintf(dir, sizeof(dir), "%s/99999999-1-s0", f.cg.mem);
	assert_int_equal(mkdir(dir, 0755), 0);
	void *st = open_with(probe);
	struct stat sb;
	assert_int_equal(stat(dir, &sb), -1);
	native_backend_ops.close(st);
}

int main(void)
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
	snprintf(job_prefix, sizeof(job_prefix), "tnative%d", (int)getpid());
	cfg.tmpfs = "/tmp";
	cfg.sandbox.uid = cfg.sandbox.gid = 1001;
	runner.mem_limit = 64 << 20;
	runner.limits.tmpfs_size = 16 << 20;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_probe_sees_sandbox),
		cmocka_unit_test(test_deadline_kills),
		cmocka_unit_test(test_flood_capped),
		cmocka_unit_test(test_orphan_dies),
		cmocka_unit_test(test_concurrent),
		cmocka_unit_test(test_cost),
		cmocka_unit_test(test_real_runner),
		cmocka_unit_test(test_stale_swept),
		cmocka_unit_test(test_insecure_plain),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
