/* The native backend's pool of pre-forked single-use sandboxes, for real
 * (as root), with the probe in the runner's place: a pooled sandbox runs a
 * plan, no two jobs share one, one killed while idle or at the take is
 * replaced, close() leaves nothing, several threads take at once. Skips
 * (77) when not root. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backends/native/dynmods.h"
#include "test_native_poollib.h"

#define CGROUP_V1_MAGIC 0x27e0ebL

/* How many of this process's fds are cgroup v1 hierarchy roots (a detached
 * mount of runlet's fast-moves hierarchy is one). */
static int cgroup_root_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;
	assert_non_null(d);
	while ((e = readdir(d)) != NULL) {
		int fd = atoi(e->d_name);
		struct statfs sf;
		if (e->d_name[0] == '.' || fd == dirfd(d) || fstatfs(fd, &sf) < 0)
			continue;
		if ((long)sf.f_type == CGROUP_V1_MAGIC &&
		    faccessat(fd, "release_agent", F_OK, 0) == 0)
			n++;
	}
	closedir(d);
	return n;
}

/* Fast cgroup moves: a detached, close-on-exec mount of runlet's own
 * controller-less v1 hierarchy, in no mount table; it can be made again
 * at once after it was let go (a new name each time). */
static void test_dynmods_hierarchy(void **s)
{
	char err[256], line[4096];
	int a = sbx_dynmods_open(err, sizeof(err));
	if (a < 0)
		fprintf(stderr, "dynmods: %s\n", err);
	assert_true(a >= 0);
	int b = sbx_dynmods_open(err, sizeof(err));
	assert_true(b >= 0);
	assert_true(fcntl(a, F_GETFD) & FD_CLOEXEC);
	assert_int_equal(faccessat(a, "cgroup.procs", F_OK, 0), 0);
	assert_int_equal(cgroup_root_fds(), 2);
	FILE *m = fopen("/proc/self/mountinfo", "r");
	assert_non_null(m);
	while (fgets(line, sizeof(line), m))
		assert_null(strstr(line, SBX_DYNMODS_NAME));
	fclose(m);
	close(a);
	close(b);
	assert_int_equal(cgroup_root_fds(), 0);
	a = sbx_dynmods_open(err, sizeof(err));
	assert_true(a >= 0);
	close(a);
}

/* A long-lived runlet (its pool started) holds the hierarchy while it
 * runs, a one-shot one (one job) never makes it; close() lets go. */
static void test_pool_holds_fast_moves(void **s)
{
	void *st = tp_open_pool("2", tp_probe());
	tp_run_mode(st, "noop", NULL, 0);
	assert_int_equal(cgroup_root_fds(), 0);
	tp_run_mode(st, "noop", NULL, 0);
	tp_wait_ready(st, 2);
	assert_int_equal(cgroup_root_fds(), 1);
	native_backend_ops.close(st);
	assert_int_equal(cgroup_root_fds(), 0);
	tp_assert_no_cgroups();
}

/* The pool starts with a language's second job and is used from then on:
 * the plan runs in one of the ready sandboxes, which is gone afterwards. */
