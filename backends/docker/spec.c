/* backends/docker: the container-create JSON of a job (see spec.h). */
#include "backends/docker/spec.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/config.h"
#include "runner/wire.h"

void dock_spec_from_cfg(struct dock_spec *s, const struct cfg *cfg,
			const struct cfg_runner *r)
{
	s->lang = r->code;
	s->envs = r->envs;
	s->nenvs = r->nenvs;
	s->workdir = cfg->tmpfs && *cfg->tmpfs ? cfg->tmpfs : "/tmp";
	s->tmpfs_size = r->limits.tmpfs_size ? r->limits.tmpfs_size : (256u << 20);
	s->memory = r->mem_limit;
	s->cpu_cores = r->cpu_cores;
	s->pids_limit = r->limits.pids_limit ? r->limits.pids_limit : 100;
	s->mount_target = cfg->runner_mountpoint && *cfg->runner_mountpoint
				  ? cfg->runner_mountpoint
				  : "/home/sandbox";
}

static int add_env(json_t *env, const char *lang, char *const *envs,
		   size_t n)
{
	char buf[256];
	snprintf(buf, sizeof(buf), "LANG=%s", lang ? lang : "");
	if (json_array_append_new(env, json_string(buf)) < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (envs[i] && json_array_append_new(env, json_string(envs[i])) < 0)
			return -1;
	return 0;
}

json_t *dock_spec_json(const struct dock_spec *s)
{
	char user[32], tmpfs_opts[128];
	json_t *root = json_object(), *host = json_object();
	json_t *entry = json_array(), *cmd = json_array(), *env = json_array();
	json_t *labels = json_object(), *tmpfs = json_object();
	json_t *mounts = json_array();
	int bad = !root || !host || !entry || !cmd || !env || !labels ||
		  !tmpfs || !mounts;

	if (!bad && s->argv && s->argv[0]) {
		bad |= json_array_append_new(entry, json_string(s->argv[0])) < 0;
		for (size_t i = 1; s->argv[i]; i++)
			bad |= json_array_append_new(cmd, json_string(s->argv[i])) < 0;
	}
	if (!bad)
		bad |= add_env(env, s->lang, s->envs, s->nenvs) < 0;
	snprintf(user, sizeof(user), "%d:%d", DOCK_SANDBOX_UID, DOCK_SANDBOX_UID);
	snprintf(tmpfs_opts, sizeof(tmpfs_opts),
		 "rw,exec,nosuid,nodev,size=%llu",
		 (unsigned long long)s->tmpfs_size);
	if (!bad) {
		bad |= json_object_set_new(labels, DOCK_LABEL, json_string("1")) < 0;
		if (s->job_id)
			bad |= json_object_set_new(labels, DOCK_LABEL_JOB,
						   json_string(s->job_id)) < 0;
		if (s->owner)
			bad |= json_object_set_new(labels, DOCK_LABEL_OWNER,
						   json_string(s->owner)) < 0;
		bad |= json_object_set_new(tmpfs, s->workdir,
					   json_string(tmpfs_opts)) < 0;
	}
	if (!bad && s->mount_target) {
		json_t *m;
		if (s->bind_source)
			m = json_pack("{s:s, s:s, s:s, s:b, s:{s:s}}", "Type", "bind",
				      "Source", s->bind_source, "Target",
				      s->mount_target, "ReadOnly", 1,
				      "BindOptions", "Propagation", "rprivate");
		else
			/* anonymous, removed with the container; written only
			 * by the engine (PUT archive) before start */
			m = json_pack("{s:s, s:s, s:b, s:{s:b, s:O}}", "Type",
				      "volume", "Target", s->mount_target,
				      "ReadOnly", 0, "VolumeOptions", "NoCopy", 1,
				      "Labels", labels);
		bad |= !m || json_array_append_new(mounts, m) < 0;
	}
	if (!bad) {
		json_int_t nano = s->cpu_cores > 0
					  ? (json_int_t)llround(s->cpu_cores * 1e9)
					  : 0;
		json_t *secopt = json_pack("[s]", "no-new-privileges");
		json_t *capdrop = json_pack("[s]", "ALL");
		json_t *logcfg = json_pack("{s:s}", "Type", "none");
		bad |= !secopt || !capdrop || !logcfg;
		bad |= json_object_set_new(host, "NetworkMode", json_string("none")) < 0;
		bad |= json_object_set_new(host, "ReadonlyRootfs", json_true()) < 0;
		bad |= json_object_set_new(host, "SecurityOpt", secopt) < 0;
		bad |= json_object_set_new(host, "CapDrop", capdrop) < 0;
		bad |= json_object_set_new(host, "PidsLimit",
					   json_integer((json_int_t)s->pids_limit)) < 0;
		if (s->memory) {
			/* the engine refuses less than 6 MiB */
			json_int_t mem = s->memory < (6u << 20) ? (6u << 20) : (json_int_t)s->memory;
			bad |= json_object_set_new(host, "Memory", json_integer(mem)) < 0;
			bad |= json_object_set_new(host, "MemorySwap", json_integer(mem)) < 0;
		}
		if (nano > 0)
			bad |= json_object_set_new(host, "NanoCpus", json_integer(nano)) < 0;
		bad |= json_object_set(host, "Tmpfs", tmpfs) < 0;
		bad |= json_object_set(host, "Mounts", mounts) < 0;
		bad |= json_object_set_new(host, "LogConfig", logcfg) < 0;
		bad |= json_object_set_new(host, "Init", json_false()) < 0;
		bad |= json_object_set_new(host, "AutoRemove", json_false()) < 0;

		bad |= json_object_set_new(root, "Image", json_string(s->image ? s->image : "")) < 0;
		bad |= json_object_set(root, "Entrypoint", entry) < 0;
		bad |= json_object_set(root, "Cmd", cmd) < 0;
		bad |= json_object_set(root, "Env", env) < 0;
		bad |= json_object_set_new(root, "User", json_string(user)) < 0;
		bad |= json_object_set_new(root, "WorkingDir", json_string(s->workdir)) < 0;
		bad |= json_object_set(root, "Labels", labels) < 0;
		bad |= json_object_set_new(root, "NetworkDisabled", json_true()) < 0;
		bad |= json_object_set_new(root, "AttachStdin", json_boolean(s->open_stdin)) < 0;
		bad |= json_object_set_new(root, "AttachStdout", json_true()) < 0;
		bad |= json_object_set_new(root, "AttachStderr", json_true()) < 0;
		bad |= json_object_set_new(root, "OpenStdin", json_boolean(s->open_stdin)) < 0;
		bad |= json_object_set_new(root, "StdinOnce", json_boolean(s->open_stdin)) < 0;
		bad |= json_object_set_new(root, "Tty", json_false()) < 0;
		bad |= json_object_set(root, "HostConfig", host) < 0;
	}
	json_decref(host);
	json_decref(entry);
	json_decref(cmd);
	json_decref(env);
	json_decref(labels);
	json_decref(tmpfs);
	json_decref(mounts);
	if (bad) {
		json_decref(root);
		return NULL;
	}
	return root;
}

static uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a + b < a ? UINT64_MAX : a + b;
}

