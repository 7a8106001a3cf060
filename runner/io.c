/* The poll loop of one running step (see io.h). */
#include "runner/io.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "runner/kill.h"
#include "runner/util.h"

#define IO_CHUNK 65536
#define IO_DRAIN_NS (500 * 1000000ll) /* bound on reading after the exit */

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static void do_kill(struct io_job *j, enum io_kill why)
{
	if (j->kill_reason == IO_KILL_NONE)
		j->kill_reason = why;
	if (!j->reaped)
		kl_step_group(j->pid, j->cg);
}

static void feed_stdin(struct io_job *j)
{
	while (j->in_off < j->in_len) {
		size_t n = j->in_len - j->in_off;
		if (n > 1 << 20)
			n = 1 << 20;
		ssize_t w = write(j->in_fd, j->in + j->in_off, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return;
			break; /* EPIPE: the program does not want more */
		}
		j->in_off += (size_t)w;
	}
	close_fd(&j->in_fd);
}

/* Read once from stdout. Keeps out_max bytes; one more is a kill. */
static void read_stdout(struct io_job *j)
{
	size_t want = IO_CHUNK;
	if (j->out_max && j->out_max - j->out->len + 1 < want)
		want = (size_t)(j->out_max - j->out->len + 1);
	if (blob_reserve(j->out, want) < 0) {
		/* no memory for more output: treat as over the cap */
		j->out_trunc = 1;
		close_fd(&j->out_fd);
		do_kill(j, IO_KILL_STDOUT);
		return;
	}
	ssize_t n = read(j->out_fd, j->out->p + j->out->len, want);
	if (n < 0) {
		if (errno == EINTR || errno == EAGAIN)
			return;
		n = 0;
	}
	if (n == 0) {
		close_fd(&j->out_fd);
		return;
	}
	j->out->len += (size_t)n;
	if (j->out_max && j->out->len > j->out_max) {
		j->out->len = (size_t)j->out_max;
		j->out_trunc = 1;
		close_fd(&j->out_fd);
		do_kill(j, IO_KILL_STDOUT);
	}
}

/* Read once from stderr. Keeps err_keep bytes, discards the rest, and
 * kills beyond err_max. */
static void read_stderr(struct io_job *j)
{
	char scratch[IO_CHUNK];
	char *dst = scratch;
	size_t want = sizeof(scratch);
	int keeping = !j->err_keep || j->err->len < j->err_keep;
	if (keeping) {
		if (j->err_keep && j->err_keep - j->err->len < want)
			want = (size_t)(j->err_keep - j->err->len);
		if (blob_reserve(j->err, want) == 0)
			dst = j->err->p + j->err->len;
		else
			keeping = 0;
	}
	ssize_t n = read(j->err_fd, dst, want);
	if (n < 0) {
		if (errno == EINTR || errno == EAGAIN)
			return;
		n = 0;
	}
	if (n == 0) {
		close_fd(&j->err_fd);
		return;
	}
	j->err_total += (uint64_t)n;
	if (keeping)
		j->err->len += (size_t)n;
	else
		j->err_trunc = 1;
	if (j->err_max && j->err_total > j->err_max) {
		j->err_trunc = 1;
		if (j->err_keep == 0 && j->err->len > j->err_max)
			j->err->len = (size_t)j->err_max;
		close_fd(&j->err_fd);
		do_kill(j, IO_KILL_STDERR);
	}
}

static void read_report(struct io_job *j)
{
	struct child_err e;
	ssize_t n = read(j->report_fd, &e, sizeof(e));
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n == (ssize_t)sizeof(e)) {
		j->setup_failed = 1;
		j->cerr = e;
	}
	close_fd(&j->report_fd);
}

/* Reap what has exited. The step's process: while it is still a zombie (so
 * its pid and process group cannot be reused) SIGKILL the group and the
 * cgroup, then reap it with its rusage. Anything else is an orphan handed
 * to the runner (subreaper or PID 1): reap it now, or its zombie would hold
 * a slot of the pids limit until the step ends. */
static void try_reap(struct io_job *j)
{
	struct signalfd_siginfo ssi;
	while (read(j->sig_fd, &ssi, sizeof(ssi)) == (ssize_t)sizeof(ssi))
		;
	for (;;) {
		siginfo_t si;
		si.si_pid = 0;
		if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT | __WALL) < 0 ||
		    si.si_pid == 0)
			return;
		if (si.si_pid != j->pid) {
			waitpid(si.si_pid, NULL, __WALL);
			continue;
		}
		j->end_ns = ut_now_ns();
		kl_step_group(j->pid, j->cg);
		if (wait4(j->pid, &j->wstatus, __WALL, &j->ru) == j->pid)
			j->reaped = 1;
		return;
	}
}

/* CPU time of the step: the cgroup's when known, else the process's own
 * (utime + stime + waited-for children) from /proc/<pid>/stat. stat_fd is
 * -1 before the first look, -2 when /proc cannot tell. */