static void test_pooled_runs_plan(void **s)
{
	void *st = tp_open_pool("2", tp_probe());
	char out[8192], v[256];
	pid_t before[SBX_POOL_MAX];
	tp_run_mode(st, "noop", NULL, 0);
	assert_int_equal(sbx_pool_ready(sbx_native_pool(st), tp_runner()), 0);
	tp_run_mode(st, "noop", NULL, 0);
	tp_wait_ready(st, 2);
	size_t n = sbx_pool_pids(sbx_native_pool(st), tp_runner(), before,
				 SBX_POOL_MAX);
	assert_int_equal(n, 2);
	tp_run_mode(st, "report", out, sizeof(out));
	assert_int_equal(tp_gone(before, 2, 1), 1);
	assert_string_equal(tp_field(out, "pid=", v, sizeof(v)), "1");
	assert_string_equal(tp_field(out, "hostname=", v, sizeof(v)), "runlet");
	assert_string_equal(tp_field(out, "cwd=", v, sizeof(v)), "/tmp");
	assert_string_equal(tp_field(out, "ifaces=", v, sizeof(v)), "lo,");
	assert_string_equal(tp_field(out, "CapBnd:\t", v, sizeof(v)), "00000000000000eb");
	assert_string_equal(tp_field(out, "NoNewPrivs:\t", v, sizeof(v)), "1");
	assert_string_equal(tp_field(out, "workdir_write=", v, sizeof(v)), "OK");
	assert_string_equal(tp_field(out, "host_root_visible=", v, sizeof(v)), "no");
	assert_non_null(strstr(out, "memory:/|"));
	native_backend_ops.close(st);
	tp_assert_no_cgroups();
}

/* Two jobs never share a sandbox: job 2 does not see job 1's file, and
 * each has its own pid namespace. */
static void test_no_sharing(void **s)
{
	void *st = tp_open_warm("2", tp_probe(), "noop", 2);
	char a[8192], b[8192], va[256], vb[256];
	tp_run_mode(st, "report", a, sizeof(a));
	tp_run_mode(st, "report", b, sizeof(b));
	assert_string_equal(tp_field(a, "seen_before=", va, sizeof(va)), "no");
	assert_string_equal(tp_field(b, "seen_before=", vb, sizeof(vb)), "no");
	tp_field(a, "pidns=", va, sizeof(va));
	tp_field(b, "pidns=", vb, sizeof(vb));
	assert_true(strncmp(va, "pid:[", 5) == 0);
	assert_string_not_equal(va, vb);
	native_backend_ops.close(st);
	tp_assert_no_cgroups();
}

/* A ready sandbox whose runner dies while idle is discarded and replaced;
 * jobs keep running. */
static void test_idle_killed_replaced(void **s)
{
	void *st = tp_open_warm("2", tp_probe(), "noop", 2);
	struct sbx_pool *p = sbx_native_pool(st);
	pid_t pids[SBX_POOL_MAX], now[SBX_POOL_MAX];
	assert_int_equal(sbx_pool_pids(p, tp_runner(), pids, SBX_POOL_MAX), 2);
	assert_int_equal(kill(pids[0], SIGKILL), 0);
	assert_int_equal(kill(pids[1], SIGKILL), 0);
	for (int i = 0; i < 500 && (tp_alive(pids[0]) || tp_alive(pids[1])); i++)
		usleep(2000);
	char out[8192], v[64];
	tp_run_mode(st, "report", out, sizeof(out));
	assert_string_equal(tp_field(out, "seen_before=", v, sizeof(v)), "no");
	tp_wait_ready(st, 2);
	size_t n = sbx_pool_pids(p, tp_runner(), now, SBX_POOL_MAX);
	assert_int_equal(n, 2);
	for (size_t i = 0; i < n; i++) {
		assert_true(now[i] != pids[0] && now[i] != pids[1]);
		assert_true(tp_alive(now[i]));
	}
	native_backend_ops.close(st);
	tp_assert_no_cgroups();
}

/* Ready sandboxes killed just before a take (the kill still landing):
 * the job is judged all the same, in a sandbox of its own. The probe
 * writes nothing before its plan, the runner its header. */
static void killed_at_take(const char *runner_path, const char *mode,
			   int rounds)
{
	void *st = tp_open_pool("2", runner_path);
	struct sbx_pool *p = sbx_native_pool(st);
	pid_t pids[SBX_POOL_MAX];
	tp_run_mode(st, mode, NULL, 0);
	tp_run_mode(st, mode, NULL, 0);
	for (int round = 0; round < rounds; round++) {
		tp_wait_ready(st, 2);
		size_t n = sbx_pool_pids(p, tp_runner(), pids, SBX_POOL_MAX);
		for (size_t i = 0; i < n; i++)
			kill(pids[i], SIGKILL);
		tp_run_mode(st, mode, NULL, 0);
	}
	native_backend_ops.close(st);
	tp_assert_no_cgroups();
}

