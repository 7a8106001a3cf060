/* runlet images build: build the docker backend's images from the config,
 * showing the build's output. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "backends/docker/api.h"
#include "backends/docker/images.h"
#include "core/config.h"

struct out_ctx {
	int tty;
};

/* On a terminal everything the build says; elsewhere its steps only. */
static void show(void *arg, const char *text, size_t len)
{
	struct out_ctx *o = arg;
	if (o->tty) {
		fwrite(text, 1, len, stderr);
	} else if ((len >= 5 && !memcmp(text, "Step ", 5)) ||
		   (len >= 7 && !memcmp(text, "runlet:", 7))) {
		fwrite(text, 1, len, stderr);
		if (text[len - 1] != '\n')
			fputc('\n', stderr);
	}
}

static void usage(FILE *f)
{
	fprintf(f, "usage: runlet images build [--config FILE] [CODE...]\n"
		   "  Build the shared image (runlet-runner) and the runner image of\n"
		   "  each language in the config (or only the CODEs given) through\n"
		   "  the Docker Engine API (docker.host, DOCKER_HOST, or\n"
		   "  /var/run/docker.sock).\n");
}

static void default_runner(const struct cfg *cfg, char *out, size_t outlen)
{
	char exe[PATH_MAX];
	ssize_t n;
	if (cfg->sandbox.runner_path && *cfg->sandbox.runner_path) {
		snprintf(out, outlen, "%s", cfg->sandbox.runner_path);
		return;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		char *slash = strrchr(exe, '/');
		if (slash) {
			*slash = '\0';
			if (snprintf(out, outlen, "%s/runlet-runner", exe) <
			    (int)outlen)
				return;
		}
	}
	snprintf(out, outlen, "runlet-runner");
}

int images_main(int argc, char **argv)
{
	const char *config = getenv("CONFIG_PATH");
	struct cfg *cfg = NULL;
	struct dock_client *c = NULL;
	struct dock_endpoint ep;
	struct out_ctx oc = {isatty(STDERR_FILENO)};
	char err[4096], ver[16], runner[PATH_MAX];
	int i = 1, rc, status = 1, failed = 0;

	if (argc < 2 || strcmp(argv[1], "build") != 0) {
		usage(argc >= 2 && !strcmp(argv[1], "--help") ? stdout : stderr);
		return argc >= 2 && !strcmp(argv[1], "--help") ? 0 : 2;
	}
	for (i = 2; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--config") && i + 1 < argc) {
			config = argv[++i];
		} else if (!strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else {
			fprintf(stderr, "runlet images: unknown option %s\n", argv[i]);
			usage(stderr);
			return 2;
		}
	}
	if (!config || !*config)
		config = "config.yaml";
	if ((rc = cfg_load(config, &cfg, err, sizeof(err))) < 0) {
		fprintf(stderr, "runlet images: %s\n", err);
		return 2;
	}
	for (int k = i; k < argc; k++) {
		if (!cfg_runner_find(cfg, argv[k])) {
			fprintf(stderr, "runlet images: %s: no runners.%s in %s\n",
				argv[k], argv[k], config);
			goto out_cfg;
		}
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (dock_endpoint_parse(cfg->docker.host, &ep, err, sizeof(err)) < 0 ||
	    dock_client_new(&ep, "", &c, err, sizeof(err)) < 0 ||
	    dock_connect(c, ver, sizeof(ver), err, sizeof(err)) < 0) {
		fprintf(stderr, "runlet images: %s\n", err);
		goto out;
	}
	default_runner(cfg, runner, sizeof(runner));
	struct dock_image_ctx ic = {.cfg = cfg, .runner_path = runner,
				    .out = show, .out_arg = &oc, .force = 1};
	for (size_t r = 0; r < cfg->nrunners; r++) {
		const struct cfg_runner *cr = &cfg->runners[r];
		int wanted = i >= argc;
		for (int k = i; k < argc && !wanted; k++)
			wanted = !strcmp(argv[k], cr->code);
		if (!wanted)
			continue;
		if (dock_image_ensure(c, &ic, cr, err, sizeof(err)) < 0) {
			fprintf(stderr, "runlet images: %s: %s\n", cr->code, err);
			failed++;
		}
	}
	status = failed ? 1 : 0;
out:
	dock_client_free(c);
	curl_global_cleanup();
out_cfg:
	cfg_free(cfg);
	return status;
}
