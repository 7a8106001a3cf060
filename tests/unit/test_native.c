/* Unit tests of the native backend's pure parts: cgroup path handling (v1
 * and v2 against fake trees), feature detection, the budget, the mount
 * table, the work dir check and fd-based removal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backends/native/budget.h"
#include "backends/native/cgroup.h"
#include "backends/native/features.h"
#include "backends/native/mounts.h"
#include "backends/native/pool.h"
#include "backends/native/rmtree.h"

static const char *self_v1 =
	"12:pids:/user.slice\n"
	"4:memory:/process_api/abc\n"
	"3:cpu,cpuacct:/\n"
	"1:name=systemd:/init.scope\n"
	"0::/\n";

static void touch(const char *dir, const char *file)
{
	char p[512];
	assert_true(snprintf(p, sizeof(p), "%s/%s", dir, file) < (int)sizeof(p));
	int fd = open(p, O_WRONLY | O_CREAT, 0644);
	assert_true(fd >= 0);
	close(fd);
}

static void mkd(const char *a, const char *b)
{
	char p[512];
	assert_true(snprintf(p, sizeof(p), "%s%s%s", a, b ? "/" : "", b ? b : "") <
		    (int)sizeof(p));
	assert_int_equal(mkdir(p, 0755), 0);
}

static char *tmpdir(void)
{
	char *t = strdup("/tmp/runlet-test-native-XXXXXX");
	assert_non_null(mkdtemp(t));
	return t;
}

static void rm_rf(const char *path)
{
	int fd = open("/", O_RDONLY | O_DIRECTORY);
	assert_int_equal(sbx_rmtree_at(fd, path + 1), 0);
	close(fd);
}

static void test_self_path(void **s)
{
	char out[256];
	assert_int_equal(sbx_cg_self_path(self_v1, "memory", out, sizeof(out)), 0);
	assert_string_equal(out, "/process_api/abc");
	assert_int_equal(sbx_cg_self_path(self_v1, "pids", out, sizeof(out)), 0);
	assert_string_equal(out, "/user.slice");
	assert_int_equal(sbx_cg_self_path(self_v1, "cpuacct", out, sizeof(out)), 0);
	assert_string_equal(out, ""); /* the root */
	assert_int_equal(sbx_cg_self_path(self_v1, "", out, sizeof(out)), 0);
	assert_string_equal(out, "");
	assert_int_equal(sbx_cg_self_path(self_v1, "blkio", out, sizeof(out)), -ENOENT);
	/* "name=systemd" is not the controller "systemd" */
	assert_int_equal(sbx_cg_self_path(self_v1, "systemd", out, sizeof(out)), -ENOENT);
	assert_int_equal(sbx_cg_self_path("0::/a/b\n", "", out, sizeof(out)), 0);
	assert_string_equal(out, "/a/b");
}

/* v1 controllers with an empty cgroup2 at root/unified (this host's shape):
 * v1, nested under the caller's own cgroups. */
static void test_detect_v1_fake(void **s)
{
	char *t = tmpdir(), d[512], err[512];
	struct sbx_cg_layout lay;
	snprintf(d, sizeof(d), "%s/memory", t);
	mkd(d, NULL);
	touch(d, "memory.limit_in_bytes");
	touch(d, "memory.memsw.limit_in_bytes");
	snprintf(d, sizeof(d), "%s/pids", t);
	mkd(d, NULL);
	touch(d, "cgroup.procs");
	snprintf(d, sizeof(d), "%s/cpu", t);
	mkd(d, NULL);
	touch(d, "cpu.shares");
	snprintf(d, sizeof(d), "%s/unified", t);
	mkd(d, NULL);
	touch(d, "cgroup.controllers");
	assert_int_equal(sbx_cg_detect(t, self_v1, &lay, err, sizeof(err)), 0);
	assert_int_equal(lay.v2, 0);
	assert_true(lay.memsw);
	snprintf(d, sizeof(d), "%s/memory/process_api/abc/runlet", t);
	assert_string_equal(lay.mem, d);
	snprintf(d, sizeof(d), "%s/pids/user.slice/runlet", t);
	assert_string_equal(lay.pids, d);
	snprintf(d, sizeof(d), "%s/cpu/runlet", t);
	assert_string_equal(lay.cpu, d);
	/* without pids: a message naming the controller and the fix */
	snprintf(d, sizeof(d), "%s/pids/cgroup.procs", t);
	unlink(d);
	assert_int_equal(sbx_cg_detect(t, self_v1, &lay, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "pids cgroup controller not available"));
	assert_non_null(strstr(err, "mount the cgroup v1 pids controller"));
	rm_rf(t);
	free(t);
}

