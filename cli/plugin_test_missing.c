/* Fallback for builds without the plugin harness source. */
#include <stdio.h>

#include "cli/plugin_test.h"

int plugin_test_main(int argc, char **argv)
{
	fprintf(stderr, "runlet plugin-test: not built in yet\n");
	return 1;
}
