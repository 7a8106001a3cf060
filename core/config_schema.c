/* The config key schema: one table per section (top level, runner, limits,
 * broker, sandbox, docker) saying each key's type, field, default and check,
 * and the generic code that applies a YAML mapping through a table. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/config_schema.h"

enum cfg_kind {
	K_STR,     /* non-empty string, optional check */
	K_ENV,     /* list of KEY=VALUE */
	K_ARGV,    /* list of strings, with a has_ flag */
	K_SIZE,    /* bytes, cfg_parse_size */
	K_SECS,    /* seconds (fractional) stored as ms */
	K_UINT,    /* integer */
	K_CORES,   /* fractional CPU cores; def_u in millicores */
	K_BOOL,    /* true or false, stored as uint64_t 1 or 0 */
	K_SECTION, /* nested mapping */
	K_CUSTOM,  /* handled by a function */
};

#define F_ZERO_OK  1u /* a number may be 0 */
#define F_NONEMPTY 2u /* a list may not be empty */

struct cfg_table;

struct cfg_key {
	const char *name;
	enum cfg_kind kind;
	size_t off;      /* the field in the section's struct */
	size_t off_n;    /* K_ENV, K_ARGV: the size_t count */
	size_t off_has;  /* K_ARGV: the int has_ flag */
	unsigned flags;
	const char *def_s;
	uint64_t def_u;
	uint64_t max;    /* K_UINT: upper bound, 0 = none */
	int (*check)(const char *s);
	const char *what; /* K_STR: what the check wants */
	const struct cfg_table *sub;
	int (*custom)(struct cfg_loader *ld, void *base, const struct yn *val,
		      const char *path);
};

struct cfg_table {
	const struct cfg_key *keys;
	size_t nkeys;
	const struct cfg_table *also; /* more keys, on base + also_off */
	size_t also_off;
};

static int check_backend(const char *s)
{
	return strcmp(s, "native") == 0 || strcmp(s, "docker") == 0;
}

static int check_abspath(const char *s) { return s[0] == '/'; }
static int check_pattern(const char *s) { return strstr(s, "{}") != NULL; }
static int check_shortstr(const char *s) { return strlen(s) <= 255; }

#define PFX(s, p) (strncmp(s, p, sizeof(p) - 1) == 0)
static int check_amqp_url(const char *s) { return PFX(s, "amqp://") || PFX(s, "amqps://"); }

static int check_docker_host(const char *s)
{
	return PFX(s, "unix://") || PFX(s, "tcp://") || PFX(s, "http://") ||
	       PFX(s, "https://");
}

#define ARR(a) (sizeof(a) / sizeof((a)[0]))
#define STR(n, st, f, d) {.name = n, .kind = K_STR, .off = offsetof(st, f), .def_s = d}
#define STRC(n, st, f, d, c, w)                                               \
	{.name = n, .kind = K_STR, .off = offsetof(st, f), .def_s = d,        \
	 .check = c, .what = w}
#define NUM(n, k, st, f, d, fl)                                               \
	{.name = n, .kind = k, .off = offsetof(st, f), .def_u = d, .flags = fl}
#define UINTM(n, st, f, d, fl, m)                                             \
	{.name = n, .kind = K_UINT, .off = offsetof(st, f), .def_u = d,       \
	 .flags = fl, .max = m}
#define SEC(n, st, f, t) {.name = n, .kind = K_SECTION, .off = offsetof(st, f), .sub = &t}

#define KB 1024ull
#define MB (1024ull * KB)
#define GB (1024ull * MB)
#define L struct cfg_limits
static const struct cfg_key limit_keys[] = {
	NUM("compile_timeout", K_SECS, L, compile_timeout_ms, 30000, 0),
	NUM("compile_mem_limit", K_SIZE, L, compile_mem_limit, GB, 0),
	NUM("wall_timeout", K_SECS, L, wall_timeout_ms, 0, F_ZERO_OK),
	NUM("output_limit", K_SIZE, L, output_limit, MB, 0),
	NUM("stderr_limit", K_SIZE, L, stderr_limit, 64 * KB, 0),
	NUM("pids_limit", K_UINT, L, pids_limit, 100, 0),
	NUM("tmpfs_size", K_SIZE, L, tmpfs_size, 256 * MB, 0),
	NUM("max_code_size", K_SIZE, L, max_code_size, 256 * KB, 0),
	NUM("max_input_size", K_SIZE, L, max_input_size, 64 * MB, 0),
	NUM("max_tests", K_UINT, L, max_tests, 1000, 0),
	NUM("max_run_timeout", K_SECS, L, max_run_timeout_ms, 0, F_ZERO_OK),
	NUM("max_mem_limit", K_SIZE, L, max_mem_limit, 0, F_ZERO_OK),
	NUM("max_output_limit", K_SIZE, L, max_output_limit, 0, F_ZERO_OK),
	NUM("parallel_tests", K_UINT, L, parallel_tests, 0, F_ZERO_OK),
};
#undef L
static const struct cfg_table limits_table = {limit_keys, ARR(limit_keys), NULL, 0};

