/* The child side of one step: what runs between fork and execve.
 *
 * Everything the child needs is computed by the runner before fork and
 * passed in a struct child_spec (all pointers borrowed from the runner's
 * memory, which the child only reads). The child does a straight line of
 * steps, each returning an int, in this order:
 *
 *   signals   default dispositions, empty signal mask
 *   setpgid   own process group (the runner kills the group)
 *   fds       pipes to 0/1/2, the error pipe to 3, the go pipe to 4
 *   close     close every other fd (close_range)
 *   go        wait until the runner has put it into the step cgroup
 *   rlimits   the table of rlimits.c
 *   ids       setgroups(0), setresgid, setresuid (when dropping)
 *   nnp       PR_SET_NO_NEW_PRIVS
 *   pdeath    PR_SET_PDEATHSIG SIGKILL (after the id change, which clears it)
 *   seccomp   the prepared BPF program (when given)
 *   execve    exactly the plan's argv and env
 *
 * A failed step writes a struct child_err to the error pipe (close-on-exec,
 * so the runner reads EOF when execve succeeds) and _exits 127. No malloc,
 * no stdio. */
#ifndef RUNLET_RUNNER_CHILD_H
#define RUNLET_RUNNER_CHILD_H

#include <linux/filter.h>
#include <stdint.h>
#include <sys/types.h>

#include "runner/rlimits.h"

enum child_step {
	CS_SIGNALS = 1,
	CS_SETPGID,
	CS_FDS,
	CS_CLOSE,
	CS_GO,
	CS_RLIMITS,
	CS_SETGROUPS,
	CS_SETRESGID,
	CS_SETRESUID,
	CS_NNP,
	CS_PDEATH,
	CS_SECCOMP,
	CS_EXECVE,
};

/* The fixed-size record of a failed step. */
struct child_err {
	int32_t step; /* enum child_step */
	int32_t err;  /* errno */
	int32_t arg;  /* rlimit resource for CS_RLIMITS, else 0 */
};

struct child_spec {
	int fd_in, fd_out, fd_err; /* become 0, 1, 2 */
	int fd_report;             /* error pipe, write end */
	int fd_go;                 /* go pipe read end or -1 */
	int close_fallback_max;    /* without close_range: close up to this */
	const struct rl_set *rl;
	int drop_ids;              /* 1: set groups/gid/uid below */
	uid_t uid;                 /* (uid_t)-1: keep */
	gid_t gid;                 /* (gid_t)-1: keep */
	pid_t runner_pid;          /* to detect a runner already gone */
	const struct sock_fprog *seccomp; /* NULL: none */
	const char *path;          /* resolved program */
	char *const *argv;
	char *const *envp;
};

_Noreturn void child_run(const struct child_spec *s);

/* Human-readable description of a failed step, for the outcome note. */
void child_err_describe(const struct child_err *e, const char *path,
			char *buf, size_t len);

#endif /* RUNLET_RUNNER_CHILD_H */
