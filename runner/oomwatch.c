/* OOM kills in the runner's own memory cgroup (see oomwatch.h). */
#include "oomwatch.h"

#include <fcntl.h>
#include <unistd.h>

#include "runner/util.h"

static const char *const count_files[] = {
	"/sys/fs/cgroup/memory.events",             /* v2, own namespace */
	"/sys/fs/cgroup/memory/memory.oom_control", /* v1 (kernel 4.13+) */
};

int ow_count(int fd, uint64_t *n)
{
	char buf[512];
	if (ut_pread_small(fd, buf, sizeof(buf)) <= 0)
		return -1;
	return ut_find_u64(buf, "oom_kill", n) < 0 ? -1 : 0;
}

int ow_open(void)
{
	uint64_t n;
	for (size_t i = 0; i < sizeof(count_files) / sizeof(count_files[0]); i++) {
		int fd = open(count_files[i], O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (ow_count(fd, &n) == 0)
			return fd;
		close(fd);
	}
	return -1;
}
