/* Submission cgroups of the native sandbox (v1 and v2). See cgroup.h. */
#include "cgroup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int exists(const char *dir, const char *file)
{
	char p[SBX_PATH + 64];
	struct stat st;
	snprintf(p, sizeof(p), "%s/%s", dir, file);
	return stat(p, &st) == 0;
}

int sbx_cg_self_path(const char *self, const char *ctrl, char *out,
		     size_t outlen)
{
	const char *line = self;
	size_t clen = strlen(ctrl);
	while (line && *line) {
		const char *nl = strchr(line, '\n');
		const char *end = nl ? nl : line + strlen(line);
		const char *c1 = memchr(line, ':', (size_t)(end - line));
		const char *c2 = c1 ? memchr(c1 + 1, ':', (size_t)(end - c1 - 1))
				    : NULL;
		if (c2) {
			/* controller list between c1 and c2, comma separated */
			const char *p = c1 + 1;
			int match = clen == 0 && c2 == c1 + 1 && line[0] == '0';
			while (!match && clen && p < c2) {
				const char *comma = memchr(p, ',', (size_t)(c2 - p));
				const char *e = comma ? comma : c2;
				if ((size_t)(e - p) == clen &&
				    memcmp(p, ctrl, clen) == 0)
					match = 1;
				p = e + 1;
			}
			if (match) {
				size_t n = (size_t)(end - c2 - 1);
				if (n == 1 && c2[1] == '/')
					n = 0; /* the root: "" */
				if (n + 1 > outlen)
					return -ENAMETOOLONG;
				memcpy(out, c2 + 1, n);
				out[n] = '\0';
				return 0;
			}
		}
		line = nl ? nl + 1 : NULL;
	}
	return -ENOENT;
}

static int v1_base(const char *root, const char *self, const char *ctrl,
		   const char *probe, char *out)
{
	char dir[SBX_PATH], own[SBX_PATH];
	snprintf(dir, sizeof(dir), "%s/%s", root, ctrl);
	/* the hierarchy must be mounted and list the controller for us */
	if (!exists(dir, probe) ||
	    sbx_cg_self_path(self, ctrl, own, sizeof(own)) < 0)
		return -ENOENT;
	if ((size_t)snprintf(out, SBX_PATH, "%s%s/runlet", dir, own) >= SBX_PATH)
		return -ENAMETOOLONG;
	return 0;
}

static int v2_has(const char *root, const char *ctrl)
{
	char p[SBX_PATH + 32], buf[512];
	snprintf(p, sizeof(p), "%s/cgroup.controllers", root);
	FILE *f = fopen(p, "re");
	if (!f)
		return 0;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	for (char *t = strtok(buf, " \n"); t; t = strtok(NULL, " \n"))
		if (strcmp(t, ctrl) == 0)
			return 1;
	return 0;
}

int sbx_cg_detect(const char *root, const char *self,
		  struct sbx_cg_layout *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	if (exists(root, "cgroup.controllers")) {
		out->v2 = 1;
		const char *miss = !v2_has(root, "memory") ? "memory"
				   : !v2_has(root, "pids") ? "pids" : NULL;
		if (miss) {
			snprintf(err, errlen,
				 "%s cgroup controller not available in cgroup v2 "
				 "at %s (enable it: echo +%s > %s/cgroup.subtree_control, "
				 "or boot with it enabled)", miss, root, miss, root);
			return -ENOENT;
		}
		snprintf(out->mem, SBX_PATH, "%s/runlet", root);
		if (v2_has(root, "cpu"))
			snprintf(out->cpu, SBX_PATH, "%s", out->mem);
		out->memsw = 1; /* memory.swap.max is probed per cgroup */
		return 0;
	}
	if (v1_base(root, self, "memory", "memory.limit_in_bytes", out->mem) < 0) {
		snprintf(err, errlen,
			 "memory cgroup controller not available (mount the "
			 "cgroup v1 memory controller at %s/memory or enable "
			 "+memory in cgroup v2)", root);
		return -ENOENT;
	}
	if (v1_base(root, self, "pids", "cgroup.procs", out->pids) < 0) {
		snprintf(err, errlen,
			 "pids cgroup controller not available (mount the "
			 "cgroup v1 pids controller at %s/pids or enable +pids "
			 "in cgroup v2)", root);
		return -ENOENT;
	}
	if (v1_base(root, self, "cpu", "cpu.shares", out->cpu) < 0)
		out->cpu[0] = '\0';
	char d[SBX_PATH];
	snprintf(d, sizeof(d), "%s/memory", root);
	out->memsw = exists(d, "memory.memsw.limit_in_bytes");
	return 0;
}

