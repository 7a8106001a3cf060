/* backends/docker: building and checking the shared and runner images. */
#include "backends/docker/images.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backends/docker/api.h"
#include "backends/docker/dockerfiles_embed.h"
#include "backends/docker/tar.h"
#include "core/config.h"

#define LABEL_RUNNER "runlet.runner"
#define LABEL_IMAGE "runlet.image"
#define LABEL_BASE "runlet.base"
#define MAX_FILE (256u << 20)

const char *dock_shared_name(const struct cfg *cfg)
{
	return cfg->shared_image_name && *cfg->shared_image_name
		       ? cfg->shared_image_name
		       : "runner_shared";
}

int dock_image_name(const struct cfg *cfg, const char *code, char *out,
		    size_t outlen)
{
	const char *pat = cfg->runner_image_name_pattern &&
					  *cfg->runner_image_name_pattern
				  ? cfg->runner_image_name_pattern
				  : "{}_runner";
	size_t o = 0, cl = strlen(code);
	for (const char *p = pat; *p; p++) {
		if (p[0] == '{' && p[1] == '}') {
			if (o + cl >= outlen)
				return -ENAMETOOLONG;
			memcpy(out + o, code, cl);
			o += cl;
			p++;
		} else {
			if (o + 1 >= outlen)
				return -ENAMETOOLONG;
			out[o++] = *p;
		}
	}
	out[o] = '\0';
	return 0;
}

static int read_file(const char *path, struct wire_buf *b)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	int rc = 0;
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    (uint64_t)st.st_size > MAX_FILE) {
		close(fd);
		return -EINVAL;
	}
	char chunk[65536];
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			break;
		}
		if (n == 0)
			break;
		if (wire_buf_append(b, chunk, (size_t)n) < 0) {
			rc = -ENOMEM;
			break;
		}
	}
	close(fd);
	if (rc < 0)
		wire_buf_free(b);
	return rc;
}

/* Not a security measure: tells one runner build from another. */
static void digest(const char *p, size_t n, char *out, size_t outlen)
{
	uint64_t h = 1469598103934665603ull, h2 = 0x9e3779b97f4a7c15ull;
	for (size_t i = 0; i < n; i++) {
		h = (h ^ (unsigned char)p[i]) * 1099511628211ull;
		h2 = (h2 ^ (unsigned char)p[i]) * 0x100000001b3ull + (h2 >> 29);
	}
	snprintf(out, outlen, "%016" PRIx64 "%016" PRIx64 "-%zu", h, h2, n);
}

/* The dockerfile text: from the config's directories, else built in. */
static int dockerfile(const struct cfg *cfg, const char *name,
		      const char *builtin, struct wire_buf *b, char *from,
		      size_t fromlen)
{
	char dir[PATH_MAX] = ".", path[3 * PATH_MAX];
	const char *ctx = cfg->context_path && *cfg->context_path ? cfg->context_path : ".";
	const char *dfp = cfg->dockerfiles_path && *cfg->dockerfiles_path ? cfg->dockerfiles_path : "dockerfiles";
	if (cfg->path) {
		const char *slash = strrchr(cfg->path, '/');
		if (slash)
			snprintf(dir, sizeof(dir), "%.*s", (int)(slash - cfg->path), cfg->path);
	}
	if (dfp[0] == '/')
		snprintf(path, sizeof(path), "%s/%s", dfp, name);
	else if (ctx[0] == '/')
		snprintf(path, sizeof(path), "%s/%s/%s", ctx, dfp, name);
	else if (!strcmp(dir, ".") && !strcmp(ctx, "."))
		snprintf(path, sizeof(path), "%s/%s", dfp, name);
	else if (!strcmp(ctx, "."))
		snprintf(path, sizeof(path), "%s/%s/%s", dir, dfp, name);
	else
		snprintf(path, sizeof(path), "%s/%s/%s/%s", dir, ctx, dfp, name);
	if (read_file(path, b) == 0) {
		snprintf(from, fromlen, "%s", path);
		return 0;
	}
	snprintf(from, fromlen, "runlet's built-in %s (%s not found)", name, path);
	return wire_buf_append(b, builtin, strlen(builtin));
}

static int runner_id(struct dock_image_ctx *ic, struct wire_buf *bin, char *err,
		     size_t errlen)
{
	int rc = read_file(ic->runner_path, bin);
	if (rc < 0) {
		snprintf(err, errlen,
			 "cannot read runlet-runner at %s: %s (build it: make build)",
			 ic->runner_path, strerror(-rc));
		return rc;
	}
	digest(bin->data, bin->len, ic->runner_id, sizeof(ic->runner_id));
	return 0;
}

/* 1 when the image exists with these label values, 0 otherwise. */
static int image_matches(struct dock_client *c, const char *name,
			 const char *runner, const char *image,
			 const char *base, char *err, size_t errlen)
{
	json_t *j = NULL;
	int rc = dock_image_inspect(c, name, &j, err, errlen);
	if (rc == -ENOENT)
		return 0;
	if (rc < 0)
		return rc;
	json_t *labels = json_object_get(json_object_get(j, "Config"), "Labels");
	const char *lr = json_string_value(json_object_get(labels, LABEL_RUNNER));
	const char *li = json_string_value(json_object_get(labels, LABEL_IMAGE));
	const char *lb = json_string_value(json_object_get(labels, LABEL_BASE));
	int ok = lr && !strcmp(lr, runner) &&
		 (!image || (li && !strcmp(li, image))) &&
		 (!base || !*base || (lb && !strcmp(lb, base)));
	json_decref(j);
	return ok;
}

