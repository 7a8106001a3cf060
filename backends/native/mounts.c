/* The sandbox's mount table and the code that carries it out. See mounts.h. */
#include "mounts.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define RO_FLAGS (MS_RDONLY | MS_NOSUID | MS_NODEV)

/* The fixed part of every sandbox, in the order it is mounted. Before it
 * comes the new root tmpfs; after it the work dir, the runner, the cgroup
 * dirs and the extra masks (see sbx_mounts_build). "@root": rootfs + dst.
 * "@shm": the options of the private /dev/shm. */
const struct sbx_mount sbx_mount_table[] = {
	/* the system, read-only, nosuid, nodev */
	{SBX_M_BIND_RO, "/usr", "@root", 0, 0},
	{SBX_M_BIND_RO, "/bin", "@root", 0, 1},
	{SBX_M_BIND_RO, "/sbin", "@root", 0, 1},
	{SBX_M_BIND_RO, "/lib", "@root", 0, 1},
	{SBX_M_BIND_RO, "/lib32", "@root", 0, 1},
	{SBX_M_BIND_RO, "/lib64", "@root", 0, 1},
	{SBX_M_BIND_RO, "/libx32", "@root", 0, 1},
	{SBX_M_BIND_RO, "/etc", "@root", 0, 0},
	/* secrets that live in /etc */
	{SBX_M_MASK_FILE, "/etc/shadow", NULL, 0, 1},
	{SBX_M_MASK_FILE, "/etc/gshadow", NULL, 0, 1},
	{SBX_M_MASK_FILE, "/etc/shadow-", NULL, 0, 1},
	{SBX_M_MASK_FILE, "/etc/gshadow-", NULL, 0, 1},
	{SBX_M_MASK_FILE, "/etc/sudoers", NULL, 0, 1},
	{SBX_M_MASK_FILE, "/etc/security/opasswd", NULL, 0, 1},
	{SBX_M_MASK_DIR, "/etc/sudoers.d", NULL, 0, 1},
	{SBX_M_MASK_DIR, "/etc/ssh", NULL, 0, 1},
	{SBX_M_MASK_DIR, "/etc/ssl/private", NULL, 0, 1},
	{SBX_M_MASK_DIR, "/etc/runlet", NULL, 0, 1},
	{SBX_M_MASK_DIR, "/etc/rabbitmq", NULL, 0, 1},
	{SBX_M_MASK_DIR, "/etc/docker", NULL, 0, 1},
	{SBX_M_MASK_DIR, "/etc/credstore", NULL, 0, 1},
	{SBX_M_MASK_DIR, "/etc/credstore.encrypted", NULL, 0, 1},
	/* a proc of the sandbox's own pid namespace, what the kernel exposes
	 * of itself read-only or hidden */
	{SBX_M_PROC, "/proc", NULL, 0, 0},
	{SBX_M_RO_SELF, "/proc/sys", NULL, 0, 1},
	{SBX_M_RO_SELF, "/proc/sysrq-trigger", NULL, 0, 1},
	{SBX_M_RO_SELF, "/proc/irq", NULL, 0, 1},
	{SBX_M_RO_SELF, "/proc/bus", NULL, 0, 1},
	{SBX_M_RO_SELF, "/proc/fs", NULL, 0, 1},
	{SBX_M_MASK_FILE, "/proc/kcore", NULL, 0, 1},
	{SBX_M_MASK_FILE, "/proc/kmsg", NULL, 0, 1},
	{SBX_M_MASK_FILE, "/proc/kallsyms", NULL, 0, 1},
	{SBX_M_MASK_FILE, "/proc/keys", NULL, 0, 1},
	{SBX_M_MASK_FILE, "/proc/key-users", NULL, 0, 1},
	{SBX_M_MASK_FILE, "/proc/timer_list", NULL, 0, 1},
	{SBX_M_MASK_FILE, "/proc/sched_debug", NULL, 0, 1},
	{SBX_M_MASK_FILE, "/proc/latency_stats", NULL, 0, 1},
	{SBX_M_MASK_FILE, "/proc/vmallocinfo", NULL, 0, 1},
	{SBX_M_MASK_DIR, "/proc/acpi", NULL, 0, 1},
	{SBX_M_MASK_DIR, "/proc/scsi", NULL, 0, 1},
	{SBX_M_MASK_DIR, "/proc/asound", NULL, 0, 1},
	{SBX_M_MASK_DIR, "/proc/driver", NULL, 0, 1},
	/* a small /dev of its own */
	{SBX_M_TMPFS, "/dev", "mode=0755,size=64k", MS_NOEXEC, 0},
	{SBX_M_DEV, "/dev/null", "/dev/null", 0, 0},
	{SBX_M_DEV, "/dev/zero", "/dev/zero", 0, 0},
	{SBX_M_DEV, "/dev/full", "/dev/full", 0, 1},
	{SBX_M_DEV, "/dev/random", "/dev/random", 0, 0},
	{SBX_M_DEV, "/dev/urandom", "/dev/urandom", 0, 0},
	{SBX_M_SYMLINK, "/dev/fd", "/proc/self/fd", 0, 0},
	{SBX_M_SYMLINK, "/dev/stdin", "/proc/self/fd/0", 0, 0},
	{SBX_M_SYMLINK, "/dev/stdout", "/proc/self/fd/1", 0, 0},
	{SBX_M_SYMLINK, "/dev/stderr", "/proc/self/fd/2", 0, 0},
	{SBX_M_TMPFS, "/dev/shm", "@shm", MS_NOEXEC, 0},
	{SBX_M_RO_SELF, "/dev", NULL, MS_NOEXEC, 0},
};
const size_t sbx_mount_table_len =
	sizeof(sbx_mount_table) / sizeof(sbx_mount_table[0]);

