/* runlet-runner: the small static executor inside every sandbox.
 *
 * Theory of operation. The backend starts `runlet-runner [--plan FILE]`
 * inside the sandbox (as root when it should drop to the plan's uid, or as
 * that user already) and hands it a plan (wire.h) on stdin or in FILE. The
 * runner writes the plan's files into the workdir and enters it, then runs
 * the compile step (if any) and each test, one process at a time:
 *
 *   runner ──fork──> child: own process group, pipes on 0/1/2, limits,
 *     │                     credentials, no_new_privs, seccomp, execve
 *     ├─ stdin pipe  ──> child fd 0 (fed from the test input, non-blocking)
 *     ├─ stdout pipe <── child fd 1 (capped at out_kb)
 *     ├─ stderr pipe <── child fd 2 (err_kb kept, errmax_kb hard cap)
 *     ├─ report pipe <── child fd 3, close-on-exec: {step, errno} on failure
 *     ├─ go pipe     ──> child fd 4, only with cgroups: "you are in it"
 *     └─ signalfd(SIGCHLD): the child's exit, reaped with wait4
 *
 * One poll loop serves all of them with exact timeouts (wall deadline, a
 * CPU check every 50 ms). The runner kills: the child's process group and
 * step cgroup at a limit and when the child exits (before reaping it, so
 * the group id cannot have been reused); after each step whatever is left
 * in the cgroup, its re-parented orphans (it is a child subreaper) and,
 * only as PID 1 of its own pid namespace, everything else with kill(-1). The result records go to stdout as each
 * step ends; the runner's own diagnostics go to stderr.
 *
 * With plan.parallel = n > 1 the tests (not the compile) run in up to n
 * worker processes at once, each worker doing the above for its tests;
 * outcomes still go out in plan order (par.h).
 *
 * Exit status: 0 when the plan was processed (whatever the programs did),
 * 1 after an "error" record (the runner could not go on). */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "runlet/plugin.h"
#include "runner/artifact.h"
#include "runner/exec.h"
#include "runner/files.h"
#include "runner/kill.h"
#include "runner/memwait.h"
#include "runner/oomwatch.h"
#include "runner/par.h"
#include "runner/plan_load.h"
#include "runner/report.h"
#include "runner/seccomp_filter.h"
#include "runner/wire.h"

struct runner {
	struct rp_out out;
	struct wire_plan plan;
	struct pl_inputs inputs;
	struct sock_fprog filter;
	struct ex_env env;
	char err[1024];
};

static void usage(FILE *f)
{
	fprintf(f, "usage: runlet-runner [--plan FILE]\n"
		   "Reads a plan (runner/wire.h) from FILE or stdin, runs it and\n"
		   "writes the result records to stdout.\n");
}

/* fds 0..2 must exist, or pipes would take their numbers. */
static int fix_std_fds(void)
{
	for (int fd = 0; fd < 3; fd++) {
		if (fcntl(fd, F_GETFD) >= 0)
			continue;
		int n = open("/dev/null", O_RDWR);
		if (n < 0)
			return -errno;
		if (n != fd)
			return -EBADF;
	}
	return 0;
}

static int startup(struct runner *r)
{
	sigset_t chld;
	int rc = fix_std_fds();
	if (rc < 0) {
		snprintf(r->err, sizeof(r->err), "cannot open /dev/null for a "
			 "closed standard fd: %s", strerror(-rc));
		return rc;
	}
	/* big allocations get their own mapping and go back on free */
	mallopt(M_MMAP_THRESHOLD, 128 * 1024);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &chld, NULL) < 0 ||
	    (r->env.sig_fd = signalfd(-1, &chld, SFD_NONBLOCK | SFD_CLOEXEC)) < 0) {
		rc = -errno;
		snprintf(r->err, sizeof(r->err), "signalfd: %s", strerror(-rc));
		return rc;
	}
	if ((rc = kl_init()) < 0) {
		snprintf(r->err, sizeof(r->err),
			 "prctl(PR_SET_CHILD_SUBREAPER): %s", strerror(-rc));
		return rc;
	}
	r->env.self = getpid();
	r->env.is_pid1 = r->env.self == 1;
	struct rlimit nofile;
	r->env.close_fallback_max = 1024;
	if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur > 1024)
		r->env.close_fallback_max = nofile.rlim_cur > 65536
						    ? 65536
						    : (int)nofile.rlim_cur;
	return 0;
}

