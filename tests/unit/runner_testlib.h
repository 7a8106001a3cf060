/* Plumbing shared by the runner tests (runner_testlib.c): plans built with
 * wire.c, the real runlet-runner run on them, temporary work directories.
 * Include after <setjmp.h>, <stdarg.h>, <stddef.h> and <cmocka.h>. */
#ifndef RUNLET_TESTS_RUNNER_TESTLIB_H
#define RUNLET_TESTS_RUNNER_TESTLIB_H

#include <stddef.h>
#include <stdint.h>

#include "runlet/plugin.h"
#include "runner/wire.h"

struct rr {
	struct wire_result res;
	int decoded;   /* wire_result_decode returned 0 */
	int wstatus;
	double secs;
	char *raw;
	size_t rawlen;
};

extern char g_dir[256]; /* the current test's workdir (setup_dir) */

const char *build_dir(void);
const char *runner_path(void);
const char *helper_path(void);
double now_s(void);
void rm_rf(const char *path);
/* cmocka setup/teardown: a fresh /tmp/runlet-rt-XXXXXX in g_dir */
int setup_dir(void **state);
int teardown_dir(void **state);
/* 1 (and prints SKIP) when lacking; fails instead under CI=true if
 * must_run. */
int host_lacks(int lacking, int must_run, const char *why);
/* main's exit status: 77 (ctest SKIP) when every test skipped, else rc */
int runner_tests_done(int rc, size_t ntests);
/* plan with workdir g_dir, ids kept */
void plan_init(struct wire_plan *p);
/* append argv (NULL-terminated list); sets a default PATH env if none */
void step_argv(struct wire_step *s, const char *a0, ...);
void step_env(struct wire_step *s, const char *e);
void add_test(struct wire_plan *p, uint64_t num, const char *in, size_t len);
void add_file(struct wire_plan *p, const char *path, uint32_t mode,
	      const char *data, size_t len);
/* run prefix... runner with data on stdin */
void run_raw(const char *data, size_t len, const char *const *prefix,
	     struct rr *rr);
void run_plan_with(struct wire_plan *p, const char *const *prefix,
		   struct rr *rr);
/* run and expect a complete result, exit 0, ntests outcomes */
void run_ok(struct wire_plan *p, size_t ntests, struct rr *rr);
void rr_free(struct rr *rr);

/* n pseudo-random bytes (NUL and newlines included); free() it */
char *pattern(size_t n, unsigned seed);
/* a uid no other process uses (root may switch to any number) */
int test_uid(void);
/* 1 (after printing SKIP) when not root */
int not_root(void);
int have_program(const char *name);
/* a run step evaluating each test's input as a shell command line */
void eval_plan(struct wire_plan *p);
/* the helper binary as plan file ./runner_helper (for dropped uids) */
void add_helper(struct wire_plan *p);
/* a test whose input is the printf-formatted command line */
void add_cmd(struct wire_plan *p, uint64_t num, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Single-test plan running argv with no limits but a 10 s wall clock. */
#define ONE(p, ...)                                       \
	do {                                              \
		plan_init(p);                             \
		step_argv(&(p)->run, __VA_ARGS__, NULL);  \
		(p)->run.lim.wall_ms = 10000;             \
	} while (0)


#endif /* RUNLET_TESTS_RUNNER_TESTLIB_H */
