/* backends/docker: the container-create document of one job, with the
 * contract's hardening (CONTRACT.md §3): no network, uid 1001, read-only
 * root, no-new-privileges, all capabilities dropped, pids/memory/CPU
 * limits, a tmpfs work dir, no log driver (output is read through attach).
 * Ownership: everything in struct dock_spec is borrowed for the call. */
#ifndef RUNLET_DOCK_SPEC_H
#define RUNLET_DOCK_SPEC_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define DOCK_SANDBOX_UID 1001
#define DOCK_LABEL "runlet"
#define DOCK_LABEL_JOB "runlet.job"
#define DOCK_LABEL_OWNER "runlet.owner"

struct cfg;
struct cfg_runner;

struct dock_spec {
	const char *image;
	const char *const *argv;  /* NULL-terminated: entrypoint + args */
	const char *lang;         /* LANG=<lang> */
	char *const *envs;        /* KEY=VALUE, nenvs entries */
	size_t nenvs;
	const char *workdir;      /* the tmpfs */
	uint64_t tmpfs_size;
	uint64_t memory;          /* bytes; swap is set equal (none) */
	double cpu_cores;
	uint64_t pids_limit;
	const char *job_id;
	const char *owner;
	/* the job's staging: mounted at mount_target, read-only from a host
	 * directory (bind_source) or an anonymous volume the plan is put into
	 * before start (bind_source NULL) */
	const char *mount_target;
	const char *bind_source;
	/* a warm (pooled) container: stdin open for one attach (StdinOnce),
	 * the runner reads its plan there */
	int open_stdin;
};

/* Fill the resource and hardening fields from the config (image, lang,
 * envs, workdir, limits). */
void dock_spec_from_cfg(struct dock_spec *s, const struct cfg *cfg,
			const struct cfg_runner *r);

/* New reference, NULL on out-of-memory. */
json_t *dock_spec_json(const struct dock_spec *s);

struct wire_plan;
/* The whole-container deadline of a plan in ms: compile + every test's
 * wall limit + 10% + 15 s (container start and teardown). */
uint64_t dock_deadline_ms(const struct wire_plan *p);
/* The container's pids limit for a plan: the largest it asks for (or
 * cfg_pids), plus the runner itself; 0 when neither sets one. */
uint64_t dock_plan_pids(const struct wire_plan *p, uint64_t cfg_pids);
struct wire_step;
/* The container's memory while a step runs: the step's limit (the job's,
 * clamped by the config), else fallback; at least the engine's 6 MiB. */
uint64_t dock_step_memory(const struct wire_step *st, uint64_t fallback);
/* The most runner stdout a plan can produce, in bytes (capped at 1 GiB). */
uint64_t dock_output_bound(const struct wire_plan *p);

#endif /* RUNLET_DOCK_SPEC_H */
