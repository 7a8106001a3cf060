/* Unit tests of the compile cache: hit/miss, keys, LRU eviction, damaged
 * entries, refusal of unsafe directories. */
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

#include "core/cache.h"

static char dir[128];

static int setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/runlet-cachetest-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static char *argv_[] = {"g++", "-o", "main", "main.cpp", NULL};
static char *envp_[] = {"PATH=/usr/bin:/bin", NULL};

static void plan_init(struct wire_plan *p, struct wire_file *f, char *src)
{
	memset(p, 0, sizeof(*p));
	p->workdir = "/tmp";
	p->has_compile = 1;
	p->compile.argv = argv_;
	p->compile.argc = 4;
	p->compile.envp = envp_;
	p->compile.envc = 1;
	f->path = "main.cpp";
	f->data = src;
	f->len = strlen(src);
	p->files = f;
	p->nfiles = 1;
}

static void test_key(void **state)
{
	struct wire_plan p;
	struct wire_file f;
	char a[CACHE_KEY_HEX], b[CACHE_KEY_HEX], c[CACHE_KEY_HEX];
	const char *ident[] = {"cpp", "1.0.0", "native", ""};
	const char *ident2[] = {"cpp", "1.0.1", "native", ""};
	plan_init(&p, &f, "int main(){}");
	assert_int_equal(cache_key(&p, ident, 4, a), 0);
	assert_int_equal(strlen(a), 64);
	assert_int_equal(cache_key(&p, ident, 4, b), 0);
	assert_string_equal(a, b);
	assert_int_equal(cache_key(&p, ident2, 4, c), 0);
	assert_string_not_equal(a, c);
	plan_init(&p, &f, "int main(){ }");
	assert_int_equal(cache_key(&p, ident, 4, c), 0);
	assert_string_not_equal(a, c);
	plan_init(&p, &f, "int main(){}");
	p.compile.argc = 3;
	assert_int_equal(cache_key(&p, ident, 4, c), 0);
	assert_string_not_equal(a, c);
}

static const char *hexkey(int i)
{
	static char k[CACHE_KEY_HEX];
	for (int j = 0; j < 64; j++)
		k[j] = "0123456789abcdef"[(i + j) % 16];
	k[64] = '\0';
	return k;
}

static void outcome_with(struct wire_outcome *o, const char *name,
			 const char *data, size_t len, const char *err)
{
	memset(o, 0, sizeof(*o));
	o->is_compile = 1;
	o->status = 0;
	o->err = strdup(err);
	o->err_len = strlen(err);
	o->out = strdup("");
	assert_int_equal(wire_artifact_add(o, name, 0755, data, len), 0);
}

static void test_put_get(void **state)
{
	struct cache *c;
	char err[256];
	struct wire_outcome in, out;
	outcome_with(&in, "main", "\x7f" "ELF\0bin", 8, "warning: x");
	assert_int_equal(wire_artifact_add(&in, "main.pdb", 0644, "dbg", 3), 0);
	assert_int_equal(cache_open(dir, 1 << 20, &c, err, sizeof(err)), 0);
	assert_int_equal(cache_get(c, hexkey(1), &out), 0);
	assert_int_equal(cache_put(c, hexkey(1), &in), 0);
	assert_int_equal(cache_get(c, hexkey(1), &out), 1);
	assert_int_equal(out.nartifacts, 2);
	assert_string_equal(out.artifacts[0].name, "main");
	assert_int_equal(out.artifacts[0].mode, 0755);
	assert_int_equal(out.artifacts[0].len, 8);
	assert_memory_equal(out.artifacts[0].data, "\x7f" "ELF\0bin", 8);
	assert_string_equal(out.artifacts[1].name, "main.pdb");
	assert_int_equal(out.artifacts[1].mode, 0644);
	assert_int_equal(out.err_len, 10);
	assert_string_equal(out.err, "warning: x");
	wire_outcome_free(&out);
	assert_true(cache_size(c) > 8);
	assert_int_equal(cache_get(c, "../../etc/passwd", &out), -EINVAL);
	/* an outcome without artifacts is not an entry */
	struct wire_outcome none = {.is_compile = 1};
	assert_int_equal(cache_put(c, hexkey(2), &none), -EINVAL);
	wire_outcome_free(&in);
	cache_close(c);
}

static void test_lru_eviction(void **state)
{
	struct cache *c;
	char err[256], blob[30000];
	struct wire_outcome e, out;
	memset(blob, 'x', sizeof(blob));
	outcome_with(&e, "main", blob, sizeof(blob), "");
	assert_int_equal(cache_open(dir, 100000, &c, err, sizeof(err)), 0);
	for (int i = 10; i < 13; i++) {
		assert_int_equal(cache_put(c, hexkey(i), &e), 0);
		usleep(20000);
	}
	/* touch the oldest: it is now the most recently used */
	assert_int_equal(cache_get(c, hexkey(10), &out), 1);
	wire_outcome_free(&out);
	usleep(20000);
	assert_int_equal(cache_put(c, hexkey(13), &e), 0);
	assert_true(cache_size(c) <= 100000);
	assert_int_equal(cache_get(c, hexkey(11), &out), 0); /* evicted */
	assert_int_equal(cache_get(c, hexkey(10), &out), 1);
	wire_outcome_free(&out);
	assert_int_equal(cache_get(c, hexkey(13), &out), 1);
	wire_outcome_free(&out);
	wire_outcome_free(&e);
	cache_close(c);
}

static void test_damaged_entry_removed(void **state)
{
	struct cache *c;
	char err[256], path[256];
	struct wire_outcome out;
	assert_int_equal(cache_open(dir, 1 << 20, &c, err, sizeof(err)), 0);
	snprintf(path, sizeof(path), "%s/%s", dir, hexkey(20));
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("garbage", f);
	fclose(f);
	assert_true(cache_get(c, hexkey(20), &out) < 0);
	assert_int_equal(access(path, F_OK), -1);
	/* a symlink planted as an entry is never followed */
	assert_int_equal(symlink("/etc/passwd", path), 0);
	assert_true(cache_get(c, hexkey(20), &out) < 0);
	cache_close(c);
}

static void test_unsafe_dirs_refused(void **state)
{
	struct cache *c = NULL;
	char err[256], sub[256], link[256];
	snprintf(sub, sizeof(sub), "%s/open", dir);
	assert_int_equal(mkdir(sub, 0777), 0);
	assert_int_equal(chmod(sub, 0777), 0);
	assert_int_equal(cache_open(sub, 1 << 20, &c, err, sizeof(err)), -EPERM);
	assert_non_null(strstr(err, "writable"));
	snprintf(link, sizeof(link), "%s/link", dir);
	assert_int_equal(symlink(sub, link), 0);
	assert_int_equal(cache_open(link, 1 << 20, &c, err, sizeof(err)), -ELOOP);
	assert_non_null(strstr(err, "symlink"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key),
		cmocka_unit_test_setup_teardown(test_put_get, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lru_eviction, setup, teardown),
		cmocka_unit_test_setup_teardown(test_damaged_entry_removed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unsafe_dirs_refused, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