#define R struct cfg_runner
static const struct cfg_key runner_keys[] = {
	STR("image", R, image, NULL),
	NUM("mem_limit", K_SIZE, R, mem_limit, 256 * MB, 0),
	NUM("cpu_cores", K_CORES, R, cpu_cores, 1000, 0),
	{.name = "envs", .kind = K_ENV, .off = offsetof(R, envs),
	 .off_n = offsetof(R, nenvs)},
	{.name = "env", .kind = K_ENV, .off = offsetof(R, envs),
	 .off_n = offsetof(R, nenvs)},
	{.name = "compile_args", .kind = K_ARGV, .off = offsetof(R, compile_args),
	 .off_n = offsetof(R, ncompile_args),
	 .off_has = offsetof(R, has_compile_args)},
	{.name = "run_args", .kind = K_ARGV, .off = offsetof(R, run_args),
	 .off_n = offsetof(R, nrun_args), .off_has = offsetof(R, has_run_args),
	 .flags = F_NONEMPTY},
	NUM("run_timeout", K_SECS, R, run_timeout_ms, 10000, 0),
	STR("plugin", R, plugin, NULL),
	STRC("backend", R, backend, NULL, check_backend, "\"native\" or \"docker\""),
};
#undef R
static const struct cfg_table runner_table = {
	runner_keys, ARR(runner_keys), &limits_table, offsetof(struct cfg_runner, limits)};

#define B struct cfg_broker
static const struct cfg_key broker_keys[] = {
	STRC("url", B, url, NULL, check_amqp_url,
	     "an AMQP URL such as amqp://user:password@host:5672/"),
	STRC("queue", B, queue, "test_solutions", check_shortstr, "a queue name of at most 255 bytes"),
	STRC("dead_letter_exchange", B, dlx, "dlx", check_shortstr, "an exchange name of at most 255 bytes"),
	STRC("dead_letter_queue", B, dlq, "test_solutions_dlq", check_shortstr, "a queue name of at most 255 bytes"),
	STRC("results_queue", B, results_queue, "results", check_shortstr, "a queue name of at most 255 bytes"),
	STR("task_name", B, task_name, "test_solution"),
	STR("result_task_name", B, result_task_name, "handle_test_result"),
	NUM("dlq_ttl", K_UINT, B, dlq_ttl_ms, 86400, 0),
	NUM("workers", K_UINT, B, workers, 0, F_ZERO_OK),
	UINTM("prefetch", B, prefetch, 0, F_ZERO_OK, 65535),
	NUM("max_redeliveries", K_UINT, B, max_redeliveries, 3, F_ZERO_OK),
	NUM("drain_timeout", K_SECS, B, drain_timeout_ms, 30000, F_ZERO_OK),
};
#undef B
static const struct cfg_table broker_table = {broker_keys, ARR(broker_keys), NULL, 0};

static const struct cfg_key sandbox_keys[] = {
	UINTM("uid", struct cfg_sandbox, uid, 1001, 0, 4294967294u),
	UINTM("gid", struct cfg_sandbox, gid, 1001, 0, 4294967294u),
	STRC("rootfs", struct cfg_sandbox, rootfs, NULL, check_abspath, "an absolute path"),
	STR("runner_path", struct cfg_sandbox, runner_path, NULL),
	UINTM("pool_size", struct cfg_sandbox, pool_size, 2, F_ZERO_OK, 8),
	NUM("fast_cgroup_moves", K_BOOL, struct cfg_sandbox, fast_cgroup_moves, 1, 0),
};
static const struct cfg_table sandbox_table = {sandbox_keys, ARR(sandbox_keys), NULL, 0};

