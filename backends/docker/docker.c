/* backends/docker: placeholder until the backend lands. */
#include <errno.h>
#include <stdio.h>

#include "backends/backend.h"

static const char *ph_workdir(void *state, const struct cfg_runner *runner)
{
	return "/tmp";
}

static int ph_open(const struct cfg *cfg, const struct backend_opts *opts,
		   void **state, char *err, size_t errlen)
{
	snprintf(err, errlen, "the docker backend is not built in yet");
	return -ENOSYS;
}

static int ph_execute(void *state, const struct backend_job *job,
		      struct wire_result *res, char *err, size_t errlen)
{
	snprintf(err, errlen, "the docker backend is not built in yet");
	return -ENOSYS;
}

static void ph_close(void *state)
{
}

const struct backend_ops docker_backend_ops = {
	.name = "docker",
	.workdir = ph_workdir,
	.open = ph_open,
	.execute = ph_execute,
	.close = ph_close,
};

#include "backends/docker/images.h"

int images_main(int argc, char **argv)
{
	fprintf(stderr, "runlet images: not built in yet\n");
	return 1;
}
