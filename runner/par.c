/* Parallel tests, the runner's side: workers, dispatch, plan-order output
 * (see par.h). */
#include "runner/par.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runlet/plugin.h"
#include "runner/kill.h"
#include "runner/util.h"

#define PAR_CHUNK 65536

struct pw {
	pid_t pid;      /* 0: gone (reaped) */
	int task_fd;    /* write end of its task pipe, -1: closed */
	int result_fd;  /* read end of its result pipe, -1: closed */
	long cur;       /* index in flight, -1: idle */
	struct blob in; /* bytes received, not yet a whole frame */
};

struct par {
	const struct wire_plan *plan;
	struct ex_env *env;
	struct rp_out *out;
	struct pw *w;
	unsigned nw;
	size_t next_task;   /* first index not handed out */
	size_t next_out;    /* first index not written */
	size_t stop_at;     /* ntests, or the index of a runner error */
	struct blob *done;  /* encoded outcome per index; blobs (blob.h), so
			     * a restarted worker's tests do not inherit
			     * what waits here */
	unsigned char *have;
	char *err;
	size_t errlen;
	int write_rc;       /* first failure writing stdout */
	const struct par_work *work; /* for starting a worker again */
	size_t restarts;
};

static int spawn(struct par *p, const struct par_work *work, unsigned k);

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Hand the next test to worker k, or tell it there are no more. */
static void dispatch(struct par *p, struct pw *w)
{
	w->cur = -1;
	if (w->task_fd < 0)
		return;
	if (p->next_task < p->stop_at) {
		uint32_t idx = (uint32_t)p->next_task;
		if (ut_write_all(w->task_fd, &idx, sizeof(idx)) == 0) {
			w->cur = (long)p->next_task++;
			return;
		}
	}
	close_fd(&w->task_fd); /* EOF: the worker ends */
}

/* Write every outcome whose predecessors are all written. */
static void flush(struct par *p)
{
	while (p->next_out < p->stop_at && p->have[p->next_out]) {
		struct blob *b = &p->done[p->next_out];
		if (p->write_rc == 0 && b->len)
			p->write_rc = ut_write_all(p->out->fd, b->p, b->len);
		blob_free(b);
		p->next_out++;
	}
}

static void store(struct par *p, size_t idx, const char *data, size_t len)
{
	if (idx >= p->plan->ntests || p->have[idx])
		return;
	p->have[idx] = 1;
	if (blob_append(&p->done[idx], data, len) < 0 && p->write_rc == 0)
		p->write_rc = -ENOMEM;
}

/* An outcome the runner writes itself: the test could not be run. */
static void store_setup(struct par *p, size_t idx, const char *note)
{
	struct wire_outcome o;
	struct wire_buf b = {0};
	memset(&o, 0, sizeof(o));
	o.num = p->plan->tests[idx].num;
	o.status = RUNLET_EXIT_SETUP;
	o.note = (char *)note;
	if (wire_outcome_encode(&o, &b) < 0 && p->write_rc == 0)
		p->write_rc = -ENOMEM;
	store(p, idx, b.data, b.len);
	wire_buf_free(&b);
}

/* A runner error in test idx: stop there, like the sequential runner. */
static void stop(struct par *p, size_t idx, const char *msg, size_t len)
{
	if (idx >= p->stop_at)
		return;
	p->stop_at = idx;
	snprintf(p->err, p->errlen, "%.*s", (int)(len > 900 ? 900 : len), msg);
}

/* Take whole frames off the front of w->in. */
static void frames(struct par *p, struct pw *w)
{
	size_t off = 0;
	while (w->in.len - off >= sizeof(struct par_frame)) {
		struct par_frame f;
		memcpy(&f, w->in.p + off, sizeof(f));
		if (w->in.len - off - sizeof(f) < f.len)
			break;
		const char *data = w->in.p + off + sizeof(f);
		if (f.kind == 'o') {
			store(p, f.index, data, (size_t)f.len);
		} else {
			stop(p, f.index, data, (size_t)f.len);
			if (f.index < p->plan->ntests)
				p->have[f.index] = 1; /* not to be made a SETUP */
		}
		off += sizeof(f) + (size_t)f.len;
		if ((long)f.index == w->cur)
			dispatch(p, w);
	}
	if (off) {
		memmove(w->in.p, w->in.p + off, w->in.len - off);
		w->in.len -= off;
	}
}

