/* backends/docker: framings of Engine API byte streams.
 *
 * Multiplexed attach/logs streams: frames of an 8-byte header
 *   [stream (0 stdin, 1 stdout, 2 stderr), 0, 0, 0, size (big-endian u32)]
 * followed by size bytes. The demuxer takes the bytes in chunks of any size.
 * JSON-lines streams (build progress): one JSON document per line.
 * Ownership: the states own nothing but their fixed buffers / line buffer.
 */
#ifndef RUNLET_DOCK_STREAM_H
#define RUNLET_DOCK_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include "runner/wire.h"

/* Receives one stream's payload bytes (a frame may arrive in pieces).
 * Nonzero return stops the demuxer and is returned by dock_demux_feed. */
typedef int (*dock_frame_fn)(void *arg, int stream, const char *data,
			     size_t len);

struct dock_demux {
	unsigned char hdr[8];
	size_t hlen;      /* header bytes collected */
	uint32_t remain;  /* payload bytes left in the current frame */
	int stream;
};

void dock_demux_init(struct dock_demux *d);
/* 0, the callback's nonzero value, or -EPROTO for a bad header. */
int dock_demux_feed(struct dock_demux *d, const char *p, size_t n,
		    dock_frame_fn cb, void *arg);
/* 0 when the stream ended on a frame boundary, -EPROTO otherwise. */
int dock_demux_end(const struct dock_demux *d);

/* Calls cb with each complete line (without the newline). */
typedef int (*dock_line_fn)(void *arg, const char *line, size_t len);

struct dock_lines {
	struct wire_buf buf; /* owned: the incomplete last line */
	size_t max;          /* longer lines are cut (0: 1 MiB) */
};

int dock_lines_feed(struct dock_lines *l, const char *p, size_t n,
		    dock_line_fn cb, void *arg);
/* Flush a last line without newline; frees the buffer. */
int dock_lines_end(struct dock_lines *l, dock_line_fn cb, void *arg);

#endif /* RUNLET_DOCK_STREAM_H */
