/* Unit tests of the plugin loader: good plugin, ABI mismatch, missing symbol,
 * bad files (missing, symlink, world-writable, not a shared object). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/registry.h"

static char tmpdir[256];

static int setup(void **state)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/runlet-regtest-XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

/* Copy a fixture into tmpdir with the given mode; returns its path. */
static const char *stage(const char *fixture, const char *name, mode_t mode)
{
	static char path[512];
	char cmd[1024];
	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	snprintf(cmd, sizeof(cmd), "cp '%s/%s' '%s'", FIXTURE_DIR, fixture, path);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(chmod(path, mode), 0);
	return path;
}

static void test_good(void **state)
{
	void *h = NULL;
	const struct runlet_plugin *p = NULL;
	char err[512] = "";
	const char *path = stage("runlet-good.so", "runlet-good.so", 0755);
	assert_int_equal(registry_open_file(path, &h, &p, err, sizeof(err)), 0);
	assert_non_null(p);
	assert_string_equal(p->name, "good");
	assert_string_equal(p->version, "1.2.3");
	assert_string_equal(p->source_name, "main.txt");
	assert_true(RUNLET_PLUGIN_HAS(p, classify));
	dlclose(h);
}

static void test_abi_mismatch(void **state)
{
	void *h = NULL;
	const struct runlet_plugin *p = NULL;
	char err[512] = "";
	const char *path = stage("runlet-badabi.so", "runlet-badabi.so", 0755);
	assert_int_equal(registry_open_file(path, &h, &p, err, sizeof(err)),
			 -EPROTO);
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, "ABI 2"));
	assert_non_null(strstr(err, "ABI 1"));
}

static void test_missing_symbol(void **state)
{
	void *h = NULL;
	const struct runlet_plugin *p = NULL;
	char err[512] = "";
	const char *path = stage("runlet-nosym.so", "runlet-nosym.so", 0755);
	assert_int_equal(registry_open_file(path, &h, &p, err, sizeof(err)),
			 -ENOEXEC);
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, RUNLET_PLUGIN_ENTRY));
}

static void test_missing_file(void **state)
{
	void *h = NULL;
	const struct runlet_plugin *p = NULL;
	char err[512] = "", path[512];
	snprintf(path, sizeof(path), "%s/runlet-nothere.so", tmpdir);
	assert_int_equal(registry_open_file(path, &h, &p, err, sizeof(err)),
			 -ENOENT);
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, "No such file"));
}

static void test_symlink_refused(void **state)
{
	void *h = NULL;
	const struct runlet_plugin *p = NULL;
	char err[512] = "", link[512];
	const char *path = stage("runlet-good.so", "real.so", 0755);
	snprintf(link, sizeof(link), "%s/runlet-link.so", tmpdir);
	assert_int_equal(symlink(path, link), 0);
	assert_int_equal(registry_open_file(link, &h, &p, err, sizeof(err)),
			 -ELOOP);
	assert_non_null(strstr(err, "symbolic link"));
	assert_non_null(strstr(err, link));
}

static void test_world_writable_refused(void **state)
{
	void *h = NULL;
	const struct runlet_plugin *p = NULL;
	char err[512] = "";
	const char *path = stage("runlet-good.so", "runlet-ww.so", 0757);
	assert_int_equal(registry_open_file(path, &h, &p, err, sizeof(err)),
			 -EPERM);
	assert_non_null(strstr(err, "writable"));
	assert_non_null(strstr(err, path));
}

static void test_not_elf(void **state)
{
	void *h = NULL;
	const struct runlet_plugin *p = NULL;
	char err[512] = "", path[512];
	snprintf(path, sizeof(path), "%s/runlet-text.so", tmpdir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("not a shared object\n", f);
	fclose(f);
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(registry_open_file(path, &h, &p, err, sizeof(err)),
			 -ENOEXEC);
	assert_non_null(strstr(err, "cannot load"));
	assert_non_null(strstr(err, path));
}

static void test_resolve(void **state)
{
	char out[256];
	assert_int_equal(registry_resolve("/opt/p", "python", out, sizeof(out)), 0);
	assert_string_equal(out, "/opt/p/runlet-python.so");
	assert_int_equal(registry_resolve("/opt/p", "./x/runlet-y.so", out, sizeof(out)), 0);
	assert_string_equal(out, "./x/runlet-y.so");
	assert_int_equal(registry_resolve("/opt/p", "lua.so", out, sizeof(out)), 0);
	assert_string_equal(out, "lua.so");
	assert_int_equal(registry_resolve("/opt/p", "python", out, 8), -ENAMETOOLONG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_abi_mismatch),
		cmocka_unit_test(test_missing_symbol),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_symlink_refused),
		cmocka_unit_test(test_world_writable_refused),
		cmocka_unit_test(test_not_elf),
		cmocka_unit_test(test_resolve),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