/* A worker died during test w->cur: a SETUP outcome for it, and its
 * processes (re-parented to the runner) and its step cgroup are removed
 * (before a new worker k takes the name). */
static void lost_test(struct par *p, struct pw *w, int ws)
{
	size_t idx = (size_t)w->cur;
	w->cur = -1;
	pid_t live[PAR_MAX_WORKERS];
	size_t nlive = 0;
	for (unsigned k = 0; k < p->nw; k++)
		if (p->w[k].pid > 0)
			live[nlive++] = p->w[k].pid;
	kl_orphans_except(live, nlive);
	if (cg_enabled(&p->env->cg)) {
		char name[32], why[512];
		snprintf(name, sizeof(name), EX_CG_WORKER, (unsigned)(w - p->w) + 1);
		if (cg_step_remove(&p->env->cg, name, why, sizeof(why)) < 0)
			fprintf(stderr, "runlet-runner: %s\n", why);
	}
	if (idx < p->plan->ntests && p->have[idx])
		return;
	char note[160];
	if (WIFSIGNALED(ws))
		snprintf(note, sizeof(note), "the runner's worker for this test "
			 "was killed by signal %d%s", WTERMSIG(ws),
			 WTERMSIG(ws) == SIGKILL ? " (out of memory in the "
						   "sandbox, or killed)" : "");
	else
		snprintf(note, sizeof(note), "the runner's worker for this test "
			 "exited with status %d", WEXITSTATUS(ws));
	fprintf(stderr, "runlet-runner: test %llu: %s\n",
		(unsigned long long)p->plan->tests[idx].num, note);
	store_setup(p, idx, note);
}

/* The worker's result pipe ended: reap it, account for its test, and
 * start another worker when tests are left. */
static void gone(struct par *p, struct pw *w)
{
	int ws = 0;
	close_fd(&w->result_fd);
	close_fd(&w->task_fd);
	while (waitpid(w->pid, &ws, __WALL) < 0 && errno == EINTR)
		;
	w->pid = 0;
	if (w->cur >= 0)
		lost_test(p, w, ws);
	/* tests are left: a new worker takes them (at most ntests restarts,
	 * so a worker that cannot start ends in SETUP outcomes, not a loop) */
	if (p->next_task < p->stop_at && p->work &&
	    p->restarts < p->plan->ntests) {
		p->restarts++;
		blob_free(&w->in);
		if (spawn(p, p->work, (unsigned)(w - p->w)) == 0)
			dispatch(p, w);
	}
}

static void on_readable(struct par *p, struct pw *w)
{
	char chunk[PAR_CHUNK];
	ssize_t n = read(w->result_fd, chunk, sizeof(chunk));
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		gone(p, w);
		return;
	}
	if (blob_append(&w->in, chunk, (size_t)n) < 0) {
		if (p->write_rc == 0)
			p->write_rc = -ENOMEM;
		kill(w->pid, SIGKILL); /* its test becomes a SETUP outcome */
		return;
	}
	frames(p, w);
}

/* Fork worker k with its two pipes. */
static int spawn(struct par *p, const struct par_work *work, unsigned k)
{
	int task[2], res[2];
	if (pipe2(task, O_CLOEXEC) < 0)
		return -errno;
	if (pipe2(res, O_CLOEXEC) < 0) {
		int e = errno;
		close(task[0]);
		close(task[1]);
		return -e;
	}
	int others[2 * PAR_MAX_WORKERS + 2];
	size_t no = 0;
	for (unsigned i = 0; i < p->nw; i++) {
		if (i == k)
			continue;
		if (p->w[i].task_fd >= 0)
			others[no++] = p->w[i].task_fd;
		if (p->w[i].result_fd >= 0)
			others[no++] = p->w[i].result_fd;
	}
	others[no++] = task[1];
	others[no++] = res[0];
	pid_t pid = fork();
	if (pid < 0) {
		int e = errno;
		close(task[0]);
		close(task[1]);
		close(res[0]);
		close(res[1]);
		return -e;
	}
	if (pid == 0)
		par_worker(work, k, task[0], res[1], others, no);
	close(task[0]);
	close(res[1]);
	int fl = fcntl(res[0], F_GETFL);
	if (fl >= 0)
		fcntl(res[0], F_SETFL, fl | O_NONBLOCK);
	p->w[k] = (struct pw){pid, task[1], res[0], -1, {0}};
	return 0;
}

