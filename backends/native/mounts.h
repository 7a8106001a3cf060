/* The sandbox's file system: a table of mount steps, expanded by the
 * trusted parent into a flat plan of ready-made paths (sbx_mounts_build),
 * then carried out by the sandbox init after clone() with nothing but system
 * calls (sbx_mounts_apply, sbx_mounts_pivot): no malloc, no stdio.
 *
 * Ownership: a struct sbx_mount_plan owns its strings in its own arena;
 * nothing is allocated on the heap. Everything in struct sbx_mount_cfg is
 * borrowed for the sbx_mounts_build call.
 */
#ifndef RUNLET_SBX_MOUNTS_H
#define RUNLET_SBX_MOUNTS_H

#include <stddef.h>
#include <stdint.h>

/* Fixed places inside every sandbox. */
#define SBX_RUNNER_PATH "/.runlet/runlet-runner"
#define SBX_CG_MEM "/.runlet/cg/memory"
#define SBX_CG_PIDS "/.runlet/cg/pids"
#define SBX_CG_CPU "/.runlet/cg/cpu"
#define SBX_CG_UNIFIED "/.runlet/cg/unified"

enum sbx_mnt_kind {
	SBX_M_TMPFS,     /* a fresh tmpfs; src = mount options */
	SBX_M_BIND_RO,   /* read-only, nosuid, nodev bind of host src */
	SBX_M_BIND_RW,   /* writable, nosuid, nodev, noexec bind of host src */
	SBX_M_DEV,       /* a device node bound from the host (nosuid, noexec) */
	SBX_M_PROC,      /* a fresh proc for the new pid namespace */
	SBX_M_SYMLINK,   /* symlink dst -> src */
	SBX_M_MASK_FILE, /* hide a file: bind /dev/null over it, read-only */
	SBX_M_MASK_DIR,  /* hide a dir: an empty read-only tmpfs over it */
	SBX_M_RO_SELF,   /* make dst (already inside) read-only */
	SBX_M_MKDIR,     /* a directory (mode 0755) */
};

/* One line of the static table: dst is a path inside the sandbox. */
struct sbx_mount {
	enum sbx_mnt_kind kind;
	const char *dst;
	const char *src;     /* see the kinds; "@root" = rootfs + dst */
	unsigned long flags; /* extra MS_* flags */
	int optional;        /* skip when the source or target is missing */
};

/* The static part of the table (exported for tests and docs). */
extern const struct sbx_mount sbx_mount_table[];
extern const size_t sbx_mount_table_len;

#define SBX_MAX_OPS 96

/* One expanded step: host paths, ready for the init. */
struct sbx_mnt_op {
	enum sbx_mnt_kind kind;
	const char *src;  /* into the arena, or NULL */
	char *dst;        /* into the arena: newroot + inside path */
	const char *inside; /* into the arena: the path inside the sandbox */
	unsigned long flags;
	int optional;
	int src_is_dir;   /* binds: make a dir (1) or a file (0) to mount on */
};

struct sbx_mount_plan {
	struct sbx_mnt_op ops[SBX_MAX_OPS];
	size_t n;
	char newroot[512];
	char arena[16384];
	size_t used;
};

struct sbx_mount_cfg {
	const char *newroot;     /* host dir the new root tmpfs goes on */
	const char *rootfs;      /* NULL or "/": the host's root */
	const char *workdir;     /* inside path of the work dir (cfg->tmpfs) */
	uint64_t workdir_size;   /* bytes */
	uint64_t shm_size;       /* bytes of the private /dev/shm */
	long uid, gid;           /* owner of the work dir */
	const char *runner_path; /* host path of runlet-runner */
	int cg_v2;
	const char *cg_mem, *cg_pids, *cg_cpu; /* host dirs; NULL/"" = none */
	const char *const *masks; /* extra inside paths to hide (NULL-ended) */
};

/* Check that path is an absolute, normalized path ("/a/b": no ".", "..",
 * "//", trailing "/") where a work dir may go: not "/", not under a
 * read-only system dir, /proc, /dev or /.runlet. 0 or -EINVAL with err. */
int sbx_workdir_check(const char *path, char *err, size_t errlen);

/* Expand the table for one sandbox. 0 or -errno with err set. */
int sbx_mounts_build(const struct sbx_mount_cfg *mc,
		     struct sbx_mount_plan *plan, char *err, size_t errlen);

/* In the init (after clone, in the new mount namespace): make every mount
 * private, then carry out plan->ops in order. 0, or -errno with *failed set
 * to the index of the failing op (-1: the initial MS_PRIVATE). */
int sbx_mounts_apply(struct sbx_mount_plan *plan, int *failed);

/* pivot_root into plan->newroot, detach the old root, remount / read-only,
 * chdir("/"). 0 or -errno. */
int sbx_mounts_pivot(const struct sbx_mount_plan *plan);

/* Human-readable name of an op kind. */
const char *sbx_mnt_kind_name(enum sbx_mnt_kind k);

#endif
