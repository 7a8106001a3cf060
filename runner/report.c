/* Writing result records to stdout (see report.h). */
#include "runner/report.h"

#include <errno.h>

#include "runner/util.h"

#define RP_KEEP (64u << 10) /* scratch kept between records (children inherit it) */

static int flush(struct rp_out *r, int rc)
{
	if (rc == 0 && r->buf.len)
		rc = ut_write_all(r->fd, r->buf.data, r->buf.len);
	r->buf.len = 0;
	if (r->buf.cap > RP_KEEP)
		wire_buf_free(&r->buf);
	return rc;
}

int rp_header(struct rp_out *r)
{
	return flush(r, wire_put_str(&r->buf, "result", WIRE_VERSION));
}

int rp_outcome(struct rp_out *r, const struct wire_outcome *o)
{
	return flush(r, wire_outcome_encode(o, &r->buf));
}

int rp_oomwatch(struct rp_out *r)
{
	return flush(r, wire_put_str(&r->buf, "oomwatch", "1"));
}

int rp_await(struct rp_out *r, uint64_t bytes)
{
	return flush(r, wire_put_u64(&r->buf, "await", bytes));
}

int rp_error(struct rp_out *r, const char *msg)
{
	return flush(r, wire_put_str(&r->buf, "error", msg));
}

int rp_end(struct rp_out *r)
{
	return flush(r, wire_put_str(&r->buf, "end", ""));
}

void rp_close(struct rp_out *r)
{
	wire_buf_free(&r->buf);
}
