/* fd-based recursive removal. See rmtree.h. */
#include "rmtree.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_DEPTH 256

static int contents(int dirfd, int depth);

static int remove_entry(int dirfd, const char *name, int depth)
{
	struct stat st;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISDIR(st.st_mode))
		return unlinkat(dirfd, name, 0) < 0 && errno != ENOENT ? -errno : 0;
	if (depth >= MAX_DEPTH)
		return -ELOOP;
	int fd = openat(dirfd, name,
			O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == EACCES) {
		/* a dir the program made unreadable: it is still a dir (checked
		 * without following above; O_NOFOLLOW below again) */
		if (fchmodat(dirfd, name, 0700, 0) == 0)
			fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY |
						  O_NOFOLLOW | O_CLOEXEC);
	}
	if (fd < 0)
		return -errno;
	int rc = contents(fd, depth + 1);
	close(fd);
	if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT && rc == 0)
		rc = -errno;
	return rc;
}

static int contents(int dirfd, int depth)
{
	int dfd = dup(dirfd);
	if (dfd < 0)
		return -errno;
	DIR *d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return -errno;
	}
	int rc = 0;
	for (int pass = 0; pass < 8; pass++) {
		struct dirent *e;
		int removed = 0;
		rewinddir(d);
		while ((e = readdir(d))) {
			if (strcmp(e->d_name, ".") == 0 ||
			    strcmp(e->d_name, "..") == 0)
				continue;
			int r = remove_entry(dirfd, e->d_name, depth);
			if (r < 0 && rc == 0)
				rc = r;
			if (r == 0)
				removed++;
		}
		if (removed == 0 || rc < 0)
			break;
	}
	closedir(d);
	return rc;
}

int sbx_rmtree_contents(int dirfd)
{
	return contents(dirfd, 0);
}

int sbx_rmtree_at(int dirfd, const char *name)
{
	return remove_entry(dirfd, name, 0);
}
