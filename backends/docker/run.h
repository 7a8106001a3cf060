/* backends/docker: reading one started container until it ends or its
 * deadline passes, whatever carries its output (a curl attach stream or a
 * hijacked attach with stdin, hijack.h).
 * Ownership: everything is borrowed for the call; struct dock_sink owns
 * its collector's buffers (dock_collect_free). */
#ifndef RUNLET_DOCK_RUN_H
#define RUNLET_DOCK_RUN_H

#include <stddef.h>
#include <stdint.h>

#include "backends/docker/collect.h"
#include "backends/docker/stream.h"

struct dock_client;

struct dock_sink {
	struct dock_demux dm;
	struct dock_collect col;
	int rc;
	int stop_at_end; /* dock_run_pump returns at the runner's end record,
			  * not when the stream closes (the container's exit) */
};

/* A dock_sink_fn (http.h) feeding the demuxer and collector. */
int dock_sink_feed(void *arg, const char *p, size_t n);

/* Moves the output: 1 ended, 0 still open, -errno. */
typedef int (*dock_pump_fn)(void *src, long timeout_ms, char *err,
			    size_t errlen);

/* Pump until the stream ends; kill at deadline_ms from now. run_mem: after
 * the compile step, lower the container's memory to it (0: leave it). */
int dock_run_pump(struct dock_client *c, const char *id, uint64_t deadline_ms,
		  uint64_t run_mem, dock_pump_fn pump, void *src,
		  struct dock_sink *sc, struct dock_fate *fate, char *err,
		  size_t errlen);
/* Set a running container's memory (and swap equal). 0 done, 1 the
 * container ended meanwhile, -errno refused. */
int dock_set_memory(struct dock_client *c, const char *id, uint64_t mem);
/* wait + inspect: exit code and OOMKilled into fate. */
int dock_read_fate(struct dock_client *c, const char *id,
		   struct dock_fate *fate, char *err, size_t errlen);
long dock_now_ms(void);

#endif /* RUNLET_DOCK_RUN_H */
