/* broker: per-message attempt counts, in memory and on disk (see attempts.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "broker/attempts.h"

#define KEY_MAX 32
#define PRUNE_AGE_S (24 * 3600)

struct att_entry {
	struct att_entry *next;
	char key[KEY_MAX + 1];
	unsigned n;
};

struct mq_attempts {
	int dirfd; /* -1: memory only */
	struct att_entry *head;
};

static int key_ok(const char *key)
{
	size_t n = strlen(key);

	if (n == 0 || n > KEY_MAX)
		return 0;
	for (const char *p = key; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return 0;
	return 1;
}

static void prune(int dirfd)
{
	int fd = dup(dirfd);
	DIR *d;
	struct dirent *de;
	time_t now = time(NULL);

	if (fd < 0)
		return;
	d = fdopendir(fd);
	if (d == NULL) {
		close(fd);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		struct stat st;

		if (!key_ok(de->d_name))
			continue;
		if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISREG(st.st_mode) && now - st.st_mtime > PRUNE_AGE_S)
			unlinkat(dirfd, de->d_name, 0);
	}
	closedir(d);
}

static int mkdir_p(const char *dir)
{
	char buf[4096];
	size_t n = strlen(dir);

	if (n == 0 || n >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, dir, n + 1);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0700) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, 0700) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

int mq_attempts_open(const char *dir, struct mq_attempts **out, int *warned,
		     char *err, size_t errlen)
{
	struct mq_attempts *a = calloc(1, sizeof(*a));
	int rc;

	*warned = 0;
	if (a == NULL)
		return -ENOMEM;
	a->dirfd = -1;
	if (dir != NULL) {
		rc = mkdir_p(dir);
		if (rc == 0) {
			a->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			rc = a->dirfd < 0 ? -errno : 0;
		}
		if (rc == 0 && faccessat(a->dirfd, ".", W_OK, AT_EACCESS) < 0)
			rc = -errno;
		if (rc < 0) {
			snprintf(err, errlen,
				 "state directory %s: %s; attempt counts are kept "
				 "in memory only (set --state-dir or RUNLET_STATE_DIR "
				 "to a writable directory)", dir, strerror(-rc));
			if (a->dirfd >= 0)
				close(a->dirfd);
			a->dirfd = -1;
			*warned = 1;
		} else {
			prune(a->dirfd);
		}
	}
	*out = a;
	return 0;
}

void mq_attempts_close(struct mq_attempts *a)
{
	struct att_entry *e, *next;

	if (a == NULL)
		return;
	for (e = a->head; e != NULL; e = next) {
		next = e->next;
		free(e);
	}
	if (a->dirfd >= 0)
		close(a->dirfd);
	free(a);
}

static struct att_entry **find(struct mq_attempts *a, const char *key)
{
	struct att_entry **pp;

	for (pp = &a->head; *pp != NULL; pp = &(*pp)->next)
		if (strcmp((*pp)->key, key) == 0)
			return pp;
	return NULL;
}

static unsigned file_get(struct mq_attempts *a, const char *key)
{
	char buf[32];
	ssize_t n;
	int fd;

	if (a->dirfd < 0)
		return 0;
	fd = openat(a->dirfd, key, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	return (unsigned)strtoul(buf, NULL, 10);
}

static void file_set(struct mq_attempts *a, const char *key, unsigned n)
{
	char tmp[KEY_MAX + 16], buf[32];
	int fd, len;

	if (a->dirfd < 0)
		return;
	snprintf(tmp, sizeof(tmp), ".%s.%d", key, (int)getpid());
	fd = openat(a->dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
		    0600);
	if (fd < 0)
		return;
	len = snprintf(buf, sizeof(buf), "%u\n", n);
	if (write(fd, buf, (size_t)len) != len) {
		close(fd);
		unlinkat(a->dirfd, tmp, 0);
		return;
	}
	close(fd);
	/* atomic: a crash leaves the old count or the new one */
	if (renameat(a->dirfd, tmp, a->dirfd, key) < 0)
		unlinkat(a->dirfd, tmp, 0);
}

unsigned mq_attempts_get(struct mq_attempts *a, const char *key)
{
	struct att_entry **pp;
	unsigned mem = 0, disk;

	if (!key_ok(key))
		return 0;
	pp = find(a, key);
	if (pp != NULL)
		mem = (*pp)->n;
	disk = file_get(a, key);
	return mem > disk ? mem : disk;
}

void mq_attempts_set(struct mq_attempts *a, const char *key, unsigned n)
{
	struct att_entry **pp, *e;

	if (!key_ok(key))
		return;
	pp = find(a, key);
	if (pp != NULL) {
		(*pp)->n = n;
	} else {
		e = calloc(1, sizeof(*e));
		if (e != NULL) {
			snprintf(e->key, sizeof(e->key), "%s", key);
			e->n = n;
			e->next = a->head;
			a->head = e;
		}
	}
	file_set(a, key, n);
}

void mq_attempts_clear(struct mq_attempts *a, const char *key)
{
	struct att_entry **pp, *e;

	if (!key_ok(key))
		return;
	pp = find(a, key);
	if (pp != NULL) {
		e = *pp;
		*pp = e->next;
		free(e);
	}
	if (a->dirfd >= 0)
		unlinkat(a->dirfd, key, 0);
}
