/* mmap-backed growable buffers excluded from fork (see blob.h). */
#include "runner/blob.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static size_t page_round(size_t n)
{
	size_t pg = 4096;
	return (n + pg - 1) & ~(pg - 1);
}

int blob_reserve(struct blob *b, size_t extra)
{
	if (extra <= b->cap - b->len)
		return 0;
	if (extra > ((size_t)1 << 40) - b->len)
		return -ENOMEM;
	size_t want = b->cap ? b->cap : 65536;
	while (want < b->len + extra)
		want *= 2;
	want = page_round(want);
	void *p;
	if (b->p)
		p = mremap(b->p, b->cap, want, MREMAP_MAYMOVE);
	else
		p = mmap(NULL, want, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -ENOMEM;
	/* VM_DONTCOPY survives mremap, but a fresh mapping needs it. */
	if (!b->p && madvise(p, want, MADV_DONTFORK) < 0) {
		int e = errno;
		munmap(p, want);
		return -e;
	}
	b->p = p;
	b->cap = want;
	return 0;
}

int blob_append(struct blob *b, const void *data, size_t len)
{
	int rc = blob_reserve(b, len);
	if (rc < 0)
		return rc;
	if (len)
		memcpy(b->p + b->len, data, len);
	b->len += len;
	return 0;
}

void blob_reset(struct blob *b, size_t keep)
{
	b->len = 0;
	if (b->cap > keep)
		blob_free(b);
}

void blob_free(struct blob *b)
{
	if (b->p)
		munmap(b->p, b->cap);
	b->p = NULL;
	b->len = b->cap = 0;
}
