/* Parallel tests (plan.parallel = n > 1): after the compile and the seal,
 * the runner forks up to n worker processes and hands out test indices;
 * each worker runs its tests one at a time with the sequential machinery
 * (exec.c: own limits and process group per test; worker k's tests share
 * the step cgroup "w<k + 1>" one after another, cgroup.h) and
 * sends every encoded outcome back; the runner writes them to stdout in
 * plan order, each as soon as it and all earlier ones are done.
 *
 *   runner ──fork──> worker k (child subreaper, not PID 1)
 *     ├─ task pipe   ──> worker: one uint32 test index per task; EOF: exit
 *     └─ result pipe <── worker: frames {kind, index, len} + bytes, kind
 *                        'o' (an encoded outcome) or 'e' (runner error)
 *
 * Test inputs reach the workers through a shared read-only mapping made
 * before the fork, which each worker excludes from its own children
 * (MADV_DONTFORK), so no test inherits them. A worker kills only what
 * descends from it (its process groups, cgroups and re-parented orphans);
 * kill(-1) stays with the runner as PID 1, after every worker has exited.
 * A worker that dies (e.g. OOM-killed) turns its test into a SETUP outcome
 * with a note; the runner kills that test's processes (re-parented to it),
 * removes its cgroup and starts a new worker for the tests that are left
 * (at most one restart per test, as each follows a death during a test).
 * Outcomes waiting for an earlier one are kept in blobs (blob.h), so a
 * restarted worker's tests inherit none of them.
 * A worker that hits a runner error ('e') stops the run like the
 * sequential runner would: outcomes before that test, then the error. */
#ifndef RUNLET_RUNNER_PAR_H
#define RUNLET_RUNNER_PAR_H

#include <stddef.h>
#include <stdint.h>

#include "runner/exec.h"
#include "runner/plan_load.h"
#include "runner/report.h"
#include "runner/wire.h"

#define PAR_MAX_WORKERS 256u

/* The frame header a worker sends before kind's bytes. */
struct par_frame {
	uint32_t kind;  /* 'o' or 'e' */
	uint32_t index; /* test index in the plan */
	uint64_t len;   /* bytes that follow */
};

/* What a worker needs. All borrowed from the runner. */
struct par_work {
	struct ex_env *env;
	const struct ex_step *st;
	const struct wire_plan *plan;
	const char *inputs;        /* shared mapping: every input */
	size_t inputs_len;
	const size_t *off;         /* test i's input at inputs + off[i] */
};

/* Run every test of plan with up to n workers, writing outcomes to out in
 * plan order. 0 when every test has an outcome; -errno with err (an error
 * record follows) when the runner could not go on. env and the plan are
 * borrowed. */
int par_run(struct ex_env *env, const struct ex_step *st,
	    const struct wire_plan *plan, const struct pl_inputs *in,
	    unsigned n, struct rp_out *out, char *err, size_t errlen);

/* The life of worker k (par_worker.c): take indices from task_fd, run
 * them, send frames on result_fd, _exit when task_fd ends. Closes the fds
 * in close_fds[0..nclose) first (the runner's ends of other workers). */
_Noreturn void par_worker(const struct par_work *w, unsigned k, int task_fd,
			  int result_fd, const int *close_fds, size_t nclose);

#endif /* RUNLET_RUNNER_PAR_H */
