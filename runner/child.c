/* Between fork and execve: the child's straight line of set-up steps (see
 * child.h for the order and the rules: no malloc, no stdio). */
#include "runner/child.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <sys/syscall.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

struct child_state {
	const struct child_spec *s;
	int report; /* current fd of the error pipe */
	int go;     /* current fd of the go pipe or -1 */
	int32_t arg;
};

static int st_signals(struct child_state *c)
{
	sigset_t none;
	struct sigaction dfl;
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	for (int sig = 1; sig < NSIG; sig++) {
		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		if (sigaction(sig, &dfl, NULL) == 0)
			continue;
		if (errno != EINVAL)
			return -errno;
		/* glibc refuses its internal signals (32, 33) with EINVAL, but
		 * they may have come in ignored: reset them with the raw call */
		struct {
			void *handler;
			unsigned long flags;
			void *restorer;
			unsigned long mask;
		} kact = {0};
		if (syscall(SYS_rt_sigaction, sig, &kact, NULL, sizeof(kact.mask)) < 0 &&
		    errno != EINVAL)
			return -errno;
	}
	sigemptyset(&none);
	return sigprocmask(SIG_SETMASK, &none, NULL) < 0 ? -errno : 0;
}

static int st_setpgid(struct child_state *c)
{
	return setpgid(0, 0) < 0 ? -errno : 0;
}

/* Move the pipes to 0..4 without clobbering one another: first copy every
 * source above 4, then dup2 the copies down. */
static int st_fds(struct child_state *c)
{
	const struct child_spec *s = c->s;
	int src[5] = {s->fd_in, s->fd_out, s->fd_err, s->fd_report, s->fd_go};
	int n = s->fd_go >= 0 ? 5 : 4;
	int hi[5];
	for (int i = 0; i < n; i++) {
		hi[i] = fcntl(src[i], F_DUPFD_CLOEXEC, 5);
		if (hi[i] < 0)
			return -errno;
	}
	c->report = hi[3];
	for (int i = 0; i < n; i++) {
		if (dup2(hi[i], i) < 0)
			return -errno;
	}
	c->report = 3;
	if (fcntl(3, F_SETFD, FD_CLOEXEC) < 0)
		return -errno;
	if (n == 5) {
		c->go = 4;
		if (fcntl(4, F_SETFD, FD_CLOEXEC) < 0)
			return -errno;
	}
	return 0;
}

static int st_close(struct child_state *c)
{
	unsigned first = c->go >= 0 ? 5 : 4;
	if (close_range(first, ~0U, 0) == 0)
		return 0;
	if (errno != ENOSYS && errno != EINVAL)
		return -errno;
	for (int fd = (int)first; fd < c->s->close_fallback_max; fd++)
		close(fd);
	return 0;
}

static int st_go(struct child_state *c)
{
	if (c->go < 0)
		return 0;
	char b;
	ssize_t n;
	do
		n = read(c->go, &b, 1);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (n == 0)
		return -ECANCELED; /* the runner gave up on this step */
	close(c->go);
	c->go = -1;
	return 0;
}

static int st_rlimits(struct child_state *c)
{
	size_t failed = 0;
	int rc = rl_apply(c->s->rl, &failed);
	if (rc < 0)
		c->arg = c->s->rl->e[failed].resource;
	return rc;
}

static int st_setgroups(struct child_state *c)
{
	if (!c->s->drop_ids)
		return 0;
	return setgroups(0, NULL) < 0 ? -errno : 0;
}

static int st_setresgid(struct child_state *c)
{
	gid_t g = c->s->gid;
	if (!c->s->drop_ids || g == (gid_t)-1)
		return 0;
	return setresgid(g, g, g) < 0 ? -errno : 0;
}

static int st_setresuid(struct child_state *c)
{
	uid_t u = c->s->uid;
	if (!c->s->drop_ids || u == (uid_t)-1)
		return 0;
	if (setresuid(u, u, u) < 0)
		return -errno;
	/* leaving root drops every capability, unless the runner was given
	 * ambient ones with keep-caps: clear those too (EINVAL: kernels
	 * before 4.3 have none) */
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 &&
	    errno != EINVAL)
		return -errno;
	return 0;
}

static int st_nnp(struct child_state *c)
{
	return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ? -errno : 0;
}

static int st_pdeath(struct child_state *c)
{
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		return -errno;
	if (getppid() != c->s->runner_pid)
		return -ESRCH; /* the runner died before we could notice */
	return 0;
}

static int st_seccomp(struct child_state *c)
{
	if (!c->s->seccomp)
		return 0;
	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, c->s->seccomp, 0,
		     0) < 0
		       ? -errno
		       : 0;
}

static int st_execve(struct child_state *c)
{
	execve(c->s->path, c->s->argv, c->s->envp);
	return -errno;
}

static const struct {
	enum child_step step;
	int (*fn)(struct child_state *c);
} steps[] = {
	{CS_SIGNALS, st_signals},     {CS_SETPGID, st_setpgid},
	{CS_FDS, st_fds},             {CS_CLOSE, st_close},
	{CS_GO, st_go},               {CS_RLIMITS, st_rlimits},
	{CS_SETGROUPS, st_setgroups}, {CS_SETRESGID, st_setresgid},
	{CS_SETRESUID, st_setresuid}, {CS_NNP, st_nnp},
	{CS_PDEATH, st_pdeath},       {CS_SECCOMP, st_seccomp},
	{CS_EXECVE, st_execve},
};

_Noreturn void child_run(const struct child_spec *s)
{
	struct child_state c = {s, s->fd_report, -1, 0};
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		int rc = steps[i].fn(&c);
		if (rc < 0) {
			struct child_err e = {(int32_t)steps[i].step,
					      (int32_t)-rc, c.arg};
			ssize_t w;
			do
				w = write(c.report, &e, sizeof(e));
			while (w < 0 && errno == EINTR);
			_exit(127);
		}
	}
	_exit(127); /* not reached: execve returned without an error */
}

static const char *const step_names[] = {
	[CS_SIGNALS] = "reset signals",
	[CS_SETPGID] = "setpgid",
	[CS_FDS] = "dup2 stdio",
	[CS_CLOSE] = "close_range",
	[CS_GO] = "wait for cgroup",
	[CS_RLIMITS] = "setrlimit",
	[CS_SETGROUPS] = "setgroups",
	[CS_SETRESGID] = "setresgid",
	[CS_SETRESUID] = "setresuid",
	[CS_NNP] = "prctl(PR_SET_NO_NEW_PRIVS)",
	[CS_PDEATH] = "prctl(PR_SET_PDEATHSIG)",
	[CS_SECCOMP] = "seccomp filter",
	[CS_EXECVE] = "execve",
};

void child_err_describe(const struct child_err *e, const char *path,
			char *buf, size_t len)
{
	const char *name = "set-up";
	if (e->step >= CS_SIGNALS && e->step <= CS_EXECVE)
		name = step_names[e->step];
	if (e->step == CS_EXECVE)
		snprintf(buf, len, "%s %s: %s", name, path, strerror(e->err));
	else if (e->step == CS_RLIMITS)
		snprintf(buf, len, "%s %s: %s", name, rl_name(e->arg),
			 strerror(e->err));
	else
		snprintf(buf, len, "%s: %s", name, strerror(e->err));
}
