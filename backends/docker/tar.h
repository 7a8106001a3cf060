/* backends/docker: tar archives built in memory with libarchive (build
 * contexts, the plan put into a container).
 * Ownership: a dock_tar owns its archive handle and output buffer until
 * dock_tar_finish moves the bytes to the caller. */
#ifndef RUNLET_DOCK_TAR_H
#define RUNLET_DOCK_TAR_H

#include <stddef.h>
#include <stdint.h>

#include "runner/wire.h"

struct dock_tar;

int dock_tar_new(struct dock_tar **out);
/* A regular file (path relative, no leading "/"), owned by uid/gid. */
int dock_tar_add_file(struct dock_tar *t, const char *path, uint32_t mode,
		      int64_t uid, int64_t gid, const void *data, size_t len);
int dock_tar_add_dir(struct dock_tar *t, const char *path, uint32_t mode,
		     int64_t uid, int64_t gid);
/* Close the archive; the bytes move to *out (caller frees with
 * wire_buf_free). t is freed whatever the result. */
int dock_tar_finish(struct dock_tar *t, struct wire_buf *out);
void dock_tar_free(struct dock_tar *t);

#endif /* RUNLET_DOCK_TAR_H */
