/* Subcommands of the runlet CLI; each returns the process exit code:
 * 0 ok, 1 internal failure, 2 usage/config/job error. */
#ifndef RUNLET_CLI_H
#define RUNLET_CLI_H

#define CLI_EXIT_OK 0
#define CLI_EXIT_INTERNAL 1
#define CLI_EXIT_USAGE 2

int run_main(int argc, char **argv);
int check_config_main(int argc, char **argv);
int plugins_main(int argc, char **argv);

#endif