/* write a whole small value into dir/file */
static int put(const char *dir, const char *file, const char *val)
{
	char p[SBX_PATH + 64];
	snprintf(p, sizeof(p), "%s/%s", dir, file);
	int fd = open(p, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	ssize_t n;
	/* a v1 memory limit write fails with EINTR when a signal (a
	 * child's SIGCHLD) is pending; it is safe to repeat */
	while ((n = write(fd, val, strlen(val))) < 0 && errno == EINTR)
		;
	int rc = n < 0 ? -errno : 0;
	close(fd);
	return rc;
}

static int put_u64(const char *dir, const char *file, uint64_t v)
{
	char num[32];
	snprintf(num, sizeof(num), "%llu", (unsigned long long)v);
	return put(dir, file, num);
}

static int mkdir_p1(const char *path)
{
	if (mkdir(path, 0755) == 0 || errno == EEXIST)
		return 0;
	return -errno;
}

static int join(char *out, const char *base, const char *name)
{
	if ((size_t)snprintf(out, SBX_PATH, "%s/%s", base, name) >= SBX_PATH)
		return -ENAMETOOLONG;
	return 0;
}

/* v2: make sure base's parent and base delegate memory, pids (and cpu). */
static int v2_delegate(const char *dir, int cpu)
{
	int rc = put(dir, "cgroup.subtree_control", "+memory +pids");
	if (rc == 0 && cpu)
		(void)put(dir, "cgroup.subtree_control", "+cpu");
	return rc;
}

static int create_v2(const struct sbx_cg_layout *lay, const char *name,
		     const struct sbx_cg_limits *lim, struct sbx_cg *cg,
		     char *err, size_t errlen)
{
	char parent[SBX_PATH];
	int rc, cpu = lay->cpu[0] != '\0';
	snprintf(parent, sizeof(parent), "%s", lay->mem);
	char *slash = strrchr(parent, '/');
	if (slash)
		*slash = '\0';
	if ((rc = v2_delegate(parent, cpu)) < 0 || (rc = mkdir_p1(lay->mem)) < 0 ||
	    (rc = v2_delegate(lay->mem, cpu)) < 0) {
		snprintf(err, errlen, "cgroup v2: cannot delegate memory/pids "
			 "to %s: %s", lay->mem, strerror(-rc));
		return rc;
	}
	if ((rc = join(cg->mem, lay->mem, name)) < 0 ||
	    (rc = join(cg->runner, cg->mem, "runner")) < 0)
		goto fail;
	if (mkdir(cg->mem, 0755) < 0) {
		rc = -errno;
		goto fail;
	}
	cg->made_mem = 1;
	if ((rc = put_u64(cg->mem, "memory.max", lim->mem_bytes)) < 0 ||
	    (rc = put_u64(cg->mem, "pids.max", lim->pids)) < 0)
		goto fail;
	if (exists(cg->mem, "memory.swap.max") &&
	    (rc = put(cg->mem, "memory.swap.max", "0")) < 0)
		goto fail;
	if ((rc = v2_delegate(cg->mem, cpu)) < 0)
		goto fail;
	if (mkdir(cg->runner, 0755) < 0) {
		rc = -errno;
		goto fail;
	}
	return 0;
fail:
	snprintf(err, errlen, "cgroup v2: cannot set up %s: %s", cg->mem,
		 strerror(-rc));
	sbx_cg_destroy(cg, 100);
	return rc;
}

static int create_v1(const struct sbx_cg_layout *lay, const char *name,
		     const struct sbx_cg_limits *lim, struct sbx_cg *cg,
		     char *err, size_t errlen)
{
	const char *what = lay->mem;
	int rc;
	if ((rc = mkdir_p1(lay->mem)) < 0 ||
	    (what = lay->pids, rc = mkdir_p1(lay->pids)) < 0 ||
	    (lay->cpu[0] && (what = lay->cpu, rc = mkdir_p1(lay->cpu)) < 0))
		goto fail;
	what = cg->mem;
	if ((rc = join(cg->mem, lay->mem, name)) < 0 ||
	    (rc = join(cg->pids, lay->pids, name)) < 0 ||
	    (lay->cpu[0] && (rc = join(cg->cpu, lay->cpu, name)) < 0))
		goto fail;
	if (mkdir(cg->mem, 0755) < 0) {
		rc = -errno;
		goto fail;
	}
	cg->made_mem = 1;
	if ((rc = put_u64(cg->mem, "memory.limit_in_bytes", lim->mem_bytes)) < 0)
		goto fail;
	if (lay->memsw &&
	    (rc = put_u64(cg->mem, "memory.memsw.limit_in_bytes",
			  lim->mem_bytes)) < 0)
		goto fail;
	(void)put(cg->mem, "memory.swappiness", "0");
	what = cg->pids;
	if (mkdir(cg->pids, 0755) < 0) {
		rc = -errno;
		goto fail;
	}
	cg->made_pids = 1;
	if ((rc = put_u64(cg->pids, "pids.max", lim->pids)) < 0)
		goto fail;
	if (cg->cpu[0]) {
		what = cg->cpu;
		if (mkdir(cg->cpu, 0755) < 0) {
			rc = -errno;
			goto fail;
		}
		cg->made_cpu = 1;
	}
	return 0;
fail:
	snprintf(err, errlen, "cgroup v1: cannot set up %s: %s", what,
		 strerror(-rc));
	sbx_cg_destroy(cg, 100);
	return rc;
}

int sbx_cg_create(const struct sbx_cg_layout *lay, const char *name,
		  const struct sbx_cg_limits *lim, struct sbx_cg *cg,
		  char *err, size_t errlen)
{
	memset(cg, 0, sizeof(*cg));
	cg->v2 = lay->v2;
	if (!name[0] || strchr(name, '/') || name[0] == '.') {
		snprintf(err, errlen, "cgroup name \"%s\" is not a plain name",
			 name);
		return -EINVAL;
	}
	return lay->v2 ? create_v2(lay, name, lim, cg, err, errlen)
		       : create_v1(lay, name, lim, cg, err, errlen);
}

size_t sbx_cg_join_files(const struct sbx_cg *cg, char files[3][SBX_CGFILE])
{
	size_t n = 0;
	if (cg->v2) {
		snprintf(files[n++], SBX_CGFILE, "%s/cgroup.procs", cg->runner);
		return n;
	}
	snprintf(files[n++], SBX_CGFILE, "%s/cgroup.procs", cg->mem);
	snprintf(files[n++], SBX_CGFILE, "%s/cgroup.procs", cg->pids);
	if (cg->cpu[0])
		snprintf(files[n++], SBX_CGFILE, "%s/cgroup.procs", cg->cpu);
	return n;
}

/* Kill the processes listed in dirfd's cgroup.procs; count them. */
static int kill_procs(int dirfd, int do_kill)
{
	int fd = openat(dirfd, "cgroup.procs", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return 0;
	char buf[4096];
	int count = 0;
	size_t have = 0;
	ssize_t n;
	while ((n = read(fd, buf + have, sizeof(buf) - 1 - have)) > 0) {
		have += (size_t)n;
		buf[have] = '\0';
		char *p = buf, *nl;
		while ((nl = strchr(p, '\n'))) {
			*nl = '\0';
			long pid = strtol(p, NULL, 10);
			if (pid > 1) {
				count++;
				if (do_kill)
					kill((pid_t)pid, SIGKILL);
			}
			p = nl + 1;
		}
		have = strlen(p);
		memmove(buf, p, have);
	}
	close(fd);
	return count;
}

/* Post-order walk of one cgroup dir: kill (when asked), count, and remove
 * the child dirs. Returns the number of processes seen. */
static int walk(int dirfd, int do_kill, int do_rmdir, int depth)
{
	int count = kill_procs(dirfd, do_kill);
	if (depth > 16)
		return count;
	int dfd = dup(dirfd);
	if (dfd < 0)
		return count;
	DIR *d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return count;
	}
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_type != DT_DIR || strcmp(e->d_name, ".") == 0 ||
		    strcmp(e->d_name, "..") == 0)
			continue;
		int cfd = openat(dirfd, e->d_name,
				 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (cfd < 0)
			continue;
		count += walk(cfd, do_kill, do_rmdir, depth + 1);
		close(cfd);
		if (do_rmdir)
			(void)unlinkat(dirfd, e->d_name, AT_REMOVEDIR);
	}
	closedir(d);
	return count;
}

