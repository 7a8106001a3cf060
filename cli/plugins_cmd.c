/* runlet plugins: list configured languages and the plugins serving them. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/config.h"
#include "core/dispatch.h"
#include "core/registry.h"

int plugins_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"config", required_argument, NULL, 'c'},
		{"plugin-dir", required_argument, NULL, 'P'},
		{NULL, 0, NULL, 0},
	};
	const char *path = NULL, *pdir = NULL;
	struct cfg *cfg = NULL;
	struct registry *reg = NULL;
	char err[2048], dir[4096];
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "c:P:", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': path = optarg; break;
		case 'P': pdir = optarg; break;
		default:
			fprintf(stderr, "usage: runlet plugins [--config F] [--plugin-dir D]\n");
			return CLI_EXIT_USAGE;
		}
	}
	if (!path)
		path = getenv("CONFIG_PATH");
	if (!path || !*path)
		path = "config.yaml";
	if (cfg_load(path, &cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "runlet plugins: %s\n", err);
		return CLI_EXIT_USAGE;
	}
	if (runlet_plugin_dir(cfg, pdir, dir, sizeof(dir)) < 0 ||
	    registry_load(cfg, dir, &reg, err, sizeof(err)) < 0) {
		fprintf(stderr, "runlet plugins: %s\n", err);
		cfg_free(cfg);
		return CLI_EXIT_USAGE;
	}
	printf("%-6s %-10s %-9s %-4s %s\n", "CODE", "PLUGIN", "VERSION", "ABI",
	       "FILE");
	for (size_t i = 0; i < registry_count(reg); i++) {
		const char *code = registry_code_at(reg, i);
		const struct runlet_plugin *p = registry_get(reg, code);
		printf("%-6s %-10s %-9s %-4u %s\n", code, p->name, p->version,
		       (unsigned)p->abi_major, registry_path(reg, code));
	}
	registry_free(reg);
	cfg_free(cfg);
	return CLI_EXIT_OK;
}
