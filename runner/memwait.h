/* Waiting for the tests' memory limit before the first test (docker).
 *
 * A docker container has one memory cgroup for the compile and the tests,
 * made with the compile's (larger) limit; runlet lowers it to the tests'
 * limit through the Engine API once it has the compile's outcome. The
 * runner reports the compile, then writes an "await" record and waits
 * here until its cgroup's limit is down (the container's
 * /sys/fs/cgroup, read-only, readable), so no test ever runs with the
 * compile's limit. When runlet cannot lower it (the compile left more in
 * memory than the tests may use) it kills the container, and the tests
 * are reported as out of memory.
 */
#ifndef RUNLET_RUNNER_MEMWAIT_H
#define RUNLET_RUNNER_MEMWAIT_H

#include <stddef.h>
#include <stdint.h>

/* How long the runner waits for the lowered limit. */
#define MW_TIMEOUT_MS 10000

/* Wait until the memory limit of the runner's cgroup (cgroup v2
 * memory.max or v1 memory.limit_in_bytes under /sys/fs/cgroup) is at most
 * bytes, checking every millisecond, for up to timeout_ms. 0 when it is
 * (or when no limit file can be read: nothing to wait for), -ETIMEDOUT
 * with err set. */
int mw_await_limit(uint64_t bytes, long timeout_ms, char *err, size_t errlen);

#endif
