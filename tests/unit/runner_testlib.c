/* Plumbing of the runner tests: building plans, running the real
 * runlet-runner on them, temporary work directories. */
#include "tests/unit/runner_testlib.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

/* ---- plumbing: plans, running the runner, temp dirs ---- */



char g_dir[256]; /* set by setup_dir: the current test's workdir */

const char *build_dir(void)
{
	const char *d = getenv("RUNLET_BUILD_DIR");
	return d ? d : ".";
}

const char *runner_path(void)
{
	static char p[512];
	snprintf(p, sizeof(p), "%s/runlet-runner", build_dir());
	return p;
}

const char *helper_path(void)
{
	static char p[512];
	snprintf(p, sizeof(p), "%s/tests/runner_helper", build_dir());
	return p;
}

double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int rm_entry(const char *p, const struct stat *sb, int flag,
		    struct FTW *ftw)
{
	return remove(p);
}

void rm_rf(const char *p)
{
	nftw(p, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int setup_dir(void **state)
{
	snprintf(g_dir, sizeof(g_dir), "/tmp/runlet-rt-XXXXXX");
	assert_non_null(mkdtemp(g_dir));
	return 0;
}

int teardown_dir(void **state)
{
	rm_rf(g_dir);
	return 0;
}

/* Skip a test this host cannot run; under CI=true that is a failure when
 * must_run says CI machines can run it. */
static int skips; /* test-only bookkeeping: how many parts skipped */

int runner_tests_done(int rc, size_t ntests)
{
	return rc == 0 && ntests > 0 && (size_t)skips >= ntests ? 77 : rc;
}

int host_lacks(int lacking, int must_run, const char *why)
{
	if (!lacking)
		return 0;
	skips++;
	const char *ci = getenv("CI");
	if (must_run && ci && strcmp(ci, "true") == 0)
		fail_msg("CI=true but cannot run: %s", why);
	fprintf(stderr, "SKIP: %s\n", why);
	return 1;
}

void plan_init(struct wire_plan *p)
{
	memset(p, 0, sizeof(*p));
	p->workdir = strdup(g_dir);
	p->uid = p->gid = -1;
}

void step_argv(struct wire_step *s, const char *a0, ...)
{
	va_list ap;
	va_start(ap, a0);
	for (const char *a = a0; a; a = va_arg(ap, const char *))
		assert_int_equal(wire_strv_push(&s->argv, &s->argc, a), 0);
	va_end(ap);
	if (!s->envp)
		assert_int_equal(wire_strv_push(&s->envp, &s->envc,
						"PATH=/usr/local/bin:/usr/bin:/bin"),
				 0);
}

void step_env(struct wire_step *s, const char *e)
{
	assert_int_equal(wire_strv_push(&s->envp, &s->envc, e), 0);
}

void add_test(struct wire_plan *p, uint64_t num, const char *in,
		     size_t len)
{
	p->tests = realloc(p->tests, (p->ntests + 1) * sizeof(*p->tests));
	assert_non_null(p->tests);
	struct wire_test *t = &p->tests[p->ntests++];
	t->num = num;
	t->input = malloc(len + 1);
	assert_non_null(t->input);
	memcpy(t->input, in, len);
	t->len = len;
}

void add_file(struct wire_plan *p, const char *path, uint32_t mode,
		     const char *data, size_t len)
{
	p->files = realloc(p->files, (p->nfiles + 1) * sizeof(*p->files));
	assert_non_null(p->files);
	struct wire_file *f = &p->files[p->nfiles++];
	f->path = strdup(path);
	f->mode = mode;
	f->data = malloc(len + 1);
	memcpy(f->data, data, len);
	f->len = len;
}

/* Run argv (runner last unless prefix is NULL) with stdin from data. */
void run_raw(const char *data, size_t len, const char *const *prefix,
		    struct rr *rr)
{
	char path[] = "/tmp/runlet-plan-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
	int pipefd[2];
	assert_int_equal(pipe(pipefd), 0);
	double t0 = now_s();
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		const char *argv[16];
		int n = 0;
		for (; prefix && prefix[n]; n++)
			argv[n] = prefix[n];
		argv[n++] = runner_path();
		argv[n] = NULL;
		int in = open(path, O_RDONLY);
		dup2(in, 0);
		dup2(pipefd[1], 1);
		close(pipefd[0]);
		execvp(argv[0], (char *const *)argv);
		_exit(126);
	}
	close(pipefd[1]);
	memset(rr, 0, sizeof(*rr));
	size_t cap = 0;
	for (;;) {
		if (rr->rawlen + 65536 > cap) {
			cap = cap ? cap * 2 : 1 << 20;
			rr->raw = realloc(rr->raw, cap);
			assert_non_null(rr->raw);
		}
		ssize_t n = read(pipefd[0], rr->raw + rr->rawlen, cap - rr->rawlen);
		if (n <= 0)
			break;
		rr->rawlen += (size_t)n;
	}
	close(pipefd[0]);
	assert_int_equal(waitpid(pid, &rr->wstatus, 0), pid);
	rr->secs = now_s() - t0;
	unlink(path);
	char err[256] = "";
	rr->decoded = wire_result_decode(rr->raw ? rr->raw : "", rr->rawlen,
					 &rr->res, err, sizeof(err)) == 0;
	if (!rr->decoded)
		fprintf(stderr, "result decode: %s\n", err);
}

void run_plan_with(struct wire_plan *p, const char *const *prefix,
			  struct rr *rr)
{
	struct wire_buf b = {0};
	assert_int_equal(wire_plan_encode(p, &b), 0);
	run_raw(b.data, b.len, prefix, rr);
	wire_buf_free(&b);
}

/* Run, expect a complete result with exit 0 and ntests outcomes. */
void run_ok(struct wire_plan *p, size_t ntests, struct rr *rr)
{
	run_plan_with(p, NULL, rr);
	assert_true(rr->decoded);
	if (rr->res.error)
		fail_msg("runner error: %s", rr->res.error);
	assert_true(rr->res.complete);
	assert_true(WIFEXITED(rr->wstatus));
	assert_int_equal(WEXITSTATUS(rr->wstatus), 0);
	assert_int_equal(rr->res.ntests, ntests);
}

void rr_free(struct rr *rr)
{
	wire_result_free(&rr->res);
	free(rr->raw);
}

/* ---- shared by several test files ---- */

char *pattern(size_t n, unsigned seed)
{
	char *b = malloc(n);
	assert_non_null(b);
	for (size_t i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		b[i] = (char)(seed >> 16); /* includes NUL and newlines */
	}
	return b;
}

/* A uid no other process uses, so RLIMIT_NPROC counts only this test's
 * processes (root can switch to any number, no passwd entry needed). */
int test_uid(void)
{
	return 60000 + (int)(getpid() % 5000);
}

int not_root(void)
{
	return host_lacks(geteuid() != 0, 0, "needs root");
}

int have_program(const char *name)
{
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1", name);
	return system(cmd) == 0;
}

/* A run step that evaluates each test's input as a shell command line, so
 * one plan can run different programs under the same limits. */
void eval_plan(struct wire_plan *p)
{
	plan_init(p);
	step_argv(&p->run, "sh", "-c", "read -r line; eval \"$line\"", NULL);
	p->run.lim.wall_ms = 10000;
}

/* Ship the helper in the plan, so a dropped uid can run it wherever the
 * build directory is (which may not be readable by that uid). */
void add_helper(struct wire_plan *p)
{
	FILE *f = fopen(helper_path(), "rb");
	assert_non_null(f);
	size_t cap = 1 << 20, len = 0, n;
	char *buf = malloc(cap);
	assert_non_null(buf);
	while ((n = fread(buf + len, 1, cap - len, f)) > 0) {
		len += n;
		if (len == cap) {
			cap *= 2;
			buf = realloc(buf, cap);
			assert_non_null(buf);
		}
	}
	fclose(f);
	add_file(p, "runner_helper", 0755, buf, len);
	free(buf);
}

void add_cmd(struct wire_plan *p, uint64_t num, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	line[n++] = '\n';
	add_test(p, num, line, (size_t)n);
}

