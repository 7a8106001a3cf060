/* The runner's result stream on stdout: "result 1", one outcome per step as
 * it completes, maybe an "error", then "end". Every record is written (not
 * buffered) as soon as it is known. */
#ifndef RUNLET_RUNNER_REPORT_H
#define RUNLET_RUNNER_REPORT_H

#include "runner/wire.h"

struct rp_out {
	int fd;
	struct wire_buf buf; /* owned scratch; rp_close frees it */
};

int rp_header(struct rp_out *r);
int rp_outcome(struct rp_out *r, const struct wire_outcome *o);
/* The "await" record after the compile outcome (runner/memwait.h). */
int rp_await(struct rp_out *r, uint64_t bytes);
/* Before any outcome: each outcome's oom is the runner's (oomwatch.h). */
int rp_oomwatch(struct rp_out *r);
int rp_error(struct rp_out *r, const char *msg);
int rp_end(struct rp_out *r);
void rp_close(struct rp_out *r);

#endif /* RUNLET_RUNNER_REPORT_H */
