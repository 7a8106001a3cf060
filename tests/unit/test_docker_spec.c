/* Unit tests of the docker backend's container document (hardening from
 * the config), the container deadline and output bound, and host staging
 * (per-job dirs, removal that never follows symlinks, the sweep). */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "backends/docker/spec.h"
#include "backends/docker/staging.h"
#include "backends/docker/sweep.h"
#include "core/config.h"
#include "runner/wire.h"

static json_t *spec_for(const char *bind)
{
	static char *envs[] = {"PYTHONUNBUFFERED=1", "A=b c", NULL};
	struct cfg cfg;
	struct cfg_runner r;
	struct dock_spec s;
	const char *argv[] = {"/runlet/runlet-runner", "--plan", "/home/sandbox/plan", NULL};
	memset(&cfg, 0, sizeof(cfg));
	memset(&r, 0, sizeof(r));
	memset(&s, 0, sizeof(s));
	cfg.tmpfs = "/tmp";
	cfg.runner_mountpoint = "/home/sandbox";
	r.code = "py";
	r.mem_limit = 256ull << 20;
	r.cpu_cores = 1.5;
	r.envs = envs;
	r.nenvs = 2;
	r.limits.pids_limit = 100;
	r.limits.tmpfs_size = 64ull << 20;
	dock_spec_from_cfg(&s, &cfg, &r);
	s.image = "py_runner";
	s.argv = argv;
	s.job_id = "123-4";
	s.owner = "host/1/2";
	s.bind_source = bind;
	return dock_spec_json(&s);
}

static void test_spec_hardening(void **st)
{
	json_t *j = spec_for(NULL);
	assert_non_null(j);
	json_t *h = json_object_get(j, "HostConfig");
	assert_string_equal(json_string_value(json_object_get(j, "Image")), "py_runner");
	assert_string_equal(json_string_value(json_object_get(j, "User")), "1001:1001");
	assert_true(json_is_true(json_object_get(j, "NetworkDisabled")));
	assert_string_equal(json_string_value(json_object_get(h, "NetworkMode")), "none");
	assert_true(json_is_true(json_object_get(h, "ReadonlyRootfs")));
	assert_string_equal(json_string_value(json_array_get(json_object_get(h, "SecurityOpt"), 0)),
			    "no-new-privileges");
	assert_string_equal(json_string_value(json_array_get(json_object_get(h, "CapDrop"), 0)), "ALL");
	assert_int_equal(json_integer_value(json_object_get(h, "PidsLimit")), 100);
	assert_int_equal(json_integer_value(json_object_get(h, "Memory")), 256ll << 20);
	assert_int_equal(json_integer_value(json_object_get(h, "MemorySwap")), 256ll << 20);
	assert_int_equal(json_integer_value(json_object_get(h, "NanoCpus")), 1500000000ll);
	assert_string_equal(json_string_value(json_object_get(json_object_get(h, "Tmpfs"), "/tmp")),
			    "rw,exec,nosuid,nodev,size=67108864");
	assert_false(json_is_true(json_object_get(h, "Init")));
	assert_string_equal(json_string_value(json_object_get(json_object_get(h, "LogConfig"), "Type")), "none");
	/* the runner is the entrypoint (PID 1), the plan path its argument */
	assert_string_equal(json_string_value(json_array_get(json_object_get(j, "Entrypoint"), 0)),
			    "/runlet/runlet-runner");
	assert_string_equal(json_string_value(json_array_get(json_object_get(j, "Cmd"), 1)),
			    "/home/sandbox/plan");
	assert_string_equal(json_string_value(json_object_get(j, "WorkingDir")), "/tmp");
	json_t *env = json_object_get(j, "Env");
	assert_int_equal(json_array_size(env), 3);
	assert_string_equal(json_string_value(json_array_get(env, 0)), "LANG=py");
	assert_string_equal(json_string_value(json_array_get(env, 2)), "A=b c");
	json_t *labels = json_object_get(j, "Labels");
	assert_string_equal(json_string_value(json_object_get(labels, "runlet")), "1");
	assert_string_equal(json_string_value(json_object_get(labels, "runlet.job")), "123-4");
	assert_string_equal(json_string_value(json_object_get(labels, "runlet.owner")), "host/1/2");
	/* archive staging: the job's own anonymous volume, nothing shared */
	json_t *m = json_array_get(json_object_get(h, "Mounts"), 0);
	assert_int_equal(json_array_size(json_object_get(h, "Mounts")), 1);
	assert_string_equal(json_string_value(json_object_get(m, "Type")), "volume");
	assert_null(json_object_get(m, "Source"));
	assert_string_equal(json_string_value(json_object_get(m, "Target")), "/home/sandbox");
	assert_null(json_object_get(h, "Binds"));
	json_decref(j);
}

