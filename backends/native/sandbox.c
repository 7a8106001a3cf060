/* One sandboxed run of runlet-runner.
 *
 * Theory of operation
 * -------------------
 * Processes. A runlet worker thread (the trusted side, root on the host)
 * calls clone() with CLONE_NEWNS|CLONE_NEWPID|CLONE_NEWNET|CLONE_NEWIPC|
 * CLONE_NEWUTS. The child is PID 1 of a new pid namespace: the sandbox init.
 * It runs the steps of child.c (join the submission's cgroup, a cgroup
 * namespace, the mount table and pivot_root, hostname, loopback, capability
 * bounding set, no_new_privs) and execs runlet-runner, which stays PID 1.
 * The runner forks one child per compile/test, each in its own step cgroup,
 * with rlimits, the sandbox uid, no_new_privs and seccomp; between tests it
 * kill(-1, SIGKILL)s and reaps everything in the namespace.
 *
 * Pipes. Four fds connect the worker and the init, all created close-on-exec
 * in the worker so no other thread's child inherits them, and the init closes
 * every fd above 3 before anything else:
 *   stdin   a unix stream socket: the encoded plan (worker writes with
 *           MSG_NOSIGNAL, so a runner that closes early costs no SIGPIPE);
 *   stdout  a pipe: the runner's result records, read to EOF;
 *   stderr  a pipe: the runner's own diagnostics, first 8 KiB kept;
 *   report  a pipe, close-on-exec in the init: one struct sbx_report if a
 *           step fails, EOF when execve succeeded.
 *
 * Who kills whom. The worker holds a deadline (sum of the step wall limits
 * plus a margin) from the moment it sends the plan. Past it, or when stdout
 * grows past its cap, it SIGKILLs the init; when the init of a pid
 * namespace dies the kernel kills every process in it, so nothing of the
 * submission can outlive the runner (double forks, setsid and ignored
 * signals included). The init has PR_SET_PDEATHSIG=SIGKILL: if the thread
 * that made it dies (the worker, or the pool's refill thread), so does the
 * sandbox. After the init is reaped the caller kills whatever is still in the
 * submission's cgroup and removes it, children first (cgroup.c).
 *
 * Files. The sandbox's work dir is a tmpfs that exists only in its mount
 * namespace: it vanishes with the init and the trusted side never walks a
 * path the submission controls.
 *
 * Pool (pool.c, warm.c). Making a sandbox (cgroups, clone, mounts,
 * pivot_root, exec) costs a few ms; a long-lived runlet makes them ahead of
 * need. Everything up to the runner's read of its plan depends only on the
 * language (cfg_runner) and the backend, never on the job, so a sandbox is
 * made in two halves: sbx_start (clone, until the runner is exec'd and
 * blocked on stdin) and sbx_finish (send the plan, collect, reap).
 *   Who pre-forks. One refill thread per backend keeps RUNLET_NATIVE_POOL
 *     (default 2) started sandboxes per language. A language's pool starts
 *     with its second execute(): a one-shot `runlet run` of one submission
 *     never pre-forks, `runlet serve` does from its second job of a
 *     language. Refills wait until no job has run for a few ms, not only
 *     until the job that took a sandbox is done: a refill during a job
 *     contends with it for the cgroup and mount locks (measured: 1.4 ms
 *     per trivial job against 0.8 ms; a cached C++ resubmission 4.6 ms
 *     against 2.6 ms). A language whose jobs find none ready is refilled
 *     at once until full. The refill thread runs at a lower priority; the
 *     inits it makes exec the runner at runlet's.
 *   Taking. execute() removes a ready sandbox of its language from the pool
 *     under the pool's lock, or makes its own as before when none is ready
 *     or the ready ones' limits do not cover the job's.
 *   Single use. sbx_finish consumes the sandbox (the plan socket is closed
 *     after the one plan, the fds are cleared), the runner exits after one
 *     plan anyway, and the init is always killed and reaped after. A pooled
 *     job's collection ends at the runner's end record: the init is
 *     SIGKILLed then, and reaped, with its cgroups removed, on the refill
 *     thread, off the job's path (the exit of a pid namespace's init waits
 *     for its namespaces' teardown: 0.4-0.5 ms measured, more under load).
 *   Per-job values never reach a pooled sandbox: the plan carries them
 *     (limits, files, argv; the runner makes each step's cgroup with the
 *     job's own limits). The two fixed at creation are the language's: the
 *     submission cgroup gets the limits of the largest plan the config
 *     allows the language (max_mem_limit or mem_limit, compile memory,
 *     pids; sbx_budget_of), so a pooled job's submission-level bound is its
 *     language's, not its own; the work dir tmpfs is the language's
 *     tmpfs_size, as for any job.
 *   Deaths. The refill thread is the pooled inits' parent, so their
 *     PDEATHSIG fires when it ends; it blocks every signal but SIGCHLD. A
 *     ready sandbox that died while idle is found by waitpid (at every take
 *     and every half second) and discarded. One SIGKILLed between the
 *     take's check and the plan leaves nothing but the runner's header: the
 *     job then runs once more in a sandbox of its own (so does one whose
 *     runner was SIGKILLed before its first outcome for another reason,
 *     such as the submission cgroup's OOM killer).
 *   close() stops the thread, then kills and reaps every ready sandbox and
 *     removes its cgroups; after a crash the sweep removes them.
 */
