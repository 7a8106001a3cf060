/* Per-step cgroups, v1 and v2 (see cgroup.h). */
#include "runner/cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "runner/util.h"

#define CG_DRAIN_NS (3ll * 1000000000) /* how long to wait for a cgroup to empty */

int cg_enabled(const struct cg_conf *conf)
{
	return conf && (conf->mem || conf->pids || conf->cpu);
}

static const char *v2_base(const struct cg_conf *conf)
{
	return conf->mem ? conf->mem : conf->pids ? conf->pids : conf->cpu;
}

void cg_conf_probe(struct cg_conf *conf)
{
	char path[PATH_MAX], buf[1024];
	conf->v2_pids = 0;
	if (!conf->v2 || !cg_enabled(conf))
		return;
	if (conf->pids) {
		conf->v2_pids = 1;
		return;
	}
	snprintf(path, sizeof(path), "%s/cgroup.subtree_control", v2_base(conf));
	if (ut_read_small(AT_FDCWD, path, buf, sizeof(buf)) < 0)
		return;
	char *save = NULL;
	for (char *w = strtok_r(buf, " \n", &save); w;
	     w = strtok_r(NULL, " \n", &save))
		if (strcmp(w, "pids") == 0)
			conf->v2_pids = 1;
}

int cg_limits_pids(const struct cg_conf *conf)
{
	return conf->pids != NULL || (conf->v2 && conf->v2_pids);
}

static void pause_briefly(void)
{
	struct timespec ts = {0, 500000}; /* 0.5 ms */
	nanosleep(&ts, NULL);
}

/* Call fn for every pid in dirfd's cgroup.procs. Returns how many there
 * were, or -errno. */
static long for_each_proc(int dirfd, void (*fn)(pid_t pid))
{
	int fd = openat(dirfd, "cgroup.procs", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	char buf[4096];
	long count = 0;
	pid_t cur = 0;
	int in_num = 0;
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] >= '0' && buf[i] <= '9') {
				cur = cur * 10 + (buf[i] - '0');
				in_num = 1;
			} else if (in_num) {
				if (fn && cur > 0)
					fn(cur);
				count++;
				cur = 0;
				in_num = 0;
			}
		}
	}
	if (in_num) {
		if (fn && cur > 0)
			fn(cur);
		count++;
	}
	close(fd);
	return count;
}

static void kill_pid(pid_t pid)
{
	kill(pid, SIGKILL);
}

static void dir_close(struct cg_dir *d)
{
	if (d->procs_fd >= 0)
		close(d->procs_fd);
	if (d->dirfd >= 0)
		close(d->dirfd);
	d->procs_fd = d->dirfd = -1;
}

/* Kill everything in the directory and wait until it is empty. */
static int dir_drain(int v2, int dirfd)
{
	int64_t until = ut_now_ns() + CG_DRAIN_NS;
	int used_kill = 0;
	for (;;) {
		if (v2 && !used_kill && ut_write_file(dirfd, "cgroup.kill", "1") == 0)
			used_kill = 1;
		long n = for_each_proc(dirfd, used_kill ? NULL : kill_pid);
		if (n <= 0)
			return n < 0 ? (int)n : 0;
		if (ut_now_ns() > until)
			return -EBUSY;
		used_kill = 0; /* something is still there: kill again */
		pause_briefly();
	}
}

static int dir_remove(const char *path)
{
	int64_t until = ut_now_ns() + CG_DRAIN_NS;
	while (rmdir(path) < 0) {
		if (errno == ENOENT)
			return 0;
		if (errno != EBUSY || ut_now_ns() > until)
			return -errno;
		pause_briefly();
	}
	return 0;
}