static uint64_t sat_mul(uint64_t a, uint64_t b)
{
	return b && a > UINT64_MAX / b ? UINT64_MAX : a * b;
}

static uint64_t step_ms(const struct wire_limits *l)
{
	if (l->wall_ms)
		return l->wall_ms;
	if (l->cpu_ms)
		return sat_add(sat_mul(l->cpu_ms, 2), 1000);
	return 60000;
}

uint64_t dock_deadline_ms(const struct wire_plan *p)
{
	uint64_t t = p->has_compile ? step_ms(&p->compile.lim) : 0;
	t = sat_add(t, sat_mul(p->ntests, sat_add(step_ms(&p->run.lim), 200)));
	return sat_add(sat_add(t, t / 10), 15000);
}

uint64_t dock_plan_pids(const struct wire_plan *p, uint64_t cfg_pids)
{
	uint64_t n = cfg_pids;
	if (p->run.lim.pids > n)
		n = p->run.lim.pids;
	if (p->has_compile && p->compile.lim.pids > n)
		n = p->compile.lim.pids;
	return n ? n + 1 : 0;
}

uint64_t dock_step_memory(const struct wire_step *st, uint64_t fallback)
{
	uint64_t m = st->lim.mem_kb ? st->lim.mem_kb * 1024 : fallback;
	return m && m < (6u << 20) ? (6u << 20) : m; /* the engine's minimum */
}

uint64_t dock_output_bound(const struct wire_plan *p)
{
	const uint64_t cap = 1ull << 30;
	uint64_t per_test = 4096, b = 1u << 20;
	if (!p->run.lim.out_kb || !p->run.lim.err_kb)
		return cap;
	per_test = sat_add(per_test, sat_mul(sat_add(p->run.lim.out_kb,
						     p->run.lim.err_kb), 1024));
	b = sat_add(b, sat_mul(per_test, p->ntests));
	if (p->has_compile)
		b = sat_add(b, sat_mul(sat_add(p->compile.lim.out_kb ? p->compile.lim.out_kb : 1024,
					       p->compile.lim.err_kb ? p->compile.lim.err_kb : 1024),
				       1024));
	b = b < cap ? b : cap;
#ifdef WIRE_MAX_ARTIFACT
	if (p->emit)
		b = sat_add(b, WIRE_MAX_ARTIFACT);
#endif
	return b;
}