static void test_killed_at_take(void **s)
{
	killed_at_take(tp_probe(), "noop", 20);
	killed_at_take(tp_real_runner(), "/bin/true", 10);
}

/* close() kills and reaps every ready sandbox and removes its cgroups. */
static void test_close_leaves_nothing(void **s)
{
	void *st = tp_open_warm("3", tp_probe(), "noop", 3);
	pid_t pids[SBX_POOL_MAX];
	size_t n = sbx_pool_pids(sbx_native_pool(st), tp_runner(), pids, SBX_POOL_MAX);
	assert_int_equal(n, 3);
	native_backend_ops.close(st);
	for (size_t i = 0; i < n; i++) {
		assert_false(tp_alive(pids[i]));
		/* reaped, not a zombie: not our child any more */
		assert_int_equal(waitpid(pids[i], NULL, WNOHANG), -1);
	}
	tp_assert_no_cgroups();
}

/* A stand-in maker for the refill policy tests: each "sandbox" is a child
 * that sleeps until it is killed (no namespaces, no cgroup). */
static atomic_int made;
static int fake_make(void *arg, const struct cfg_runner *r,
		     struct sbx_pooled *out, char *err, size_t errlen)
{
	pid_t pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		for (;;)
			pause();
	}
	out->proc.pid = pid;
	out->mem_bytes = 1ull << 40;
	out->pids = 1u << 20;
	atomic_fetch_add(&made, 1);
	return 0;
}

/* ready sandboxes of the probe language after waiting up to ms for want */
static unsigned ready_within(struct sbx_pool *p, unsigned want, int ms)
{
	unsigned n = 0;
	for (int t = 0; t <= ms; t += 2) {
		if ((n = sbx_pool_ready(p, tp_runner())) >= want)
			break;
		usleep(2000);
	}
	return n;
}

/* The refill thread makes no sandbox while a job runs (it would slow the
 * job) and refills once jobs are done; but when jobs outrun the pool (one
 * found none), it refills while they run too, until the pool is full. */
static void test_refill_waits_for_quiet(void **s)
{
	struct sbx_pool *p;
	struct sbx_pooled a, b, c;
	const struct cfg_runner *r = tp_runner();
	assert_int_equal(sbx_pool_open(tp_cfg(), 2, fake_make, NULL, &p), 0);
	sbx_pool_begin(p);
	sbx_pool_used(p, r);
	sbx_pool_begin(p);
	sbx_pool_used(p, r); /* the second job: the refill thread starts */
	assert_int_equal(ready_within(p, 2, 2000), 2);
	usleep(50 * 1000); /* no stream of jobs (see test_refill_in_a_stream) */
	sbx_pool_begin(p);
	sbx_pool_begin(p);
	assert_true(sbx_pool_take(p, r, 1, 1, &a));
	sbx_pool_used(p, r); /* another job ends: the refill thread wakes */
	usleep(100 * 1000);
	assert_int_equal(sbx_pool_ready(p, r), 1); /* not while a job runs */
	sbx_pool_bury(p, &a);
	sbx_pool_used(p, r);
	assert_int_equal(ready_within(p, 2, 2000), 2); /* once it is done */
	/* a burst: two jobs take both, a third finds none */
	sbx_pool_begin(p);
	sbx_pool_begin(p);
	sbx_pool_begin(p);
	assert_true(sbx_pool_take(p, r, 1, 1, &a));
	assert_true(sbx_pool_take(p, r, 1, 1, &b));
	int before = atomic_load(&made);
	assert_false(sbx_pool_take(p, r, 1, 1, &c));
	assert_int_equal(ready_within(p, 2, 2000), 2); /* jobs still running */
	assert_true(atomic_load(&made) >= before + 2);
	sbx_pool_bury(p, &a);
	sbx_pool_bury(p, &b);
	sbx_pool_used(p, r);
	sbx_pool_used(p, r);
	sbx_pool_used(p, r);
	sbx_pool_close(p);
}

