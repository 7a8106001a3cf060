/* The sandbox init between clone() and exec: see child.h for the rules. */
#include "child.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

const char *sbx_step_name(int step)
{
	static const char *const names[] = {
		"?", "fds", "signals", "pdeathsig", "session", "cgroup",
		"cgroup namespace", "mounts", "pivot_root", "hostname",
		"loopback", "capabilities", "no_new_privs", "chdir", "priority",
		"exec",
	};
	return step > 0 && (size_t)step < sizeof(names) / sizeof(names[0])
		       ? names[step] : "?";
}

uint64_t sbx_runner_caps(void)
{
	return (1ull << CAP_SETUID) | (1ull << CAP_SETGID) | (1ull << CAP_CHOWN) |
	       (1ull << CAP_FOWNER) | (1ull << CAP_DAC_OVERRIDE) |
	       (1ull << CAP_KILL);
}

static int step_fds(struct sbx_child_args *a, int *rep)
{
	int hi[4], src[4] = {a->fd_in, a->fd_out, a->fd_err, a->fd_report};
	for (int i = 0; i < 4; i++)
		if ((hi[i] = fcntl(src[i], F_DUPFD_CLOEXEC, 16)) < 0)
			return -errno;
	*rep = hi[3];
	for (int i = 0; i < 3; i++)
		if (dup2(hi[i], i) < 0)
			return -errno;
	if (dup3(hi[3], 3, O_CLOEXEC) < 0)
		return -errno;
	*rep = 3;
	if (syscall(SYS_close_range, 4u, ~0u, 0u) < 0) {
		for (int fd = 4; fd < 65536; fd++)
			(void)close(fd);
	}
	return 0;
}

static int step_signals(void)
{
	sigset_t none;
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	for (int s = 1; s < _NSIG; s++)
		(void)sigaction(s, &sa, NULL);
	sigemptyset(&none);
	if (sigprocmask(SIG_SETMASK, &none, NULL) < 0)
		return -errno;
	return 0;
}

static int step_cgroup(struct sbx_child_args *a)
{
	for (size_t i = 0; i < a->ncg; i++) {
		int fd = open(a->cg_files[i], O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
		if (fd < 0)
			return -errno;
		ssize_t n = write(fd, "0", 1);
		int e = errno;
		close(fd);
		if (n != 1)
			return -e;
	}
	return 0;
}

static int step_loopback(void)
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, "lo", 3);
	int rc = 0;
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0) {
		rc = -errno;
	} else {
		ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
		if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
			rc = -errno;
	}
	close(fd);
	return rc;
}

static int step_caps(struct sbx_child_args *a)
{
	for (int c = 0; c <= a->cap_last && c < 64; c++) {
		if (a->keep_caps & (1ull << c))
			continue;
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
			return -errno;
	}
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 &&
	    errno != EINVAL)
		return -errno;
	struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct data[2];
	if (syscall(SYS_capget, &hdr, data) < 0)
		return -errno;
	data[0].inheritable = data[1].inheritable = 0;
	if (syscall(SYS_capset, &hdr, data) < 0)
		return -errno;
	return 0;
}

static void fail(int rep, int step, int err, int index)
{
	struct sbx_report r = {step, err < 0 ? -err : err, index};
	ssize_t n = write(rep, &r, sizeof(r));
	(void)n;
	_exit(127);
}

int sbx_child_main(void *arg)
{
	struct sbx_child_args *a = arg;
	int rep = a->fd_report, rc, idx = -1;
	static const char hostname[] = "runlet";

	if ((rc = step_fds(a, &rep)) < 0)
		fail(rep, SBX_STEP_FDS, rc, -1);
	if ((rc = step_signals()) < 0)
		fail(rep, SBX_STEP_SIGNALS, rc, -1);
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		fail(rep, SBX_STEP_PDEATHSIG, errno, -1);
	if (!a->full && setsid() < 0)
		fail(rep, SBX_STEP_SESSION, errno, -1);
	if ((rc = step_cgroup(a)) < 0)
		fail(rep, SBX_STEP_CGROUP, rc, -1);
	if (a->full && a->cgns && unshare(CLONE_NEWCGROUP) < 0)
		fail(rep, SBX_STEP_CGROUPNS, errno, -1);
	if (a->full) {
		if ((rc = sbx_mounts_apply(a->mounts, &idx)) < 0)
			fail(rep, SBX_STEP_MOUNTS, rc, idx);
		if ((rc = sbx_mounts_pivot(a->mounts)) < 0)
			fail(rep, SBX_STEP_PIVOT, rc, -1);
		if (sethostname(hostname, sizeof(hostname) - 1) < 0 ||
		    setdomainname(hostname, sizeof(hostname) - 1) < 0)
			fail(rep, SBX_STEP_HOSTNAME, errno, -1);
		if ((rc = step_loopback()) < 0)
			fail(rep, SBX_STEP_LOOPBACK, rc, -1);
		if ((rc = step_caps(a)) < 0)
			fail(rep, SBX_STEP_CAPS, rc, -1);
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		fail(rep, SBX_STEP_NNP, errno, -1);
	umask(022);
	if (chdir(a->workdir) < 0)
		fail(rep, SBX_STEP_CHDIR, errno, -1);
	/* a pooled init was made at the refill thread's lower priority; the
	 * runner and the submission run at runlet's */
	if (setpriority(PRIO_PROCESS, 0, a->nice) < 0)
		fail(rep, SBX_STEP_PRIORITY, errno, -1);
	char *const argv[] = {(char *)"runlet-runner", NULL};
	char *const envp[] = {(char *)"PATH=/usr/local/bin:/usr/bin:/bin",
			      (char *)"LANG=C.UTF-8", NULL};
	execve(a->exec_path, argv, envp);
	fail(rep, SBX_STEP_EXEC, errno, -1);
	return 127;
}
