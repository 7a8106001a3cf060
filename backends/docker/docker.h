/* backends/docker: the docker backend's internal interface (for its tests).
 *
 * Theory of operation. open() connects to the engine (API version from GET
 * /version), sweeps what a crashed runlet left (containers and volumes
 * labelled runlet=1 whose owner is gone, staging dirs), and keeps the
 * endpoint. Each execute() call, from any thread, makes its own client
 * (one curl easy handle) and runs one container:
 *
 *   ensure the runner image (built on demand, once, under a lock)
 *   encode the plan -> stage it: PUT archive into the container's own
 *     anonymous volume (default), or a 0700 host dir bind-mounted read-only
 *   create (hardened, see spec.h) -> attach (stdout+stderr, multiplexed)
 *   start -> read the stream until the engine closes it or the deadline
 *     (compile + tests wall limits + margin) passes: then kill
 *   wait -> inspect (OOMKilled) -> decode (collect.h)
 *   remove the container (force, with its volume) and the staging: always
 *
 * The runner is PID 1 of the container (no --init), as uid 1001.
 *
 * With docker.pool_size > 0 a job first takes a warm container of its
 * language (warm.h): started ahead, its runner waiting for the plan on an
 * attached stdin; it is updated to the job's memory and pids, handed the
 * plan, read as above and removed. None ready: the path above.
 */
#ifndef RUNLET_DOCK_DOCKER_H
#define RUNLET_DOCK_DOCKER_H

#include "backends/backend.h"

#endif /* RUNLET_DOCK_DOCKER_H */
