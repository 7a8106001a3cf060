/* runlet plugin-test: judge one plugin's fixture cases on a real backend.
 *
 * A case (cli/plugin_case.h) is a YAML or JSON file in CASES_DIR holding a
 * submission and what must come of it. Each is turned into a struct job and
 * judged with runlet_judge on a context opened from the config's runner for
 * PLUGIN, or from a config synthesized for it. One line per case (details
 * of each test follow a failing case, or every case with --verbose), then
 * "N passed, N failed" last; exit 0 when all passed, 1 when one failed, 2
 * for usage, config or backend errors.
 */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/plugin_case.h"
#include "cli/plugin_test.h"
#include "core/config.h"
#include "core/dispatch.h"
#include "core/registry.h"

#define PT_SHOW 160 /* bytes of an output shown in a FAIL line */

struct pt_opts {
	struct runlet_ctx_opts ctx;
	const char *plugin;
	const char *dir;
	const char *backend; /* what cases' `backends:` are matched against */
	int verbose;
};

/* ---- config ---- */

/* Append s to a YAML double-quoted scalar. */
static void pt_yaml_quote(char *out, size_t outlen, const char *s)
{
	size_t o = strlen(out);

	for (; *s && o + 3 < outlen; s++) {
		if (*s == '"' || *s == '\\')
			out[o++] = '\\';
		out[o++] = *s;
	}
	out[o] = '\0';
}

/* The config to judge with and the language code of PLUGIN in it: the
 * config file's runner whose plugin resolves to the same file, else a config
 * with one runner for it and every other setting at its default. */
static int pt_config(struct pt_opts *o, struct cfg **out, char *code,
		     size_t codelen, char *err, size_t errlen)
{
	const char *path = o->ctx.config_path ? o->ctx.config_path : getenv("CONFIG_PATH");
	char dir[PATH_MAX], file[PATH_MAX], rfile[PATH_MAX], real[PATH_MAX], yaml[3 * PATH_MAX];
	const struct runlet_plugin *pl = NULL;
	struct cfg *cfg = NULL;
	void *handle = NULL;
	int rc;

	if (!path && access("config.yaml", R_OK) == 0)
		path = "config.yaml";
	if (path && (rc = cfg_load(path, &cfg, err, errlen)) < 0)
		return rc;
	if (runlet_plugin_dir(cfg, o->ctx.plugin_dir, dir, sizeof(dir)) < 0 ||
	    registry_resolve(dir, o->plugin, file, sizeof(file)) < 0) {
		snprintf(err, errlen, "plugin %s: path too long", o->plugin);
		rc = -EINVAL;
		goto out;
	}
	if ((rc = registry_open_file(file, &handle, &pl, err, errlen)) < 0)
		goto out;
	if (realpath(file, real))
		snprintf(file, sizeof(file), "%s", real);
	for (size_t i = 0; cfg && i < cfg->nrunners; i++) {
		const struct cfg_runner *r = &cfg->runners[i];
		if (registry_resolve(dir, r->plugin, rfile, sizeof(rfile)) == 0 &&
		    realpath(rfile, real) && strcmp(real, file) == 0) {
			snprintf(code, codelen, "%s", r->code);
			if (!o->backend)
				o->backend = r->backend ? r->backend : cfg->backend;
			*out = cfg;
			cfg = NULL;
			rc = 0;
			goto out;
		}
	}
	if (path)
		fprintf(stderr, "runlet plugin-test: %s has no runner for plugin %s: "
			"using the plugin's defaults\n", path, o->plugin);
	snprintf(code, codelen, "%s", strspn(pl->name, "abcdefghijklmnopqrstuvwxyz0123456789")
					      == strlen(pl->name) && pl->name[0]
					      ? pl->name : "lang");
	snprintf(yaml, sizeof(yaml), "runners:\n  %s:\n    plugin: \"", code);
	pt_yaml_quote(yaml, sizeof(yaml), file);
	snprintf(yaml + strlen(yaml), sizeof(yaml) - strlen(yaml), "\"\n");
	cfg_free(cfg);
	cfg = NULL;
	rc = cfg_load_buffer("plugin-test config", yaml, strlen(yaml), out, err, errlen);
out:
	if (handle)
		dlclose(handle);
	cfg_free(cfg);
	return rc;
}

/* ---- cases ---- */

static int pt_is_case(const struct dirent *d)
{
	const char *dot = strrchr(d->d_name, '.');

	return d->d_name[0] != '.' && dot &&
	       (strcmp(dot, ".yaml") == 0 || strcmp(dot, ".yml") == 0 ||
		strcmp(dot, ".json") == 0);
}

