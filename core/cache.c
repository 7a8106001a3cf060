/* The compile cache: sha256-keyed artifacts on disk, LRU-bounded. */
#include "core/cache.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define ENTRY_VERSION "2"

struct cache {
	int dirfd;          /* owned */
	uint64_t max_bytes;
	uint64_t bytes;     /* accounted size of the entries */
	int scanned;        /* bytes is known (scanned on the first store) */
	unsigned long seq;  /* for temporary names */
	pthread_mutex_t lock;
};

static int is_key(const char *name)
{
	size_t n = 0;
	for (; name[n]; n++)
		if (!((name[n] >= '0' && name[n] <= '9') ||
		      (name[n] >= 'a' && name[n] <= 'f')))
			return 0;
	return n == CACHE_KEY_HEX - 1;
}

static uint64_t scan_size(int dirfd)
{
	uint64_t total = 0;
	int fd = dup(dirfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	rewinddir(d); /* the dup shares the directory offset */
	while ((de = readdir(d))) {
		struct stat st;
		if (!is_key(de->d_name))
			continue;
		if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISREG(st.st_mode))
			total += (uint64_t)st.st_size;
	}
	closedir(d);
	return total;
}

static int mkdir_p(const char *dir)
{
	char tmp[4096];
	if (snprintf(tmp, sizeof(tmp), "%s", dir) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(tmp, 0700) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

int cache_open(const char *dir, uint64_t max_bytes, struct cache **out,
	       char *err, size_t errlen)
{
	struct stat st;
	struct cache *c;
	int rc = mkdir_p(dir), fd;

	if (rc < 0) {
		snprintf(err, errlen, "compile cache %s: %s", dir, strerror(-rc));
		return rc;
	}
	if (lstat(dir, &st) == 0 && S_ISLNK(st.st_mode)) {
		snprintf(err, errlen,
			 "compile cache %s: a symlink (point compile_cache.dir at a real directory)",
			 dir);
		return -ELOOP;
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "compile cache %s: %s%s", dir,
			 strerror(errno),
			 errno == ELOOP ? " (a symlink: point compile_cache.dir at a real directory)" : "");
		return rc;
	}
	if (fstat(fd, &st) < 0 || st.st_uid != geteuid() ||
	    (st.st_mode & (S_IWGRP | S_IWOTH))) {
		snprintf(err, errlen,
			 "compile cache %s: must be owned by uid %u and not writable by group or others",
			 dir, (unsigned)geteuid());
		close(fd);
		return -EPERM;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return -ENOMEM;
	}
	c->dirfd = fd;
	c->max_bytes = max_bytes;
	/* the size is scanned on the first store, not here: a one-shot
	 * `runlet run` that only reads should not stat every entry */
	pthread_mutex_init(&c->lock, NULL);
	*out = c;
	return 0;
}

void cache_close(struct cache *c)
{
	if (!c)
		return;
	close(c->dirfd);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

uint64_t cache_size(struct cache *c)
{
	pthread_mutex_lock(&c->lock);
	if (!c->scanned) {
		c->bytes = scan_size(c->dirfd);
		c->scanned = 1;
	}
	uint64_t b = c->bytes;
	pthread_mutex_unlock(&c->lock);
	return b;
}

/* ---- key ---- */

static int hash_field(EVP_MD_CTX *md, const char *tag, const void *data,
		      size_t len)
{
	uint64_t l = len;
	return EVP_DigestUpdate(md, tag, strlen(tag) + 1) == 1 &&
			       EVP_DigestUpdate(md, &l, sizeof(l)) == 1 &&
			       (len == 0 || EVP_DigestUpdate(md, data, len) == 1)
		       ? 0
		       : -EIO;
}

/* The compiler binary's identity: device, inode, size and mtime of
 * argv[0] as found on the compile step's PATH (native backend; in an image
 * the image name stands for it). */
static int hash_compiler(EVP_MD_CTX *md, const struct wire_step *s)
{
	const char *cmd = s->argc ? s->argv[0] : "";
	const char *path = "/usr/local/bin:/usr/bin:/bin";
	char cand[4096];
	struct stat st;

	for (size_t i = 0; i < s->envc; i++)
		if (strncmp(s->envp[i], "PATH=", 5) == 0)
			path = s->envp[i] + 5;
	if (strchr(cmd, '/')) {
		snprintf(cand, sizeof(cand), "%s", cmd);
		if (stat(cand, &st) == 0)
			goto found;
		return hash_field(md, "compiler", "", 0);
	}
	for (const char *p = path; *p;) {
		const char *e = strchr(p, ':');
		size_t dl = e ? (size_t)(e - p) : strlen(p);
		if (dl && dl + strlen(cmd) + 2 < sizeof(cand)) {
			memcpy(cand, p, dl);
			cand[dl] = '/';
			strcpy(cand + dl + 1, cmd);
			if (stat(cand, &st) == 0)
				goto found;
		}
		if (!e)
			break;
		p = e + 1;
	}
	return hash_field(md, "compiler", "", 0);
found:;
	uint64_t id[5] = {(uint64_t)st.st_dev, (uint64_t)st.st_ino,
			  (uint64_t)st.st_size, (uint64_t)st.st_mtim.tv_sec,
			  (uint64_t)st.st_mtim.tv_nsec};
	return hash_field(md, "compiler", id, sizeof(id));
}

int cache_key(const struct wire_plan *plan, const char *const *ident,
	      size_t nident, char hex[CACHE_KEY_HEX])
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char dig[EVP_MAX_MD_SIZE];
	unsigned int dl = 0;
	int rc = -EIO;

	if (!md)
		return -ENOMEM;
	if (EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1)
		goto out;
	rc = hash_field(md, "runlet-compile-cache", ENTRY_VERSION, 1);
	for (size_t i = 0; rc == 0 && i < nident; i++)
		rc = hash_field(md, "ident", ident[i] ? ident[i] : "",
				ident[i] ? strlen(ident[i]) : 0);
	for (size_t i = 0; rc == 0 && i < plan->compile.argc; i++)
		rc = hash_field(md, "arg", plan->compile.argv[i],
				strlen(plan->compile.argv[i]));
	for (size_t i = 0; rc == 0 && i < plan->compile.envc; i++)
		rc = hash_field(md, "env", plan->compile.envp[i],
				strlen(plan->compile.envp[i]));
	for (size_t i = 0; rc == 0 && i < plan->nfiles; i++) {
		rc = hash_field(md, "file", plan->files[i].path,
				strlen(plan->files[i].path));
		if (rc == 0)
			rc = hash_field(md, "data", plan->files[i].data,
					plan->files[i].len);
	}
	if (rc == 0)
		rc = hash_field(md, "workdir", plan->workdir,
				strlen(plan->workdir));
	if (rc == 0)
		rc = hash_compiler(md, &plan->compile);
	if (rc == 0 && EVP_DigestFinal_ex(md, dig, &dl) != 1)
		rc = -EIO;
	if (rc == 0) {
		for (unsigned int i = 0; i < dl && i < 32; i++)
			snprintf(hex + 2 * i, 3, "%02x", dig[i]);
		hex[64] = '\0';
	}
out:
	EVP_MD_CTX_free(md);
	return rc;
}

/* ---- entries: a runner result stream holding the compile outcome ---- */

static int read_fd(int fd, char **buf, size_t *len, size_t max)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > max)
		return -EINVAL;
	char *b = malloc((size_t)st.st_size + 1);
	size_t n = 0;
	if (!b)
		return -ENOMEM;
	while (n < (size_t)st.st_size) {
		ssize_t r = read(fd, b + n, (size_t)st.st_size - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			free(b);
			return r < 0 ? -errno : -EIO;
		}
		n += (size_t)r;
	}
	*buf = b;
	*len = n;
	return 0;
}