static void test_spec_memory_floor(void **st)
{
	struct dock_spec s;
	const char *argv[] = {"/runlet/runlet-runner", NULL};
	memset(&s, 0, sizeof(s));
	s.image = "x";
	s.argv = argv;
	s.workdir = "/tmp";
	s.memory = 1u << 20; /* 1 MiB: below what the engine accepts */
	json_t *j = dock_spec_json(&s);
	json_t *h = json_object_get(j, "HostConfig");
	assert_int_equal(json_integer_value(json_object_get(h, "Memory")), 6ll << 20);
	assert_int_equal(json_integer_value(json_object_get(h, "MemorySwap")), 6ll << 20);
	assert_null(json_object_get(h, "NanoCpus")); /* no cpu_cores: no CPU limit */
	json_decref(j);
}

/* A warm container: stdin open for one attach, no staging mount; the
 * per-job pids and memory. */
static void test_spec_warm(void **st)
{
	struct dock_spec s;
	const char *argv[] = {"/runlet/runlet-runner", NULL};
	memset(&s, 0, sizeof(s));
	s.image = "x";
	s.argv = argv;
	s.workdir = "/tmp";
	s.open_stdin = 1;
	json_t *j = dock_spec_json(&s);
	assert_true(json_is_true(json_object_get(j, "OpenStdin")));
	assert_true(json_is_true(json_object_get(j, "StdinOnce")));
	assert_true(json_is_true(json_object_get(j, "AttachStdin")));
	assert_int_equal(json_array_size(json_object_get(j, "Cmd")), 0);
	assert_int_equal(json_array_size(json_object_get(json_object_get(j, "HostConfig"), "Mounts")), 0);
	json_decref(j);
	j = spec_for(NULL); /* a cold one keeps stdin closed */
	assert_true(json_is_false(json_object_get(j, "OpenStdin")));
	assert_true(json_is_false(json_object_get(j, "StdinOnce")));
	json_decref(j);

	struct wire_plan p;
	memset(&p, 0, sizeof(p));
	assert_int_equal(dock_plan_pids(&p, 0), 0);
	assert_int_equal(dock_plan_pids(&p, 100), 101);
	p.run.lim.pids = 300;
	p.compile.lim.pids = 500;
	assert_int_equal(dock_plan_pids(&p, 100), 301); /* compile not in the plan */
	p.has_compile = 1;
	assert_int_equal(dock_plan_pids(&p, 100), 501);
	struct wire_step stp;
	memset(&stp, 0, sizeof(stp));
	assert_int_equal(dock_step_memory(&stp, 0), 0);
	assert_int_equal(dock_step_memory(&stp, 256u << 20), 256u << 20);
	stp.lim.mem_kb = 64 * 1024;
	assert_int_equal(dock_step_memory(&stp, 256u << 20), 64u << 20);
	stp.lim.mem_kb = 1024;
	assert_int_equal(dock_step_memory(&stp, 0), 6u << 20);
}

static void test_spec_bind(void **st)
{
	json_t *j = spec_for("/var/lib/runlet/staging/1.2.3");
	json_t *m = json_array_get(json_object_get(json_object_get(j, "HostConfig"), "Mounts"), 0);
	assert_string_equal(json_string_value(json_object_get(m, "Type")), "bind");
	assert_string_equal(json_string_value(json_object_get(m, "Source")), "/var/lib/runlet/staging/1.2.3");
	assert_true(json_is_true(json_object_get(m, "ReadOnly")));
	json_decref(j);
}

