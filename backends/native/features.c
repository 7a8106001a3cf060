/* Feature detection of the native sandbox. See features.h. */
#include "features.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mounts.h"

static const struct {
	const char *name;
	const char *fix;
} feat_info[SBX_F_COUNT] = {
	[SBX_F_ROOT] = {"root", "run runlet as root (the sandbox mounts file "
				 "systems, creates cgroups and switches to the "
				 "sandbox uid)"},
	[SBX_F_USERNS] = {"user namespaces", ""},
	[SBX_F_NS_MNT] = {"mount namespace", "a kernel with CONFIG_NAMESPACES"},
	[SBX_F_NS_PID] = {"pid namespace", "a kernel with CONFIG_PID_NS"},
	[SBX_F_NS_NET] = {"network namespace", "a kernel with CONFIG_NET_NS"},
	[SBX_F_NS_IPC] = {"ipc namespace", "a kernel with CONFIG_IPC_NS"},
	[SBX_F_NS_UTS] = {"uts namespace", "a kernel with CONFIG_UTS_NS"},
	[SBX_F_NS_CGROUP] = {"cgroup namespace", "a kernel with CONFIG_CGROUPS"},
	[SBX_F_CG_MEMORY] = {"memory cgroup controller",
			     "mount the cgroup v1 memory controller or enable "
			     "+memory in cgroup v2"},
	[SBX_F_CG_PIDS] = {"pids cgroup controller",
			   "mount the cgroup v1 pids controller or enable +pids "
			   "in cgroup v2"},
	[SBX_F_CG_CPU] = {"cpu cgroup controller",
			  "mount the cgroup v1 cpu controller or enable +cpu "
			  "in cgroup v2 (needed for cpu_cores only)"},
	[SBX_F_CG_MEMSW] = {"memory+swap accounting",
			    "boot with swapaccount=1, or turn swap off"},
	[SBX_F_SECCOMP] = {"seccomp filters", "a kernel with CONFIG_SECCOMP_FILTER"},
	[SBX_F_NNP] = {"no_new_privs", "a kernel of 3.5 or later"},
	[SBX_F_RUNNER] = {"runlet-runner", "build it (cmake --build build "
			  "--target runlet-runner) or set sandbox.runner_path"},
	[SBX_F_TMPFS] = {"work dir (tmpfs)", "set tmpfs: in config.yaml to an "
			 "absolute path such as /tmp"},
};

const char *sbx_feat_name(enum sbx_feat f)
{
	return (unsigned)f < SBX_F_COUNT ? feat_info[f].name : "?";
}

const char *sbx_feat_fix(enum sbx_feat f)
{
	return (unsigned)f < SBX_F_COUNT ? feat_info[f].fix : "";
}

static void set(struct sbx_features *o, enum sbx_feat f, int present,
		int required, const char *prefix, const char *arg)
{
	o->f[f].present = present;
	o->f[f].required = required;
	size_t room = sizeof(o->f[f].detail), pl = strlen(prefix);
	if (pl >= room)
		pl = room - 1;
	memcpy(o->f[f].detail, prefix, pl);
	size_t al = arg ? strlen(arg) : 0;
	if (al > room - 1 - pl)
		al = room - 1 - pl;
	memcpy(o->f[f].detail + pl, arg ? arg : "", al);
	o->f[f].detail[pl + al] = '\0';
}

static long read_long(const char *path, long dflt)
{
	char buf[64];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return dflt;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return dflt;
	buf[n] = '\0';
	return strtol(buf, NULL, 10);
}

static int swap_on(void)
{
	FILE *f = fopen("/proc/swaps", "re");
	char line[256];
	int n = 0;
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		n++;
	fclose(f);
	return n > 1; /* a header line, then one per swap area */
}

int sbx_runner_check(const char *path, char *detail, size_t len)
{
	struct stat st;
	if (!path || !path[0]) {
		snprintf(detail, len, "no path");
		return -ENOENT;
	}
	if (stat(path, &st) < 0) {
		int e = errno;
		snprintf(detail, len, "%s: %s", path, strerror(e));
		return -e;
	}
	if (!S_ISREG(st.st_mode) || access(path, X_OK) < 0) {
		snprintf(detail, len, "%s: not an executable file", path);
		return -EACCES;
	}
	if ((st.st_mode & 022) || (st.st_uid != 0 && st.st_uid != geteuid())) {
		snprintf(detail, len,
			 "%s: writable by others or owned by uid %u: it runs as "
			 "root in the sandbox (chmod go-w, chown root)",
			 path, (unsigned)st.st_uid);
		return -EPERM;
	}
	snprintf(detail, len, "%s", path);
	return 0;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return NULL;
	char *buf = calloc(1, 8192);
	if (buf && fread(buf, 1, 8191, f) == 0 && ferror(f))
		buf[0] = '\0';
	fclose(f);
	return buf;
}

