/* backends/docker: collecting runlet-runner's result from a container's
 * output stream.
 *
 * stdout (stream 1) carries the result records; they are passed on to the
 * progress callback one outcome at a time as each completes. stderr (stream
 * 2) is the runner's own messages, kept (capped) for error reports. At the
 * end the records are decoded, and what the container's fate tells is
 * folded in: an OOM kill turns SIGKILLed outcomes into RUNLET_EXIT_MEMORY,
 * and a runner that died early (OOM or the container deadline) gets the
 * outcomes it never wrote.
 * Ownership: the collector owns its buffers; dock_collect_free releases.
 */
#ifndef RUNLET_DOCK_COLLECT_H
#define RUNLET_DOCK_COLLECT_H

#include <stddef.h>
#include <stdint.h>

#include "runner/wire.h"

struct dock_collect {
	struct wire_buf out;   /* runner stdout */
	struct wire_buf err;   /* runner stderr, capped */
	size_t scan;           /* end of the last complete record */
	size_t open;           /* start of the outcome being read, or SIZE_MAX */
	int open_done;         /* its last field (err_trunc or note) is in */
	int open_emitted;      /* passed on already (dock_collect_idle) */
	int open_compile;      /* it is the compile outcome */
	int compile_done;      /* the compile step has ended */
	int need_artifact;     /* the plan asks for the compile's artifact:
				* that outcome ends with its artifact record */
	int malformed;         /* a record could not be framed */
	int ended;             /* the runner's end record is in */
	int oom_watched;       /* the runner said "oomwatch": it found the
				* OOM kills itself (runner/oomwatch.h) */
	int held;              /* stopped streaming (an outcome may change) */
	size_t out_limit;      /* more stdout than this is refused */
	void (*progress)(void *arg, const struct wire_outcome *o);
	void *arg;
};

/* How the container ended. */
struct dock_fate {
	int oom;              /* State.OOMKilled */
	int deadline;         /* runlet killed it at the deadline */
	uint64_t deadline_ms;
	int64_t exit_code;    /* State.ExitCode */
	uint64_t mem_limit;   /* for messages */
};

void dock_collect_init(struct dock_collect *c, size_t out_limit,
		       void (*progress)(void *, const struct wire_outcome *),
		       void *arg);
/* A dock_frame_fn: feed one stream's bytes. -E2BIG past out_limit. */
int dock_collect_frame(void *arg, int stream, const char *data, size_t len);
/* The stream went quiet: pass on an outcome whose fields are all in
 * without waiting for the next record. */
void dock_collect_idle(struct dock_collect *c);
/* Decode and fold in the fate. 0 with *res filled (caller frees with
 * wire_result_free) or -EPROTO with err saying why (runner stderr
 * included). */
int dock_collect_finish(struct dock_collect *c, const struct wire_plan *plan,
			const struct dock_fate *fate, struct wire_result *res,
			char *err, size_t errlen);
void dock_collect_free(struct dock_collect *c);

/* Frame the record at buf[off..len): 1 with *tag_end (offset of the space),
 * *end (offset after the record) when complete, 0 when more bytes are
 * needed, -EPROTO when it cannot be a record. */
int dock_wire_frame(const char *buf, size_t len, size_t off, size_t *tag_end,
		    size_t *end);

#endif /* RUNLET_DOCK_COLLECT_H */
