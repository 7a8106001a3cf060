/* runlet doctor: print which isolation features this host provides for the
 * native sandbox, one line each, and whether everything required is there. */
#include "backends/native/doctor.h"

#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/config.h"
#include "features.h"

static void exe_dir_runner(char *out, size_t len)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0) {
		snprintf(out, len, "runlet-runner");
		return;
	}
	exe[n] = '\0';
	char *slash = strrchr(exe, '/');
	size_t dl = slash ? (size_t)(slash - exe) : 0;
	if (dl + sizeof("/runlet-runner") > len)
		dl = 0;
	memcpy(out, exe, dl);
	memcpy(out + dl, "/runlet-runner", sizeof("/runlet-runner"));
}

int doctor_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"config", required_argument, NULL, 'c'},
		{"runner", required_argument, NULL, 'R'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *config = NULL, *runner = NULL;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "c:R:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': config = optarg; break;
		case 'R': runner = optarg; break;
		default:
			fprintf(stderr, "usage: runlet doctor [--config F] [--runner PATH]\n");
			return c == 'h' ? 0 : 2;
		}
	}
	struct cfg *cfg = NULL;
	char err[1024], rpath[PATH_MAX];
	if (!config)
		config = getenv("CONFIG_PATH");
	if (config && cfg_load(config, &cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "runlet doctor: %s\n", err);
		return 2;
	}
	if (!runner && cfg && cfg->sandbox.runner_path)
		runner = cfg->sandbox.runner_path;
	if (!runner) {
		exe_dir_runner(rpath, sizeof(rpath));
		runner = rpath;
	}
	const char *wd = cfg && cfg->tmpfs ? cfg->tmpfs : "/tmp";

	struct sbx_features f;
	sbx_features_detect("/sys/fs/cgroup", NULL, runner, wd, &f);
	printf("runlet doctor: native sandbox features%s%s\n",
	       config ? " for " : "", config ? config : "");
	for (int i = 0; i < SBX_F_COUNT; i++) {
		const struct sbx_feature *x = &f.f[i];
		printf("  %-24s %-3s %-9s %s\n", sbx_feat_name(i),
		       x->present ? "yes" : "no",
		       x->required ? "required" : "optional", x->detail);
	}
	int miss = sbx_features_missing(&f);
	if (miss >= 0) {
		sbx_features_message(&f, miss, err, sizeof(err));
		printf("result: NOT ready: %s; `runlet run --insecure` runs "
		       "without the missing isolation\n", err);
	} else {
		printf("result: ready: the native sandbox has everything it "
		       "requires (cgroup %s)\n", f.cg.v2 ? "v2" : "v1");
	}
	cfg_free(cfg);
	return miss >= 0 ? 1 : 0;
}
