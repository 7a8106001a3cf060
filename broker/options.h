/* broker: the command line of `runlet serve`.
 * Ownership: every string in struct serve_opts is borrowed from argv or
 * the environment, valid for the life of the process. */
#ifndef RUNLET_BROKER_OPTIONS_H
#define RUNLET_BROKER_OPTIONS_H

#include <stddef.h>
#include <stdint.h>

#include "core/dispatch.h"

struct serve_opts {
	struct runlet_ctx_opts ctx;
	int once;
	uint64_t max_jobs;  /* 0: no limit; --once sets 1 */
	long workers, prefetch; /* 0: from config */
	const char *state_dir;  /* NULL: the default */
	const char *log_level;  /* NULL: info */
};

/* 0; 1 after --help (printed); -EINVAL after a message on stderr. */
int mq_parse_opts(int argc, char **argv, struct serve_opts *o);

/* The default state directory (see docs/DEPLOY.md), in buf or static;
 * NULL when there is none. */
const char *mq_default_state_dir(char *buf, size_t len);

#endif