static void pt_print_tests(const struct result *r)
{
	char q[PT_SHOW * 4 + 32];

	for (size_t i = 0; i < r->ntests; i++) {
		const struct res_test *t = &r->tests[i];
		printf("     test %lld: %s %llu ms cpu %llu ms wall %llu KB exit %d signal %d output %s\n",
		       (long long)t->num, verdict_name(t->status),
		       (unsigned long long)t->time_ms, (unsigned long long)t->wall_ms,
		       (unsigned long long)t->memory_kb, t->exit_code, t->signal,
		       pcase_quote(t->output, t->output_len, q, sizeof(q)));
	}
	if (r->compile_output && r->compile_output[0])
		printf("     compile_output %s\n",
		       pcase_quote(r->compile_output, strlen(r->compile_output), q, sizeof(q)));
}

/* Judge one case file: 1 passed, 0 failed, -1 skipped. */
static int pt_case(struct runlet_ctx *ctx, const struct pt_opts *o,
		   const char *code, const char *name)
{
	char path[PATH_MAX], err[1024] = "", msg[4096] = "";
	struct result *r = NULL;
	struct job *job = NULL;
	json_t *c = NULL;
	int rc = 0;

	snprintf(path, sizeof(path), "%s/%s", o->dir, name);
	(void)pcase_load(path, &c, err, sizeof(err));
	if (c && pcase_skipped(c, o->backend)) {
		printf("skip %s (not for the %s backend)\n", name, o->backend);
		json_decref(c);
		return -1;
	}
	if (!c || pcase_validate(c, err, sizeof(err)) < 0 ||
	    pcase_job(c, code, &job, err, sizeof(err)) < 0) {
		printf("FAIL %s: invalid case: %s\n", name, err);
		goto out;
	}
	if (runlet_judge(ctx, job, NULL, &r) < 0 || !r) {
		printf("FAIL %s: runlet_judge: out of memory\n", name);
		goto out;
	}
	rc = pcase_evaluate(c, r, msg, sizeof(msg)) == 0;
	if (rc)
		printf("ok   %s\n", name);
	else
		printf("FAIL %s: %s\n", name, msg);
	if (o->verbose || !rc)
		pt_print_tests(r);
out:
	fflush(stdout);
	result_free(r);
	job_free(job);
	json_decref(c);
	return rc;
}

static void pt_usage(void)
{
	fprintf(stderr,
		"usage: runlet plugin-test [--config F] [--backend native|docker] [--insecure]\n"
		"                          [--plugin-dir D] [--runner PATH] [--verbose]\n"
		"                          PLUGIN CASES_DIR\n"
		"  PLUGIN: a plugin name (python) or a path to runlet-<name>.so\n"
		"  CASES_DIR: a directory of *.yaml / *.json cases (docs/PLUGINS.md)\n");
}

int plugin_test_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"config", required_argument, NULL, 'c'},
		{"backend", required_argument, NULL, 'b'},
		{"insecure", no_argument, NULL, 'i'},
		{"plugin-dir", required_argument, NULL, 'P'},
		{"runner", required_argument, NULL, 'R'},
		{"verbose", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct pt_opts o = {0};
	struct runlet_ctx *ctx = NULL;
	struct dirent **names = NULL;
	struct cfg *cfg = NULL;
	char err[2048] = "", code[64];
	int c, n, passed = 0, failed = 0, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "c:b:iP:R:vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': o.ctx.config_path = optarg; break;
		case 'b': o.ctx.backend = o.backend = optarg; break;
		case 'i': o.ctx.insecure = 1; break;
		case 'P': o.ctx.plugin_dir = optarg; break;
		case 'R': o.ctx.runner_path = optarg; break;
		case 'v': o.verbose = 1; break;
		case 'h': pt_usage(); return 0;
		default: pt_usage(); return 2;
		}
	}
	if (optind != argc - 2) {
		pt_usage();
		return 2;
	}
	o.plugin = argv[optind];
	o.dir = argv[optind + 1];
	n = scandir(o.dir, &names, pt_is_case, alphasort);
	if (n <= 0) {
		fprintf(stderr, "runlet plugin-test: %s: %s\n", o.dir,
			n < 0 ? strerror(errno) : "no *.yaml or *.json cases in it");
		free(names);
		return 2;
	}
	rc = pt_config(&o, &cfg, code, sizeof(code), err, sizeof(err));
	if (rc == 0) {
		if (!o.backend)
			o.backend = cfg->backend ? cfg->backend : "native";
		rc = runlet_ctx_open_cfg(&o.ctx, cfg, &ctx, err, sizeof(err));
		if (rc < 0)
			cfg_free(cfg);
	}
	if (rc < 0) {
		fprintf(stderr, "runlet plugin-test: %s\n", err);
		for (int i = 0; i < n; i++)
			free(names[i]);
		free(names);
		return 2;
	}
	for (int i = 0; i < n; i++) {
		int r = pt_case(ctx, &o, code, names[i]->d_name);
		passed += r == 1;
		failed += r == 0;
		free(names[i]);
	}
	free(names);
	runlet_ctx_close(ctx);
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