static void test_detect_v2_fake(void **s)
{
	char *t = tmpdir(), d[512], err[512];
	struct sbx_cg_layout lay;
	snprintf(d, sizeof(d), "%s/cgroup.controllers", t);
	FILE *f = fopen(d, "w");
	fputs("cpuset cpu io memory hugetlb pids rdma misc\n", f);
	fclose(f);
	assert_int_equal(sbx_cg_detect(t, "0::/user.slice/x.scope\n", &lay, err,
				       sizeof(err)), 0);
	assert_int_equal(lay.v2, 1);
	snprintf(d, sizeof(d), "%s/runlet", t);
	assert_string_equal(lay.mem, d);
	assert_string_equal(lay.cpu, d);
	/* join: only the runner leaf, never the submission dir itself (the
	 * no-internal-process rule) */
	struct sbx_cg cg = {.v2 = 1};
	snprintf(cg.mem, sizeof(cg.mem), "%s/runlet/j1", t);
	snprintf(cg.runner, sizeof(cg.runner), "%s/runlet/j1/runner", t);
	char files[3][SBX_CGFILE];
	assert_int_equal(sbx_cg_join_files(&cg, files), 1);
	snprintf(d, sizeof(d), "%s/runlet/j1/runner/cgroup.procs", t);
	assert_string_equal(files[0], d);
	/* no pids in the unified tree */
	snprintf(d, sizeof(d), "%s/cgroup.controllers", t);
	f = fopen(d, "w");
	fputs("cpu memory\n", f);
	fclose(f);
	assert_int_equal(sbx_cg_detect(t, "0::/\n", &lay, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "pids"));
	rm_rf(t);
	free(t);
}

static void test_detect_host(void **s)
{
	struct sbx_features f;
	sbx_features_detect("/sys/fs/cgroup", NULL, "/bin/sh", "/tmp", &f);
	assert_true(f.f[SBX_F_NS_MNT].present);
	assert_true(f.f[SBX_F_NNP].present);
	assert_true(f.f[SBX_F_RUNNER].present);
	assert_true(f.f[SBX_F_TMPFS].present);
	struct stat st;
	int host_v2 = stat("/sys/fs/cgroup/cgroup.controllers", &st) == 0;
	if (f.f[SBX_F_CG_MEMORY].present)
		assert_int_equal(f.cg.v2, host_v2);
	/* a runner writable by others is refused */
	sbx_features_detect("/sys/fs/cgroup", NULL, "/nonexistent/runner", "tmp", &f);
	assert_false(f.f[SBX_F_RUNNER].present);
	assert_false(f.f[SBX_F_TMPFS].present);
	int miss = sbx_features_missing(&f);
	assert_true(miss >= 0);
	char msg[512];
	sbx_features_message(&f, SBX_F_CG_MEMORY, msg, sizeof(msg));
	assert_non_null(strstr(msg, "memory cgroup controller not available"));
}

