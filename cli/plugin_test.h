/* runlet plugin-test: run one plugin against its fixture cases. */
#ifndef RUNLET_PLUGIN_TEST_H
#define RUNLET_PLUGIN_TEST_H

/* `runlet plugin-test [--config F] [--backend B] PLUGIN CASES_DIR`;
 * prints a line per case and "N passed, N failed"; returns the exit code. */
int plugin_test_main(int argc, char **argv);

#endif
