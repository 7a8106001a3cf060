/* Sending a compile's artifacts back to the trusted side (see artifact.h). */
#include "runner/artifact.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int is_plan_file(const struct wire_plan *p, const char *name)
{
	for (size_t i = 0; i < p->nfiles; i++)
		if (strcmp(p->files[i].path, name) == 0)
			return 1;
	return 0;
}

/* Read one regular file of at most max bytes; 1 read, 0 skipped. */
static int read_one(int dfd, const char *name, size_t max, char **buf,
		    size_t *len, unsigned *mode)
{
	struct stat st;
	int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	size_t n = 0;
	if (fd < 0)
		return 0;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return 0;
	}
	if ((unsigned long long)st.st_size > max) {
		close(fd);
		return -EFBIG;
	}
	char *b = malloc((size_t)st.st_size + 1);
	if (!b) {
		close(fd);
		return -ENOMEM;
	}
	while (n < (size_t)st.st_size) {
		ssize_t r = read(fd, b + n, (size_t)st.st_size - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	*buf = b;
	*len = n;
	*mode = st.st_mode & 0777;
	return 1;
}

int art_collect(const struct wire_plan *p, struct wire_outcome *o, char *err,
		size_t errlen)
{
	int dfd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc = 0;
	size_t total = 0;
	DIR *d;
	struct dirent *de;

	if (dfd < 0) {
		rc = -errno;
		snprintf(err, errlen, "emit: %s", strerror(errno));
		return rc;
	}
	d = fdopendir(dup(dfd));
	if (!d) {
		rc = -errno;
		close(dfd);
		snprintf(err, errlen, "emit: %s", strerror(-rc));
		return rc;
	}
	rewinddir(d);
	while ((de = readdir(d))) {
		char *buf = NULL;
		size_t len = 0;
		unsigned mode = 0;
		if (de->d_name[0] == '.' || is_plan_file(p, de->d_name))
			continue;
		rc = read_one(dfd, de->d_name, WIRE_MAX_ARTIFACT - total, &buf,
			      &len, &mode);
		if (rc == 0)
			continue;
		if (rc > 0) {
			rc = wire_artifact_add(o, de->d_name, mode, buf, len);
			total += len;
			free(buf);
		}
		if (rc < 0) {
			snprintf(err, errlen, "emit %s: %s", de->d_name,
				 rc == -EFBIG ? "artifacts too large to send back"
					      : strerror(-rc));
			break;
		}
		rc = 0;
	}
	closedir(d);
	close(dfd);
	if (rc < 0)
		wire_artifacts_clear(o);
	return rc;
}
