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
	int status;           /* waitpid status of the init (0 if ended) */
	int ended;            /* collection stopped at the end record: the
			       * init was SIGKILLed, not reaped */
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
	int stop_at_end;              /* sbx_finish: stop at the result's end
				       * record and leave the reaping to the
				       * caller (see sbx_finish) */
	int end_nice;                 /* with stop_at_end: the nice value the
				       * init's exit runs at */
};

/* How much lower background work runs than runlet (nice steps): a pool's
 * refill thread, a pooled sandbox's exit. */
#define SBX_BACKGROUND_NICE 10

/* nice + SBX_BACKGROUND_NICE, at most 19. */
int sbx_background_nice(int nice);

/* A started sandbox: the init has exec'd the runner, which waits for its
 * plan on in_w. The trusted side's ends, close-on-exec. */
struct sbx_proc {
	pid_t pid;         /* the init; -1 once reaped */
	int in_w;          /* the plan goes here */
	int out_r, err_r;  /* the runner's stdout and stderr */
	uint64_t setup_ms; /* clone to exec of the runner */
};

/* Empty (pid and fds -1). */
void sbx_proc_init(struct sbx_proc *p);

/* clone() the init and wait until it exec'd the runner (sp->plan is not
 * used). 0 with *p filled in, or -errno with err set (a setup step failed,
 * named; *status is the reaped init's waitpid status). */
int sbx_start(const struct sbx_spawn *sp, struct sbx_proc *p, int *status,
	      char *err, size_t errlen);

/* Feed sp->plan to a started sandbox, collect its output under
 * sp->deadline_ms (counted from now), reap it. Consumes *p: afterwards its
 * fds are -1, so the same sandbox can never be fed twice, and so is its pid,
 * except when sp->stop_at_end is set and the runner's end record arrived
 * (r->ended): the init is SIGKILLed then, at sp->end_nice, but not
 * waited for, and p->pid stays for the caller to reap (sbx_proc_kill), off
 * the job's path. r must be zeroed. */
void sbx_finish(struct sbx_proc *p, const struct sbx_spawn *sp,
		struct sbx_run *r);

/* Close the trusted side's fds (each -1 afterwards). */
void sbx_proc_close_fds(struct sbx_proc *p);

/* SIGKILL and reap the init (if not reaped yet) and close the fds. */
void sbx_proc_kill(struct sbx_proc *p);

/* 1 when the init has ended (it is reaped then and pid is -1), 0 while it
 * is alive. */
int sbx_proc_gone(struct sbx_proc *p);

/* sbx_start then sbx_finish. 0 when the runner ran (whatever it said;
 * r->status tells how it ended), or -errno with err set: a step of the init failed (named), or
 * clone/pipes failed. r is filled in either way; free with sbx_run_free. */
int sbx_execute(const struct sbx_spawn *sp, struct sbx_run *r, char *err,
		size_t errlen);
void sbx_run_free(struct sbx_run *r);

/* Monotonic clock in ms. */
uint64_t sbx_now_ms(void);

#endif
