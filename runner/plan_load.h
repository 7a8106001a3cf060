/* Reading and decoding the plan. The test inputs are moved out of the
 * decoded plan into one blob (see blob.h), so children never inherit them. */
#ifndef RUNLET_RUNNER_PLAN_LOAD_H
#define RUNLET_RUNNER_PLAN_LOAD_H

#include <stddef.h>

#include "runner/blob.h"
#include "runner/wire.h"

struct pl_inputs {
	struct blob arena; /* owned: every input, back to back */
	size_t *off;       /* owned: offset of test i's input in arena */
};

/* Read fd until EOF and decode. The plan's tests keep their len but their
 * input pointers are NULL: the bytes are at in->arena.p + in->off[i]. Free
 * with wire_plan_free and pl_inputs_free whatever the result. 0 or -errno
 * with a message in err. */
int pl_load(int fd, struct wire_plan *p, struct pl_inputs *in, char *err,
	    size_t errlen);
void pl_inputs_free(struct pl_inputs *in);

#endif /* RUNLET_RUNNER_PLAN_LOAD_H */
