/* backends/docker: per-job staging directories on the host (the "bind"
 * staging mode): <root>/<pid>.<starttime>.<seq>/plan, bind-mounted
 * read-only into that job's container only.
 *
 * The root is created 0700; a job dir is created 0700 and, when runlet is
 * root, given to the sandbox uid (else made 0755: the root's 0700 keeps
 * other host users out). Removal never follows symlinks (openat/unlinkat
 * with O_NOFOLLOW). Ownership: paths are caller buffers. */
#ifndef RUNLET_DOCK_STAGING_H
#define RUNLET_DOCK_STAGING_H

#include <stddef.h>

/* Create (or check) the staging root: a real directory, not a symlink,
 * owned by us, not writable by others. */
int dock_staging_root(const char *root, char *err, size_t errlen);

/* Make <root>/<name>/ and write plan bytes to <root>/<name>/plan. name is
 * chosen here from pid, start time and seq; dir gets the full path. */
int dock_staging_create(const char *root, unsigned long seq,
			const void *plan, size_t len, char *dir, size_t dirlen,
			char *err, size_t errlen);

/* Remove <root>/<leaf of dir> and everything in it, not following
 * symlinks. 0 or -errno. */
int dock_staging_remove(const char *root, const char *dir);

/* Remove every job dir under root whose owning process is gone. Returns
 * the number removed, or -errno. */
int dock_staging_sweep(const char *root);

/* Remove a tree under dirfd by name without following symlinks. */
int dock_rmtree_at(int dirfd, const char *name);

#endif /* RUNLET_DOCK_STAGING_H */
