/* Writing the plan's files into its workdir (see files.h). */
#include "runner/files.h"

#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runner/util.h"

int fl_path_ok(const char *path)
{
	if (!path || !*path || path[0] == '/')
		return 0;
	const char *p = path;
	for (;;) {
		const char *end = strchr(p, '/');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		if (n == 0 || (n == 1 && p[0] == '.') ||
		    (n == 2 && p[0] == '.' && p[1] == '.'))
			return 0;
		if (!end)
			return 1;
		p = end + 1;
	}
}

static int give(int fd, int chown_ids, uid_t uid, gid_t gid)
{
	if (!chown_ids)
		return 0;
	return fchown(fd, uid, gid) < 0 ? -errno : 0;
}

/* mkdir -p of the absolute workdir (each missing level 0755). */
static int make_workdir(const char *dir)
{
	char buf[4096];
	size_t n = strlen(dir);
	if (n >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, dir, n + 1);
	for (size_t i = 1; i <= n; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		char c = buf[i];
		buf[i] = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return -errno;
		buf[i] = c;
	}
	return 0;
}

static int write_one(int wd, const struct wire_file *f, int chown_ids,
		     uid_t uid, gid_t gid, char *err, size_t errlen)
{
	char rel[4096];
	int dfd = -1, fd = -1, rc = 0;
	size_t n = strlen(f->path);
	const char *what = "open";
	if (n >= sizeof(rel)) {
		snprintf(err, errlen, "plan file path too long: %.64s...", f->path);
		return -ENAMETOOLONG;
	}
	memcpy(rel, f->path, n + 1);
	dfd = dup(wd);
	if (dfd < 0) {
		rc = -errno;
		goto out;
	}
	/* walk the directories, creating them, never following a symlink */
	char *comp = rel;
	for (char *slash; (slash = strchr(comp, '/')); comp = slash + 1) {
		*slash = '\0';
		what = "mkdir";
		int made = mkdirat(dfd, comp, 0755) == 0;
		if (!made && errno != EEXIST) {
			rc = -errno;
			goto out;
		}
		what = "open directory";
		int next = openat(dfd, comp,
				  O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0) {
			rc = -errno;
			goto out;
		}
		close(dfd);
		dfd = next;
		what = "chown directory";
		if (made && (rc = give(dfd, chown_ids, uid, gid)) < 0)
			goto out;
	}
	what = "create";
	fd = openat(dfd, comp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		    0600);
	if (fd < 0) {
		rc = -errno;
		goto out;
	}
	what = "chown";
	if ((rc = give(fd, chown_ids, uid, gid)) < 0)
		goto out;
	what = "write";
	if ((rc = ut_write_all(fd, f->data, f->len)) < 0)
		goto out;
	what = "chmod";
	if (fchmod(fd, f->mode & 0777) < 0) {
		rc = -errno;
		goto out;
	}
	what = "close";
	rc = close(fd) < 0 ? -errno : 0;
	fd = -1;
out:
	if (rc < 0)
		snprintf(err, errlen, "cannot write plan file %s (%s): %s", f->path,
			 what, strerror(-rc));
	if (fd >= 0)
		close(fd);
	if (dfd >= 0)
		close(dfd);
	return rc;
}

int fl_setup(const struct wire_plan *p, int chown_ids, uid_t uid, gid_t gid,
	     char *err, size_t errlen)
{
	int wd = -1, rc;
	if (!p->workdir || p->workdir[0] != '/') {
		snprintf(err, errlen, "plan workdir \"%s\" is not an absolute path",
			 p->workdir ? p->workdir : "");
		return -EINVAL;
	}
	for (size_t i = 0; i < p->nfiles; i++) {
		if (!fl_path_ok(p->files[i].path)) {
			snprintf(err, errlen,
				 "plan file path \"%s\" is not allowed: it must be "
				 "relative, without \".\" or \"..\" components",
				 p->files[i].path);
			return -EINVAL;
		}
	}
	if ((rc = make_workdir(p->workdir)) < 0) {
		snprintf(err, errlen, "cannot create workdir %s: %s", p->workdir,
			 strerror(-rc));
		return rc;
	}
	wd = open(p->workdir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (wd < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot open workdir %s: %s", p->workdir,
			 strerror(-rc));
		return rc;
	}
	struct stat sb;
	if (chown_ids && uid != (uid_t)-1 && fstat(wd, &sb) == 0 &&
	    sb.st_uid == 0 && fchown(wd, uid, gid) < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot give workdir %s to uid %d: %s",
			 p->workdir, (int)uid, strerror(-rc));
		goto out;
	}
	for (size_t i = 0; i < p->nfiles; i++)
		if ((rc = write_one(wd, &p->files[i], chown_ids, uid, gid, err,
				    errlen)) < 0)
			goto out;
	if (fchdir(wd) < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot enter workdir %s: %s", p->workdir,
			 strerror(-rc));
		goto out;
	}
	rc = 0;
out:
	close(wd);
	return rc;
}

int fl_seal(char *err, size_t errlen)
{
	int wd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc = 0;
	DIR *d;
	struct dirent *de;

	if (wd < 0) {
		rc = -errno;
		snprintf(err, errlen, "seal workdir: %s", strerror(errno));
		return rc;
	}
	d = fdopendir(dup(wd));
	if (!d) {
		rc = -errno;
		close(wd);
		snprintf(err, errlen, "seal workdir: %s", strerror(-rc));
		return rc;
	}
	rewinddir(d);
	while ((de = readdir(d))) {
		struct stat st;
		if (de->d_name[0] == '.' &&
		    (de->d_name[1] == '\0' ||
		     (de->d_name[1] == '.' && de->d_name[2] == '\0')))
			continue;
		int fd = openat(wd, de->d_name,
				O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0)
			continue; /* a symlink, a socket...: not ours to seal */
		if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
		    (fchown(fd, 0, 0) < 0 ||
		     fchmod(fd, (st.st_mode & 0755) | 0444) < 0)) {
			rc = -errno;
			snprintf(err, errlen, "seal %s: %s", de->d_name,
				 strerror(errno));
		}
		close(fd);
		if (rc < 0)
			break;
	}
	closedir(d);
	if (rc == 0 && (fchown(wd, 0, 0) < 0 || fchmod(wd, 01777) < 0)) {
		rc = -errno;
		snprintf(err, errlen, "seal workdir: %s", strerror(errno));
	}
	close(wd);
	return rc;
}