static int loop(struct par *p)
{
	struct pollfd pf[PAR_MAX_WORKERS];
	struct pw *who[PAR_MAX_WORKERS];
	for (;;) {
		nfds_t n = 0;
		for (unsigned k = 0; k < p->nw; k++) {
			if (p->w[k].result_fd < 0)
				continue;
			pf[n] = (struct pollfd){p->w[k].result_fd, POLLIN, 0};
			who[n++] = &p->w[k];
		}
		if (n == 0)
			return 0;
		int r = poll(pf, n, -1);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (nfds_t i = 0; i < n; i++)
			if (pf[i].revents)
				on_readable(p, who[i]);
		flush(p);
	}
}

int par_run(struct ex_env *env, const struct ex_step *st,
	    const struct wire_plan *plan, const struct pl_inputs *in,
	    unsigned n, struct rp_out *out, char *err, size_t errlen)
{
	struct par p = {plan, env, out, NULL, 0, 0, 0, plan->ntests,
			NULL, NULL, err, errlen, 0, NULL, 0};
	size_t total = in->arena.len ? in->arena.len : 1;
	char *shared = MAP_FAILED;
	int rc = -ENOMEM;

	if (n > PAR_MAX_WORKERS)
		n = PAR_MAX_WORKERS;
	if (n > plan->ntests)
		n = (unsigned)plan->ntests;
	p.w = calloc(n, sizeof(*p.w));
	p.done = calloc(plan->ntests, sizeof(*p.done));
	p.have = calloc(plan->ntests, 1);
	if (!p.w || !p.done || !p.have) {
		snprintf(err, errlen, "out of memory for %zu parallel tests",
			 plan->ntests);
		goto out;
	}
	shared = mmap(NULL, total, PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shared == MAP_FAILED) {
		rc = -errno;
		snprintf(err, errlen, "cannot map %zu bytes of test input for the "
			 "workers: %s", total, strerror(-rc));
		goto out;
	}
	if (in->arena.len)
		memcpy(shared, in->arena.p, in->arena.len);
	struct par_work work = {env, st, plan, shared, total, in->off};
	for (unsigned k = 0; k < n; k++) {
		rc = spawn(&p, &work, k);
		if (rc < 0) {
			if (k > 0)
				break; /* go on with fewer */
			snprintf(err, errlen, "cannot start a test worker: %s "
				 "(lower the parallel tests or raise the "
				 "sandbox's process limit)", strerror(-rc));
			goto out;
		}
		p.nw = k + 1;
	}
	p.work = &work; /* the inputs stay mapped for restarted workers */
	for (unsigned k = 0; k < p.nw; k++)
		dispatch(&p, &p.w[k]);
	rc = loop(&p);
	if (rc < 0) {
		/* cannot watch the workers: end them and their tests */
		p.work = NULL;
		for (unsigned k = 0; k < p.nw; k++)
			if (p.w[k].pid > 0)
				kill(p.w[k].pid, SIGKILL);
		for (unsigned k = 0; k < p.nw; k++)
			if (p.w[k].pid > 0) {
				p.w[k].cur = -1;
				gone(&p, &p.w[k]);
			}
		kl_orphans_except(NULL, 0);
		snprintf(err, errlen, "watching the test workers failed: %s",
			 strerror(-rc));
		goto out;
	}
	/* every worker is gone; tests no worker was left to run */
	for (size_t i = p.next_task; i < p.stop_at; i++)
		store_setup(&p, i, "no worker of the runner was left to run "
				   "this test");
	flush(&p);
	/* no test runs any more: now PID 1 may sweep the namespace */
	kl_leftovers(NULL, env->is_pid1);
	if (p.write_rc < 0) {
		rc = p.write_rc;
		snprintf(err, errlen, "writing results: %s", strerror(-rc));
	} else if (p.stop_at < plan->ntests) {
		rc = -EIO; /* err holds the worker's message */
	} else {
		rc = 0;
	}
out:
	if (shared != MAP_FAILED)
		munmap(shared, total);
	for (unsigned k = 0; p.w && k < p.nw; k++) {
		close_fd(&p.w[k].task_fd);
		close_fd(&p.w[k].result_fd);
		blob_free(&p.w[k].in);
	}
	for (size_t i = 0; p.done && i < plan->ntests; i++)
		blob_free(&p.done[i]);
	free(p.w);
	free(p.done);
	free(p.have);
	return rc;
}