static int poll_cpu(struct io_job *j, uint64_t *ns)
{
	if (j->cg && cg_step_cpu_ns(j->cg, ns) == 0)
		return 0;
	if (j->stat_fd == -2)
		return -ENOENT;
	if (j->stat_fd < 0) {
		char path[64];
		snprintf(path, sizeof(path), "/proc/%d/stat", (int)j->pid);
		j->stat_fd = open(path, O_RDONLY | O_CLOEXEC);
		if (j->stat_fd < 0) {
			j->stat_fd = -2;
			return -ENOENT;
		}
	}
	char buf[1024];
	if (ut_pread_small(j->stat_fd, buf, sizeof(buf)) <= 0)
		return -EIO;
	char *p = strrchr(buf, ')'); /* the command may hold spaces */
	if (!p)
		return -EIO;
	/* after the command come state (field 3) ... utime, stime, cutime,
	 * cstime (fields 14..17), in clock ticks */
	int field = 2;
	uint64_t ticks = 0;
	for (p++; *p && field < 17;) {
		while (*p == ' ')
			p++;
		field++;
		if (field >= 14)
			ticks += strtoull(p, NULL, 10);
		while (*p && *p != ' ')
			p++;
	}
	if (field < 17)
		return -EIO;
	long hz = sysconf(_SC_CLK_TCK);
	*ns = ticks * (1000000000ull / (uint64_t)(hz > 0 ? hz : 100));
	return 0;
}

static void check_cpu(struct io_job *j)
{
	uint64_t ns;
	if (poll_cpu(j, &ns) < 0)
		return;
	j->cpu_polled_ns = ns;
	if (ns > j->cpu_limit_ns)
		do_kill(j, IO_KILL_CPU);
}

static int64_t min_deadline(int64_t a, int64_t b)
{
	if (a == 0)
		return b;
	if (b == 0)
		return a;
	return a < b ? a : b;
}

/* One ppoll over the open fds until `until` (0: no timeout). */
static int poll_once(struct io_job *j, int64_t until, int with_sig)
{
	struct pollfd p[5];
	int *who[5];
	int n = 0;
	if (with_sig) {
		p[n] = (struct pollfd){j->sig_fd, POLLIN, 0};
		who[n++] = &j->sig_fd;
	}
	if (j->in_fd >= 0) {
		p[n] = (struct pollfd){j->in_fd, POLLOUT, 0};
		who[n++] = &j->in_fd;
	}
	if (j->out_fd >= 0) {
		p[n] = (struct pollfd){j->out_fd, POLLIN, 0};
		who[n++] = &j->out_fd;
	}
	if (j->err_fd >= 0) {
		p[n] = (struct pollfd){j->err_fd, POLLIN, 0};
		who[n++] = &j->err_fd;
	}
	if (j->report_fd >= 0) {
		p[n] = (struct pollfd){j->report_fd, POLLIN, 0};
		who[n++] = &j->report_fd;
	}
	if (n == 0)
		return 0;
	struct timespec ts, *tsp = NULL;
	if (until) {
		int64_t left = until - ut_now_ns();
		if (left < 0)
			left = 0;
		ts.tv_sec = left / 1000000000;
		ts.tv_nsec = left % 1000000000;
		tsp = &ts;
	}
	int r = ppoll(p, (nfds_t)n, tsp, NULL);
	if (r < 0)
		return errno == EINTR ? 0 : -errno;
	for (int i = 0; i < n; i++) {
		if (!p[i].revents)
			continue;
		if (who[i] == &j->sig_fd)
			try_reap(j);
		else if (who[i] == &j->in_fd) {
			if (p[i].revents & (POLLERR | POLLHUP))
				close_fd(&j->in_fd);
			else
				feed_stdin(j);
		} else if (who[i] == &j->out_fd)
			read_stdout(j);
		else if (who[i] == &j->err_fd)
			read_stderr(j);
		else if (who[i] == &j->report_fd)
			read_report(j);
	}
	return n;
}

int io_run(struct io_job *j)
{
	int64_t next_cpu = 0;
	j->stat_fd = -1;
	if (j->in_len == 0)
		close_fd(&j->in_fd);
	if (j->cpu_limit_ns)
		next_cpu = ut_now_ns() + IO_CPU_POLL_NS;
	int rc = 0;
	while (!j->reaped) {
		int64_t until = 0;
		if (j->kill_reason == IO_KILL_NONE) {
			until = min_deadline(j->deadline_ns, next_cpu);
		}
		rc = poll_once(j, until, 1);
		if (rc < 0)
			break;
		if (j->reaped || j->kill_reason != IO_KILL_NONE)
			continue;
		int64_t now = ut_now_ns();
		if (j->deadline_ns && now >= j->deadline_ns)
			do_kill(j, IO_KILL_WALL);
		else if (next_cpu && now >= next_cpu) {
			check_cpu(j);
			next_cpu = now + IO_CPU_POLL_NS;
		}
	}
	close_fd(&j->in_fd);
	if (j->stat_fd >= 0)
		close(j->stat_fd);
	j->stat_fd = -1;
	if (rc < 0 && !j->reaped) {
		/* the runner cannot watch the step any more: end it */
		kl_step_group(j->pid, j->cg);
		if (wait4(j->pid, &j->wstatus, __WALL, &j->ru) == j->pid)
			j->reaped = 1;
		j->end_ns = ut_now_ns();
	}
	if (rc < 0)
		return rc;
	return 0;
}

void io_drain(struct io_job *j)
{
	int64_t until = ut_now_ns() + IO_DRAIN_NS;
	while (j->out_fd >= 0 || j->err_fd >= 0 || j->report_fd >= 0) {
		if (ut_now_ns() >= until)
			break;
		if (poll_once(j, until, 0) < 0)
			break;
	}
	close_fd(&j->out_fd);
	close_fd(&j->err_fd);
	close_fd(&j->report_fd);
}
