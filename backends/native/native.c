/* The native backend: runlet's own Linux sandbox around runlet-runner.
 *
 * open() detects the host's features (features.c) and picks a mode:
 *   full   root, every namespace, memory+pids cgroups: the sandbox of
 *          sandbox.c with the mount table of mounts.c;
 *   plain  only with --insecure, when something required is missing: the
 *          runner runs directly, in its own session, with a private temp
 *          dir that is emptied by fd after every submission, one
 *          submission at a time. What is missing is logged.
 * execute() is a straight line of steps (see nat_execute), each returning 0
 * or -errno: budget, cgroup, plan, encode, mounts, run, result; then the
 * teardown (cgroup killed and removed) whatever happened. In full mode a
 * pre-forked sandbox of the job's language (pool.c, warm.c) replaces the
 * cgroup and mounts steps and the clone when one is ready.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backends/backend.h"
#include "budget.h"
#include "cgroup.h"
#include "dynmods.h"
#include "core/config.h"
#include "features.h"
#include "mounts.h"
#include "pool.h"
#include "rmtree.h"
#include "sandbox.h"

#include "nat.h"

struct sbx_pool *sbx_native_pool(void *native_state)
{
	return native_state ? ((struct nat_state *)native_state)->pool : NULL;
}

static const char *nat_workdir(void *state, const struct cfg_runner *runner)
{
	struct nat_state *st = state;
	return st->workdir;
}

/* The new root's mount point: a root-owned dir only runlet writes. */
static int ensure_newroot(char *err, size_t errlen)
{
	const char *dirs[] = {NAT_NEWROOT_PARENT, NAT_NEWROOT};
	for (int i = 0; i < 2; i++) {
		struct stat st;
		if (mkdir(dirs[i], 0700) < 0 && errno != EEXIST)
			goto bad;
		if (lstat(dirs[i], &st) < 0)
			goto bad;
		if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() ||
		    (st.st_mode & 022)) {
			errno = EPERM;
			goto bad;
		}
		continue;
bad:
		snprintf(err, errlen,
			 "native sandbox: %s: %s (it must be a directory owned "
			 "by root, writable by nobody else; remove it)",
			 dirs[i], strerror(errno));
		return -errno;
	}
	return 0;
}

