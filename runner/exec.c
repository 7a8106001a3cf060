/* One step: fork, limits, exec, io, wait, classify (see exec.h). */
#include "runner/exec.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runlet/plugin.h"
#include "runner/child.h"
#include "runner/io.h"
#include "runner/kill.h"
#include "runner/oomwatch.h"
#include "runner/util.h"

#define EX_DEFAULT_PATH "/usr/local/bin:/usr/bin:/bin"
#define EX_KEEP_BUFFER (1u << 20) /* capture buffers kept between steps */

static const char *env_path(char *const *envp)
{
	for (size_t i = 0; envp && envp[i]; i++)
		if (strncmp(envp[i], "PATH=", 5) == 0)
			return envp[i] + 5;
	return EX_DEFAULT_PATH;
}

static int is_program(const char *p)
{
	struct stat sb;
	return stat(p, &sb) == 0 && S_ISREG(sb.st_mode) && access(p, X_OK) == 0;
}

void ex_prepare(const struct ex_env *env, const struct wire_step *ws,
		int share_cg, struct ex_step *st)
{
	memset(st, 0, sizeof(*st));
	st->ws = ws;
	st->share_cg = share_cg;
	rl_prepare(&ws->lim, cg_limits_pids(&env->cg), &st->rl);
	const char *name = ws->argv[0];
	if (strchr(name, '/')) {
		snprintf(st->path, sizeof(st->path), "%s", name);
		st->resolved = 1;
		return;
	}
	const char *path = env_path(ws->envp);
	for (const char *p = path; *p;) {
		const char *end = strchr(p, ':');
		size_t dl = end ? (size_t)(end - p) : strlen(p);
		if (dl > 0) {
			int n = snprintf(st->path, sizeof(st->path), "%.*s/%s",
					 (int)dl, p, name);
			if (n > 0 && (size_t)n < sizeof(st->path) &&
			    is_program(st->path)) {
				st->resolved = 1;
				return;
			}
		}
		if (!end)
			break;
		p = end + 1;
	}
	st->resolved = -1;
	snprintf(st->note, sizeof(st->note), "execve %s: not found in PATH=%s",
		 name, path);
}

static int make_pipe(int fds[2], int parent_end)
{
	if (pipe2(fds, O_CLOEXEC) < 0)
		return -errno;
	int fl = fcntl(fds[parent_end], F_GETFL);
	if (fl < 0 || fcntl(fds[parent_end], F_SETFL, fl | O_NONBLOCK) < 0)
		return -errno;
	return 0;
}

static void close_pair(int fds[2])
{
	for (int i = 0; i < 2; i++) {
		if (fds[i] >= 0)
			close(fds[i]);
		fds[i] = -1;
	}
}

