/* Private to the native backend: its state, one execute() call's state,
 * and the steps shared by native.c (execute) and warm.c (the pool's
 * maker). Ownership as in native.c: a nat_call owns its buffers until
 * nat_teardown.
 */
#ifndef RUNLET_NAT_H
#define RUNLET_NAT_H

#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stddef.h>

#include "backends/backend.h"
#include "budget.h"
#include "cgroup.h"
#include "features.h"
#include "mounts.h"
#include "pool.h"
#include "sandbox.h"

#define NAT_NEWROOT_PARENT "/run/runlet"
#define NAT_NEWROOT "/run/runlet/root"
#define NAT_CLONE_FLAGS                                                      \
	(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS)

struct nat_state {
	const struct cfg *cfg;
	int full;        /* 1: the namespace sandbox; 0: plain (insecure) */
	int use_cg;      /* submission cgroups */
	int cgns;        /* a cgroup namespace per sandbox */
	int seccomp;
	long uid, gid;   /* the sandbox user; -1: keep (plain, not root) */
	struct sbx_features feat;
	char runner[PATH_MAX];
	char workdir[PATH_MAX]; /* inside path (full) or host temp dir (plain) */
	int plain_fd;           /* plain: the temp dir */
	pthread_mutex_t plain_lock;
	atomic_ulong seq;
	char cfg_mask[PATH_MAX];
	const char *masks[2];
	struct sbx_pool *pool;  /* full mode with a pool size; else NULL */
	int dynmods_fd;         /* fast cgroup moves held (dynmods.h); -1 */
	int nice;               /* runlet's nice value when opened: the runner's */
};

struct nat_call {
	struct nat_state *st;
	const struct backend_job *job;
	struct sbx_budget budget;
	struct sbx_cg cg;
	int have_cg;
	struct wire_buf enc;
	struct sbx_mount_plan *mounts;
	struct sbx_child_args child;
	struct sbx_run run;
	struct sbx_pooled warm; /* taken from the pool, when have_warm */
	int have_warm;
};

/* The steps of execute() (native.c): 0 or -errno with err set. */
int nat_step_budget(struct nat_call *c, char *err, size_t errlen);
int nat_step_cgroup(struct nat_call *c, char *err, size_t errlen);
int nat_step_mounts(struct nat_call *c, char *err, size_t errlen);
/* Remove what the call made: its cgroups (unless have_cg was cleared),
 * buffers, a pooled sandbox not run. */
void nat_teardown(struct nat_call *c);

/* The pool's maker (warm.c), arg a struct nat_state. */
int nat_make(void *arg, const struct cfg_runner *r, struct sbx_pooled *out,
	     char *err, size_t errlen);

/* The pooled sandbox of c was SIGKILLed before its runner wrote anything
 * but its header: killed while idle, after the take's check (or, rarely,
 * before any outcome of the job). */
int nat_warm_died_idle(const struct nat_call *c);
/* Give that sandbox back for removal and forget the run: c is as before
 * the cgroup step, ready to make a sandbox of its own. */
void nat_warm_drop(struct nat_call *c);

#endif