static const struct cfg_key docker_keys[] = {
	STRC("host", struct cfg_docker, host, NULL, check_docker_host,
	     "a Docker endpoint such as unix:///var/run/docker.sock or tcp://host:2375"),
	NUM("pool_size", K_UINT, struct cfg_docker, pool_size, 0, F_ZERO_OK),
};
static const struct cfg_table docker_table = {docker_keys, ARR(docker_keys), NULL, 0};

static const struct cfg_key cache_keys[] = {
	STRC("dir", struct cfg_cache, dir, NULL, check_abspath, "an absolute path"),
	NUM("max_size", K_SIZE, struct cfg_cache, max_size, 512 * MB, F_ZERO_OK),
};
static const struct cfg_table cache_table = {cache_keys, ARR(cache_keys), NULL, 0};

#define C struct cfg
static const struct cfg_key top_keys[] = {
	{.name = "runners", .kind = K_CUSTOM, .custom = cfg_load_runners},
	STR("context_path", C, context_path, "."),
	STR("dockerfiles_path", C, dockerfiles_path, "dockerfiles"),
	STR("runner_dockerfile_name", C, runner_dockerfile_name, "runner.dockerfile"),
	STR("shared_dockerfile_name", C, shared_dockerfile_name, "shared.dockerfile"),
	STRC("runner_image_name_pattern", C, runner_image_name_pattern, "{}_runner",
	     check_pattern, "a name pattern containing \"{}\" (the language code)"),
	STR("shared_image_name", C, shared_image_name, "runner_shared"),
	STR("src_placeholder", C, src_placeholder, "{src}"),
	STR("bin_placeholder", C, bin_placeholder, "{bin}"),
	STR("volume_name", C, volume_name, "runlet_code_storage"),
	STRC("runner_mountpoint", C, runner_mountpoint, "/home/sandbox", check_abspath, "an absolute path"),
	STR("gateway_source_data_dir", C, gateway_source_data_dir, "/tmp"),
	STRC("tmpfs", C, tmpfs, "/tmp", check_abspath, "an absolute path"),
	STR("plugin_dir", C, plugin_dir, NULL),
	STRC("backend", C, backend, "native", check_backend, "\"native\" or \"docker\""),
	NUM("workers", K_UINT, C, broker.workers, 0, F_ZERO_OK),
	SEC("broker", C, broker, broker_table),
	SEC("sandbox", C, sandbox, sandbox_table),
	SEC("docker", C, docker, docker_table),
	SEC("compile_cache", C, cache, cache_table),
};
#undef C
static const struct cfg_table top_table = {
	top_keys, ARR(top_keys), &limits_table, offsetof(struct cfg, limits)};

static const struct cfg_table *section_table(enum cfg_section sec)
{
	return sec == CFG_SEC_TOP ? &top_table : &runner_table;
}

static void *field(void *base, size_t off) { return (char *)base + off; }

/* "D+[.D+]" times mult, rounded to nearest; *frac: a fraction was written,
 * *nonzero: some digit was not 0. */
static int parse_scaled(const char *s, size_t n, uint64_t mult, uint64_t *out,
			int *frac, int *nonzero)
{
	uint64_t ip = 0, fnum = 0, fden = 1;
	size_t i = 0, nd = 0;

	*frac = 0;
	*nonzero = 0;
	for (; i < n && s[i] >= '0' && s[i] <= '9'; i++, nd++) {
		unsigned d = (unsigned)(s[i] - '0');
		if (ip > (UINT64_MAX - d) / 10)
			return -ERANGE;
		ip = ip * 10 + d;
		*nonzero |= d != 0;
	}
	if (nd == 0)
		return -EINVAL;
	if (i < n && s[i] == '.') {
		size_t fd = 0;
		*frac = 1;
		for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++, fd++) {
			*nonzero |= s[i] != '0';
			if (fd < 9) {
				fnum = fnum * 10 + (uint64_t)(s[i] - '0');
				fden *= 10;
			}
		}
		if (fd == 0)
			return -EINVAL;
	}
	if (i != n)
		return -EINVAL;
	if (ip > UINT64_MAX / mult)
		return -ERANGE;
	ip *= mult;
	fnum = (fnum * mult + fden / 2) / fden;
	if (ip > UINT64_MAX - fnum)
		return -ERANGE;
	*out = ip + fnum;
	return 0;
}

