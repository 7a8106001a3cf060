/* Sending a compiled artifact back to the trusted side (see artifact.h). */
#include "runner/artifact.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runner/files.h"

int art_read(const char *rel, struct wire_outcome *o, char *err, size_t errlen)
{
	struct stat st;
	char *buf = NULL;
	size_t n = 0;
	int fd, rc = 0;

	if (!fl_path_ok(rel)) {
		snprintf(err, errlen, "emit: bad path \"%s\"", rel);
		return -EINVAL;
	}
	fd = open(rel, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "emit %s: %s", rel, strerror(errno));
		return rc;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    (unsigned long long)st.st_size > WIRE_MAX_ARTIFACT) {
		snprintf(err, errlen, "emit %s: not a regular file of at most %u MB",
			 rel, WIRE_MAX_ARTIFACT >> 20);
		close(fd);
		return -EINVAL;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	while (n < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + n, (size_t)st.st_size - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			rc = r < 0 ? -errno : -EIO;
			snprintf(err, errlen, "emit %s: short read", rel);
			break;
		}
		n += (size_t)r;
	}
	close(fd);
	if (rc < 0) {
		free(buf);
		return rc;
	}
	o->artifact = buf;
	o->artifact_len = n;
	return 0;
}
