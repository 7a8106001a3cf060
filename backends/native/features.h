/* What the native sandbox can use on this host: detection shared by the
 * backend's open() and `runlet doctor`.
 *
 * Ownership: plain data, fixed-size buffers.
 */
#ifndef RUNLET_SBX_FEATURES_H
#define RUNLET_SBX_FEATURES_H

#include <stddef.h>

#include "cgroup.h"

enum sbx_feat {
	SBX_F_ROOT,       /* euid 0 (needed: mounts, cgroups, uid switch) */
	SBX_F_USERNS,     /* user namespaces (informational) */
	SBX_F_NS_MNT,
	SBX_F_NS_PID,
	SBX_F_NS_NET,
	SBX_F_NS_IPC,
	SBX_F_NS_UTS,
	SBX_F_NS_CGROUP,  /* optional: hides the host cgroup paths */
	SBX_F_CG_MEMORY,
	SBX_F_CG_PIDS,
	SBX_F_CG_CPU,     /* optional: cpu_cores */
	SBX_F_CG_MEMSW,   /* required only when swap is on */
	SBX_F_SECCOMP,
	SBX_F_NNP,
	SBX_F_RUNNER,
	SBX_F_TMPFS,
	SBX_F_COUNT
};

struct sbx_feature {
	int present;
	int required;
	char detail[384];
};

struct sbx_features {
	struct sbx_feature f[SBX_F_COUNT];
	struct sbx_cg_layout cg; /* valid when CG_MEMORY and CG_PIDS present */
	int cap_last;
	int swap_on;
};

/* Short label of a feature ("mount namespace"). */
const char *sbx_feat_name(enum sbx_feat f);
/* What to do when a required feature is missing. */
const char *sbx_feat_fix(enum sbx_feat f);

/* Probe everything. cg_root: normally "/sys/fs/cgroup"; self: the text of
 * /proc/self/cgroup or NULL to read it; runner: host path of runlet-runner;
 * workdir: cfg->tmpfs. Never fails: absent features are marked absent. */
void sbx_features_detect(const char *cg_root, const char *self,
			 const char *runner, const char *workdir,
			 struct sbx_features *out);

/* The first required feature missing, or -1. */
int sbx_features_missing(const struct sbx_features *f);

/* "native sandbox: <what> not available (<fix>)" into buf. */
void sbx_features_message(const struct sbx_features *f, int which, char *buf,
			  size_t len);

/* Check a runner binary: a regular executable file owned by root or the
 * caller and writable by nobody else. 0 or -errno with detail set. */
int sbx_runner_check(const char *path, char *detail, size_t len);

#endif
