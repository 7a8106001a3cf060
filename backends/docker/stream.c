/* backends/docker: the multiplexed stream demuxer and a JSON-lines splitter. */
#include "backends/docker/stream.h"

#include <errno.h>
#include <string.h>

void dock_demux_init(struct dock_demux *d)
{
	memset(d, 0, sizeof(*d));
}

int dock_demux_feed(struct dock_demux *d, const char *p, size_t n,
		    dock_frame_fn cb, void *arg)
{
	while (n > 0) {
		if (d->remain == 0) {
			size_t take = 8 - d->hlen;
			if (take > n)
				take = n;
			memcpy(d->hdr + d->hlen, p, take);
			d->hlen += take;
			p += take;
			n -= take;
			if (d->hlen < 8)
				return 0;
			if (d->hdr[0] > 3 || d->hdr[1] || d->hdr[2] || d->hdr[3])
				return -EPROTO;
			d->stream = d->hdr[0];
			d->remain = (uint32_t)d->hdr[4] << 24 |
				    (uint32_t)d->hdr[5] << 16 |
				    (uint32_t)d->hdr[6] << 8 | (uint32_t)d->hdr[7];
			d->hlen = 0;
			continue;
		}
		size_t take = d->remain < n ? d->remain : n;
		int rc = cb(arg, d->stream, p, take);
		if (rc != 0)
			return rc;
		d->remain -= (uint32_t)take;
		p += take;
		n -= take;
	}
	return 0;
}

int dock_demux_end(const struct dock_demux *d)
{
	return (d->hlen == 0 && d->remain == 0) ? 0 : -EPROTO;
}

int dock_lines_feed(struct dock_lines *l, const char *p, size_t n,
		    dock_line_fn cb, void *arg)
{
	size_t max = l->max ? l->max : (1u << 20);
	while (n > 0) {
		const char *nl = memchr(p, '\n', n);
		size_t part = nl ? (size_t)(nl - p) : n;
		size_t room = l->buf.len < max ? max - l->buf.len : 0;
		if (wire_buf_append(&l->buf, p, part < room ? part : room) < 0)
			return -ENOMEM;
		if (!nl)
			return 0;
		int rc = cb(arg, l->buf.data ? l->buf.data : "", l->buf.len);
		l->buf.len = 0;
		if (rc != 0)
			return rc;
		p = nl + 1;
		n -= part + 1;
	}
	return 0;
}

int dock_lines_end(struct dock_lines *l, dock_line_fn cb, void *arg)
{
	int rc = 0;
	if (l->buf.len > 0)
		rc = cb(arg, l->buf.data, l->buf.len);
	wire_buf_free(&l->buf);
	return rc;
}
