/* OOM kills in the runner's own memory cgroup (docker).
 *
 * On the native backend every step gets a cgroup of its own and the runner
 * reads its OOM count there (cgroup.c). In a docker container the steps
 * share the container's memory cgroup, visible read-only at /sys/fs/cgroup;
 * when the plan asks (oomwatch), the runner reads that cgroup's oom_kill
 * count before and after each step, so a step SIGKILLed by the OOM killer
 * is reported as out of memory by the runner itself, and runlet need not
 * ask the engine how the container ended.
 */
#ifndef RUNLET_RUNNER_OOMWATCH_H
#define RUNLET_RUNNER_OOMWATCH_H

#include <stdint.h>

/* The open counter file (v2 memory.events or v1 memory.oom_control, with
 * an oom_kill line), close-on-exec; -1 when there is none to read. */
int ow_open(void);

/* The cgroup's OOM kills so far: 0, or -1 when fd cannot be read. */
int ow_count(int fd, uint64_t *n);

#endif