const char *sbx_mnt_kind_name(enum sbx_mnt_kind k)
{
	static const char *const names[] = {
		"tmpfs", "bind-ro", "bind-rw", "dev", "proc",
		"symlink", "mask-file", "mask-dir", "ro", "mkdir",
	};
	return (unsigned)k < sizeof(names) / sizeof(names[0]) ? names[k] : "?";
}

static const char *const system_dirs[] = {
	"/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32",
	"/etc", "/proc", "/dev", "/.runlet", NULL,
};

int sbx_workdir_check(const char *p, char *err, size_t errlen)
{
	size_t n = p ? strlen(p) : 0;
	if (n < 2 || p[0] != '/' || p[n - 1] == '/' || n > 200)
		goto bad;
	for (const char *c = p; *c; c++) {
		if (*c != '/')
			continue;
		const char *s = c + 1;
		const char *e = strchr(s, '/');
		size_t l = e ? (size_t)(e - s) : strlen(s);
		if (l == 0 || (l == 1 && s[0] == '.') ||
		    (l == 2 && s[0] == '.' && s[1] == '.'))
			goto bad;
	}
	for (size_t i = 0; system_dirs[i]; i++) {
		size_t l = strlen(system_dirs[i]);
		if (strncmp(p, system_dirs[i], l) == 0 &&
		    (p[l] == '\0' || p[l] == '/')) {
			snprintf(err, errlen,
				 "native sandbox: tmpfs \"%s\" lies in %s, which "
				 "the sandbox mounts itself; set tmpfs: to a path "
				 "such as /tmp or /home/sandbox", p, system_dirs[i]);
			return -EINVAL;
		}
	}
	return 0;
bad:
	snprintf(err, errlen,
		 "native sandbox: tmpfs \"%s\" must be an absolute, normalized "
		 "path other than / (such as /tmp)", p ? p : "");
	return -EINVAL;
}

static const char *store(struct sbx_mount_plan *pl, const char *a,
			 const char *b)
{
	size_t la = strlen(a), lb = b ? strlen(b) : 0;
	if (pl->used + la + lb + 1 > sizeof(pl->arena))
		return NULL;
	char *s = pl->arena + pl->used;
	memcpy(s, a, la);
	if (lb)
		memcpy(s + la, b, lb);
	s[la + lb] = '\0';
	pl->used += la + lb + 1;
	return s;
}

static int add(struct sbx_mount_plan *pl, enum sbx_mnt_kind kind,
	       const char *inside, const char *src, unsigned long flags,
	       int optional, int src_is_dir)
{
	if (pl->n >= SBX_MAX_OPS)
		return -E2BIG;
	struct sbx_mnt_op *op = &pl->ops[pl->n];
	const char *dst = store(pl, pl->newroot, strcmp(inside, "/") ? inside : NULL);
	const char *in = store(pl, inside, NULL);
	const char *s = src ? store(pl, src, NULL) : NULL;
	if (!dst || !in || (src && !s))
		return -E2BIG;
	op->kind = kind;
	op->dst = (char *)dst;
	op->inside = in;
	op->src = s;
	op->flags = flags;
	op->optional = optional;
	op->src_is_dir = src_is_dir;
	pl->n++;
	return 0;
}