static int parse_entry(const char *buf, size_t len, struct wire_outcome *o)
{
	struct wire_result r;
	char why[256];
	int rc = wire_result_decode(buf, len, &r, why, sizeof(why));
	if (rc == 0 && (!r.complete || !r.has_compile || r.ntests ||
			!r.compile.nartifacts))
		rc = -EPROTO;
	/* an empty executable is a damaged entry, never a compiler's output */
	for (size_t i = 0; rc == 0 && i < r.compile.nartifacts; i++)
		if (r.compile.artifacts[i].len == 0 &&
		    (r.compile.artifacts[i].mode & 0111))
			rc = -EPROTO;
	if (rc == 0) {
		*o = r.compile;
		memset(&r.compile, 0, sizeof(r.compile));
	}
	wire_result_free(&r);
	return rc;
}

int cache_get(struct cache *c, const char *hex, struct wire_outcome *o)
{
	char *buf = NULL;
	size_t len = 0;
	int fd, rc;

	memset(o, 0, sizeof(*o));
	if (!is_key(hex))
		return -EINVAL;
	fd = openat(c->dirfd, hex, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	rc = read_fd(fd, &buf, &len, (size_t)WIRE_MAX_ARTIFACT * 2);
	if (rc == 0) {
		rc = parse_entry(buf, len, o);
		/* recently used: the mtime orders eviction */
		if (rc == 0)
			(void)futimens(fd, NULL);
	}
	close(fd);
	free(buf);
	if (rc < 0) {
		struct stat st;
		wire_outcome_free(o);
		pthread_mutex_lock(&c->lock);
		if (fstatat(c->dirfd, hex, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    unlinkat(c->dirfd, hex, 0) == 0 && S_ISREG(st.st_mode))
			c->bytes -= c->bytes >= (uint64_t)st.st_size
					    ? (uint64_t)st.st_size
					    : c->bytes;
		pthread_mutex_unlock(&c->lock);
		return rc;
	}
	return 1;
}

struct lru_item {
	char name[CACHE_KEY_HEX];
	struct timespec mtime;
	uint64_t size;
};

static int cmp_mtime(const void *a, const void *b)
{
	const struct lru_item *x = a, *y = b;
	if (x->mtime.tv_sec != y->mtime.tv_sec)
		return x->mtime.tv_sec < y->mtime.tv_sec ? -1 : 1;
	if (x->mtime.tv_nsec != y->mtime.tv_nsec)
		return x->mtime.tv_nsec < y->mtime.tv_nsec ? -1 : 1;
	return 0;
}

/* Called with the lock held: remove the oldest entries until the cache is
 * within 90% of its bound. */
static void evict(struct cache *c, const char *keep)
{
	struct lru_item *items = NULL;
	size_t n = 0, cap = 0;
	int fd = dup(c->dirfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;
	uint64_t total = 0, goal = c->max_bytes - c->max_bytes / 10;

	if (!d) {
		if (fd >= 0)
			close(fd);
		return;
	}
	rewinddir(d); /* the dup shares the directory offset */
	while ((de = readdir(d))) {
		struct stat st;
		if (!is_key(de->d_name) ||
		    fstatat(c->dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		total += (uint64_t)st.st_size;
		if (strcmp(de->d_name, keep) == 0)
			continue;
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 64;
			struct lru_item *ni = realloc(items, nc * sizeof(*ni));
			if (!ni)
				break;
			items = ni;
			cap = nc;
		}
		memcpy(items[n].name, de->d_name, CACHE_KEY_HEX); /* is_key: 64 + NUL */
		items[n].mtime = st.st_mtim;
		items[n].size = (uint64_t)st.st_size;
		n++;
	}
	closedir(d);
	qsort(items, n, sizeof(*items), cmp_mtime);
	for (size_t i = 0; i < n && total > goal; i++)
		if (unlinkat(c->dirfd, items[i].name, 0) == 0)
			total -= items[i].size;
	c->bytes = total;
	free(items);
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -errno;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int cache_put(struct cache *c, const char *hex, const struct wire_outcome *o)
{
	struct wire_buf b = {0};
	char tmp[96];
	int fd, rc;

	if (!is_key(hex) || !o->is_compile || !o->nartifacts)
		return -EINVAL;
	for (size_t i = 0; i < o->nartifacts; i++)
		if (o->artifacts[i].len == 0 && (o->artifacts[i].mode & 0111))
			return -EINVAL;
	if (wire_put_str(&b, "result", WIRE_VERSION) < 0 ||
	    wire_outcome_encode(o, &b) < 0 || wire_put_str(&b, "end", "") < 0) {
		wire_buf_free(&b);
		return -ENOMEM;
	}
	if (b.len > c->max_bytes) {
		wire_buf_free(&b);
		return -EFBIG;
	}
	pthread_mutex_lock(&c->lock);
	snprintf(tmp, sizeof(tmp), ".tmp-%ld-%lu", (long)getpid(), c->seq++);
	pthread_mutex_unlock(&c->lock);
	fd = openat(c->dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		    0600);
	if (fd < 0) {
		rc = -errno;
		wire_buf_free(&b);
		return rc;
	}
	rc = write_all(fd, b.data, b.len);
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	struct stat old;
	int replaced = rc == 0 &&
		       fstatat(c->dirfd, hex, &old, AT_SYMLINK_NOFOLLOW) == 0 &&
		       S_ISREG(old.st_mode);
	if (rc == 0 && renameat(c->dirfd, tmp, c->dirfd, hex) < 0)
		rc = -errno;
	if (rc < 0) {
		unlinkat(c->dirfd, tmp, 0);
		wire_buf_free(&b);
		return rc;
	}
	pthread_mutex_lock(&c->lock);
	if (!c->scanned) {
		c->bytes = scan_size(c->dirfd); /* includes the new entry */
		c->scanned = 1;
		replaced = 0;
		c->bytes -= c->bytes >= b.len ? b.len : c->bytes;
	}
	if (replaced)
		c->bytes -= c->bytes >= (uint64_t)old.st_size ? (uint64_t)old.st_size
							      : c->bytes;
	c->bytes += b.len;
	if (c->bytes > c->max_bytes)
		evict(c, hex);
	pthread_mutex_unlock(&c->lock);
	wire_buf_free(&b);
	return 0;
}