static void test_budget(void **s)
{
	struct wire_plan p;
	struct wire_test tests[3];
	struct sbx_budget b;
	memset(&p, 0, sizeof(p));
	memset(tests, 0, sizeof(tests));
	p.tests = tests;
	p.ntests = 3;
	p.run.lim.mem_kb = 256 * 1024;
	p.run.lim.wall_ms = 2000;
	p.run.lim.pids = 100;
	p.run.lim.out_kb = 1024;
	p.run.lim.err_kb = 64;
	sbx_budget_of(&p, 256ull << 20, 0, &b);
	assert_int_equal(b.mem_bytes, (256ull << 20) * 2 + SBX_SHM_SIZE + SBX_MEM_SLACK);
	assert_int_equal(b.pids, 100 + SBX_PIDS_SLACK);
	assert_int_equal(b.deadline_ms,
			 SBX_DEADLINE_MARGIN_MS + 3 * (2000 + SBX_DEADLINE_PER_TEST_MS));
	assert_true(b.out_max >= 3 * (1024 + 64) * 1024);
	p.has_compile = 1;
	p.compile.lim.mem_kb = 1024 * 1024;
	p.compile.lim.wall_ms = 30000;
	p.compile.lim.pids = 300;
	sbx_budget_of(&p, 256ull << 20, 0, &b);
	assert_int_equal(b.mem_bytes, (1280ull << 20) + SBX_SHM_SIZE + SBX_MEM_SLACK);
	assert_int_equal(b.pids, 300 + SBX_PIDS_SLACK);
	assert_int_equal(b.deadline_ms, SBX_DEADLINE_MARGIN_MS + 30000 +
					3 * (2000 + SBX_DEADLINE_PER_TEST_MS));
}