/* Which ids the children get. Only root changes them; a runner started as
 * the plan's user already is fine, any other combination is an error. */
static int setup_ids(struct runner *r)
{
	const struct wire_plan *p = &r->plan;
	if ((p->uid < -1 || p->uid >= (int64_t)UINT32_MAX) ||
	    (p->gid < -1 || p->gid >= (int64_t)UINT32_MAX)) {
		snprintf(r->err, sizeof(r->err), "plan uid/gid out of range");
		return -EINVAL;
	}
	r->env.uid = p->uid < 0 ? (uid_t)-1 : (uid_t)p->uid;
	r->env.gid = p->gid < 0 ? (gid_t)-1 : (gid_t)p->gid;
	if (geteuid() == 0) {
		r->env.drop_ids = p->uid >= 0 || p->gid >= 0;
		return 0;
	}
	if ((p->uid >= 0 && (uid_t)p->uid != geteuid()) ||
	    (p->gid >= 0 && (gid_t)p->gid != getegid())) {
		snprintf(r->err, sizeof(r->err),
			 "the plan asks for uid %lld gid %lld but the runner runs "
			 "as uid %d gid %d without root: start it as root or as "
			 "that user", (long long)p->uid, (long long)p->gid,
			 (int)geteuid(), (int)getegid());
		return -EPERM;
	}
	return 0;
}

static int setup(struct runner *r, int plan_fd)
{
	int rc = pl_load(plan_fd, &r->plan, &r->inputs, r->err, sizeof(r->err));
	if (rc < 0)
		return rc;
	if ((rc = setup_ids(r)) < 0)
		return rc;
	rc = fl_setup(&r->plan, r->env.drop_ids, r->env.uid, r->env.gid,
		      r->err, sizeof(r->err));
	if (rc < 0)
		return rc;
	if (r->plan.seccomp) {
		rc = sf_build(&r->filter, r->err, sizeof(r->err));
		if (rc < 0)
			return rc;
		r->env.seccomp = &r->filter;
	}
	r->env.cg = (struct cg_conf){r->plan.cg_v2, r->plan.cg_mem,
				     r->plan.cg_pids, r->plan.cg_cpu, 0};
	cg_conf_probe(&r->env.cg);
	if (r->plan.oomwatch && !cg_enabled(&r->env.cg) &&
	    (r->env.oom_fd = ow_open()) >= 0 && rp_oomwatch(&r->out) < 0) {
		snprintf(r->err, sizeof(r->err), "cannot write to stdout");
		return -EPIPE;
	}
	return 0;
}