static int tree(const char *path, int do_kill, int do_rmdir)
{
	if (!path[0])
		return 0;
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	int n = walk(fd, do_kill, do_rmdir, 0);
	close(fd);
	return n;
}

int sbx_cg_nprocs(const struct sbx_cg *cg)
{
	int n = 0, r;
	if ((r = tree(cg->mem, 0, 0)) > 0)
		n += r;
	if (!cg->v2) {
		if ((r = tree(cg->pids, 0, 0)) > 0)
			n += r;
		if ((r = tree(cg->cpu, 0, 0)) > 0)
			n += r;
	}
	return n;
}

static void nap(unsigned ms)
{
	struct timespec ts = {0, (long)ms * 1000000L};
	nanosleep(&ts, NULL);
}

static int remove_one(const char *path, int *made, unsigned timeout_ms)
{
	if (!*made || !path[0])
		return 0;
	for (unsigned waited = 0;; waited += 5) {
		int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd >= 0) {
			if (exists(path, "cgroup.kill"))
				(void)put(path, "cgroup.kill", "1");
			walk(fd, 1, 1, 0);
			close(fd);
		}
		if (rmdir(path) == 0 || errno == ENOENT) {
			*made = 0;
			return 0;
		}
		if (errno != EBUSY || waited >= timeout_ms)
			return -errno;
		nap(5);
	}
}

