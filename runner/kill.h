/* Nothing outlives a step: after each step the runner kills the step's
 * process group, its cgroup, and whatever else descends from the runner,
 * and reaps it all.
 *
 * The runner is a child subreaper (kl_init), so orphans of a step (a
 * double-forked setsid daemon) are re-parented to it, not to init: it finds
 * them in /proc/thread-self/children. When the runner is PID 1 of its own
 * pid namespace it also sends kill(-1, SIGKILL), which reaches every other
 * process of the namespace. kill(-1) is never used otherwise: outside its
 * own namespace it would kill the machine's processes. */
#ifndef RUNLET_RUNNER_KILL_H
#define RUNLET_RUNNER_KILL_H

#include <stddef.h>
#include <sys/types.h>

#include "runner/cgroup.h"

/* Become a child subreaper. 0 or -errno. */
int kl_init(void);
/* One SIGKILL to the process group pgid (led by the step's process, which
 * must not be reaped yet: then neither its pid nor its group can have been
 * reused) and to the step cgroup (cg may be NULL). Used at a limit and when
 * the step's process exits. */
void kl_step_group(pid_t pgid, struct cg_step *cg);
/* After the step's process was reaped: kill and reap everything left in
 * the cgroup, the runner's re-parented orphans and, as PID 1 (is_pid1),
 * the whole namespace. */
void kl_leftovers(struct cg_step *cg, int is_pid1);

/* Parallel tests, after a worker died: kill and reap the caller's children
 * (the dead worker's re-parented tests and their orphans), generation after
 * generation, except the pids in keep (the live workers). */
void kl_orphans_except(const pid_t *keep, size_t nkeep);

#endif /* RUNLET_RUNNER_KILL_H */
