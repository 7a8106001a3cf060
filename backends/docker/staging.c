/* backends/docker: host staging directories (see staging.h). */
#include "backends/docker/staging.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backends/docker/spec.h"
#include "backends/docker/sweep.h"

int dock_staging_root(const char *root, char *err, size_t errlen)
{
	struct stat st;
	if (mkdir(root, 0700) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "docker staging root %s: cannot create it: %s",
			 root, strerror(errno));
		return -errno;
	}
	if (lstat(root, &st) < 0) {
		snprintf(err, errlen, "docker staging root %s: %s", root,
			 strerror(errno));
		return -errno;
	}
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & 0022)) {
		snprintf(err, errlen,
			 "docker staging root %s must be a directory owned by uid %d and "
			 "writable by nobody else (not a symlink): fix it or remove it",
			 root, (int)geteuid());
		return -EPERM;
	}
	return 0;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int dock_staging_create(const char *root, unsigned long seq,
			const void *plan, size_t len, char *dir, size_t dirlen,
			char *err, size_t errlen)
{
	char name[96];
	unsigned long long st = 0;
	int rfd = -1, dfd = -1, fd = -1, rc = 0;
	int as_root = geteuid() == 0;

	dock_proc_starttime((long)getpid(), &st);
	snprintf(name, sizeof(name), "%ld.%llu.%lu", (long)getpid(), st, seq);
	if (snprintf(dir, dirlen, "%s/%s", root, name) >= (int)dirlen) {
		snprintf(err, errlen, "docker staging path too long under %s", root);
		return -ENAMETOOLONG;
	}
	rfd = open(root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (rfd < 0 || mkdirat(rfd, name, 0700) < 0) {
		rc = -errno;
		snprintf(err, errlen, "docker staging: cannot create %s: %s", dir,
			 strerror(errno));
		goto out;
	}
	dfd = openat(rfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		goto fail;
	fd = openat(dfd, "plan", O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		    0400);
	if (fd < 0 || (rc = write_all(fd, plan, len)) < 0)
		goto fail;
	if (as_root) {
		if (fchown(fd, DOCK_SANDBOX_UID, DOCK_SANDBOX_UID) < 0 ||
		    fchown(dfd, DOCK_SANDBOX_UID, DOCK_SANDBOX_UID) < 0)
			goto fail;
		if (fchmod(dfd, 0500) < 0)
			goto fail;
	} else if (fchmod(fd, 0444) < 0 || fchmod(dfd, 0755) < 0) {
		goto fail;
	}
	goto out;
fail:
	rc = rc < 0 ? rc : -errno;
	snprintf(err, errlen, "docker staging: writing %s/plan: %s", dir,
		 strerror(-rc));
	if (dfd >= 0) {
		close(dfd);
		dfd = -1;
	}
	dock_rmtree_at(rfd, name);
out:
	if (fd >= 0)
		close(fd);
	if (dfd >= 0)
		close(dfd);
	if (rfd >= 0)
		close(rfd);
	return rc;
}

int dock_rmtree_at(int dirfd, const char *name)
{
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOTDIR || errno == ELOOP)
			return unlinkat(dirfd, name, 0) < 0 ? -errno : 0;
		return errno == ENOENT ? 0 : -errno;
	}
	/* a dir we made 0500: make it writable to empty it */
	fchmod(fd, 0700);
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -errno;
	}
	struct dirent *e;
	int rc = 0;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		struct stat st;
		if (fstatat(fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		int r = S_ISDIR(st.st_mode) ? dock_rmtree_at(fd, e->d_name)
					    : (unlinkat(fd, e->d_name, 0) < 0 ? -errno : 0);
		if (r < 0 && rc == 0)
			rc = r;
	}
	closedir(d);
	if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT && rc == 0)
		rc = -errno;
	return rc;
}

int dock_staging_remove(const char *root, const char *dir)
{
	const char *leaf = strrchr(dir, '/');
	leaf = leaf ? leaf + 1 : dir;
	if (!*leaf || !strcmp(leaf, ".") || !strcmp(leaf, ".."))
		return -EINVAL;
	int rfd = open(root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (rfd < 0)
		return errno == ENOENT ? 0 : -errno;
	int rc = dock_rmtree_at(rfd, leaf);
	close(rfd);
	return rc;
}

int dock_staging_sweep(const char *root)
{
	int rfd = open(root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	int removed = 0;
	if (rfd < 0)
		return errno == ENOENT ? 0 : -errno;
	int dfd = dup(rfd);
	DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
	if (!d) {
		if (dfd >= 0)
			close(dfd);
		close(rfd);
		return -ENOMEM;
	}
	struct dirent *e;
	while ((e = readdir(d))) {
		long pid;
		unsigned long long st, now;
		unsigned long seq;
		char extra;
		if (sscanf(e->d_name, "%ld.%llu.%lu%c", &pid, &st, &seq, &extra) != 3)
			continue;
		if (dock_proc_starttime(pid, &now) == 0 && now == st)
			continue; /* its runlet still runs */
		if (dock_rmtree_at(rfd, e->d_name) == 0)
			removed++;
	}
	closedir(d);
	close(rfd);
	return removed;
}