/* Run every step. 0 when the plan was processed; -errno with r->err. */
static int run_plan(struct runner *r)
{
	struct ex_step st;
	struct wire_outcome o;
	int rc;
	if (r->plan.has_compile) {
		ex_prepare(&r->env, &r->plan.compile, 0, &st);
		memset(&o, 0, sizeof(o));
		o.is_compile = 1;
		rc = ex_run(&r->env, &st, "", 0, &o, r->err, sizeof(r->err));
		if (rc < 0)
			return rc;
		int ok = o.status == RUNLET_EXIT_EXITED && o.exit_code == 0;
		char why[256];
		/* the artifact is read now, before any submission code runs */
		if (ok && r->plan.emit &&
		    art_collect(&r->plan, &o, why, sizeof(why)) < 0)
			fprintf(stderr, "runlet-runner: %s\n", why);
		rc = rp_outcome(&r->out, &o);
		wire_artifacts_clear(&o);
		if (rc < 0)
			goto out_broken;
		if (!ok)
			return 0;
		/* docker: no test before the tests' memory limit is in place */
		if (r->plan.await_mem) {
			if ((rc = rp_await(&r->out, r->plan.await_mem)) < 0)
				goto out_broken;
			if ((rc = mw_await_limit(r->plan.await_mem, MW_TIMEOUT_MS,
						 r->err, sizeof(r->err))) < 0)
				return rc;
		}
	}
	/* the program may not change its own source and binary */
	if (r->env.drop_ids && getuid() == 0 &&
	    (rc = fl_seal(r->err, sizeof(r->err))) < 0)
		return rc;
	/* prepared after the compile, which may create the program */
	ex_prepare(&r->env, &r->plan.run, 1, &st);
	if (r->plan.parallel > 1 && r->plan.ntests > 1)
		return par_run(&r->env, &st, &r->plan, &r->inputs,
			       r->plan.parallel > PAR_MAX_WORKERS
				       ? PAR_MAX_WORKERS
				       : (unsigned)r->plan.parallel,
			       &r->out, r->err, sizeof(r->err));
	for (size_t i = 0; i < r->plan.ntests; i++) {
		const struct wire_test *t = &r->plan.tests[i];
		memset(&o, 0, sizeof(o));
		o.num = t->num;
		rc = ex_run(&r->env, &st, r->inputs.arena.p + r->inputs.off[i],
			    t->len, &o, r->err, sizeof(r->err));
		if (rc < 0)
			return rc;
		if ((rc = rp_outcome(&r->out, &o)) < 0)
			goto out_broken;
	}
	return 0;
out_broken:
	snprintf(r->err, sizeof(r->err), "writing results: %s", strerror(-rc));
	return rc;
}

int main(int argc, char **argv)
{
	struct runner r;
	const char *plan_path = NULL;
	int plan_fd = 0, status = 1, rc;

	memset(&r, 0, sizeof(r));
	r.out.fd = 1;
	r.env.sig_fd = -1;
	r.env.oom_fd = -1;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--plan") == 0 && i + 1 < argc) {
			plan_path = argv[++i];
		} else if (strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return 0;
		} else if (strcmp(argv[i], "--version") == 0) {
			printf("runlet-runner %s\n", RUNLET_VERSION);
			return 0;
		} else {
			usage(stderr);
			snprintf(r.err, sizeof(r.err), "bad argument \"%s\"", argv[i]);
			goto report;
		}
	}
	if ((rc = startup(&r)) < 0)
		goto report;
	if (plan_path) {
		plan_fd = open(plan_path, O_RDONLY | O_CLOEXEC);
		if (plan_fd < 0) {
			snprintf(r.err, sizeof(r.err), "cannot open plan %s: %s",
				 plan_path, strerror(errno));
			goto report;
		}
	}
	if (rp_header(&r.out) < 0) {
		fprintf(stderr, "runlet-runner: cannot write to stdout: %s\n",
			strerror(errno));
		goto done;
	}
	if ((rc = setup(&r, plan_fd)) < 0 || (rc = run_plan(&r)) < 0)
		goto fail;
	if (rp_end(&r.out) < 0) {
		fprintf(stderr, "runlet-runner: cannot write to stdout\n");
		goto done;
	}
	status = 0;
	goto done;
report:
	rp_header(&r.out);
fail:
	fprintf(stderr, "runlet-runner: %s\n", r.err);
	rp_error(&r.out, r.err);
	rp_end(&r.out);
done:
	if (plan_fd > 0)
		close(plan_fd);
	if (r.env.oom_fd >= 0)
		close(r.env.oom_fd);
	rp_close(&r.out);
	/* after the end record: the kept test cgroup's removal is off the
	 * job's path (a pooled sandbox's init may be killed meanwhile; the
	 * sandbox's cgroup tree is removed with it) */
	if (ex_env_release(&r.env, r.err, sizeof(r.err)) < 0)
		fprintf(stderr, "runlet-runner: %s\n", r.err);
	sf_free(&r.filter);
	pl_inputs_free(&r.inputs);
	wire_plan_free(&r.plan);
	return status;
}
