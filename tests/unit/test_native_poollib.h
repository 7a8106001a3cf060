/* Helpers of the pool tests (test_native_pool*.c), for real sandboxes as
 * root. The config, runner and paths live in the helper file until exit;
 * results and plans are the caller's. Failures fail the calling test. */
#ifndef RUNLET_TEST_NATIVE_POOLLIB_H
#define RUNLET_TEST_NATIVE_POOLLIB_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "backends/backend.h"
#include "backends/native/pool.h"
#include "core/config.h"
#include "runner/wire.h"

/* 0, or the exit code for main (77: skip, not root or not under ctest). A
 * config with one language ("probe": 64 MB, 16 pids, 16 MB work dir). */
int tp_init(void);
const struct cfg *tp_cfg(void);
const struct cfg_runner *tp_runner(void);
const char *tp_probe(void);        /* the probe, in the runner's place */
const char *tp_real_runner(void);  /* runlet-runner */
const char *tp_job_id(void);

/* A one-test plan whose run step is argv {mode}. */
void tp_plan_init(struct wire_plan *p, const char *mode);
int tp_run_plan(void *st, struct wire_plan *p, struct wire_result *res,
		char *err, size_t errlen);
/* Run mode; the test's out into out (may be NULL). */
void tp_run_mode(void *st, const char *mode, char *out, size_t outlen);
/* Run /bin/sh -c script (mem_kb 0: the default); the test's stdout into
 * out; returns its status (enum runlet_exit_kind). */
int tp_run_sh(void *st, const char *script, uint64_t mem_kb, char *out,
	      size_t outlen);
/* Open the backend with RUNLET_NATIVE_POOL=size. */
void *tp_open_pool(const char *size, const char *runner_path);
/* tp_open_pool, then two jobs of mode (a language's pool starts with its
 * second), then wait for n ready sandboxes. */
void *tp_open_warm(const char *size, const char *runner_path, const char *mode,
		   unsigned n);
/* Wait until the pool holds n ready sandboxes of the runner. */
void tp_wait_ready(void *st, unsigned n);
/* Alive and not a zombie. */
int tp_alive(pid_t pid);
/* How many of pids[0..n) are gone (exited, a zombie or reaped), waiting up
 * to 5 s for at least want of them: a used sandbox is SIGKILLed when its
 * job's result is in and reaped by the refill thread soon after. */
unsigned tp_gone(const pid_t *pids, size_t n, unsigned want);
/* The value after key up to the line's end, into out ("" when absent). */
const char *tp_field(const char *text, const char *key, char *out, size_t len);
/* No submission cgroup of this process or of the test's jobs is left. */
void tp_assert_no_cgroups(void);
/* How many processes hold needle in their command line. */
int tp_count_procs(const char *needle);

#endif
