/* One sandboxed run of runlet-runner: spawn the init with clone(), feed it
 * the plan, collect its stdout and stderr under a global deadline, reap it.
 * Theory of operation: see the top of sandbox.c.
 *
 * Ownership: struct sbx_run owns its buffers (sbx_run_free); args are
 * borrowed for the call.
 */
#ifndef RUNLET_SBX_SANDBOX_H
#define RUNLET_SBX_SANDBOX_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "child.h"
#include "runner/wire.h"

struct sbx_run {
	struct wire_buf out;  /* the runner's stdout, complete */
	char errtext[8192];   /* the first bytes of its stderr */
	size_t errlen;
	int status;           /* waitpid status of the init */
	int timed_out;        /* the deadline passed: the sandbox was killed */
	int overflow;         /* stdout passed out_max: the sandbox was killed */
	uint64_t setup_ms;    /* clone to exec of the runner */
	uint64_t total_ms;    /* clone to reaped */
};

struct sbx_spawn {
	struct sbx_child_args *child; /* fds are filled in by sbx_execute */
	int clone_flags;              /* CLONE_NEW* (0 in plain mode) */
	const char *plan;             /* encoded plan for the runner's stdin */
	size_t plan_len;
	uint64_t deadline_ms;         /* from clone to the end */
	size_t out_max;               /* most stdout accepted */
};

/* Run it. 0 when the runner ran (whatever it said; r->status tells how it
 * ended), or -errno with err set: a step of the init failed (named), or
 * clone/pipes failed. r is filled in either way; free with sbx_run_free. */
int sbx_execute(const struct sbx_spawn *sp, struct sbx_run *r, char *err,
		size_t errlen);
void sbx_run_free(struct sbx_run *r);

/* Monotonic clock in ms. */
uint64_t sbx_now_ms(void);

#endif
