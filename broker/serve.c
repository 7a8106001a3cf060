/* broker: placeholder until the queue daemon lands. */
#include <stdio.h>

#include "broker/serve.h"

int serve_main(int argc, char **argv)
{
	fprintf(stderr, "runlet serve: not built in yet\n");
	return 1;
}
