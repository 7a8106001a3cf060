/* Small helpers of the runner: monotonic time, full writes, and reading or
 * writing the short text files of /proc and cgroupfs. None allocates. */
#ifndef RUNLET_RUNNER_UTIL_H
#define RUNLET_RUNNER_UTIL_H

#include <stddef.h>
#include <stdint.h>

int64_t ut_now_ns(void);
/* write every byte, retrying EINTR/short writes. 0 or -errno. */
int ut_write_all(int fd, const void *p, size_t len);
/* Read a whole small file (at dirfd/name, dirfd may be AT_FDCWD) into buf
 * (NUL-terminated, truncated to cap-1). Returns bytes read or -errno. */
long ut_read_small(int dirfd, const char *name, char *buf, size_t cap);
/* pread from offset 0 of an open fd into buf, NUL-terminated. */
long ut_pread_small(int fd, char *buf, size_t cap);
/* Open dirfd/name write-only and write s (O_TRUNC). 0 or -errno. */
int ut_write_file(int dirfd, const char *name, const char *s);
/* First decimal number after "key " in a "key value" per line text, or
 * -ENOENT. Key NULL: the first number of the text. */
int ut_find_u64(const char *text, const char *key, uint64_t *out);

#endif /* RUNLET_RUNNER_UTIL_H */
