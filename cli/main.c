/* runlet: the command line. Dispatches to the subcommands. */
#include <stdio.h>
#include <string.h>

#include "backends/docker/images.h"
#include "backends/native/doctor.h"
#include "broker/serve.h"
#include "cli/cli.h"
#include "cli/plugin_test.h"

struct subcommand {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
};

static const struct subcommand subcommands[] = {
	{"run", run_main, "run [--config F] [--backend native|docker] [--pretty] [--insecure] JOB.json|-\n"
			  "        judge one submission, print the result JSON"},
	{"serve", serve_main, "serve [--config F] [--backend B] [--once] [--max-jobs N] [--log-level L]\n"
			      "        the queue daemon (RabbitMQ)"},
	{"plugin-test", plugin_test_main, "plugin-test [--config F] [--backend B] PLUGIN CASES_DIR\n"
					  "        run one plugin against its fixture cases"},
	{"check-config", check_config_main, "check-config [FILE]\n"
					    "        validate a config file and its plugins"},
	{"plugins", plugins_main, "plugins [--config F]\n"
				  "        list the configured languages and their plugins"},
	{"doctor", doctor_main, "doctor [--config F]\n"
				"        report the isolation features this host provides"},
	{"images", images_main, "images build [--config F] [CODE...]\n"
				"        build the Docker runner images"},
};

static void usage(FILE *f)
{
	fprintf(f, "usage: runlet COMMAND [OPTIONS]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
		fprintf(f, "  %s\n", subcommands[i].help);
	fprintf(f, "  version\n\nThe config is --config F, else $CONFIG_PATH, else ./config.yaml.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return CLI_EXIT_USAGE;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return CLI_EXIT_OK;
	}
	if (strcmp(argv[1], "version") == 0 || strcmp(argv[1], "--version") == 0) {
		printf("runlet %s\n", RUNLET_VERSION);
		return CLI_EXIT_OK;
	}
	for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
		if (strcmp(argv[1], subcommands[i].name) == 0)
			return subcommands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "runlet: unknown command \"%s\" (try runlet --help)\n",
		argv[1]);
	return CLI_EXIT_USAGE;
}
