/* runlet check-config: validate a config file and load its plugins. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/config.h"
#include "core/dispatch.h"
#include "core/registry.h"

int check_config_main(int argc, char **argv)
{
	const char *path = NULL;
	struct cfg *cfg = NULL;
	struct registry *reg = NULL;
	char err[2048], dir[4096];
	int rc;

	if (argc > 2 || (argc == 2 && argv[1][0] == '-' && argv[1][1])) {
		fprintf(stderr, "usage: runlet check-config [FILE]\n");
		return CLI_EXIT_USAGE;
	}
	if (argc == 2)
		path = argv[1];
	if (!path)
		path = getenv("CONFIG_PATH");
	if (!path || !*path)
		path = "config.yaml";
	rc = cfg_load(path, &cfg, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "%s\n", err);
		return CLI_EXIT_USAGE;
	}
	/* plugins are looked up as `runlet run` would */
	if (runlet_plugin_dir(cfg, NULL, dir, sizeof(dir)) < 0) {
		fprintf(stderr, "%s: plugin_dir too long\n", path);
		cfg_free(cfg);
		return CLI_EXIT_USAGE;
	}
	rc = registry_load(cfg, dir, &reg, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "%s\n", err);
		cfg_free(cfg);
		return CLI_EXIT_USAGE;
	}
	printf("%s: ok, %zu language%s:", path, cfg->nrunners,
	       cfg->nrunners == 1 ? "" : "s");
	for (size_t i = 0; i < cfg->nrunners; i++)
		printf(" %s", cfg->runners[i].code);
	printf("\n");
	registry_free(reg);
	cfg_free(cfg);
	return CLI_EXIT_OK;
}