static void classify(struct ex_env *env, const struct ex_step *st,
		     const struct io_job *j, int64_t start_ns, uint64_t peak_kb,
		     int have_peak, int oom, struct wire_outcome *o)
{
	const struct wire_limits *lim = &st->ws->lim;
	uint64_t cpu_ns =
		(uint64_t)j->ru.ru_utime.tv_sec * 1000000000ull +
		(uint64_t)j->ru.ru_utime.tv_usec * 1000ull +
		(uint64_t)j->ru.ru_stime.tv_sec * 1000000000ull +
		(uint64_t)j->ru.ru_stime.tv_usec * 1000ull;
	if (j->cpu_polled_ns > cpu_ns)
		cpu_ns = j->cpu_polled_ns;
	o->cpu_ms = cpu_ns / 1000000;
	o->wall_ms = (uint64_t)(j->end_ns - start_ns) / 1000000;
	o->mem_kb = have_peak ? peak_kb : (uint64_t)j->ru.ru_maxrss;
	o->oom = oom;
	int sig = WIFSIGNALED(j->wstatus) ? WTERMSIG(j->wstatus) : 0;
	o->signal = sig;
	o->exit_code = WIFEXITED(j->wstatus) ? WEXITSTATUS(j->wstatus) : 0;
	o->out = env->out.p;
	o->out_len = env->out.len;
	o->out_trunc = j->out_trunc;
	o->err = env->err.p;
	o->err_len = env->err.len;
	o->err_trunc = j->err_trunc;
	o->note = NULL;

	char *note = env->note;
	size_t nl = sizeof(env->note);
	if (j->setup_failed) {
		o->status = RUNLET_EXIT_SETUP;
		child_err_describe(&j->cerr, st->path, note, nl);
		o->note = note;
		return;
	}
	switch (j->kill_reason) {
	case IO_KILL_STDOUT:
		o->status = RUNLET_EXIT_OUTPUT_LIMIT;
		snprintf(note, nl, "stdout exceeded %llu bytes",
			 (unsigned long long)lim->out_kb * 1024);
		o->note = note;
		return;
	case IO_KILL_STDERR:
		o->status = RUNLET_EXIT_OUTPUT_LIMIT;
		snprintf(note, nl, "stderr exceeded %llu bytes",
			 (unsigned long long)lim->errmax_kb * 1024);
		o->note = note;
		return;
	case IO_KILL_WALL:
		o->status = RUNLET_EXIT_TIMEOUT;
		snprintf(note, nl, "wall-clock limit of %llu ms exceeded",
			 (unsigned long long)lim->wall_ms);
		o->note = note;
		return;
	case IO_KILL_CPU:
		o->status = RUNLET_EXIT_CPU_TIMEOUT;
		snprintf(note, nl, "CPU time limit of %llu ms exceeded",
			 (unsigned long long)lim->cpu_ms);
		o->note = note;
		return;
	case IO_KILL_NONE:
		break;
	}
	if (oom && sig == SIGKILL) {
		o->status = RUNLET_EXIT_MEMORY;
		snprintf(note, nl, "killed by the memory limit of %llu KiB",
			 (unsigned long long)lim->mem_kb);
		o->note = note;
	} else if (sig == SIGXCPU ||
		   (lim->cpu_ms && o->cpu_ms > lim->cpu_ms)) {
		o->status = RUNLET_EXIT_CPU_TIMEOUT;
		snprintf(note, nl, "CPU time limit of %llu ms exceeded",
			 (unsigned long long)lim->cpu_ms);
		o->note = note;
	} else if (sig) {
		o->status = RUNLET_EXIT_SIGNALED;
	} else {
		o->status = RUNLET_EXIT_EXITED;
	}
}

/* The step's cgroup in cgs: the kept one when it can serve (a test after a
 * test), else a new one. */
static int step_cgroup(struct ex_env *env, const struct ex_step *st,
		       struct cg_step *cgs, char *err, size_t errlen)
{
	const struct wire_limits *lim = &st->ws->lim;
	char name[32];
	int rc;
	if (env->have_kept) {
		*cgs = env->kept;
		env->have_kept = 0;
		rc = st->share_cg ? cg_step_reuse(cgs, lim, err, errlen) : -EAGAIN;
		if (rc != -EAGAIN) {
			char ignore[8];
			if (rc < 0)
				cg_step_destroy(cgs, ignore, sizeof(ignore));
			return rc;
		}
		if ((rc = cg_step_destroy(cgs, err, errlen)) < 0)
			return rc;
	}
	if (env->par_slot)
		snprintf(name, sizeof(name), EX_CG_WORKER, env->par_slot);
	else
		snprintf(name, sizeof(name), "s%u", env->seq);
	return cg_step_create(&env->cg, name, lim, cgs, err, errlen);
}

int ex_env_release(struct ex_env *env, char *err, size_t errlen)
{
	int rc = 0;
	if (env->have_kept) {
		env->have_kept = 0;
		rc = cg_step_destroy(&env->kept, err, errlen);
	}
	blob_free(&env->out);
	blob_free(&env->err);
	return rc;
}

