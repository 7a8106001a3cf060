/* runlet-runner: placeholder entry until the executor lands. */
#include <stdio.h>

int main(void)
{
	fprintf(stderr, "runlet-runner: not built in yet\n");
	return 1;
}
