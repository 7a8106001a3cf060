/* Waiting for the tests' memory limit (see memwait.h). */
#include "memwait.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *const limit_files[] = {
	"/sys/fs/cgroup/memory.max",                   /* v2, own namespace */
	"/sys/fs/cgroup/memory/memory.limit_in_bytes", /* v1 */
};

/* The limit in *out (UINT64_MAX for "max"); -1 when fd cannot be read. */
static int read_limit(int fd, uint64_t *out)
{
	char buf[64];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	if (strncmp(buf, "max", 3) == 0) {
		*out = UINT64_MAX;
		return 0;
	}
	char *end;
	errno = 0;
	unsigned long long v = strtoull(buf, &end, 10);
	if (errno || end == buf)
		return -1;
	*out = v;
	return 0;
}

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
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
	long end = now_ms() + timeout_ms;
	const struct timespec tick = {0, 1000000};
	while (cur > bytes) {
		if (now_ms() >= end) {
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