static int open_plain(struct nat_state *st, char *err, size_t errlen)
{
	const char *tmp = getenv("TMPDIR");
	char tmpl[PATH_MAX];
	snprintf(tmpl, sizeof(tmpl), "%s/runlet-insecure-XXXXXX",
		 tmp && tmp[0] == '/' ? tmp : "/tmp");
	if (!mkdtemp(tmpl)) {
		int e = errno;
		snprintf(err, errlen, "native sandbox (insecure): %s: %s", tmpl,
			 strerror(e));
		return -e;
	}
	snprintf(st->workdir, sizeof(st->workdir), "%s", tmpl);
	st->plain_fd = open(tmpl, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (st->plain_fd < 0) {
		int e = errno;
		rmdir(tmpl);
		snprintf(err, errlen, "native sandbox (insecure): %s: %s", tmpl,
			 strerror(e));
		return -e;
	}
	if (st->uid >= 0 && (fchown(st->plain_fd, (uid_t)st->uid, (gid_t)st->gid) < 0 ||
			     fchmod(st->plain_fd, 0755) < 0)) {
		st->uid = st->gid = -1;
	}
	return 0;
}

static void log_degraded(const struct nat_state *st)
{
	for (int i = 0; i < SBX_F_COUNT; i++) {
		const struct sbx_feature *f = &st->feat.f[i];
		if (f->required && !f->present)
			fprintf(stderr,
				"runlet: native sandbox: --insecure: %s missing "
				"(%s)\n", sbx_feat_name(i), f->detail);
	}
	fprintf(stderr,
		"runlet: native sandbox: --insecure: running %s%s%s\n",
		st->full ? "in namespaces" : "WITHOUT namespaces (plain process, "
					     "private temp dir, one at a time)",
		st->use_cg ? "" : ", without cgroup limits",
		st->seccomp ? "" : ", without seccomp");
}

/* The pool's start hook: a long-lived runlet turns on fast cgroup moves
 * (dynmods.h); making the hierarchy costs a one-shot run about what it
 * saves. A performance setting only: moves are slower without it, not
 * less isolated, so a failure is said once and is not an error. nat_close
 * reads the fd after the pool (and this thread) is gone. */
static void nat_fast_moves(void *arg)
{
	struct nat_state *st = arg;
	char why[256];
	st->dynmods_fd = sbx_dynmods_open(why, sizeof(why));
	if (st->dynmods_fd < 0)
		fprintf(stderr, "runlet: native sandbox: %s; set "
				"sandbox.fast_cgroup_moves: false to skip the "
				"attempt\n", why);
}

static int nat_open(const struct cfg *cfg, const struct backend_opts *opts,
		    void **state, char *err, size_t errlen)
{
	struct nat_state *st = calloc(1, sizeof(*st));
	int rc;
	if (!st)
		return -ENOMEM;
	st->cfg = cfg;
	st->plain_fd = -1;
	st->dynmods_fd = -1;
	errno = 0;
	st->nice = getpriority(PRIO_PROCESS, 0);
	if (errno)
		st->nice = 0;
	atomic_init(&st->seq, 0);
	pthread_mutex_init(&st->plain_lock, NULL);
	snprintf(st->runner, sizeof(st->runner), "%s",
		 opts->runner_path ? opts->runner_path
		 : cfg->sandbox.runner_path ? cfg->sandbox.runner_path : "");
	const char *wd = cfg->tmpfs ? cfg->tmpfs : "/tmp";
	sbx_features_detect("/sys/fs/cgroup", NULL, st->runner, wd, &st->feat);

	const struct sbx_feature *f = st->feat.f;
	int miss = sbx_features_missing(&st->feat);
	if (!f[SBX_F_RUNNER].present || !f[SBX_F_TMPFS].present ||
	    (miss >= 0 && !opts->insecure)) {
		if (!f[SBX_F_RUNNER].present)
			miss = SBX_F_RUNNER;
		else if (!f[SBX_F_TMPFS].present)
			miss = SBX_F_TMPFS;
		sbx_features_message(&st->feat, miss, err, errlen);
		if (miss != SBX_F_RUNNER && miss != SBX_F_TMPFS) {
			size_t l = strlen(err);
			snprintf(err + l, errlen - l,
				 "; use --insecure to run without isolation");
		}
		rc = -ENOTSUP;
		goto fail;
	}
	st->full = f[SBX_F_ROOT].present && f[SBX_F_NS_MNT].present &&
		   f[SBX_F_NS_PID].present && f[SBX_F_NS_NET].present &&
		   f[SBX_F_NS_IPC].present && f[SBX_F_NS_UTS].present;
	st->use_cg = f[SBX_F_ROOT].present && f[SBX_F_CG_MEMORY].present &&
		     f[SBX_F_CG_PIDS].present &&
		     (f[SBX_F_CG_MEMSW].present || !st->feat.swap_on);
	st->cgns = f[SBX_F_NS_CGROUP].present && !st->feat.cg.v2;
	st->seccomp = f[SBX_F_SECCOMP].present && f[SBX_F_NNP].present;
	st->uid = geteuid() == 0 ? (long)cfg->sandbox.uid : -1;
	st->gid = geteuid() == 0 ? (long)cfg->sandbox.gid : -1;
	if (st->use_cg) {
		int swept = sbx_cg_sweep(&st->feat.cg);
		if (swept > 0)
			fprintf(stderr, "runlet: native sandbox: removed %d stale "
				"submission cgroup(s) of a runlet that is gone\n", swept);
	}
	if (st->full) {
		snprintf(st->workdir, sizeof(st->workdir), "%s", wd);
		if ((rc = ensure_newroot(err, errlen)) < 0)
			goto fail;
	} else if ((rc = open_plain(st, err, errlen)) < 0) {
		goto fail;
	}
	/* the config file, when it lies inside what the sandbox sees */
	char real[PATH_MAX];
	if (cfg->path && realpath(cfg->path, real) &&
	    (strncmp(real, "/etc/", 5) == 0 || strncmp(real, "/usr/", 5) == 0)) {
		snprintf(st->cfg_mask, sizeof(st->cfg_mask), "%s", real);
		st->masks[0] = st->cfg_mask;
	}
	if (miss >= 0)
		log_degraded(st);
	/* sandbox.pool_size; RUNLET_NATIVE_POOL, when set, wins (tests) */
	unsigned psize = getenv(SBX_POOL_ENV)
				 ? sbx_pool_size_env()
				 : (unsigned)(cfg->sandbox.pool_size > SBX_POOL_MAX
						      ? SBX_POOL_MAX
						      : cfg->sandbox.pool_size);
	if (st->full && psize &&
	    (rc = sbx_pool_open(cfg, psize, nat_make, st, &st->pool)) < 0) {
		snprintf(err, errlen, "native sandbox: pool: %s", strerror(-rc));
		goto fail;
	}
	if (st->pool && st->use_cg && cfg->sandbox.fast_cgroup_moves)
		sbx_pool_on_start(st->pool, nat_fast_moves);
	*state = st;
	return 0;
fail:
	pthread_mutex_destroy(&st->plain_lock);
	free(st);
	return rc;
}

static void nat_close(void *state)
{
	struct nat_state *st = state;
	if (!st)
		return;
	sbx_pool_close(st->pool);
	if (st->plain_fd >= 0) {
		(void)sbx_rmtree_contents(st->plain_fd);
		close(st->plain_fd);
		(void)rmdir(st->workdir);
	}
	if (st->dynmods_fd >= 0)
		close(st->dynmods_fd);
	pthread_mutex_destroy(&st->plain_lock);
	free(st);
}

/* ---- execute, step by step ---- */


/* 1. what the whole submission may use */
int nat_step_budget(struct nat_call *c, char *err, size_t errlen)
{
	const struct cfg_runner *r = c->job->runner;
	uint64_t tmpfs = r ? r->limits.tmpfs_size : c->st->cfg->limits.tmpfs_size;
	uint64_t mem = r && r->mem_limit ? r->mem_limit : (256ull << 20);
	if (!tmpfs)
		tmpfs = 256ull << 20;
	sbx_budget_of(c->job->plan, tmpfs, mem, &c->budget);
	return 0;
}

/* 2. the submission cgroup */
int nat_step_cgroup(struct nat_call *c, char *err, size_t errlen)
{
	char name[96];
	if (!c->st->use_cg)
		return 0;
	sbx_cg_name(c->job->job_id, atomic_fetch_add(&c->st->seq, 1), name,
		    sizeof(name));
	struct sbx_cg_limits lim = {c->budget.mem_bytes, c->budget.pids};
	int rc = sbx_cg_create(&c->st->feat.cg, name, &lim, &c->cg, err, errlen);
	if (rc == 0)
		c->have_cg = 1;
	return rc;
}

static int set_str(char **dst, const char *s)
{
	free(*dst);
	*dst = s ? strdup(s) : NULL;
	return s && !*dst ? -ENOMEM : 0;
}

/* 3. the backend's part of the plan */
static int step_plan(struct nat_call *c, char *err, size_t errlen)
{
	struct wire_plan *p = c->job->plan;
	int rc = set_str(&p->workdir, c->st->workdir);
	p->uid = c->st->uid;
	p->gid = c->st->gid;
	p->seccomp = c->st->seccomp;
	p->cg_v2 = c->have_cg && c->cg.v2;
	const char *mem = NULL, *pids = NULL, *cpu = NULL;
	if (c->have_cg && c->st->full) {
		mem = c->cg.v2 ? SBX_CG_UNIFIED : SBX_CG_MEM;
		pids = c->cg.v2 ? NULL : SBX_CG_PIDS;
		cpu = c->cg.v2 ? (c->st->feat.cg.cpu[0] ? SBX_CG_UNIFIED : NULL)
			       : (c->cg.cpu[0] ? SBX_CG_CPU : NULL);
	} else if (c->have_cg) {
		mem = c->cg.mem;
		pids = c->cg.v2 ? NULL : c->cg.pids;
		cpu = c->cg.v2 ? (c->st->feat.cg.cpu[0] ? c->cg.mem : NULL)
			       : (c->cg.cpu[0] ? c->cg.cpu : NULL);
	}
	if (rc == 0)
		rc = set_str(&p->cg_mem, mem);
	if (rc == 0)
		rc = set_str(&p->cg_pids, pids);
	if (rc == 0)
		rc = set_str(&p->cg_cpu, cpu);
	if (rc < 0)
		snprintf(err, errlen, "native sandbox: out of memory");
	return rc;
}

/* 4. the plan as the runner reads it */
static int step_encode(struct nat_call *c, char *err, size_t errlen)
{
	int rc = wire_plan_encode(c->job->plan, &c->enc);
	if (rc < 0)
		snprintf(err, errlen, "native sandbox: encoding the plan: %s",
			 strerror(-rc));
	return rc;
}

/* 5. the mount table of this sandbox, and the init's arguments */
int nat_step_mounts(struct nat_call *c, char *err, size_t errlen)
{
	struct nat_state *st = c->st;
	struct sbx_child_args *a = &c->child;
	a->full = st->full;
	a->exec_path = st->full ? SBX_RUNNER_PATH : st->runner;
	a->workdir = st->workdir;
	a->keep_caps = sbx_runner_caps();
	a->cap_last = st->feat.cap_last;
	a->nice = st->nice;
	a->cgns = st->cgns && c->have_cg;
	a->ncg = c->have_cg ? sbx_cg_join_files(&c->cg, a->cg_files) : 0;
	if (!st->full)
		return 0;
	c->mounts = malloc(sizeof(*c->mounts));
	if (!c->mounts) {
		snprintf(err, errlen, "native sandbox: out of memory");
		return -ENOMEM;
	}
	const struct cfg_runner *r = c->job->runner;
	struct sbx_mount_cfg mc = {
		.newroot = NAT_NEWROOT,
		.rootfs = st->cfg->sandbox.rootfs,
		.workdir = st->workdir,
		.workdir_size = r && r->limits.tmpfs_size ? r->limits.tmpfs_size
							  : (256ull << 20),
		.shm_size = SBX_SHM_SIZE,
		.uid = st->uid,
		.gid = st->gid,
		.runner_path = st->runner,
		.cg_v2 = c->have_cg && c->cg.v2,
		.cg_mem = c->have_cg ? c->cg.mem : NULL,
		.cg_pids = c->have_cg && !c->cg.v2 ? c->cg.pids : NULL,
		.cg_cpu = c->have_cg && !c->cg.v2 ? c->cg.cpu : NULL,
		.masks = st->masks,
	};
	a->mounts = c->mounts;
	return sbx_mounts_build(&mc, c->mounts, err, errlen);
}

/* 6. the sandbox itself */
static int step_run(struct nat_call *c, char *err, size_t errlen)
{
	if (c->have_warm) {
		struct sbx_spawn wp = {
			.plan = c->enc.data,
			.plan_len = c->enc.len,
			.deadline_ms = c->budget.deadline_ms,
			.out_max = c->budget.out_max,
			.stop_at_end = 1, /* reaped when buried */
			.end_nice = sbx_background_nice(c->st->nice),
		};
		memset(&c->run, 0, sizeof(c->run));
		sbx_finish(&c->warm.proc, &wp, &c->run);
		return 0;
	}
	struct sbx_spawn sp = {
		.child = &c->child,
		.clone_flags = c->st->full ? NAT_CLONE_FLAGS : 0,
		.plan = c->enc.data,
		.plan_len = c->enc.len,
		.deadline_ms = c->budget.deadline_ms,
		.out_max = c->budget.out_max,
	};
	return sbx_execute(&sp, &c->run, err, errlen);
}

static void describe_exit(int status, char *buf, size_t len)
{
	if (WIFEXITED(status))
		snprintf(buf, len, "exit status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, len, "killed by signal %d", WTERMSIG(status));
	else
		snprintf(buf, len, "status %#x", status);
}

/* 7. what the runner said */
static int step_result(struct nat_call *c, struct wire_result *res, char *err,
		       size_t errlen)
{
	char how[64], derr[256] = "";
	describe_exit(c->run.status, how, sizeof(how));
	if (c->run.timed_out) {
		snprintf(err, errlen,
			 "native sandbox: the runner did not finish within %llu ms "
			 "(the sum of the wall limits plus a margin): sandbox killed",
			 (unsigned long long)c->budget.deadline_ms);
		return -ETIMEDOUT;
	}
	if (c->run.overflow) {
		snprintf(err, errlen,
			 "native sandbox: the runner wrote more than %zu bytes of "
			 "results: sandbox killed", c->budget.out_max);
		return -EMSGSIZE;
	}
	int rc = wire_result_decode(c->run.out.data ? c->run.out.data : "",
				    c->run.out.len, res, derr, sizeof(derr));
	if (rc < 0) {
		wire_result_free(res);
		snprintf(err, errlen, "native sandbox: %s; runlet-runner %s%s%.*s",
			 derr, how, c->run.errlen ? ": " : "",
			 (int)(c->run.errlen > 600 ? 600 : c->run.errlen),
			 c->run.errtext);
		return rc;
	}
	if (!res->complete && !res->error) {
		char msg[1024];
		uint64_t peak = c->have_cg ? sbx_cg_peak(&c->cg) : 0;
		/* a pooled sandbox's cgroup has its language's bound */
		uint64_t lim = c->have_warm ? c->warm.mem_bytes
					    : c->budget.mem_bytes;
		snprintf(msg, sizeof(msg),
			 "runlet-runner ended before its last record (%s%s)%s%.*s",
			 how,
			 peak && peak + (1 << 20) >= lim
				 ? "; the submission's memory limit was reached" : "",
			 c->run.errlen ? ": " : "",
			 (int)(c->run.errlen > 600 ? 600 : c->run.errlen),
			 c->run.errtext);
		res->error = strdup(msg);
	}
	return 0;
}

void nat_teardown(struct nat_call *c)
{
	if (c->have_warm) {
		/* its init is reaped and its cgroups are removed on the refill
		 * thread, off the job's path */
		c->warm.cg = c->cg;
		c->warm.have_cg = c->have_cg;
		c->have_cg = 0;
		sbx_pool_bury(c->st->pool, &c->warm);
	}
	if (c->have_cg && sbx_cg_destroy(&c->cg, 2000) < 0)
		fprintf(stderr, "runlet: native sandbox: cgroup %s could not be "
				"removed (processes left in it?)\n", c->cg.mem);
	if (!c->st->full && c->st->plain_fd >= 0)
		(void)sbx_rmtree_contents(c->st->plain_fd);
	free(c->mounts);
	wire_buf_free(&c->enc);
	sbx_run_free(&c->run);
}

static int nat_execute(void *state, const struct backend_job *job,
		       struct wire_result *res, char *err, size_t errlen)
{
	struct nat_call c;
	int rc;
	memset(&c, 0, sizeof(c));
	memset(res, 0, sizeof(*res));
	c.st = state;
	c.job = job;
	if (!c.st->full)
		pthread_mutex_lock(&c.st->plain_lock);
	sbx_pool_begin(c.st->pool);
	if ((rc = nat_step_budget(&c, err, errlen)) < 0)
		goto out;
	/* a pre-made sandbox of this language whose limits cover the job's,
	 * or one made now */
	if (sbx_pool_take(c.st->pool, job->runner, c.budget.mem_bytes,
			  c.budget.pids, &c.warm)) {
		c.have_warm = 1;
		c.cg = c.warm.cg;
		c.have_cg = c.warm.have_cg;
	} else if ((rc = nat_step_cgroup(&c, err, errlen)) < 0) {
		goto out;
	}
again:
	if ((rc = step_plan(&c, err, errlen)) < 0 ||
	    (rc = step_encode(&c, err, errlen)) < 0 ||
	    (!c.have_warm && (rc = nat_step_mounts(&c, err, errlen)) < 0) ||
	    (rc = step_run(&c, err, errlen)) < 0)
		goto out;
	if (nat_warm_died_idle(&c)) {
		/* once: the job never reached the pooled runner */
		nat_warm_drop(&c);
		if ((rc = nat_step_cgroup(&c, err, errlen)) < 0)
			goto out;
		goto again;
	}
	if ((rc = step_result(&c, res, err, errlen)) < 0)
		goto out;
out:
	nat_teardown(&c);
	sbx_pool_used(c.st->pool, job->runner);
	if (!c.st->full)
		pthread_mutex_unlock(&c.st->plain_lock);
	return rc;
}

const struct backend_ops native_backend_ops = {
	.name = "native",
	.workdir = nat_workdir,
	.open = nat_open,
	.execute = nat_execute,
	.close = nat_close,
};
