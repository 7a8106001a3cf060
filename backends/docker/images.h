/* runlet images: the docker backend's images, built through the Engine API.
 *
 * The shared image (shared_image_name, from shared_dockerfile_name) holds
 * runlet-runner at /runlet/runlet-runner; one runner image per language
 * (runner_image_name_pattern with {} = the code, from runner_dockerfile_name,
 * build arg IMAGE = the runner's image) copies it from the shared image and
 * adds the user sandbox (uid 1001). Both carry the label runlet.runner = a
 * digest of the runlet-runner they hold, so an image made from another
 * runner build is rebuilt. Dockerfiles come from
 * <config dir>/<context_path>/<dockerfiles_path>/, else runlet's built-in
 * copies of dockerfiles/.
 * Ownership: names are written into caller buffers. */
#ifndef RUNLET_IMAGES_H
#define RUNLET_IMAGES_H

#include <stddef.h>

struct cfg;
struct cfg_runner;
struct dock_client;

/* `runlet images build [--config F] [CODE...]`; returns the exit code. */
int images_main(int argc, char **argv);

/* The runner image name of a language ("py_runner"). */
int dock_image_name(const struct cfg *cfg, const char *code, char *out,
		    size_t outlen);
/* The shared image name ("runner_shared"). */
const char *dock_shared_name(const struct cfg *cfg);

/* Receives build output as it comes (may be NULL). */
typedef void (*dock_build_out_fn)(void *arg, const char *text, size_t len);

struct dock_image_ctx {
	const struct cfg *cfg;
	const char *runner_path;  /* host path of runlet-runner */
	dock_build_out_fn out;
	void *out_arg;
	int force;                /* rebuild even when up to date */
	int shared_done;          /* the shared image is known good */
	char runner_id[48];       /* digest of runlet-runner, "" until read */
};

/* Make sure the runner image of r exists and holds this runlet-runner:
 * build the shared and runner images when missing or stale. 0 or -errno
 * with err (the build error, with the last lines of the build's output). */
int dock_image_ensure(struct dock_client *c, struct dock_image_ctx *ic,
		      const struct cfg_runner *r, char *err, size_t errlen);

#endif /* RUNLET_IMAGES_H */