int ex_run(struct ex_env *env, const struct ex_step *st, const char *in,
	   size_t in_len, struct wire_outcome *o, char *err, size_t errlen)
{
	const struct wire_limits *lim = &st->ws->lim;
	int p_in[2] = {-1, -1}, p_out[2] = {-1, -1}, p_err[2] = {-1, -1};
	int p_rep[2] = {-1, -1}, p_go[2] = {-1, -1};
	struct cg_step cgs, *cg = NULL;
	int rc;

	blob_reset(&env->out, EX_KEEP_BUFFER);
	blob_reset(&env->err, EX_KEEP_BUFFER);
	o->status = 0;
	o->exit_code = o->signal = o->oom = 0;
	o->cpu_ms = o->wall_ms = o->mem_kb = 0;
	o->out = o->err = o->note = NULL;
	o->out_len = o->err_len = 0;
	o->out_trunc = o->err_trunc = 0;
	if (st->resolved < 0) {
		o->status = RUNLET_EXIT_SETUP;
		o->exit_code = 127;
		snprintf(env->note, sizeof(env->note), "%s", st->note);
		o->note = env->note;
		return 0;
	}
	env->seq++;
	if (cg_enabled(&env->cg)) {
		rc = step_cgroup(env, st, &cgs, err, errlen);
		if (rc < 0)
			return rc;
		cg = &cgs;
	}
	/* docker: the container's cgroup is the step's (oomwatch.h) */
	uint64_t ooms_before = 0;
	int watch = !cg && env->oom_fd >= 0 &&
		    ow_count(env->oom_fd, &ooms_before) == 0;
	if ((rc = make_pipe(p_in, 1)) < 0 || (rc = make_pipe(p_out, 0)) < 0 ||
	    (rc = make_pipe(p_err, 0)) < 0 || (rc = make_pipe(p_rep, 0)) < 0 ||
	    (cg && (rc = make_pipe(p_go, 1)) < 0)) {
		snprintf(err, errlen, "cannot create pipes: %s", strerror(-rc));
		goto fail;
	}
	struct child_spec spec = {
		.fd_in = p_in[0],
		.fd_out = p_out[1],
		.fd_err = p_err[1],
		.fd_report = p_rep[1],
		.fd_go = p_go[0],
		.close_fallback_max = env->close_fallback_max,
		.rl = &st->rl,
		.drop_ids = env->drop_ids,
		.uid = env->uid,
		.gid = env->gid,
		.runner_pid = env->self,
		.seccomp = env->seccomp,
		.path = st->path,
		.argv = st->ws->argv,
		.envp = st->ws->envp,
	};
	int64_t start = ut_now_ns();
	pid_t pid = fork();
	if (pid < 0) {
		rc = -errno;
		snprintf(err, errlen, "fork: %s", strerror(-rc));
		goto fail;
	}
	if (pid == 0)
		child_run(&spec);
	setpgid(pid, pid); /* also done by the child: whoever is first */
	close(p_in[0]);
	close(p_out[1]);
	close(p_err[1]);
	close(p_rep[1]);
	p_in[0] = p_out[1] = p_err[1] = p_rep[1] = -1;
	if (cg) {
		close(p_go[0]);
		p_go[0] = -1;
		rc = cg_step_attach(cg, pid, err, errlen);
		if (rc == 0 && ut_write_all(p_go[1], "g", 1) < 0)
			rc = 0; /* the child is gone already: its exit tells */
		close(p_go[1]);
		p_go[1] = -1;
		if (rc < 0) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, __WALL);
			goto fail;
		}
	}

	struct io_job j = {
		.pid = pid,
		.sig_fd = env->sig_fd,
		.in_fd = p_in[1],
		.out_fd = p_out[0],
		.err_fd = p_err[0],
		.report_fd = p_rep[0],
		.in = in,
		.in_len = in_len,
		.out = &env->out,
		.err = &env->err,
		.out_max = lim->out_kb * 1024,
		.err_keep = lim->err_kb * 1024,
		.err_max = lim->errmax_kb * 1024,
		.deadline_ns = lim->wall_ms ? start + (int64_t)lim->wall_ms * 1000000 : 0,
		.cpu_limit_ns = lim->cpu_ms * 1000000,
		.cg = cg,
	};
	p_in[1] = p_out[0] = p_err[0] = p_rep[0] = -1; /* the job owns them */
	rc = io_run(&j);
	kl_leftovers(cg, env->is_pid1);
	io_drain(&j);
	if (rc < 0) {
		snprintf(err, errlen, "watching the step failed: %s", strerror(-rc));
		goto fail;
	}
	uint64_t peak_kb = 0;
	int have_peak = 0, oom = 0;
	uint64_t ooms_after;
	if (watch && ow_count(env->oom_fd, &ooms_after) == 0)
		oom = ooms_after > ooms_before;
	if (cg) {
		cg_step_stats(cg, &peak_kb, &have_peak, &oom);
		cg = NULL;
		if (st->share_cg && cg_step_empty(&cgs) == 0) {
			env->kept = cgs;
			env->have_kept = 1;
		} else if ((rc = cg_step_destroy(&cgs, err, errlen)) < 0) {
			return rc;
		}
	}
	classify(env, st, &j, start, peak_kb, have_peak, oom, o);
	return 0;
fail:
	close_pair(p_in);
	close_pair(p_out);
	close_pair(p_err);
	close_pair(p_rep);
	close_pair(p_go);
	if (cg) {
		char ignore[8];
		cg_step_destroy(cg, ignore, sizeof(ignore));
	}
	return rc;
}
