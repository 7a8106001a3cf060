/* Per-step cgroups: the runner creates one child cgroup per step under the
 * directories the plan names, limits memory (no swap) and pids, moves the
 * step's process in before it execs, reads CPU time while it runs and peak
 * memory and OOM kills afterwards, kills what is left and removes it.
 *
 * Tests run one after another by the same process (the runner, or one
 * parallel worker) may share one: after a test it is emptied (cg_step_empty)
 * and kept, and the next test takes it over (cg_step_reuse) with its
 * counters set back: the CPU time and OOM kill count it starts from are
 * subtracted, the memory peak is reset (v1: memory.max_usage_in_bytes; v2:
 * memory.peak's per-descriptor reset, kernels 6.12 and later), and what the
 * earlier tests left charged (page cache, kernel objects, a few hundred KiB)
 * is added to the memory limit and taken off the peak, so a test has its
 * whole limit and its own peak as in a cgroup of its own (that leftover
 * includes the kernel's per-CPU charge cache, up to 64 pages a CPU, which
 * the next test may use without raising the usage: its peak can read that
 * much low). With more than
 * CG_REUSE_MAX_LEFT left charged, or a peak the kernel cannot reset, the
 * cgroup is removed and a new one made, as for every step before. Making
 * and removing a cgroup per test cost ~0.3 ms of a trivial test's ~1.3 ms
 * (v1, three hierarchies).
 *
 * v2 (plan.cg_v2): one unified directory (the first of cg_mem, cg_pids,
 * cg_cpu), whose cgroup.subtree_control already enables the controllers and
 * which does not hold the runner itself. v1: one directory per controller
 * hierarchy (memory, pids, cpuacct). */
#ifndef RUNLET_RUNNER_CGROUP_H
#define RUNLET_RUNNER_CGROUP_H

#include <limits.h>
#include <stdint.h>
#include <sys/types.h>

#include "runner/wire.h"

/* Where the runner may create cgroups. Strings borrowed from the plan. */
struct cg_conf {
	int v2;
	const char *mem;  /* NULL: no memory cgroup */
	const char *pids; /* NULL: no pids cgroup */
	const char *cpu;  /* NULL: no cpu accounting cgroup */
	int v2_pids;      /* v2: pids controller on in the dir (cg_conf_probe) */
};

#define CG_MAX_DIRS 3

struct cg_dir {
	char path[PATH_MAX]; /* the step cgroup's directory */
	int dirfd;
	int procs_fd;        /* cgroup.procs, open for writing */
};

/* Leftover charge above which a step cgroup is not reused. */
#define CG_REUSE_MAX_LEFT (4u << 20)

/* One step's cgroup(s). Owns its fds; cg_step_destroy releases them. */
struct cg_step {
	int v2;
	int ndirs;
	struct cg_dir d[CG_MAX_DIRS];
	int mem;    /* index into d, or -1 */
	int pids;   /* index into d, or -1 */
	int cpu_fd; /* cpuacct.usage (v1) or cpu.stat (v2), or -1 */
	int peak_fd; /* v2, reused: memory.peak, reset through this fd; -1 */
	/* what the step started from (0 in a new cgroup): subtracted */
	uint64_t mem_base;    /* bytes still charged by earlier steps */
	uint64_t cpu_base_ns;
	uint64_t oom_base;    /* OOM kills counted before */
};

/* Is any cgroup configured? */
int cg_enabled(const struct cg_conf *conf);
/* v2: one unified directory serves every controller its
 * cgroup.subtree_control enables, so pids are limited there even when the
 * plan names no cg_pids. Sets conf->v2_pids. */
void cg_conf_probe(struct cg_conf *conf);
/* Will pids be limited by a cgroup (so RLIMIT_NPROC is not needed)? */
int cg_limits_pids(const struct cg_conf *conf);

/* Create the step cgroup called name (e.g. "s3") and set its limits. 0 or
 * -errno with a message naming the file and the fix in err. On failure
 * nothing is left behind. */
int cg_step_create(const struct cg_conf *conf, const char *name,
		   const struct wire_limits *lim, struct cg_step *cg,
		   char *err, size_t errlen);
/* Move process pid into every step cgroup. */
int cg_step_attach(struct cg_step *cg, pid_t pid, char *err, size_t errlen);
/* CPU time used so far by everything in the cgroup. -ENOENT: not known. */
int cg_step_cpu_ns(struct cg_step *cg, uint64_t *ns);
/* SIGKILL everything in the cgroup once (cgroup.kill on v2). */
void cg_step_kill(struct cg_step *cg);
/* Peak memory (have_peak = 0 when the kernel does not say) and whether the
 * OOM killer struck. */
void cg_step_stats(struct cg_step *cg, uint64_t *peak_kb, int *have_peak,
		   int *oom);
/* Kill until empty, remove the cgroup(s), close everything. Idempotent. */
int cg_step_destroy(struct cg_step *cg, char *err, size_t errlen);

/* After a step: kill what is left and wait until every directory is empty,
 * keeping the cgroup(s) for cg_step_reuse. 0 or -errno (still in use: then
 * destroy it). */
int cg_step_empty(struct cg_step *cg);
/* Make an emptied step cgroup ready for the next step with limits lim
 * (counters set back, see above). 0; -EAGAIN when it should not be reused
 * (too much left charged, or a peak that cannot be reset): destroy it and
 * create a new one; other -errno with err. */
int cg_step_reuse(struct cg_step *cg, const struct wire_limits *lim, char *err,
		  size_t errlen);

/* Kill what is in the step cgroup called name, if there is one, and remove
 * it: for a step whose owner (a parallel worker) died. 0 or -errno. */
int cg_step_remove(const struct cg_conf *conf, const char *name, char *err,
		   size_t errlen);

#endif /* RUNLET_RUNNER_CGROUP_H */