/* Create path; a leftover empty cgroup of that name is removed first. */
static int dir_make(struct cg_dir *d, char *err, size_t errlen)
{
	if (mkdir(d->path, 0755) < 0) {
		int e = errno;
		if (e != EEXIST || rmdir(d->path) < 0 || mkdir(d->path, 0755) < 0) {
			if (e == EEXIST)
				snprintf(err, errlen,
					 "cgroup %s already exists and is in use: "
					 "give each sandbox its own cgroup directory",
					 d->path);
			else
				snprintf(err, errlen,
					 "cannot create cgroup %s: %s (the plan's "
					 "cgroup directory must be writable by the runner)",
					 d->path, strerror(e));
			return -e;
		}
	}
	d->dirfd = open(d->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (d->dirfd < 0)
		goto fail;
	d->procs_fd = openat(d->dirfd, "cgroup.procs", O_WRONLY | O_CLOEXEC);
	if (d->procs_fd < 0)
		goto fail;
	return 0;
fail:;
	int e = errno;
	snprintf(err, errlen, "cannot open cgroup %s: %s", d->path, strerror(e));
	dir_close(d);
	rmdir(d->path);
	return -e;
}

/* Index of a directory for base/name, adding it when new. */
static int dir_index(struct cg_step *cg, const char *base, const char *name,
		     char *err, size_t errlen)
{
	char path[PATH_MAX];
	int n = snprintf(path, sizeof(path), "%s/%s", base, name);
	if (n < 0 || (size_t)n >= sizeof(path)) {
		snprintf(err, errlen, "cgroup path too long: %s", base);
		return -ENAMETOOLONG;
	}
	for (int i = 0; i < cg->ndirs; i++)
		if (strcmp(cg->d[i].path, path) == 0)
			return i;
	struct cg_dir *d = &cg->d[cg->ndirs];
	memcpy(d->path, path, (size_t)n + 1);
	int rc = dir_make(d, err, errlen);
	if (rc < 0)
		return rc;
	return cg->ndirs++;
}

static int set_file(struct cg_step *cg, int i, const char *file,
		    uint64_t value, int optional, char *err, size_t errlen)
{
	char num[32];
	snprintf(num, sizeof(num), "%llu", (unsigned long long)value);
	int rc = ut_write_file(cg->d[i].dirfd, file, num);
	if (rc == -ENOENT && optional)
		return 0;
	if (rc == -ENOENT && cg->v2)
		snprintf(err, errlen,
			 "cgroup %s has no %s: enable the controller in its "
			 "parent's cgroup.subtree_control",
			 cg->d[i].path, file);
	else if (rc == -ENOENT)
		snprintf(err, errlen,
			 "cgroup %s has no %s: the plan's directory is not in "
			 "that controller's v1 hierarchy",
			 cg->d[i].path, file);
	else if (rc < 0)
		snprintf(err, errlen, "cannot write %llu to %s/%s: %s",
			 (unsigned long long)value, cg->d[i].path, file,
			 strerror(-rc));
	return rc;
}

/* lim, the memory limit raised by extra bytes (what earlier steps left
 * charged in a reused cgroup). */
static int set_limits(struct cg_step *cg, const struct wire_limits *lim,
		      uint64_t extra, char *err, size_t errlen)
{
	int rc = 0;
	if (cg->mem >= 0 && lim->mem_kb) {
		uint64_t bytes = lim->mem_kb * 1024 + extra;
		if (cg->v2) {
			rc = set_file(cg, cg->mem, "memory.max", bytes, 0, err, errlen);
			if (rc == 0)
				rc = set_file(cg, cg->mem, "memory.swap.max", 0, 1,
					      err, errlen);
		} else {
			/* v1 keeps limit <= memsw limit: raising them (a reused
			 * cgroup's) takes memsw first, lowering the limit */
			int memsw_first = 0;
			rc = set_file(cg, cg->mem, "memory.limit_in_bytes", bytes, 0,
				      err, errlen);
			if (rc == -EINVAL) {
				memsw_first = 1;
				rc = set_file(cg, cg->mem, "memory.memsw.limit_in_bytes",
					      bytes, 1, err, errlen);
				if (rc == 0)
					rc = set_file(cg, cg->mem, "memory.limit_in_bytes",
						      bytes, 0, err, errlen);
			}
			if (rc == 0 && !memsw_first)
				rc = set_file(cg, cg->mem,
					      "memory.memsw.limit_in_bytes", bytes,
					      1, err, errlen);
		}
	}
	if (rc == 0 && cg->pids >= 0 && lim->pids)
		rc = set_file(cg, cg->pids, "pids.max", lim->pids, 0, err, errlen);
	return rc;
}

int cg_step_create(const struct cg_conf *conf, const char *name,
		   const struct wire_limits *lim, struct cg_step *cg,
		   char *err, size_t errlen)
{
	memset(cg, 0, sizeof(*cg));
	cg->v2 = conf->v2;
	cg->mem = cg->pids = cg->cpu_fd = cg->peak_fd = -1;
	for (int i = 0; i < CG_MAX_DIRS; i++)
		cg->d[i].dirfd = cg->d[i].procs_fd = -1;
	int rc = 0, cpu = -1;
	if (conf->v2) {
		rc = dir_index(cg, v2_base(conf), name, err, errlen);
		if (rc >= 0) {
			cg->mem = conf->mem ? rc : -1;
			cg->pids = cg_limits_pids(conf) ? rc : -1;
			cpu = rc;
		}
	} else {
		if (conf->mem && (rc = dir_index(cg, conf->mem, name, err, errlen)) >= 0)
			cg->mem = rc;
		if (rc >= 0 && conf->pids &&
		    (rc = dir_index(cg, conf->pids, name, err, errlen)) >= 0)
			cg->pids = rc;
		if (rc >= 0 && conf->cpu &&
		    (rc = dir_index(cg, conf->cpu, name, err, errlen)) >= 0)
			cpu = rc;
	}
	if (rc >= 0)
		rc = set_limits(cg, lim, 0, err, errlen);
	if (rc < 0) {
		char ignore[8];
		cg_step_destroy(cg, ignore, sizeof(ignore));
		return rc;
	}
	if (cpu >= 0)
		cg->cpu_fd = openat(cg->d[cpu].dirfd,
				    cg->v2 ? "cpu.stat" : "cpuacct.usage",
				    O_RDONLY | O_CLOEXEC);
	return 0;
}

int cg_step_attach(struct cg_step *cg, pid_t pid, char *err, size_t errlen)
{
	char num[24];
	int n = snprintf(num, sizeof(num), "%d", (int)pid);
	for (int i = 0; i < cg->ndirs; i++) {
		int rc = ut_write_all(cg->d[i].procs_fd, num, (size_t)n);
		if (rc < 0) {
			snprintf(err, errlen, "cannot move pid %d into %s: %s",
				 (int)pid, cg->d[i].path, strerror(-rc));
			return rc;
		}
	}
	return 0;
}

/* The cgroup's CPU time since it was made. */
static int cpu_total_ns(struct cg_step *cg, uint64_t *ns)
{
	char buf[512];
	uint64_t v;
	if (cg->cpu_fd < 0 || ut_pread_small(cg->cpu_fd, buf, sizeof(buf)) <= 0)
		return -ENOENT;
	if (cg->v2) {
		if (ut_find_u64(buf, "usage_usec", &v) < 0)
			return -ENOENT;
		*ns = v * 1000;
	} else {
		if (ut_find_u64(buf, NULL, &v) < 0)
			return -ENOENT;
		*ns = v;
	}
	return 0;
}

int cg_step_cpu_ns(struct cg_step *cg, uint64_t *ns)
{
	uint64_t v;
	int rc = cpu_total_ns(cg, &v);
	if (rc < 0)
		return rc;
	*ns = v > cg->cpu_base_ns ? v - cg->cpu_base_ns : 0;
	return 0;
}

void cg_step_kill(struct cg_step *cg)
{
	for (int i = 0; i < cg->ndirs; i++) {
		if (cg->v2 && ut_write_file(cg->d[i].dirfd, "cgroup.kill", "1") == 0)
			continue;
		for_each_proc(cg->d[i].dirfd, kill_pid);
	}
}

static int read_u64(int dirfd, const char *file, const char *key,
		    uint64_t *out)
{
	char buf[1024];
	if (ut_read_small(dirfd, file, buf, sizeof(buf)) < 0)
		return -ENOENT;
	return ut_find_u64(buf, key, out);
}

/* The memory cgroup's OOM kill count (v1 kernels before 4.13 do not count
 * them: its limit hits then). -ENOENT: neither is known. */
static int oom_count(struct cg_step *cg, uint64_t *v)
{
	int fd = cg->d[cg->mem].dirfd;
	if (cg->v2)
		return read_u64(fd, "memory.events", "oom_kill", v);
	if (read_u64(fd, "memory.oom_control", "oom_kill", v) == 0)
		return 0;
	return read_u64(fd, "memory.failcnt", NULL, v);
}

void cg_step_stats(struct cg_step *cg, uint64_t *peak_kb, int *have_peak,
		   int *oom)
{
	char buf[64];
	uint64_t v;
	int rc;
	*peak_kb = 0;
	*have_peak = 0;
	*oom = 0;
	if (cg->mem < 0)
		return;
	int fd = cg->d[cg->mem].dirfd;
	if (cg->peak_fd >= 0)
		rc = ut_pread_small(cg->peak_fd, buf, sizeof(buf)) > 0
			     ? ut_find_u64(buf, NULL, &v)
			     : -ENOENT;
	else
		rc = read_u64(fd, cg->v2 ? "memory.peak" : "memory.max_usage_in_bytes",
			      NULL, &v);
	if (rc == 0) {
		*peak_kb = (v > cg->mem_base ? v - cg->mem_base : 0) / 1024;
		*have_peak = 1;
	}
	if (oom_count(cg, &v) == 0)
		*oom = v > cg->oom_base;
}

int cg_step_destroy(struct cg_step *cg, char *err, size_t errlen)
{
	int first = 0;
	if (cg->cpu_fd >= 0)
		close(cg->cpu_fd);
	if (cg->peak_fd >= 0)
		close(cg->peak_fd);
	cg->cpu_fd = cg->peak_fd = -1;
	for (int i = 0; i < cg->ndirs; i++) {
		int rc = 0;
		if (cg->d[i].dirfd >= 0)
			rc = dir_drain(cg->v2, cg->d[i].dirfd);
		dir_close(&cg->d[i]);
		if (rc == 0)
			rc = dir_remove(cg->d[i].path);
		if (rc < 0 && first == 0) {
			first = rc;
			snprintf(err, errlen,
				 "cannot empty and remove cgroup %s: %s",
				 cg->d[i].path, strerror(-rc));
		}
	}
	cg->ndirs = 0;
	return first;
}

int cg_step_empty(struct cg_step *cg)
{
	for (int i = 0; i < cg->ndirs; i++) {
		int rc = dir_drain(cg->v2, cg->d[i].dirfd);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* v2: reset memory.peak for reads through cg->peak_fd (kernels 6.12 and
 * later take any write as a reset; older ones refuse it). */
static int v2_peak_reset(struct cg_step *cg)
{
	if (cg->peak_fd < 0)
		cg->peak_fd = openat(cg->d[cg->mem].dirfd, "memory.peak",
				     O_RDWR | O_CLOEXEC);
	if (cg->peak_fd < 0)
		return -EAGAIN;
	return ut_write_all(cg->peak_fd, "reset\n", 6) == 0 ? 0 : -EAGAIN;
}

int cg_step_reuse(struct cg_step *cg, const struct wire_limits *lim, char *err,
		  size_t errlen)
{
	uint64_t left = 0, v;
	/* an exited process is counted until it is reaped: the next test
	 * must have its whole pids limit */
	if (cg->pids >= 0 &&
	    read_u64(cg->d[cg->pids].dirfd, "pids.current", NULL, &v) == 0 && v > 0)
		return -EAGAIN;
	if (cg->mem >= 0) {
		int fd = cg->d[cg->mem].dirfd;
		if (read_u64(fd, cg->v2 ? "memory.current" : "memory.usage_in_bytes",
			     NULL, &left) < 0 || left > CG_REUSE_MAX_LEFT)
			return -EAGAIN;
		if (cg->v2 ? v2_peak_reset(cg) < 0
			   : ut_write_file(fd, "memory.max_usage_in_bytes", "0") < 0)
			return -EAGAIN;
		cg->oom_base = oom_count(cg, &v) == 0 ? v : 0;
	}
	cg->mem_base = left;
	cg->cpu_base_ns = cpu_total_ns(cg, &v) == 0 ? v : 0;
	return set_limits(cg, lim, left, err, errlen);
}

/* Drain and remove base/name if it exists. */
static int remove_named(int v2, const char *base, const char *name, char *err,
			size_t errlen)
{
	char path[PATH_MAX];
	int n = snprintf(path, sizeof(path), "%s/%s", base, name);
	if (n < 0 || (size_t)n >= sizeof(path))
		return -ENAMETOOLONG;
	int dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return errno == ENOENT ? 0 : -errno;
	int rc = dir_drain(v2, dirfd);
	close(dirfd);
	if (rc == 0)
		rc = dir_remove(path);
	if (rc < 0)
		snprintf(err, errlen, "cannot empty and remove cgroup %s: %s",
			 path, strerror(-rc));
	return rc;
}

int cg_step_remove(const struct cg_conf *conf, const char *name, char *err,
		   size_t errlen)
{
	if (conf->v2)
		return v2_base(conf) ? remove_named(1, v2_base(conf), name, err,
						    errlen)
				     : 0;
	const char *dirs[3] = {conf->mem, conf->pids, conf->cpu};
	int first = 0;
	for (int i = 0; i < 3; i++) {
		int rc = dirs[i] ? remove_named(0, dirs[i], name, err, errlen) : 0;
		if (rc < 0 && first == 0)
			first = rc;
	}
	return first;
}
