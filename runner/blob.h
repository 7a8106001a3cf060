/* Large byte buffers the runner keeps out of its children: test inputs and
 * captured output live in mmap'ed regions marked MADV_DONTFORK, so a forked
 * child does not inherit (and ru_maxrss does not count) the runner's data.
 *
 * A blob owns its mapping; blob_free releases it. The memory is never visible
 * in a child process: only the runner may touch it. */
#ifndef RUNLET_RUNNER_BLOB_H
#define RUNLET_RUNNER_BLOB_H

#include <stddef.h>

struct blob {
	char *p;    /* owned mapping or NULL */
	size_t len; /* bytes in use */
	size_t cap; /* bytes mapped */
};

/* Make room for at least extra more bytes past len. 0 or -ENOMEM. */
int blob_reserve(struct blob *b, size_t extra);
int blob_append(struct blob *b, const void *data, size_t len);
/* Forget the contents; a mapping larger than keep bytes is released. */
void blob_reset(struct blob *b, size_t keep);
void blob_free(struct blob *b);

#endif /* RUNLET_RUNNER_BLOB_H */
