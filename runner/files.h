/* The plan's working directory and files: created safely (no "..", no
 * absolute paths, no following symlinks, no overwriting), owned by the
 * plan's uid/gid when the runner is root, and made the current directory. */
#ifndef RUNLET_RUNNER_FILES_H
#define RUNLET_RUNNER_FILES_H

#include <stddef.h>
#include <sys/types.h>

#include "runner/wire.h"

/* Is path an acceptable relative file path (non-empty components, no "."
 * or "..", not absolute)? */
int fl_path_ok(const char *path);

/* Open (creating if missing) the plan's workdir, hand it to uid when it is
 * root's, write every file, chdir into it. chown: the runner is root and
 * the plan sets ids; uid/gid (-1: keep). 0 or -errno with a message. */
int fl_setup(const struct wire_plan *p, int chown_ids, uid_t uid, gid_t gid,
	     char *err, size_t errlen);

/* Before the tests run (after the compile): make the workdir root's with
 * mode 1777 and every regular file at its top level root's, readable, without
 * group or other write, so the program (another uid) can create files of its own but
 * can neither change nor delete its source and binary. Only for a root
 * runner that drops ids. Symlinks and non-regular files are left alone and
 * never followed. 0 or -errno with a message. */
int fl_seal(char *err, size_t errlen);

#endif /* RUNLET_RUNNER_FILES_H */