/* A job that follows the previous one at once (a resubmission) still finds
 * the refill waiting; the third in such a row (a stream: no quiet moment
 * will come) has its sandbox replaced while it runs. */
static void test_refill_in_a_stream(void **s)
{
	struct sbx_pool *p;
	struct sbx_pooled a;
	const struct cfg_runner *r = tp_runner();
	assert_int_equal(sbx_pool_open(tp_cfg(), 2, fake_make, NULL, &p), 0);
	sbx_pool_begin(p);
	sbx_pool_used(p, r);
	sbx_pool_begin(p);
	sbx_pool_used(p, r);
	assert_int_equal(ready_within(p, 2, 2000), 2);
	usleep(50 * 1000);
	sbx_pool_begin(p); /* after a pause */
	sbx_pool_used(p, r);
	sbx_pool_begin(p); /* right after: the second in a row */
	assert_true(sbx_pool_take(p, r, 1, 1, &a));
	usleep(100 * 1000);
	assert_int_equal(sbx_pool_ready(p, r), 1);
	sbx_pool_bury(p, &a);
	sbx_pool_used(p, r);
	sbx_pool_begin(p); /* the third: a stream */
	assert_true(sbx_pool_take(p, r, 1, 1, &a));
	assert_int_equal(ready_within(p, 2, 2000), 2); /* while it runs */
	sbx_pool_bury(p, &a);
	sbx_pool_used(p, r);
	sbx_pool_close(p);
}

#define NTHREADS 4
#define NRUNS 5
struct worker_arg {
	void *st;
	int bad;
};

static void *worker(void *arg)
{
	struct worker_arg *w = arg;
	for (int i = 0; i < NRUNS; i++) {
		struct wire_plan p;
		struct wire_result res;
		char err[1024], v[64];
		tp_plan_init(&p, "report");
		int rc = tp_run_plan(w->st, &p, &res, err, sizeof(err));
		wire_plan_free(&p);
		if (rc < 0 || !res.complete || res.ntests != 1) {
			fprintf(stderr, "concurrent run failed: %s\n", err);
			w->bad = 1;
			return NULL;
		}
		if (strcmp(tp_field(res.tests[0].out, "seen_before=", v, sizeof(v)), "no"))
			w->bad = 2;
		wire_result_free(&res);
	}
	return NULL;
}

/* Several threads take from the pool at once: every job in its own
 * sandbox (none sees an earlier job's file). */
static void test_concurrent_takes(void **s)
{
	void *st = tp_open_warm("4", tp_probe(), "noop", 4);
	static struct worker_arg w[NTHREADS];
	pthread_t t[NTHREADS];
	for (int i = 0; i < NTHREADS; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].st = st;
		assert_int_equal(pthread_create(&t[i], NULL, worker, &w[i]), 0);
	}
	for (int i = 0; i < NTHREADS; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(w[i].bad, 0);
	}
	native_backend_ops.close(st);
	tp_assert_no_cgroups();
}

int main(void)
{
	int rc = tp_init();
	if (rc)
		return rc;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pooled_runs_plan),
		cmocka_unit_test(test_no_sharing),
		cmocka_unit_test(test_idle_killed_replaced),
		cmocka_unit_test(test_killed_at_take),
		cmocka_unit_test(test_close_leaves_nothing),
		cmocka_unit_test(test_concurrent_takes),
		cmocka_unit_test(test_refill_waits_for_quiet),
		cmocka_unit_test(test_refill_in_a_stream),
		cmocka_unit_test(test_dynmods_hierarchy),
		cmocka_unit_test(test_pool_holds_fast_moves),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
