/* Sending a compile's artifacts back to the trusted side (plan "emit"). */
#ifndef RUNLET_RUNNER_ARTIFACT_H
#define RUNLET_RUNNER_ARTIFACT_H

#include <stddef.h>

#include "runner/wire.h"

/* Add to o every regular file at the top of the cwd (the workdir) that is
 * not one of the plan's own files and whose name does not start with '.':
 * what the compile made. Never follows a symlink, never blocks on a FIFO;
 * at most WIRE_MAX_ARTIFACT bytes in all. 0, or -errno with err set (the
 * caller goes on: the compile just isn't cached). */
int art_collect(const struct wire_plan *p, struct wire_outcome *o, char *err,
		size_t errlen);

#endif
