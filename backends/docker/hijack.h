/* backends/docker: an attach connection with stdin (the engine "hijacks"
 * the HTTP connection and it becomes a raw byte stream both ways).
 *
 * libcurl cannot write to a response in progress, so this speaks HTTP/1.1
 * on its own socket: one request with Upgrade: tcp, the status line and
 * headers (101 or 200), then the raw stream. Bytes written go to the
 * container's stdin; shutdown(SHUT_WR) is its EOF (with StdinOnce the
 * engine closes the container's stdin). Bytes read are the multiplexed
 * stdout/stderr frames (stream.h).
 * Ownership: a dock_hijack owns its socket and its buffered bytes. */
#ifndef RUNLET_DOCK_HIJACK_H
#define RUNLET_DOCK_HIJACK_H

#include <stddef.h>

#include "backends/docker/http.h"

struct dock_hijack {
	int fd;               /* -1 when closed */
	char pending[4096];   /* stream bytes not yet handed to a sink */
	size_t npending;
};

/* Connect to ep and POST path (e.g. /containers/ID/attach?stream=1&stdin=1
 * &stdout=1&stderr=1) on API version ver. 0 or -errno with err. */
int dock_hijack_open(const struct dock_endpoint *ep, const char *ver,
		     const char *path, struct dock_hijack *h, char *err,
		     size_t errlen);
/* Write all of data, then half-close (EOF for the container's stdin). */
int dock_hijack_send_eof(struct dock_hijack *h, const void *data, size_t len,
			 char *err, size_t errlen);
/* Wait up to timeout_ms for bytes and hand them to sink: 1 = the engine
 * closed the stream, 0 = still open, -errno (the sink's nonzero return
 * too). */
int dock_hijack_pump(struct dock_hijack *h, long timeout_ms, dock_sink_fn sink,
		     void *arg, char *err, size_t errlen);
/* An idle stream (nothing sent yet): keep what came meanwhile (the
 * runner's result header) for the next pump; 1 when the stream ended or
 * broke, or more came than pending holds (a runner waiting for its plan
 * writes a few bytes), else 0. */
int dock_hijack_broken(struct dock_hijack *h);
void dock_hijack_close(struct dock_hijack *h);

#endif /* RUNLET_DOCK_HIJACK_H */
