/* The sandbox init: what runs between clone() and the exec of
 * runlet-runner, as a straight line of steps (enum sbx_step, in order).
 * Runs in a copy of a possibly multi-threaded daemon: system calls only, no
 * malloc, no stdio. A failed step is reported through the close-on-exec
 * report pipe as one struct sbx_report, then the init _exits.
 *
 * Ownership: struct sbx_child_args and everything it points to belong to the
 * parent; the child sees its copy-on-write image.
 */
#ifndef RUNLET_SBX_CHILD_H
#define RUNLET_SBX_CHILD_H

#include <stdint.h>

#include "cgroup.h"
#include "mounts.h"

enum sbx_step {
	SBX_STEP_FDS = 1,   /* plan/result/stderr to 0/1/2, everything else closed */
	SBX_STEP_SIGNALS,   /* default dispositions, nothing blocked */
	SBX_STEP_PDEATHSIG, /* die with the parent thread */
	SBX_STEP_SESSION,   /* (plain mode) own session and process group */
	SBX_STEP_CGROUP,    /* join the submission's cgroups */
	SBX_STEP_CGROUPNS,  /* a cgroup namespace rooted there */
	SBX_STEP_MOUNTS,    /* the mount table */
	SBX_STEP_PIVOT,     /* pivot_root, old root detached, / read-only */
	SBX_STEP_HOSTNAME,  /* sethostname("runlet") */
	SBX_STEP_LOOPBACK,  /* lo up: the only interface of the net namespace */
	SBX_STEP_CAPS,      /* bounding set cut to what the runner needs */
	SBX_STEP_NNP,       /* no_new_privs */
	SBX_STEP_CHDIR,     /* into the work dir */
	SBX_STEP_PRIORITY,  /* the runner's nice value (runlet's own) */
	SBX_STEP_EXEC,      /* execve runlet-runner */
};

/* The fixed-size failure record. */
struct sbx_report {
	int32_t step;  /* enum sbx_step */
	int32_t err;   /* errno */
	int32_t index; /* SBX_STEP_MOUNTS: the failing op, else -1 */
};

struct sbx_child_args {
	int fd_in, fd_out, fd_err, fd_report; /* child's ends, parent numbering */
	int full;                   /* 1: namespaces and mounts; 0: plain */
	char cg_files[3][SBX_CGFILE]; /* cgroup.procs files to join */
	size_t ncg;
	int cgns;                   /* unshare a cgroup namespace after joining */
	struct sbx_mount_plan *mounts; /* full mode only */
	const char *exec_path;      /* the runner, as the child sees it */
	const char *workdir;        /* chdir target */
	uint64_t keep_caps;         /* bit per capability kept in the bounding set */
	int cap_last;               /* /proc/sys/kernel/cap_last_cap */
	int nice;                   /* the runner's nice value: runlet's, whatever
				     * the thread that made the init runs at */
};

/* Name of a step for messages. */
const char *sbx_step_name(int step);

/* The clone() entry point; arg is a struct sbx_child_args. Never returns
 * on success (exec); on failure reports and _exits 127. */
int sbx_child_main(void *arg);

/* The bounding set runlet-runner keeps: setuid, setgid, chown, fowner,
 * dac_override, kill. */
uint64_t sbx_runner_caps(void);

#endif