static void test_cg_name(void **s)
{
	char n[96];
	sbx_cg_name("123-4", 7, n, sizeof(n));
	assert_string_equal(n, "123-4-s7");
	sbx_cg_name("../../etc/x y", 1, n, sizeof(n));
	assert_null(strchr(n, '/'));
	assert_true(n[0] != '.');
	sbx_cg_name(NULL, 2, n, sizeof(n));
	assert_string_equal(n, "job-s2");
	sbx_cg_name("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 3, n, sizeof(n));
	assert_true(strlen(n) <= 48 + 4);
}

static void test_workdir_check(void **s)
{
	char err[256];
	assert_int_equal(sbx_workdir_check("/tmp", err, sizeof(err)), 0);
	assert_int_equal(sbx_workdir_check("/home/sandbox", err, sizeof(err)), 0);
	const char *bad[] = {"/", "tmp", "/tmp/", "/a/../etc", "/a//b", "/usr/tmp",
			     "/etc", "/proc/x", "/dev/shm", "/.runlet", "/a/./b", ""};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(sbx_workdir_check(bad[i], err, sizeof(err)), -EINVAL);
	assert_int_equal(sbx_workdir_check(NULL, err, sizeof(err)), -EINVAL);
}

static const struct sbx_mnt_op *find_op(const struct sbx_mount_plan *pl,
					const char *inside)
{
	for (size_t i = 0; i < pl->n; i++)
		if (strcmp(pl->ops[i].inside, inside) == 0)
			return &pl->ops[i];
	return NULL;
}

static void test_mount_table(void **s)
{
	static struct sbx_mount_plan pl;
	char err[256];
	const char *masks[] = {"/etc/hostname", NULL};
	struct sbx_mount_cfg mc = {
		.newroot = "/run/runlet/root", .rootfs = NULL, .workdir = "/tmp",
		.workdir_size = 256ull << 20, .shm_size = 16 << 20,
		.uid = 1001, .gid = 1001, .runner_path = "/bin/sh",
		.cg_mem = "/sys/fs/cgroup/memory", .cg_pids = "/sys/fs/cgroup/pids",
		.cg_cpu = "", .masks = masks,
	};
	assert_int_equal(sbx_mounts_build(&mc, &pl, err, sizeof(err)), 0);
	assert_int_equal(pl.ops[0].kind, SBX_M_TMPFS);
	assert_string_equal(pl.ops[0].dst, "/run/runlet/root");
	const struct sbx_mnt_op *op = find_op(&pl, "/usr");
	assert_non_null(op);
	assert_int_equal(op->kind, SBX_M_BIND_RO);
	assert_string_equal(op->src, "/usr");
	assert_string_equal(op->dst, "/run/runlet/root/usr");
	struct stat st;
	if (lstat("/bin", &st) == 0 && S_ISLNK(st.st_mode)) {
		op = find_op(&pl, "/bin");
		assert_int_equal(op->kind, SBX_M_SYMLINK);
	}
	assert_int_equal(find_op(&pl, "/etc/shadow")->kind, SBX_M_MASK_FILE);
	assert_int_equal(find_op(&pl, "/etc/hostname")->kind, SBX_M_MASK_FILE);
	assert_int_equal(find_op(&pl, "/proc")->kind, SBX_M_PROC);
	assert_int_equal(find_op(&pl, "/proc/sys")->kind, SBX_M_RO_SELF);
	struct stat kst;
	if (stat("/proc/kcore", &kst) == 0)
		assert_int_equal(find_op(&pl, "/proc/kcore")->kind, SBX_M_MASK_FILE);
	else
		assert_null(find_op(&pl, "/proc/kcore"));
	assert_int_equal(find_op(&pl, "/proc/keys")->kind, SBX_M_MASK_FILE);
	assert_int_equal(find_op(&pl, "/dev/null")->kind, SBX_M_DEV);
	assert_int_equal(find_op(&pl, "/dev/fd")->kind, SBX_M_SYMLINK);
	op = find_op(&pl, "/dev/shm");
	assert_non_null(strstr(op->src, "size=16777216"));
	op = find_op(&pl, "/tmp");
	assert_int_equal(op->kind, SBX_M_TMPFS);
	assert_non_null(strstr(op->src, "uid=1001"));
	assert_non_null(strstr(op->src, "size=268435456"));
	op = find_op(&pl, SBX_RUNNER_PATH);
	assert_int_equal(op->kind, SBX_M_BIND_RO);
	assert_int_equal(op->src_is_dir, 0);
	assert_int_equal(find_op(&pl, SBX_CG_MEM)->kind, SBX_M_BIND_RW);
	assert_int_equal(find_op(&pl, SBX_CG_PIDS)->kind, SBX_M_BIND_RW);
	assert_null(find_op(&pl, SBX_CG_CPU));
	/* nothing of the host's private places is ever a source */
	const char *never[] = {"/root", "/home", "/var", "/run", "/tmp", "/sys", NULL};
	for (size_t i = 0; i < pl.n; i++) {
		if (!pl.ops[i].src || (pl.ops[i].kind != SBX_M_BIND_RO &&
				       pl.ops[i].kind != SBX_M_BIND_RW))
			continue;
		for (size_t j = 0; never[j]; j++) {
			size_t l = strlen(never[j]);
			int under = strncmp(pl.ops[i].src, never[j], l) == 0 &&
				    (pl.ops[i].src[l] == '/' || !pl.ops[i].src[l]);
			if (under && strcmp(never[j], "/sys") == 0)
				continue; /* only the submission's cgroup dirs */
			assert_false(under);
		}
	}
	/* the work dir may not shadow the system */
	mc.workdir = "/etc/x";
	assert_int_equal(sbx_mounts_build(&mc, &pl, err, sizeof(err)), -EINVAL);
	/* v2: one unified bind */
	mc.workdir = "/tmp";
	mc.cg_v2 = 1;
	assert_int_equal(sbx_mounts_build(&mc, &pl, err, sizeof(err)), 0);
	assert_non_null(find_op(&pl, SBX_CG_UNIFIED));
	assert_null(find_op(&pl, SBX_CG_PIDS));
}

/* sandbox.rootfs: the system dirs come from it, symlinks are copied. */
static void test_mount_table_rootfs(void **s)
{
	static struct sbx_mount_plan pl;
	char *t = tmpdir(), p[512], err[256];
	mkd(t, "usr");
	mkd(t, "etc");
	touch(t, "etc/shadow");
	snprintf(p, sizeof(p), "%s/bin", t);
	assert_int_equal(symlink("usr/bin", p), 0);
	struct sbx_mount_cfg mc = {
		.newroot = "/run/runlet/root", .rootfs = t, .workdir = "/home/sandbox",
		.workdir_size = 1 << 20, .shm_size = 1 << 20, .uid = 1001, .gid = 1001,
		.runner_path = "/bin/sh",
	};
	assert_int_equal(sbx_mounts_build(&mc, &pl, err, sizeof(err)), 0);
	snprintf(p, sizeof(p), "%s/usr", t);
	assert_string_equal(find_op(&pl, "/usr")->src, p);
	assert_int_equal(find_op(&pl, "/bin")->kind, SBX_M_SYMLINK);
	assert_string_equal(find_op(&pl, "/bin")->src, "usr/bin");
	assert_null(find_op(&pl, "/lib64")); /* absent in the rootfs: skipped */
	assert_int_equal(find_op(&pl, "/etc/shadow")->kind, SBX_M_MASK_FILE);
	assert_null(find_op(&pl, "/etc/gshadow"));
	assert_int_equal(find_op(&pl, "/home/sandbox")->kind, SBX_M_TMPFS);
	assert_null(find_op(&pl, SBX_CG_MEM)); /* no cgroups given */
	rm_rf(t);
	free(t);
}

/* A tree with a symlink to an outside file and dir, a FIFO, an unreadable
 * dir: everything inside goes, nothing outside is touched. */
static void test_rmtree(void **s)
{
	char *t = tmpdir(), p[512], q[512];
	char *outside = tmpdir();
	snprintf(p, sizeof(p), "%s/secret", outside);
	touch(outside, "secret");
	snprintf(q, sizeof(q), "%s/link-file", t);
	assert_int_equal(symlink(p, q), 0);
	snprintf(q, sizeof(q), "%s/link-dir", t);
	assert_int_equal(symlink(outside, q), 0);
	snprintf(q, sizeof(q), "%s/fifo", t);
	assert_int_equal(mkfifo(q, 0600), 0);
	mkd(t, "a");
	snprintf(q, sizeof(q), "%s/a", t);
	mkd(q, "b");
	touch(q, "f");
	snprintf(q, sizeof(q), "%s/a/b/up", t);
	assert_int_equal(symlink("../../../", q), 0);
	snprintf(q, sizeof(q), "%s/a", t);
	chmod(q, 0);
	int fd = open(t, O_RDONLY | O_DIRECTORY);
	assert_int_equal(sbx_rmtree_contents(fd), 0);
	close(fd);
	assert_int_equal(rmdir(t), 0);
	struct stat st;
	assert_int_equal(stat(p, &st), 0); /* the outside file survived */
	rm_rf(outside);
	free(t);
	free(outside);
}

/* RUNLET_NATIVE_POOL: a number 0..8, else the default. */
static void test_pool_size_env(void **s)
{
	const struct { const char *v; unsigned want; } cases[] = {
		{NULL, SBX_POOL_DEFAULT}, {"", SBX_POOL_DEFAULT},
		{"0", 0}, {"3", 3}, {"8", 8}, {"99", SBX_POOL_MAX},
		{"-1", SBX_POOL_DEFAULT}, {"two", SBX_POOL_DEFAULT},
		{"2x", SBX_POOL_DEFAULT},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (cases[i].v)
			setenv(SBX_POOL_ENV, cases[i].v, 1);
		else
			unsetenv(SBX_POOL_ENV);
		assert_int_equal(sbx_pool_size_env(), cases[i].want);
	}
	unsetenv(SBX_POOL_ENV);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_self_path),
		cmocka_unit_test(test_detect_v1_fake),
		cmocka_unit_test(test_detect_v2_fake),
		cmocka_unit_test(test_detect_host),
		cmocka_unit_test(test_budget),
		cmocka_unit_test(test_cg_name),
		cmocka_unit_test(test_workdir_check),
		cmocka_unit_test(test_mount_table),
		cmocka_unit_test(test_mount_table_rootfs),
		cmocka_unit_test(test_rmtree),
		cmocka_unit_test(test_pool_size_env),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
