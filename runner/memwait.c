/* Waiting for the tests' memory limit (see memwait.h). */
#include "memwait.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "runner/util.h"

static const char *const limit_files[] = {
	"/sys/fs/cgroup/memory.max",                   /* v2, own namespace */
	"/sys/fs/cgroup/memory/memory.limit_in_bytes", /* v1 */
};

/* The limit in *out (UINT64_MAX for "max"); -1 when fd cannot be read. */
static int read_limit(int fd, uint64_t *out)
{
	char buf[64];
	if (ut_pread_small(fd, buf, sizeof(buf)) <= 0)
		return -1;
	if (strncmp(buf, "max", 3) == 0) {
		*out = UINT64_MAX;
		return 0;
	}
	return ut_find_u64(buf, NULL, out) < 0 ? -1 : 0;
}

int mw_await_limit(uint64_t bytes, long timeout_ms, char *err, size_t errlen)
{
	int fd = -1;
	uint64_t cur = 0;
	for (size_t i = 0; i < sizeof(limit_files) / sizeof(limit_files[0]); i++) {
		fd = open(limit_files[i], O_RDONLY | O_CLOEXEC);
		if (fd >= 0 && read_limit(fd, &cur) == 0)
			break;
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	if (fd < 0)
		return 0;
	int64_t end = ut_now_ns() + (int64_t)timeout_ms * 1000000;
	const struct timespec tick = {0, 1000000};
	while (cur > bytes) {
		if (ut_now_ns() >= end) {
			close(fd);
			snprintf(err, errlen,
				 "the tests' memory limit (%llu bytes) was not applied "
				 "within %ld ms (the limit is %llu)",
				 (unsigned long long)bytes, timeout_ms,
				 (unsigned long long)cur);
			return -ETIMEDOUT;
		}
		nanosleep(&tick, NULL);
		if (read_limit(fd, &cur) < 0)
			break;
	}
	close(fd);
	return 0;
}
