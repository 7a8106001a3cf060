/* The runner's side of one running step: one poll loop that feeds stdin,
 * collects stdout and stderr under their caps, reads the child's set-up
 * report, watches the wall-clock deadline and the CPU time, and notices the
 * child's exit (SIGCHLD through a signalfd) and reaps it with wait4.
 *
 * All pipe ends are the runner's (non-blocking, close-on-exec); io_run and
 * io_drain close them. Buffers are borrowed from the caller. */
#ifndef RUNLET_RUNNER_IO_H
#define RUNLET_RUNNER_IO_H

#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

#include "runner/blob.h"
#include "runner/cgroup.h"
#include "runner/child.h"

enum io_kill {
	IO_KILL_NONE = 0,
	IO_KILL_STDOUT, /* stdout cap exceeded */
	IO_KILL_STDERR, /* stderr hard cap exceeded */
	IO_KILL_WALL,   /* wall-clock deadline */
	IO_KILL_CPU,    /* CPU time polled above the limit */
};

#define IO_CPU_POLL_NS (50 * 1000000ll)

struct io_job {
	/* in */
	pid_t pid;        /* the step's process (and process group) */
	int sig_fd;       /* signalfd for SIGCHLD, borrowed */
	int in_fd;        /* write end of the child's stdin, or -1 */
	int out_fd;       /* read end of its stdout */
	int err_fd;       /* read end of its stderr */
	int report_fd;    /* read end of the set-up error pipe */
	const char *in;   /* stdin bytes, borrowed */
	size_t in_len;
	struct blob *out; /* stdout kept, borrowed, appended to */
	struct blob *err; /* stderr kept, borrowed, appended to */
	uint64_t out_max; /* bytes of stdout allowed; 0 = no cap */
	uint64_t err_keep; /* bytes of stderr kept; 0 = all */
	uint64_t err_max; /* bytes of stderr allowed; 0 = no cap */
	int64_t deadline_ns;   /* absolute CLOCK_MONOTONIC; 0 = none */
	uint64_t cpu_limit_ns; /* 0 = none */
	struct cg_step *cg;    /* step cgroup or NULL */
	/* out */
	enum io_kill kill_reason;
	int out_trunc, err_trunc;
	int setup_failed;
	struct child_err cerr;
	int wstatus;
	struct rusage ru;
	int64_t end_ns;        /* when the process was reaped */
	uint64_t cpu_polled_ns; /* last CPU time seen while polling */
	/* private */
	uint64_t err_total;
	size_t in_off;
	int stat_fd;
	int reaped;
};

/* Run until the step's process is reaped. 0, or -errno when the runner
 * itself failed (then the process was killed and reaped). */
int io_run(struct io_job *j);
/* After the leftovers were killed: read what is still in the pipes (same
 * caps), then close every pipe. */
void io_drain(struct io_job *j);

#endif /* RUNLET_RUNNER_IO_H */
