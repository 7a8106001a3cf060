/* One step of a plan: the compile or one test. Prepares what the child
 * needs before fork (resolved program path, rlimit table), creates the step
 * cgroup, forks (the child runs child.c's straight line), moves the child
 * into the cgroup and lets it go, runs the poll loop (io.c), kills and reaps
 * the leftovers (kill.c) and turns the result into a wire_outcome. */
#ifndef RUNLET_RUNNER_EXEC_H
#define RUNLET_RUNNER_EXEC_H

#include <limits.h>
#include <linux/filter.h>
#include <sys/types.h>

#include "runner/blob.h"
#include "runner/cgroup.h"
#include "runner/rlimits.h"
#include "runner/wire.h"

/* What every step of one runner shares. Pointers borrowed for the runner's
 * life; out/err and kept are owned (ex_env_release frees them). */
struct ex_env {
	int sig_fd;                       /* SIGCHLD signalfd */
	int is_pid1;                      /* PID 1 of its pid namespace */
	pid_t self;                       /* the runner's pid */
	int drop_ids;                     /* root and the plan sets uid/gid */
	uid_t uid;                        /* (uid_t)-1: keep */
	gid_t gid;                        /* (gid_t)-1: keep */
	const struct sock_fprog *seccomp; /* NULL: no filter */
	struct cg_conf cg;
	int oom_fd;                       /* oomwatch.h counter, -1: none */
	int close_fallback_max;
	unsigned seq;                     /* steps so far, names cgroups */
	unsigned par_slot;                /* parallel worker: 1 + its index,
					   * names its cgroup (EX_CG_WORKER);
					   * 0: "s<seq>" */
	struct cg_step kept;              /* the last test's step cgroup,
					   * emptied, for the next test */
	int have_kept;
	struct blob out, err;             /* capture buffers, reused */
	char note[PATH_MAX + 256];         /* the last outcome's note */
};

/* Step cgroup name of parallel worker k - 1, which its tests share
 * (cgroup.h): unique in the run, so the runner can remove it when the
 * worker dies. */
#define EX_CG_WORKER "w%u"

/* A step prepared once and run any number of times. */
struct ex_step {
	const struct wire_step *ws; /* borrowed from the plan */
	int resolved;               /* 1: path found; -1: note says why not */
	char path[PATH_MAX];
	char note[PATH_MAX + 128];
	struct rl_set rl;
	int share_cg;               /* 1: a test; its step cgroup may serve the
				     * next test of this process (cgroup.h) */
};

/* Resolve argv[0] against the step env's PATH (default
 * /usr/local/bin:/usr/bin:/bin) and build the rlimit table. share_cg: the
 * step is the tests' (run) step, whose runs may share a cgroup; never the
 * compile, whose leftovers (the compiler's page cache, the binary) must
 * not follow the tests. */
void ex_prepare(const struct ex_env *env, const struct wire_step *ws,
		int share_cg, struct ex_step *st);

/* Run the step once with in as stdin. On 0, o is filled; its out, err and
 * note point into env (valid until the next ex_run: do not free them). On
 * -errno the runner itself failed and err says why. */
int ex_run(struct ex_env *env, const struct ex_step *st, const char *in,
	   size_t in_len, struct wire_outcome *o, char *err, size_t errlen);

/* The end of the process's steps: remove the kept step cgroup, free the
 * capture buffers. 0, or -errno with err when the cgroup could not be
 * removed. */
int ex_env_release(struct ex_env *env, char *err, size_t errlen);

#endif /* RUNLET_RUNNER_EXEC_H */