int cfg_parse_size(const char *s, uint64_t *out)
{
	static const struct { char c; uint64_t mult; } units[] = {
		{'k', KB}, {'m', MB}, {'g', GB}, {'t', 1024 * GB}};
	const char *end, *suf;
	uint64_t mult = 1, v;
	int frac, nz, rc;

	if (!s || !out)
		return -EINVAL;
	for (end = s; (*end >= '0' && *end <= '9') || *end == '.'; end++)
		;
	suf = end;
	if (*suf) {
		size_t i;
		for (i = 0; i < ARR(units); i++)
			if ((*suf | 0x20) == units[i].c)
				break;
		if (i < ARR(units)) {
			mult = units[i].mult;
			suf++;
		}
		if (*suf && strcasecmp(suf, "b") != 0 &&
		    (mult == 1 || strcasecmp(suf, "ib") != 0))
			return -EINVAL;
	}
	rc = parse_scaled(s, (size_t)(end - s), mult, &v, &frac, &nz);
	if (rc < 0)
		return -EINVAL;
	if (frac && mult == 1)
		return -EINVAL; /* no fractional bytes */
	*out = v;
	return 0;
}

static int bad(struct cfg_loader *ld, const struct yn *v, const char *path,
	       const char *what)
{
	char got[96];

	cfg_describe(v, got, sizeof(got));
	return cfg_fail(ld, v, path, "expected %s, got %s", what, got);
}

/* The text of a scalar that is not null and holds no NUL byte. */
static int scalar_of(struct cfg_loader *ld, const struct yn *v,
		     const char *path, const char *what, const char **out)
{
	*out = NULL;
	if (v->type != YN_SCALAR || yn_is_null(v) || strlen(v->s) != v->len)
		return bad(ld, v, path, what);
	*out = v->s;
	return 0;
}

static int apply_str(struct cfg_loader *ld, const struct cfg_key *k,
		     void *base, const struct yn *v, const char *path)
{
	const char *what = k->what ? k->what : "a non-empty string";
	char **dst = field(base, k->off);
	const char *s;
	int rc = scalar_of(ld, v, path, what, &s);

	if (rc < 0)
		return rc;
	if (!*s || (k->check && !k->check(s)))
		return bad(ld, v, path, what);
	free(*dst);
	*dst = strdup(s);
	return *dst ? 0 : -ENOMEM;
}

