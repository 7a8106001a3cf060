/* Sending a compiled artifact back to the trusted side (plan "emit"). */
#ifndef RUNLET_RUNNER_ARTIFACT_H
#define RUNLET_RUNNER_ARTIFACT_H

#include <stddef.h>

#include "runner/wire.h"

/* Read the regular file rel (relative to the cwd, the workdir; one path
 * component or a plain relative path, never following a symlink, never
 * blocking on a FIFO) into o->artifact. 0, or -errno with err set; a missing
 * or odd file is not fatal for the caller (the compile just isn't cached). */
int art_read(const char *rel, struct wire_outcome *o, char *err, size_t errlen);

#endif
