/* Submission cgroups of the native sandbox: layout detection (v1 or v2),
 * creation with submission-wide limits, and teardown (kill, then rmdir,
 * children first, by fd).
 *
 * Ownership: every struct here holds fixed-size path buffers; nothing is
 * allocated. Paths are host paths.
 */
#ifndef RUNLET_SBX_CGROUP_H
#define RUNLET_SBX_CGROUP_H

#include <stddef.h>
#include <stdint.h>

#define SBX_PATH 512

/* Where submission cgroups go. v1: one base dir per controller (cpu may be
 * empty: the cpu controller is optional). v2: one unified base dir. Each base
 * ends in "/runlet". */
struct sbx_cg_layout {
	int v2;
	char mem[SBX_PATH];
	char pids[SBX_PATH];
	char cpu[SBX_PATH];   /* "" when the cpu controller is not available */
	int memsw;            /* v1 memory.memsw.* / v2 memory.swap.max exist */
};

/* Detect the layout under root (normally "/sys/fs/cgroup"). self is the text
 * of /proc/self/cgroup (v1 bases nest under the caller's own cgroup of each
 * controller; v2 bases sit at the top of the unified tree). v2 is the
 * layout only when root itself is a cgroup2 mount with controllers
 * (root/cgroup.controllers exists): a cgroup2 mounted elsewhere, such as an
 * empty root/unified next to v1 controllers, is not mistaken for it.
 * 0, or -ENOENT with err naming the missing controller and the fix. */
int sbx_cg_detect(const char *root, const char *self,
		  struct sbx_cg_layout *out, char *err, size_t errlen);

/* Pure helper (exported for tests): the own cgroup path of controller ctrl
 * ("memory", or "" for the v2 "0::" line) in the text of /proc/self/cgroup.
 * Writes e.g. "/a/b" ("" for the root). 0 or -ENOENT. */
int sbx_cg_self_path(const char *self, const char *ctrl, char *out,
		     size_t outlen);

/* One submission's cgroup dirs. */
struct sbx_cg {
	int v2;
	char mem[SBX_PATH];    /* v1 memory dir, or the v2 unified dir */
	char pids[SBX_PATH];   /* v1 only */
	char cpu[SBX_PATH];    /* v1 only, "" without the cpu controller */
	char runner[SBX_PATH]; /* v2: the runner's leaf (mem + "/runner") */
	int made_mem, made_pids, made_cpu;
};

struct sbx_cg_limits {
	uint64_t mem_bytes; /* memory (and memory+swap) of the whole submission */
	uint64_t pids;      /* processes and threads of the whole submission */
};

/* Create <base>/<name> in every controller and set the limits. On failure
 * whatever was made is removed again. 0 or -errno with err set. */
int sbx_cg_create(const struct sbx_cg_layout *lay, const char *name,
		  const struct sbx_cg_limits *lim, struct sbx_cg *cg,
		  char *err, size_t errlen);

/* The cgroup.procs files the sandbox init writes "0" into to join: at most
 * three. Returns how many were written into files[]. */
#define SBX_CGFILE (SBX_PATH + 32)
size_t sbx_cg_join_files(const struct sbx_cg *cg, char files[3][SBX_CGFILE]);

/* Kill every process left in the submission's cgroups, remove the tree
 * (children first; by dir fd, never following links). Waits up to
 * timeout_ms for dying processes. 0, or -EBUSY when something would not
 * go away. */
int sbx_cg_destroy(struct sbx_cg *cg, unsigned timeout_ms);

/* Remove the empty submission cgroups a crashed runlet left behind: dirs
 * named "<pid>-..." under the bases whose pid no longer exists. Returns how
 * many were removed. */
int sbx_cg_sweep(const struct sbx_cg_layout *lay);

/* Count the processes in the submission's cgroups (all levels). */
int sbx_cg_nprocs(const struct sbx_cg *cg);

/* Peak memory usage of the submission (v1 memory.max_usage_in_bytes, v2
 * memory.peak); 0 when unknown. */
uint64_t sbx_cg_peak(const struct sbx_cg *cg);

#endif