/* A system dir of the rootfs: bound read-only, or the same symlink. */
static int add_system(struct sbx_mount_plan *pl, const char *rootfs,
		      const struct sbx_mount *m)
{
	char src[1024], target[512];
	struct stat st;
	snprintf(src, sizeof(src), "%s%s", rootfs, m->dst);
	if (lstat(src, &st) < 0)
		return m->optional ? 0 : -errno;
	if (S_ISLNK(st.st_mode)) {
		ssize_t n = readlink(src, target, sizeof(target) - 1);
		if (n < 0)
			return -errno;
		target[n] = '\0';
		return add(pl, SBX_M_SYMLINK, m->dst, target, 0, 0, 0);
	}
	return add(pl, m->kind, m->dst, src, m->flags, m->optional,
		   S_ISDIR(st.st_mode));
}

static int exists_at(const char *base, const char *inside)
{
	char p[1024];
	struct stat st;
	snprintf(p, sizeof(p), "%s%s", base, inside);
	return lstat(p, &st) == 0;
}

static int add_bind(struct sbx_mount_plan *pl, enum sbx_mnt_kind kind,
		    const char *inside, const char *src)
{
	struct stat st;
	if (stat(src, &st) < 0)
		return -errno;
	return add(pl, kind, inside, src, 0, 0, S_ISDIR(st.st_mode));
}

int sbx_mounts_build(const struct sbx_mount_cfg *mc,
		     struct sbx_mount_plan *pl, char *err, size_t errlen)
{
	const char *rootfs = mc->rootfs && strcmp(mc->rootfs, "/") ? mc->rootfs : "";
	char opts[160];
	int rc;
	const char *what = "/";

	pl->n = 0;
	pl->used = 0;
	if ((rc = sbx_workdir_check(mc->workdir, err, errlen)) < 0)
		return rc;
	if (snprintf(pl->newroot, sizeof(pl->newroot), "%s", mc->newroot) >=
	    (int)sizeof(pl->newroot))
		return -ENAMETOOLONG;
	if ((rc = add(pl, SBX_M_TMPFS, "/", "mode=0755,size=2m", 0, 0, 1)) < 0)
		goto fail;
	for (size_t i = 0; i < sbx_mount_table_len; i++) {
		const struct sbx_mount *m = &sbx_mount_table[i];
		what = m->dst;
		if (m->src && strcmp(m->src, "@root") == 0) {
			rc = add_system(pl, rootfs, m);
		} else if (m->src && strcmp(m->src, "@shm") == 0) {
			snprintf(opts, sizeof(opts), "mode=1777,size=%llu",
				 (unsigned long long)mc->shm_size);
			rc = add(pl, m->kind, m->dst, opts, m->flags, 0, 1);
		} else if ((m->kind == SBX_M_MASK_FILE || m->kind == SBX_M_MASK_DIR ||
			    m->kind == SBX_M_DEV) && m->optional &&
			   !exists_at(strncmp(m->dst, "/etc", 4) ? "" : rootfs,
				      m->dst)) {
			rc = 0; /* nothing to hide */
		} else {
			rc = add(pl, m->kind, m->dst, m->src, m->flags,
				 m->optional, 0);
		}
		if (rc < 0)
			goto fail;
	}
	what = mc->workdir;
	snprintf(opts, sizeof(opts), "mode=0755,uid=%ld,gid=%ld,size=%llu",
		 mc->uid, mc->gid, (unsigned long long)mc->workdir_size);
	if ((rc = add(pl, SBX_M_TMPFS, mc->workdir, opts, 0, 0, 1)) < 0)
		goto fail;
	what = SBX_RUNNER_PATH;
	if ((rc = add(pl, SBX_M_MKDIR, "/.runlet", NULL, 0, 0, 1)) < 0 ||
	    (rc = add_bind(pl, SBX_M_BIND_RO, SBX_RUNNER_PATH, mc->runner_path)) < 0)
		goto fail;
	what = "cgroup";
	if (mc->cg_v2) {
		if ((rc = add_bind(pl, SBX_M_BIND_RW, SBX_CG_UNIFIED, mc->cg_mem)) < 0)
			goto fail;
	} else {
		if ((mc->cg_mem && mc->cg_mem[0] &&
		     (rc = add_bind(pl, SBX_M_BIND_RW, SBX_CG_MEM, mc->cg_mem)) < 0) ||
		    (mc->cg_pids && mc->cg_pids[0] &&
		     (rc = add_bind(pl, SBX_M_BIND_RW, SBX_CG_PIDS, mc->cg_pids)) < 0) ||
		    (mc->cg_cpu && mc->cg_cpu[0] &&
		     (rc = add_bind(pl, SBX_M_BIND_RW, SBX_CG_CPU, mc->cg_cpu)) < 0))
			goto fail;
	}
	for (size_t i = 0; mc->masks && mc->masks[i]; i++) {
		struct stat st;
		char p[1024];
		what = mc->masks[i];
		snprintf(p, sizeof(p), "%s%s", rootfs, mc->masks[i]);
		if (mc->masks[i][0] != '/' || lstat(p, &st) < 0)
			continue;
		rc = add(pl, S_ISDIR(st.st_mode) ? SBX_M_MASK_DIR : SBX_M_MASK_FILE,
			 mc->masks[i], NULL, 0, 1, 0);
		if (rc < 0)
			goto fail;
	}
	return 0;
fail:
	snprintf(err, errlen, "native sandbox: mount table: %s: %s", what,
		 strerror(-rc));
	return rc;
}

