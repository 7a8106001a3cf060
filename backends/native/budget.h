/* What one submission may use as a whole, derived from its plan: the
 * submission cgroup's limits, the global deadline, the most runner output
 * accepted, and the submission's cgroup name. Pure functions.
 */
#ifndef RUNLET_SBX_BUDGET_H
#define RUNLET_SBX_BUDGET_H

#include <stddef.h>
#include <stdint.h>

#include "runner/wire.h"

#define SBX_MEM_SLACK (64ull << 20)  /* the runner, its buffers, page cache */
#define SBX_PIDS_SLACK 8             /* the runner and its helpers */
#define SBX_SHM_SIZE (16ull << 20)   /* the private /dev/shm */
#define SBX_DEADLINE_MARGIN_MS 5000  /* setup, teardown, between tests */
#define SBX_DEADLINE_PER_TEST_MS 250

struct sbx_budget {
	uint64_t mem_bytes;   /* memory (= memory+swap) of the submission */
	uint64_t pids;        /* pids.max of the submission */
	uint64_t deadline_ms; /* from clone to reaped */
	size_t out_max;       /* bytes of runner stdout accepted */
};

/* mem: max(compile, run memory) + the work dir tmpfs + /dev/shm + slack
 * (tmpfs pages are charged to the cgroup that wrote them and stay charged to
 * the submission between steps). pids: max(compile, run pids) + slack.
 * deadline: compile wall + tests * run wall + margins. A step limit of 0
 * (none) counts as default_mem / 256 pids / 60 s. */
void sbx_budget_of(const struct wire_plan *p, uint64_t tmpfs_bytes,
		   uint64_t default_mem, struct sbx_budget *b);

/* A cgroup name for one execute(): the job id reduced to [A-Za-z0-9._-]
 * (at most 48 chars, never starting with '.'), '-', the sequence number.
 * Writes into out. */
void sbx_cg_name(const char *job_id, unsigned long seq, char *out,
		 size_t outlen);

#endif