static void say(struct dock_image_ctx *ic, const char *a, const char *b,
		const char *c, const char *d)
{
	char line[2048];
	int n = snprintf(line, sizeof(line), "runlet: %s %s %s %s\n", a, b, c, d);
	if (ic->out && n > 0)
		ic->out(ic->out_arg, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

static int build(struct dock_client *c, struct dock_image_ctx *ic,
		 const char *tag, const char *dfname, const char *builtin,
		 const struct wire_buf *bin, json_t *args, json_t *labels,
		 char *err, size_t errlen)
{
	struct wire_buf df = {0}, ctx = {0};
	struct dock_tar *t = NULL;
	char from[3 * PATH_MAX + 64];
	int rc;

	if ((rc = dockerfile(ic->cfg, dfname, builtin, &df, from, sizeof(from))) < 0)
		goto oom;
	say(ic, "building", tag, "from", from);
	if ((rc = dock_tar_new(&t)) < 0 ||
	    (rc = dock_tar_add_file(t, "Dockerfile", 0644, 0, 0, df.data, df.len)) < 0 ||
	    (bin && (rc = dock_tar_add_file(t, "runlet-runner", 0755, 0, 0,
					    bin->data, bin->len)) < 0))
		goto oom;
	rc = dock_tar_finish(t, &ctx);
	t = NULL;
	if (rc < 0)
		goto oom;
	struct dock_build b = {
		.tag = tag, .dockerfile = "Dockerfile", .buildargs = args,
		.labels = labels, .networkmode = "none", .context = ctx.data,
		.context_len = ctx.len, .progress = ic->out, .arg = ic->out_arg,
	};
	rc = dock_image_build(c, &b, err, errlen);
	goto out;
oom:
	snprintf(err, errlen, "building %s: %s", tag, strerror(-rc));
out:
	dock_tar_free(t);
	wire_buf_free(&ctx);
	wire_buf_free(&df);
	return rc;
}

static int ensure_shared(struct dock_client *c, struct dock_image_ctx *ic,
			 const struct wire_buf *bin, char *err, size_t errlen)
{
	const char *name = dock_shared_name(ic->cfg);
	int rc;
	if (ic->shared_done)
		return 0;
	if (!ic->force) {
		rc = image_matches(c, name, ic->runner_id, NULL, NULL, err, errlen);
		if (rc < 0)
			return rc;
		if (rc == 1) {
			ic->shared_done = 1;
			return 0;
		}
	}
	json_t *labels = json_pack("{s:s}", LABEL_RUNNER, ic->runner_id);
	rc = build(c, ic, name,
		   ic->cfg->shared_dockerfile_name ? ic->cfg->shared_dockerfile_name
						   : "shared.dockerfile",
		   dock_embedded_shared, bin, NULL, labels, err, errlen);
	json_decref(labels);
	if (rc == 0)
		ic->shared_done = 1;
	return rc;
}

int dock_image_ensure(struct dock_client *c, struct dock_image_ctx *ic,
		      const struct cfg_runner *r, char *err, size_t errlen)
{
	struct wire_buf bin = {0};
	char name[256];
	json_t *args = NULL, *labels = NULL;
	int rc;

	if (!r->image || !*r->image) {
		snprintf(err, errlen,
			 "runners.%s.image is not set: the docker backend needs the "
			 "language's image",
			 r->code);
		return -EINVAL;
	}
	if ((rc = dock_image_name(ic->cfg, r->code, name, sizeof(name))) < 0) {
		snprintf(err, errlen, "runner image name of %s too long", r->code);
		return rc;
	}
	if ((rc = runner_id(ic, &bin, err, errlen)) < 0)
		return rc;
	/* the language image's id when it is here (a rebuilt base makes the
	 * runner image stale); "" when it is to be pulled */
	json_t *bj = NULL;
	char base[160] = "";
	if (dock_image_inspect(c, r->image, &bj, err, errlen) == 0) {
		const char *bid = json_string_value(json_object_get(bj, "Id"));
		snprintf(base, sizeof(base), "%s", bid ? bid : "");
		json_decref(bj);
	}
	if (!ic->force) {
		rc = image_matches(c, name, ic->runner_id, r->image, base, err, errlen);
		if (rc != 0)
			goto out; /* up to date, or an error */
	}
	if ((rc = ensure_shared(c, ic, &bin, err, errlen)) < 0)
		goto out;
	args = json_pack("{s:s, s:s}", "IMAGE", r->image, "SHARED",
			 dock_shared_name(ic->cfg));
	labels = json_pack("{s:s, s:s, s:s}", LABEL_RUNNER, ic->runner_id,
			   LABEL_IMAGE, r->image, LABEL_BASE, base);
	if (!args || !labels) {
		rc = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	rc = build(c, ic, name,
		   ic->cfg->runner_dockerfile_name ? ic->cfg->runner_dockerfile_name
						   : "runner.dockerfile",
		   dock_embedded_runner, NULL, args, labels, err, errlen);
	if (rc < 0 && !base[0]) {
		/* the language image is not here and could not be pulled */
		char why[1024];
		snprintf(why, sizeof(why), "%s", err);
		snprintf(err, errlen,
			 "runners.%s.image %s is not on this engine and pulling it failed "
			 "(no registry reachable? build it locally: make images, or "
			 "docker load it): %s",
			 r->code, r->image, why);
	} else if (rc < 0) {
		char why[1024];
		snprintf(why, sizeof(why), "%s", err);
		snprintf(err, errlen, "building the runner image %s from %s: %s", name,
			 r->image, why);
	}
	if (rc == 0)
		say(ic, "ready:", name, "from", r->image);
out:
	if (rc > 0)
		rc = 0;
	json_decref(args);
	json_decref(labels);
	wire_buf_free(&bin);
	return rc;
}
