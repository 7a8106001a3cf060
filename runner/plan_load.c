/* Reading the plan from a file or stdin (see plan_load.h). */
#include "runner/plan_load.h"

#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int read_all(int fd, struct blob *b)
{
	for (;;) {
		int rc = blob_reserve(b, 1 << 20);
		if (rc < 0)
			return rc;
		ssize_t n = read(fd, b->p + b->len, b->cap - b->len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return 0;
		b->len += (size_t)n;
	}
}

int pl_load(int fd, struct wire_plan *p, struct pl_inputs *in, char *err,
	    size_t errlen)
{
	struct blob raw = {0};
	memset(in, 0, sizeof(*in));
	memset(p, 0, sizeof(*p));
	int rc = read_all(fd, &raw);
	if (rc < 0) {
		snprintf(err, errlen, "cannot read the plan: %s", strerror(-rc));
		goto out;
	}
	rc = wire_plan_decode(raw.p ? raw.p : "", raw.len, p, err, errlen);
	blob_free(&raw);
	if (rc < 0)
		goto out;
	size_t total = 0;
	for (size_t i = 0; i < p->ntests; i++)
		total += p->tests[i].len;
	in->off = calloc(p->ntests ? p->ntests : 1, sizeof(*in->off));
	if (!in->off || blob_reserve(&in->arena, total ? total : 1) < 0) {
		rc = -ENOMEM;
		snprintf(err, errlen, "out of memory for %zu bytes of test input",
			 total);
		goto out;
	}
	for (size_t i = 0; i < p->ntests; i++) {
		in->off[i] = in->arena.len;
		blob_append(&in->arena, p->tests[i].input, p->tests[i].len);
		free(p->tests[i].input);
		p->tests[i].input = NULL;
	}
	/* hand the freed copies back, so forks start small */
	malloc_trim(0);
	rc = 0;
out:
	blob_free(&raw);
	return rc;
}

void pl_inputs_free(struct pl_inputs *in)
{
	blob_free(&in->arena);
	free(in->off);
	in->off = NULL;
}
