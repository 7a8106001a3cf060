/* backends/docker: the Engine API calls runlet makes (images, build,
 * containers, volumes). Each returns 0 or -errno with err saying what failed
 * and the engine's own message; a missing object is -ENOENT.
 * Ownership: json_t results are new references the caller decrefs. */
#ifndef RUNLET_DOCK_API_H
#define RUNLET_DOCK_API_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "backends/docker/http.h"

/* GET /_ping then GET /version: sets the client's API version (ver gets
 * it too). */
int dock_connect(struct dock_client *c, char *ver, size_t verlen, char *err,
		 size_t errlen);

int dock_image_inspect(struct dock_client *c, const char *name, json_t **out,
		       char *err, size_t errlen);

struct dock_build {
	const char *tag;
	const char *dockerfile;  /* path inside the context */
	json_t *buildargs;       /* borrowed object or NULL */
	json_t *labels;          /* borrowed object or NULL */
	const char *networkmode; /* NULL: the engine's default */
	const void *context;     /* tar bytes, borrowed */
	size_t context_len;
	/* each line of build output, as it arrives (may be NULL) */
	void (*progress)(void *arg, const char *text, size_t len);
	void *arg;
};

/* POST /build. A failed step is an error whose message ends with the
 * engine's error and the last lines of build output. */
int dock_image_build(struct dock_client *c, const struct dock_build *b,
		     char *err, size_t errlen);

/* POST /containers/create; id gets the new container's id. */
int dock_container_create(struct dock_client *c, const char *name,
			  json_t *spec, char *id, size_t idlen, char *err,
			  size_t errlen);
int dock_container_start(struct dock_client *c, const char *id, char *err,
			 size_t errlen);
/* SIGKILL; a container that is not running is not an error. */
int dock_container_kill(struct dock_client *c, const char *id, char *err,
			size_t errlen);
/* force + anonymous volumes; a container already gone is not an error. */
int dock_container_remove(struct dock_client *c, const char *id, char *err,
			  size_t errlen);
/* POST /containers/{id}/wait: the exit status (waits up to timeout_ms). */
int dock_container_wait(struct dock_client *c, const char *id,
			long timeout_ms, int64_t *status, char *err,
			size_t errlen);
/* POST /containers/{id}/update: change resources of a running container. */
int dock_container_update(struct dock_client *c, const char *id,
			  json_t *resources, char *err, size_t errlen);
int dock_container_inspect(struct dock_client *c, const char *id,
			   json_t **out, char *err, size_t errlen);
/* PUT /containers/{id}/archive?path=dir: extract tar into dir. */
int dock_container_put_archive(struct dock_client *c, const char *id,
			       const char *dir, const void *tar, size_t len,
			       char *err, size_t errlen);
/* GET /containers/json?all=1 with a label filter ("runlet=1"). */
int dock_container_list(struct dock_client *c, const char *label,
			json_t **out, char *err, size_t errlen);
/* GET /volumes with a label filter; *out is the Volumes array. */
int dock_volume_list(struct dock_client *c, const char *label, json_t **out,
		     char *err, size_t errlen);
int dock_volume_remove(struct dock_client *c, const char *name, char *err,
		       size_t errlen);

#endif /* RUNLET_DOCK_API_H */