static void free_strv(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

static int apply_list(struct cfg_loader *ld, const struct cfg_key *k,
		      void *base, const struct yn *v, const char *path)
{
	int env = k->kind == K_ENV;
	const char *what = env ? "a list of KEY=VALUE strings" : "a list of strings";
	char ***dst = field(base, k->off);
	char **arr;
	char ip[360]; /* path (at most 320) and "[index]" */
	int rc = 0;

	if (v->type != YN_SEQ)
		return bad(ld, v, path, what);
	if (v->n == 0 && (k->flags & F_NONEMPTY))
		return bad(ld, v, path, "a non-empty list of strings (the command that runs the program)");
	arr = calloc(v->n + 1, sizeof(*arr));
	if (!arr)
		return -ENOMEM;
	for (size_t i = 0; i < v->n; i++) {
		const char *s = NULL;
		snprintf(ip, sizeof(ip), "%s[%zu]", path, i);
		rc = scalar_of(ld, v->kids[i], ip, env ? "KEY=VALUE" : "a string", &s);
		if (rc < 0)
			goto fail;
		if (env && (s[0] == '=' || !strchr(s, '='))) {
			rc = bad(ld, v->kids[i], ip, "KEY=VALUE");
			goto fail;
		}
		arr[i] = strdup(s);
		if (!arr[i]) {
			rc = -ENOMEM;
			goto fail;
		}
	}
	free_strv(*dst);
	*dst = arr;
	*(size_t *)field(base, k->off_n) = v->n;
	if (k->kind == K_ARGV)
		*(int *)field(base, k->off_has) = 1;
	return 0;
fail:
	free_strv(arr);
	return rc;
}

static int apply_bool(struct cfg_loader *ld, const struct cfg_key *k,
		      void *base, const struct yn *v, const char *path)
{
	const char *what = "true or false";
	const char *s;
	int rc = scalar_of(ld, v, path, what, &s);

	if (rc < 0)
		return rc;
	if (strcmp(s, "true") == 0)
		*(uint64_t *)field(base, k->off) = 1;
	else if (strcmp(s, "false") == 0)
		*(uint64_t *)field(base, k->off) = 0;
	else
		return bad(ld, v, path, what);
	return 0;
}

static int apply_num(struct cfg_loader *ld, const struct cfg_key *k,
		     void *base, const struct yn *v, const char *path)
{
	static const char *const whats[][2] = { /* [kind][zero allowed] */
		[K_SIZE] = {"a positive size (bytes, or with a k/m/g suffix as in 256m)",
			    "a size (bytes, or with a k/m/g suffix as in 256m)"},
		[K_SECS] = {"a positive number", "a number >= 0"},
		[K_UINT] = {"a positive integer", "an integer >= 0"},
		[K_CORES] = {"a positive number of CPU cores", "a number of CPU cores"},
	};
	int zero_ok = (k->flags & F_ZERO_OK) != 0;
	char what[128];
	const char *s;
	uint64_t x = 0;
	int frac = 0, nz = 0, rc;

	if (k->max)
		snprintf(what, sizeof(what), "an integer from %d to %llu", zero_ok ? 0 : 1,
			 (unsigned long long)k->max);
	else
		snprintf(what, sizeof(what), "%s", whats[k->kind][zero_ok]);
	rc = scalar_of(ld, v, path, what, &s);
	if (rc < 0)
		return rc;
	if (k->kind == K_SIZE) {
		if (cfg_parse_size(s, &x) < 0)
			return bad(ld, v, path, what);
	} else {
		uint64_t mult = k->kind == K_SECS ? 1000 : k->kind == K_CORES ? 1000000 : 1;
		if (parse_scaled(s, v->len, mult, &x, &frac, &nz) < 0 ||
		    (k->kind == K_UINT && frac))
			return bad(ld, v, path, what);
		if (x == 0 && nz)
			x = 1; /* a positive value below the resolution */
	}
	if ((x == 0 && !zero_ok) || (k->max && x > k->max))
		return bad(ld, v, path, what);
	if (k->kind == K_CORES)
		*(double *)field(base, k->off) = (double)x / 1e6;
	else
		*(uint64_t *)field(base, k->off) = x;
	return 0;
}

static const struct cfg_key *lookup(const struct cfg_table *t, const char *name,
				    size_t *extra_off)
{
	*extra_off = 0;
	for (size_t i = 0; i < t->nkeys; i++)
		if (strcmp(t->keys[i].name, name) == 0)
			return &t->keys[i];
	if (t->also) {
		*extra_off = t->also_off;
		return lookup(t->also, name, &(size_t){0});
	}
	return NULL;
}

/* Levenshtein distance, case-insensitive; large for long names. */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), prev[64], cur[64];

	if (la >= 64 || lb >= 64)
		return 64;
	for (size_t j = 0; j <= lb; j++)
		prev[j] = j;
	for (size_t i = 1; i <= la; i++) {
		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t sub = prev[j - 1] + ((a[i - 1] | 0x20) != (b[j - 1] | 0x20));
			size_t del = prev[j] + 1, ins = cur[j - 1] + 1;
			cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
		}
		memcpy(prev, cur, sizeof(cur));
	}
	return prev[lb];
}

static void closest(const struct cfg_table *t, const char *name,
		    const char **best, size_t *bestd)
{
	for (; t; t = t->also)
		for (size_t i = 0; i < t->nkeys; i++) {
			size_t d = edit_distance(name, t->keys[i].name);
			if (d < *bestd) {
				*bestd = d;
				*best = t->keys[i].name;
			}
		}
}

static int unknown_key(struct cfg_loader *ld, const struct cfg_table *t,
		       const struct yn *key, const char *path)
{
	const char *best = NULL;
	size_t bestd = 64, limit = 1 + key->len / 5, off;

	if (t == &top_table && lookup(&runner_table, key->s, &off))
		return cfg_fail(ld, key, path, "unknown key at the top level (%s is a per-runner key: put it under runners.<code>)", key->s);
	if (t == &runner_table && lookup(&top_table, key->s, &off))
		return cfg_fail(ld, key, path, "unknown key in a runner (%s is a top-level key)", key->s);
	closest(t, key->s, &best, &bestd);
	if (best && bestd <= (limit < 3 ? limit : 3))
		return cfg_fail(ld, key, path, "unknown key (did you mean \"%s\"?)", best);
	return cfg_fail(ld, key, path, "unknown key");
}