int sbx_cg_destroy(struct sbx_cg *cg, unsigned timeout_ms)
{
	int rc = 0, r;
	if ((r = remove_one(cg->mem, &cg->made_mem, timeout_ms)) < 0)
		rc = r;
	if ((r = remove_one(cg->pids, &cg->made_pids, timeout_ms)) < 0)
		rc = r;
	if ((r = remove_one(cg->cpu, &cg->made_cpu, timeout_ms)) < 0)
		rc = r;
	return rc;
}

uint64_t sbx_cg_peak(const struct sbx_cg *cg)
{
	char p[SBX_PATH + 64], buf[32];
	snprintf(p, sizeof(p), "%s/%s", cg->mem,
		 cg->v2 ? "memory.peak" : "memory.max_usage_in_bytes");
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	return strtoull(buf, NULL, 10);
}

/* Remove base/<pid>-... dirs whose runlet process is gone. */
static int sweep_base(const char *base)
{
	int n = 0;
	if (!base[0])
		return 0;
	int bfd = open(base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (bfd < 0)
		return 0;
	DIR *d = fdopendir(dup(bfd));
	struct dirent *e;
	while (d && (e = readdir(d))) {
		char *end;
		long pid = strtol(e->d_name, &end, 10);
		if (e->d_type != DT_DIR || end == e->d_name || *end != '-' ||
		    pid <= 0 || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		int cfd = openat(bfd, e->d_name,
				 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (cfd < 0)
			continue;
		int procs = walk(cfd, 0, 1, 0);
		close(cfd);
		/* the kernel refuses to remove a cgroup that still has tasks */
		if (procs == 0 && unlinkat(bfd, e->d_name, AT_REMOVEDIR) == 0)
			n++;
	}
	if (d)
		closedir(d);
	close(bfd);
	return n;
}

int sbx_cg_sweep(const struct sbx_cg_layout *lay)
{
	return sweep_base(lay->mem) + sweep_base(lay->pids) + sweep_base(lay->cpu);
}