#include "sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SBX_STACK (256 * 1024)

int sbx_background_nice(int nice)
{
	return nice + SBX_BACKGROUND_NICE > 19 ? 19 : nice + SBX_BACKGROUND_NICE;
}

uint64_t sbx_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void sbx_run_free(struct sbx_run *r)
{
	if (r)
		wire_buf_free(&r->out);
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Wait for the init until deadline; then kill it and wait for good. */
static void reap(pid_t pid, uint64_t deadline, struct sbx_run *r)
{
	unsigned nap_us = 200;
	for (;;) {
		pid_t w = waitpid(pid, &r->status, WNOHANG | __WALL);
		if (w == pid || (w < 0 && errno != EINTR))
			return;
		if (sbx_now_ms() >= deadline) {
			r->timed_out = 1;
			kill(pid, SIGKILL);
			while (waitpid(pid, &r->status, __WALL) < 0 && errno == EINTR)
				;
			return;
		}
		usleep(nap_us);
		if (nap_us < 20000)
			nap_us *= 2;
	}
}

/* 1 when out holds the result's end record. *off is where the records not
 * yet walked begin (0 at first); a record still arriving is walked again
 * once more of it is there. A value that merely ends in the bytes of an end
 * record is never taken for one: records are walked, not searched. */
static int saw_end(const struct wire_buf *out, size_t *off)
{
	struct wire_reader rd = {out->data, out->len, *off};
	char tag[16];
	const char *val;
	size_t len;
	while (wire_next(&rd, tag, &val, &len) == 1) {
		*off = rd.off;
		if (strcmp(tag, "end") == 0)
			return 1;
	}
	return 0;
}

/* Feed the plan, drain stdout and stderr until both close, the deadline,
 * or (sp->stop_at_end) the result's end record. */
static void pump(pid_t pid, int in_w, int out_r, int err_r,
		 const struct sbx_spawn *sp, uint64_t deadline,
		 struct sbx_run *r)
{
	size_t sent = 0, walked = 0;
	char buf[65536];
	while (out_r >= 0 || err_r >= 0) {
		struct pollfd p[3];
		int np = 0, iin = -1, iout = -1, ierr = -1;
		if (in_w >= 0) {
			p[np] = (struct pollfd){in_w, POLLOUT, 0};
			iin = np++;
		}
		if (out_r >= 0) {
			p[np] = (struct pollfd){out_r, POLLIN, 0};
			iout = np++;
		}
		if (err_r >= 0) {
			p[np] = (struct pollfd){err_r, POLLIN, 0};
			ierr = np++;
		}
		uint64_t now = sbx_now_ms();
		if (now >= deadline) {
			r->timed_out = 1;
			kill(pid, SIGKILL);
			break;
		}
		int n = poll(p, (nfds_t)np, (int)(deadline - now));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		if (iin >= 0 && p[iin].revents) {
			ssize_t w = send(in_w, sp->plan + sent, sp->plan_len - sent,
					 MSG_NOSIGNAL | MSG_DONTWAIT);
			if (w > 0)
				sent += (size_t)w;
			if ((w < 0 && errno != EAGAIN && errno != EINTR) ||
			    sent == sp->plan_len)
				close_fd(&in_w);
		}
		if (iout >= 0 && p[iout].revents) {
			ssize_t got = read(out_r, buf, sizeof(buf));
			if (got > 0) {
				if (r->out.len + (size_t)got > sp->out_max ||
				    wire_buf_append(&r->out, buf, (size_t)got) < 0) {
					r->overflow = 1;
					kill(pid, SIGKILL);
					break;
				}
				if (sp->stop_at_end && saw_end(&r->out, &walked)) {
					r->ended = 1;
					break;
				}
			} else if (got == 0 || errno != EINTR) {
				close_fd(&out_r);
			}
		}
		if (ierr >= 0 && p[ierr].revents) {
			ssize_t got = read(err_r, buf, sizeof(buf));
			if (got > 0) {
				size_t room = sizeof(r->errtext) - 1 - r->errlen;
				size_t k = (size_t)got < room ? (size_t)got : room;
				memcpy(r->errtext + r->errlen, buf, k);
				r->errlen += k;
				r->errtext[r->errlen] = '\0';
			} else if (got == 0 || errno != EINTR) {
				close_fd(&err_r);
			}
		}
	}
	close_fd(&in_w);
	close_fd(&out_r);
	close_fd(&err_r);
}

void sbx_proc_init(struct sbx_proc *p)
{
	p->pid = -1;
	p->in_w = p->out_r = p->err_r = -1;
	p->setup_ms = 0;
}

void sbx_proc_close_fds(struct sbx_proc *p)
{
	close_fd(&p->in_w);
	close_fd(&p->out_r);
	close_fd(&p->err_r);
}

void sbx_proc_kill(struct sbx_proc *p)
{
	int status;
	if (p->pid > 0) {
		kill(p->pid, SIGKILL);
		while (waitpid(p->pid, &status, __WALL) < 0 && errno == EINTR)
			;
	}
	p->pid = -1;
	sbx_proc_close_fds(p);
}

int sbx_proc_gone(struct sbx_proc *p)
{
	int status;
	pid_t w;
	if (p->pid <= 0)
		return 1;
	while ((w = waitpid(p->pid, &status, WNOHANG | __WALL)) < 0 &&
	       errno == EINTR)
		;
	if (w == 0)
		return 0;
	p->pid = -1; /* reaped (or not ours any more): never signalled again */
	return 1;
}

int sbx_start(const struct sbx_spawn *sp, struct sbx_proc *p, int *status,
	      char *err, size_t errlen)
{
	int sv[2] = {-1, -1}, po[2] = {-1, -1}, pe[2] = {-1, -1},
	    pr[2] = {-1, -1};
	void *stack = MAP_FAILED;
	int rc = 0;
	pid_t pid = -1;
	uint64_t t0 = sbx_now_ms();

	sbx_proc_init(p);
	*status = 0;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0 ||
	    pipe2(po, O_CLOEXEC) < 0 || pipe2(pe, O_CLOEXEC) < 0 ||
	    pipe2(pr, O_CLOEXEC) < 0) {
		rc = -errno;
		snprintf(err, errlen, "native sandbox: pipes: %s", strerror(-rc));
		goto out;
	}
	stack = mmap(NULL, SBX_STACK, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	if (stack == MAP_FAILED) {
		rc = -errno;
		snprintf(err, errlen, "native sandbox: stack: %s", strerror(-rc));
		goto out;
	}
	sp->child->fd_in = sv[1];
	sp->child->fd_out = po[1];
	sp->child->fd_err = pe[1];
	sp->child->fd_report = pr[1];
	pid = clone(sbx_child_main, (char *)stack + SBX_STACK,
		    sp->clone_flags | SIGCHLD, sp->child);
	if (pid < 0) {
		rc = -errno;
		snprintf(err, errlen,
			 "native sandbox: clone: %s (namespaces need root or "
			 "CAP_SYS_ADMIN; see `runlet doctor`)", strerror(-rc));
		goto out;
	}
	close_fd(&sv[1]);
	close_fd(&po[1]);
	close_fd(&pe[1]);
	close_fd(&pr[1]);

	struct sbx_report rep;
	ssize_t n;
	while ((n = read(pr[0], &rep, sizeof(rep))) < 0 && errno == EINTR)
		;
	if (n == (ssize_t)sizeof(rep)) {
		while (waitpid(pid, status, __WALL) < 0 && errno == EINTR)
			;
		pid = -1;
		rc = -(rep.err ? rep.err : EIO);
		if (rep.step == SBX_STEP_MOUNTS && rep.index >= 0 &&
		    sp->child->mounts && (size_t)rep.index < sp->child->mounts->n) {
			const struct sbx_mnt_op *op =
				&sp->child->mounts->ops[rep.index];
			snprintf(err, errlen,
				 "native sandbox: setup step \"mounts\" failed at "
				 "%s %s: %s", sbx_mnt_kind_name(op->kind),
				 op->inside, strerror(rep.err));
		} else {
			snprintf(err, errlen,
				 "native sandbox: setup step \"%s\" failed: %s",
				 sbx_step_name(rep.step), strerror(rep.err));
		}
		goto out;
	}
	p->pid = pid;
	p->in_w = sv[0];
	p->out_r = po[0];
	p->err_r = pe[0];
	p->setup_ms = sbx_now_ms() - t0;
	pid = -1;
	sv[0] = po[0] = pe[0] = -1;
out:
	if (pid > 0) {
		kill(pid, SIGKILL);
		while (waitpid(pid, status, __WALL) < 0 && errno == EINTR)
			;
	}
	if (stack != MAP_FAILED)
		munmap(stack, SBX_STACK);
	close_fd(&sv[0]);
	close_fd(&sv[1]);
	close_fd(&po[0]);
	close_fd(&po[1]);
	close_fd(&pe[0]);
	close_fd(&pe[1]);
	close_fd(&pr[0]);
	close_fd(&pr[1]);
	return rc;
}

void sbx_finish(struct sbx_proc *p, const struct sbx_spawn *sp,
		struct sbx_run *r)
{
	uint64_t t0 = sbx_now_ms();
	uint64_t deadline = t0 + sp->deadline_ms;
	pump(p->pid, p->in_w, p->out_r, p->err_r, sp, deadline, r);
	p->in_w = p->out_r = p->err_r = -1;
	if (r->ended) {
		/* the runner said all it had to and is ending by itself; its
		 * namespaces' teardown (in its exit) need not delay this job
		 * nor the next one */
		(void)setpriority(PRIO_PROCESS, (id_t)p->pid, sp->end_nice);
		kill(p->pid, SIGKILL);
	} else {
		reap(p->pid, deadline, r);
		p->pid = -1;
	}
	r->setup_ms = p->setup_ms;
	r->total_ms = p->setup_ms + (sbx_now_ms() - t0);
}

int sbx_execute(const struct sbx_spawn *sp, struct sbx_run *r, char *err,
		size_t errlen)
{
	struct sbx_proc p;
	memset(r, 0, sizeof(*r));
	int rc = sbx_start(sp, &p, &r->status, err, errlen);
	if (rc < 0)
		return rc;
	sbx_finish(&p, sp, r);
	return 0;
}