/* ---- in the sandbox init: system calls only ---- */

static int mkdir_p(char *path)
{
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		int r = mkdir(path, 0755);
		*p = '/';
		if (r < 0 && errno != EEXIST)
			return -errno;
	}
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static int make_file(char *path)
{
	char *slash = strrchr(path, '/');
	if (slash && slash != path) {
		*slash = '\0';
		int r = mkdir_p(path);
		*slash = '/';
		if (r < 0)
			return r;
	}
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return errno == EEXIST ? 0 : -errno;
	close(fd);
	return 0;
}

static int bind(const char *src, const char *dst, unsigned long rec,
		unsigned long remount)
{
	if (mount(src, dst, NULL, MS_BIND | rec, NULL) < 0)
		return -errno;
	if (mount(NULL, dst, NULL, MS_BIND | MS_REMOUNT | remount, NULL) < 0)
		return -errno;
	return 0;
}

static int apply_one(struct sbx_mnt_op *op)
{
	int rc = 0;
	switch (op->kind) {
	case SBX_M_TMPFS:
		if ((rc = mkdir_p(op->dst)) < 0)
			return rc;
		if (mount("tmpfs", op->dst, "tmpfs", MS_NOSUID | MS_NODEV | op->flags,
			  op->src) < 0)
			return -errno;
		return 0;
	case SBX_M_BIND_RO:
	case SBX_M_BIND_RW:
		rc = op->src_is_dir ? mkdir_p(op->dst) : make_file(op->dst);
		if (rc < 0)
			return rc;
		return bind(op->src, op->dst, 0,
			    op->kind == SBX_M_BIND_RO
				    ? RO_FLAGS | op->flags
				    : MS_NOSUID | MS_NODEV | MS_NOEXEC | op->flags);
	case SBX_M_DEV:
		if ((rc = make_file(op->dst)) < 0)
			return rc;
		return bind(op->src, op->dst, 0, MS_NOSUID | MS_NOEXEC);
	case SBX_M_PROC:
		if ((rc = mkdir_p(op->dst)) < 0)
			return rc;
		if (mount("proc", op->dst, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC,
			  NULL) < 0)
			return -errno;
		return 0;
	case SBX_M_SYMLINK:
		if (symlink(op->src, op->dst) < 0 && errno != EEXIST)
			return -errno;
		return 0;
	case SBX_M_MASK_FILE:
		return bind("/dev/null", op->dst, 0, RO_FLAGS | MS_NOEXEC);
	case SBX_M_MASK_DIR:
		if (mount("tmpfs", op->dst, "tmpfs",
			  MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
			  "mode=0755,size=4k") < 0)
			return -errno;
		return 0;
	case SBX_M_RO_SELF:
		return bind(op->dst, op->dst, MS_REC, RO_FLAGS | op->flags);
	case SBX_M_MKDIR:
		return mkdir_p(op->dst);
	}
	return -EINVAL;
}

int sbx_mounts_apply(struct sbx_mount_plan *plan, int *failed)
{
	*failed = -1;
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return -errno;
	for (size_t i = 0; i < plan->n; i++) {
		int rc = apply_one(&plan->ops[i]);
		if (rc == -ENOENT && plan->ops[i].optional)
			continue;
		if (rc < 0) {
			*failed = (int)i;
			return rc;
		}
	}
	return 0;
}

int sbx_mounts_pivot(const struct sbx_mount_plan *plan)
{
	if (chdir(plan->newroot) < 0)
		return -errno;
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		return -errno;
	if (umount2(".", MNT_DETACH) < 0)
		return -errno;
	if (chdir("/") < 0)
		return -errno;
	if (mount(NULL, "/", NULL, MS_BIND | MS_REMOUNT | RO_FLAGS, NULL) < 0)
		return -errno;
	return 0;
}
