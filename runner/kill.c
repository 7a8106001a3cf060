/* Killing and reaping what a step leaves behind (see kill.h). */
#include "runner/kill.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#define KL_MAX_ROUNDS 10000

int kl_init(void)
{
	return prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0 ? -errno : 0;
}

void kl_step_group(pid_t pgid, struct cg_step *cg)
{
	if (pgid > 0) {
		kill(-pgid, SIGKILL);
		kill(pgid, SIGKILL); /* in case it has not made its group yet */
	}
	if (cg)
		cg_step_kill(cg);
}

static void reap_ready(void)
{
	while (waitpid(-1, NULL, WNOHANG | __WALL) > 0)
		;
}

/* SIGKILL and reap the runner's remaining children (re-parented orphans),
 * generation after generation. Only numbers followed by a separator are
 * taken (the file ends every pid with a space), so a pid cut off at the end
 * of the buffer is never mistaken for another. Every pid listed is the
 * runner's unreaped child, so it cannot have been reused. Returns how many
 * it found, -1 when the kernel does not list children. */
static int kept(pid_t pid, const pid_t *keep, size_t nkeep)
{
	for (size_t i = 0; i < nkeep; i++)
		if (keep[i] == pid)
			return 1;
	return 0;
}

static long kill_children(int fd, const pid_t *keep, size_t nkeep)
{
	char buf[4096];
	long found = 0;
	ssize_t n;
	while ((n = pread(fd, buf, sizeof(buf), 0)) > 0) {
		long round = 0;
		pid_t cur = 0;
		int in_num = 0;
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] >= '0' && buf[i] <= '9') {
				cur = cur * 10 + (buf[i] - '0');
				in_num = 1;
				continue;
			}
			if (in_num && cur > 0 && !kept(cur, keep, nkeep)) {
				kill(cur, SIGKILL);
				waitpid(cur, NULL, __WALL);
				round++;
			}
			cur = 0;
			in_num = 0;
		}
		found += round;
		if (round == 0 || found > KL_MAX_ROUNDS)
			break;
	}
	return n < 0 ? -1 : found;
}

void kl_leftovers(struct cg_step *cg, int is_pid1)
{
	if (cg)
		cg_step_kill(cg);
	if (is_pid1) {
		/* Only here: PID 1 of its own namespace. kill(-1) spares the
		 * caller and reaches every other process of the namespace. */
		kill(-1, SIGKILL);
		while (waitpid(-1, NULL, __WALL) > 0 || errno == EINTR)
			;
		return;
	}
	int fd = open("/proc/thread-self/children", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (kill_children(fd, NULL, 0) > KL_MAX_ROUNDS)
			fprintf(stderr, "runlet-runner: gave up killing the "
					"step's orphans after %d\n", KL_MAX_ROUNDS);
		close(fd);
	}
	reap_ready();
}

void kl_orphans_except(const pid_t *keep, size_t nkeep)
{
	int fd = open("/proc/thread-self/children", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (kill_children(fd, keep, nkeep) > KL_MAX_ROUNDS)
			fprintf(stderr, "runlet-runner: gave up killing a dead "
					"worker's orphans after %d\n", KL_MAX_ROUNDS);
		close(fd);
	}
	/* reap only what is not kept: a kept worker's exit is its owner's */
	for (;;) {
		siginfo_t si;
		si.si_pid = 0;
		if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT | __WALL) < 0 ||
		    si.si_pid == 0 || kept(si.si_pid, keep, nkeep))
			break;
		waitpid(si.si_pid, NULL, __WALL);
	}
}
