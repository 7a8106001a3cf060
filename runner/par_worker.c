/* A parallel-tests worker: runs the tests it is handed, one at a time, and
 * sends each outcome back to the runner (see par.h). */
#include "runner/par.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "runner/kill.h"
#include "runner/util.h"

#define PW_KEEP (64u << 10) /* encode scratch kept between tests */

/* One uint32 index; 1 = got one, 0 = the runner has no more, -errno. */
static int next_index(int fd, uint32_t *idx)
{
	size_t got = 0;
	while (got < sizeof(*idx)) {
		ssize_t n = read(fd, (char *)idx + got, sizeof(*idx) - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return got ? -EPROTO : 0;
		got += (size_t)n;
	}
	return 1;
}

static int send_frame(int fd, uint32_t kind, uint32_t idx, const void *p,
		      size_t len)
{
	struct par_frame f = {kind, idx, len};
	int rc = ut_write_all(fd, &f, sizeof(f));
	if (rc == 0 && len)
		rc = ut_write_all(fd, p, len);
	return rc;
}

_Noreturn void par_worker(const struct par_work *w, unsigned k, int task_fd,
			  int result_fd, const int *close_fds, size_t nclose)
{
	struct ex_env *env = w->env;
	struct wire_buf buf = {0};
	char err[1024];
	int status = 1;

	for (size_t i = 0; i < nclose; i++)
		close(close_fds[i]);
	/* the tests must not inherit the inputs (nor count them as theirs) */
	if (madvise((void *)w->inputs, w->inputs_len, MADV_DONTFORK) < 0) {
		snprintf(err, sizeof(err), "madvise of the test inputs: %s",
			 strerror(errno));
		send_frame(result_fd, 'e', 0, err, strlen(err));
		_exit(1);
	}
	/* the runner's capture buffers were not inherited (MADV_DONTFORK) */
	memset(&env->out, 0, sizeof(env->out));
	memset(&env->err, 0, sizeof(env->err));
	/* killed with the runner, as its sequential tests would be */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 ||
	    getppid() != env->self)
		_exit(1);
	env->self = getpid();
	env->par_slot = k + 1; /* names the step cgroup its tests share */
	env->is_pid1 = 0; /* never kill(-1): the other workers' tests run */
	if (kl_init() < 0) {
		snprintf(err, sizeof(err), "worker prctl(PR_SET_CHILD_SUBREAPER): %s",
			 strerror(errno));
		send_frame(result_fd, 'e', 0, err, strlen(err));
		_exit(1);
	}
	for (;;) {
		uint32_t idx;
		int rc = next_index(task_fd, &idx);
		if (rc == 0) {
			status = 0;
			break;
		}
		if (rc < 0 || idx >= w->plan->ntests)
			break;
		const struct wire_test *t = &w->plan->tests[idx];
		struct wire_outcome o;
		memset(&o, 0, sizeof(o));
		o.num = t->num;
		err[0] = '\0';
		rc = ex_run(env, w->st, w->inputs + w->off[idx], t->len, &o, err,
			    sizeof(err));
		if (rc < 0) {
			send_frame(result_fd, 'e', idx, err, strlen(err));
			break;
		}
		buf.len = 0;
		if (wire_outcome_encode(&o, &buf) < 0) {
			snprintf(err, sizeof(err), "out of memory encoding test %llu",
				 (unsigned long long)t->num);
			send_frame(result_fd, 'e', idx, err, strlen(err));
			break;
		}
		if (send_frame(result_fd, 'o', idx, buf.data, buf.len) < 0)
			break; /* the runner is gone */
		if (buf.cap > PW_KEEP)
			wire_buf_free(&buf); /* the next test must not inherit it */
	}
	wire_buf_free(&buf);
	if (ex_env_release(env, err, sizeof(err)) < 0)
		fprintf(stderr, "runlet-runner: worker: %s\n", err);
	_exit(status);
}