static void test_deadline_and_bound(void **st)
{
	struct wire_plan p;
	memset(&p, 0, sizeof(p));
	p.has_compile = 1;
	p.compile.lim.wall_ms = 30000;
	p.run.lim.wall_ms = 2000;
	p.run.lim.out_kb = 1024;
	p.run.lim.err_kb = 64;
	p.ntests = 10;
	uint64_t d = dock_deadline_ms(&p);
	assert_true(d > 30000 + 10 * 2000);
	assert_true(d < 30000 + 10 * 2000 + 30000);
	uint64_t b = dock_output_bound(&p);
	assert_true(b > 10ull * (1024 + 64) * 1024);
	assert_true(b < 64ull << 20);
	p.run.lim.out_kb = 0; /* no limit: capped */
	assert_int_equal(dock_output_bound(&p), 1ull << 30);
}

static void test_staging(void **st)
{
	char root[] = "/tmp/runlet-staging-test.XXXXXX", dir[4096], err[256];
	char path[4200], outside[4200];
	struct stat sb;
	assert_non_null(mkdtemp(root));
	assert_int_equal(chmod(root, 0700), 0);
	assert_int_equal(dock_staging_root(root, err, sizeof(err)), 0);
	assert_int_equal(dock_staging_create(root, 7, "PLAN", 4, dir, sizeof(dir), err, sizeof(err)), 0);
	snprintf(path, sizeof(path), "%s/plan", dir);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_size, 4);
	assert_int_equal(sb.st_mode & 0022, 0);

	/* a symlink inside is removed, its target is not */
	snprintf(outside, sizeof(outside), "%s.keep", root);
	int fd = open(outside, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	close(fd);
	chmod(dir, 0700);
	snprintf(path, sizeof(path), "%s/link", dir);
	assert_int_equal(symlink(outside, path), 0);
	assert_int_equal(dock_staging_remove(root, dir), 0);
	assert_int_not_equal(lstat(dir, &sb), 0);
	assert_int_equal(stat(outside, &sb), 0);
	unlink(outside);

	/* the sweep takes dirs of processes that are gone, keeps ours */
	assert_int_equal(dock_staging_create(root, 8, "P", 1, dir, sizeof(dir), err, sizeof(err)), 0);
	snprintf(path, sizeof(path), "%s/999999999.1.1", root);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/999999999.1.1/x", root);
	fd = open(path, O_WRONLY | O_CREAT, 0600);
	close(fd);
	assert_int_equal(dock_staging_sweep(root), 1);
	assert_int_equal(stat(dir, &sb), 0);
	assert_int_equal(dock_staging_remove(root, dir), 0);

	/* a root that others may write is refused */
	assert_int_equal(chmod(root, 0777), 0);
	assert_int_equal(dock_staging_root(root, err, sizeof(err)), -EPERM);
	assert_non_null(strstr(err, root));
	assert_int_equal(rmdir(root), 0);
}

static void test_owner(void **st)
{
	char tag[300], host[256];
	assert_int_equal(dock_owner_self(tag, sizeof(tag)), 0);
	assert_int_equal(dock_owner_alive(tag), 1);
	gethostname(host, sizeof(host));
	snprintf(tag, sizeof(tag), "%s/%d/1", host, (int)getpid());
	assert_int_equal(dock_owner_alive(tag), 0); /* pid reused by another process */
	snprintf(tag, sizeof(tag), "%s/999999999/1", host);
	assert_int_equal(dock_owner_alive(tag), 0);
	assert_int_equal(dock_owner_alive("other-host.example/1/1"), -1);
	assert_int_equal(dock_owner_alive("garbage"), -1);
	assert_int_equal(dock_owner_alive(NULL), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spec_hardening),
		cmocka_unit_test(test_spec_memory_floor),
		cmocka_unit_test(test_spec_warm),
		cmocka_unit_test(test_spec_bind),
		cmocka_unit_test(test_deadline_and_bound),
		cmocka_unit_test(test_staging),
		cmocka_unit_test(test_owner),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
