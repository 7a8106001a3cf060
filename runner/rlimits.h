/* The resource limits of one step, computed once in the runner from the
 * plan's limits (a table, see rlimits.c) and applied in the child between
 * fork and exec (no allocation there). */
#ifndef RUNLET_RUNNER_RLIMITS_H
#define RUNLET_RUNNER_RLIMITS_H

#include <stddef.h>
#include <sys/resource.h>

#include "runner/wire.h"

#define RL_MAX 12

struct rl_entry {
	int resource;
	struct rlimit lim;
};

struct rl_set {
	struct rl_entry e[RL_MAX];
	size_t n;
};

/* Fill set from the step's limits. have_pids_cgroup: pids are limited by a
 * cgroup, so RLIMIT_NPROC is left alone. Values above the runner's current
 * hard limit are lowered to it (the runner may lack CAP_SYS_RESOURCE). */
void rl_prepare(const struct wire_limits *l, int have_pids_cgroup,
		struct rl_set *set);
/* Apply every entry; on failure returns -errno and the failing index. */
int rl_apply(const struct rl_set *set, size_t *failed);
/* "RLIMIT_CPU" etc. for messages. */
const char *rl_name(int resource);

#endif /* RUNLET_RUNNER_RLIMITS_H */