static int apply_table(struct cfg_loader *ld, const struct cfg_table *t,
		       void *base, const struct yn *map, const char *path)
{
	char kp[320];
	int rc = cfg_check_map(ld, map, path, "a mapping");

	for (size_t i = 0; rc == 0 && i + 1 < map->n; i += 2) {
		const struct yn *key = map->kids[i], *val = map->kids[i + 1];
		const struct cfg_key *k;
		size_t off;
		void *b;

		cfg_path_join(kp, sizeof(kp), path, key->s);
		k = lookup(t, key->s, &off);
		if (!k)
			return unknown_key(ld, t, key, kp);
		b = field(base, off);
		if (k->kind != K_SECTION && k->kind != K_CUSTOM) {
			rc = cfg_mark_seen(ld, field(b, k->off), kp, key);
			if (rc < 0)
				return rc;
		}
		switch (k->kind) {
		case K_STR: rc = apply_str(ld, k, b, val, kp); break;
		case K_ENV:
		case K_ARGV: rc = apply_list(ld, k, b, val, kp); break;
		case K_SECTION: rc = apply_table(ld, k->sub, field(b, k->off), val, kp); break;
		case K_CUSTOM: rc = k->custom(ld, b, val, kp); break;
		case K_BOOL: rc = apply_bool(ld, k, b, val, kp); break;
		default: rc = apply_num(ld, k, b, val, kp);
		}
	}
	return rc;
}

int cfg_schema_apply(struct cfg_loader *ld, enum cfg_section sec, void *base,
		     const struct yn *map, const char *path)
{
	return apply_table(ld, section_table(sec), base, map, path);
}

static int defaults(const struct cfg_table *t, void *base)
{
	for (size_t i = 0; i < t->nkeys; i++) {
		const struct cfg_key *k = &t->keys[i];
		void *f = field(base, k->off);
		int rc;

		switch (k->kind) {
		case K_STR:
			if (k->def_s && !(*(char **)f = strdup(k->def_s)))
				return -ENOMEM;
			break;
		case K_SIZE:
		case K_SECS:
		case K_UINT:
		case K_BOOL: *(uint64_t *)f = k->def_u; break;
		case K_CORES: *(double *)f = (double)k->def_u / 1000.0; break;
		case K_SECTION:
			rc = defaults(k->sub, f);
			if (rc < 0)
				return rc;
			break;
		default: break;
		}
	}
	return t->also ? defaults(t->also, field(base, t->also_off)) : 0;
}

int cfg_schema_defaults(enum cfg_section sec, void *base)
{
	return defaults(section_table(sec), base);
}

static void free_table(const struct cfg_table *t, void *base)
{
	for (size_t i = 0; i < t->nkeys; i++) {
		const struct cfg_key *k = &t->keys[i];
		void *f = field(base, k->off);

		if (k->kind == K_STR) {
			free(*(char **)f);
			*(char **)f = NULL;
		} else if (k->kind == K_ENV || k->kind == K_ARGV) {
			free_strv(*(char ***)f);
			*(char ***)f = NULL;
		} else if (k->kind == K_SECTION) {
			free_table(k->sub, f);
		}
	}
}

void cfg_schema_free(enum cfg_section sec, void *base)
{
	free_table(section_table(sec), base);
}

void cfg_schema_resolve_limits(const struct cfg_loader *ld, struct cfg *c,
			       struct cfg_runner *r)
{
	int cml_set = cfg_was_seen(ld, &r->limits.compile_mem_limit) ||
		      cfg_was_seen(ld, &c->limits.compile_mem_limit);

	for (size_t i = 0; i < limits_table.nkeys; i++) {
		size_t off = limits_table.keys[i].off;
		uint64_t *f = field(&r->limits, off);
		if (!cfg_was_seen(ld, f))
			*f = *(uint64_t *)field(&c->limits, off);
	}
	if (!cml_set)
		r->limits.compile_mem_limit = r->mem_limit > GB ? r->mem_limit : GB;
}