static void detect_cg(const char *cg_root, const char *self,
		      struct sbx_features *o)
{
	char err[384] = "", *own = NULL;
	if (!self)
		self = own = slurp("/proc/self/cgroup");
	int rc = sbx_cg_detect(cg_root, self ? self : "", &o->cg, err, sizeof(err));
	free(own);
	if (rc < 0) {
		int mem = strncmp(err, "memory", 6) == 0;
		set(o, SBX_F_CG_MEMORY, !mem, 1, "", mem ? err : "present");
		set(o, SBX_F_CG_PIDS, 0, 1, "", mem ? "not checked" : err);
		set(o, SBX_F_CG_CPU, 0, 0, "", "");
		set(o, SBX_F_CG_MEMSW, 0, o->swap_on, "", "");
		return;
	}
	char d[SBX_PATH + 16];
	snprintf(d, sizeof(d), "%s %s", o->cg.v2 ? "v2:" : "v1:", o->cg.mem);
	set(o, SBX_F_CG_MEMORY, 1, 1, "", d);
	set(o, SBX_F_CG_PIDS, 1, 1, "", o->cg.v2 ? d : o->cg.pids);
	set(o, SBX_F_CG_CPU, o->cg.cpu[0] != '\0', 0, "",
	    o->cg.cpu[0] ? o->cg.cpu : "absent: cpu_cores is not enforced");
	set(o, SBX_F_CG_MEMSW, o->cg.memsw, o->swap_on, "",
	    o->swap_on ? (o->cg.memsw ? "swap on, accounted" : "swap on, NOT accounted")
		       : (o->cg.memsw ? "no swap configured; accounted"
				      : "no swap configured"));
}

void sbx_features_detect(const char *cg_root, const char *self,
			 const char *runner, const char *workdir,
			 struct sbx_features *o)
{
	static const struct {
		enum sbx_feat f;
		const char *ns;
		int required;
	} nss[] = {
		{SBX_F_NS_MNT, "mnt", 1}, {SBX_F_NS_PID, "pid", 1},
		{SBX_F_NS_NET, "net", 1}, {SBX_F_NS_IPC, "ipc", 1},
		{SBX_F_NS_UTS, "uts", 1}, {SBX_F_NS_CGROUP, "cgroup", 0},
	};
	char path[64], detail[384];
	memset(o, 0, sizeof(*o));
	o->cap_last = (int)read_long("/proc/sys/kernel/cap_last_cap", 40);
	o->swap_on = swap_on();

	set(o, SBX_F_ROOT, geteuid() == 0, 1, "euid ",
	    geteuid() == 0 ? "0" : "is not 0");
	long maxu = read_long("/proc/sys/user/max_user_namespaces", 0);
	struct stat st;
	int has_userns = stat("/proc/self/ns/user", &st) == 0 && maxu > 0;
	set(o, SBX_F_USERNS, has_userns, 0, "",
	    has_userns ? "available (not used: runlet runs as root)"
		       : "not available");
	for (size_t i = 0; i < sizeof(nss) / sizeof(nss[0]); i++) {
		snprintf(path, sizeof(path), "/proc/self/ns/%s", nss[i].ns);
		int ok = stat(path, &st) == 0;
		set(o, nss[i].f, ok, nss[i].required, "", ok ? path : "absent");
	}
	detect_cg(cg_root, self, o);
	/* EFAULT: filter mode exists and only the (NULL) program was bad */
	int sc = prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, NULL, 0, 0);
	int sc_ok = sc < 0 && errno == EFAULT;
	set(o, SBX_F_SECCOMP, sc_ok, 1, "", sc_ok ? "SECCOMP_MODE_FILTER" : "absent");
	int nnp = prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0);
	set(o, SBX_F_NNP, nnp >= 0, 1, "", nnp >= 0 ? "PR_SET_NO_NEW_PRIVS" : "absent");
	int rok = sbx_runner_check(runner, detail, sizeof(detail)) == 0;
	set(o, SBX_F_RUNNER, rok, 1, "", detail);
	int wok = sbx_workdir_check(workdir, detail, sizeof(detail)) == 0;
	set(o, SBX_F_TMPFS, wok, 1, "", wok ? workdir : detail);
}

int sbx_features_missing(const struct sbx_features *f)
{
	for (int i = 0; i < SBX_F_COUNT; i++)
		if (f->f[i].required && !f->f[i].present)
			return i;
	return -1;
}

void sbx_features_message(const struct sbx_features *f, int which, char *buf,
			  size_t len)
{
	if (which < 0 || which >= SBX_F_COUNT) {
		snprintf(buf, len, "native sandbox: every feature is present");
		return;
	}
	snprintf(buf, len, "native sandbox: %s not available (%s%s%s)",
		 sbx_feat_name(which), sbx_feat_fix(which),
		 f->f[which].detail[0] ? "; " : "", f->f[which].detail);
}
