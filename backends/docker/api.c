/* backends/docker: Engine API calls on top of the HTTP client. */
#include "backends/docker/api.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/docker/stream.h"

/* One call; 2xx -> 0 (resp kept for the caller), else -errno with
 * "docker WHAT: <engine message>". */
static int call(struct dock_client *c, const char *what, const char *method,
		const char *path, const char *ctype, const void *body,
		size_t len, long timeout_ms, struct dock_resp *resp, char *err,
		size_t errlen)
{
	struct dock_req rq = {method, path, ctype, body, len, timeout_ms,
			      NULL, NULL};
	char msg[768];
	int rc = dock_request(c, &rq, resp, err, errlen);
	if (rc < 0)
		return rc;
	if (resp->status >= 200 && resp->status < 300)
		return 0;
	dock_error_message(resp->status, resp->body.data, resp->body.len, msg,
			   sizeof(msg));
	snprintf(err, errlen, "docker %s: %s (HTTP %ld)", what, msg,
		 resp->status);
	switch (resp->status) {
	case 404: rc = -ENOENT; break;
	case 409: rc = -EBUSY; break;
	case 400: rc = -EINVAL; break;
	case 401: case 403: rc = -EACCES; break;
	default: rc = -EIO; break;
	}
	dock_resp_free(resp);
	return rc;
}

static int call_json(struct dock_client *c, const char *what,
		     const char *method, const char *path, json_t *body,
		     long timeout_ms, json_t **out, char *err, size_t errlen)
{
	struct dock_resp resp;
	char *text = NULL;
	int rc;
	if (body && !(text = json_dumps(body, JSON_COMPACT))) {
		snprintf(err, errlen, "docker %s: out of memory", what);
		return -ENOMEM;
	}
	rc = call(c, what, method, path, text ? "application/json" : NULL,
		  text, text ? strlen(text) : 0, timeout_ms, &resp, err, errlen);
	free(text);
	if (rc < 0)
		return rc;
	if (out) {
		*out = resp.body.len ? json_loadb(resp.body.data, resp.body.len, 0, NULL)
				     : NULL;
		if (!*out) {
			snprintf(err, errlen,
				 "docker %s: the engine's answer is not JSON", what);
			rc = -EPROTO;
		}
	}
	dock_resp_free(&resp);
	return rc;
}

int dock_connect(struct dock_client *c, char *ver, size_t verlen, char *err,
		 size_t errlen)
{
	struct dock_resp resp;
	int rc;
	dock_client_set_version(c, "");
	if ((rc = call(c, "ping", "GET", "/_ping", NULL, NULL, 0, 15000, &resp,
		       err, errlen)) < 0)
		return rc;
	dock_resp_free(&resp);
	if ((rc = call(c, "version", "GET", "/version", NULL, NULL, 0, 15000,
		       &resp, err, errlen)) < 0)
		return rc;
	rc = dock_version_negotiate(resp.body.data, resp.body.len, ver, verlen,
				    err, errlen);
	dock_resp_free(&resp);
	if (rc == 0)
		dock_client_set_version(c, ver);
	return rc;
}

int dock_image_inspect(struct dock_client *c, const char *name, json_t **out,
		       char *err, size_t errlen)
{
	char path[600], enc[512];
	if (dock_urlencode(name, enc, sizeof(enc)) < 0) {
		snprintf(err, errlen, "image name too long: %.60s", name);
		return -ENAMETOOLONG;
	}
	snprintf(path, sizeof(path), "/images/%s/json", enc);
	return call_json(c, "image inspect", "GET", path, NULL, 30000, out, err,
			 errlen);
}

/* Build output: JSON lines; keep the tail for error messages. */
struct build_ctx {
	const struct dock_build *b;
	struct dock_lines lines;
	char tail[2048];
	size_t tail_len;
	char error[1024];
	int failed;
};

static void tail_add(struct build_ctx *bc, const char *s, size_t n)
{
	size_t cap = sizeof(bc->tail) - 1;
	if (n > cap) {
		s += n - cap;
		n = cap;
	}
	if (bc->tail_len + n > cap) {
		size_t drop = bc->tail_len + n - cap;
		memmove(bc->tail, bc->tail + drop, bc->tail_len - drop);
		bc->tail_len -= drop;
	}
	memcpy(bc->tail + bc->tail_len, s, n);
	bc->tail_len += n;
	bc->tail[bc->tail_len] = '\0';
}

static int on_build_line(void *arg, const char *line, size_t len)
{
	struct build_ctx *bc = arg;
	json_t *j = json_loadb(line, len, 0, NULL);
	const char *s;
	if (!j)
		return 0;
	if ((s = json_string_value(json_object_get(j, "stream")))) {
		tail_add(bc, s, strlen(s));
		if (bc->b->progress)
			bc->b->progress(bc->b->arg, s, strlen(s));
	} else if ((s = json_string_value(json_object_get(j, "status")))) {
		if (bc->b->progress) {
			char tmp[512];
			const char *id = json_string_value(json_object_get(j, "id"));
			int n = snprintf(tmp, sizeof(tmp), "%s%s%s\n", id ? id : "",
					 id ? ": " : "", s);
			if (n > 0)
				bc->b->progress(bc->b->arg, tmp,
						(size_t)n < sizeof(tmp) ? (size_t)n
									: sizeof(tmp) - 1);
		}
	} else if ((s = json_string_value(json_object_get(j, "error")))) {
		bc->failed = 1;
		snprintf(bc->error, sizeof(bc->error), "%s", s);
	}
	json_decref(j);
	return 0;
}

static int on_build_body(void *arg, const char *p, size_t n)
{
	struct build_ctx *bc = arg;
	return dock_lines_feed(&bc->lines, p, n, on_build_line, bc);
}

static int query_json(char *q, size_t qlen, const char *key, json_t *v)
{
	char *text, enc[4096];
	size_t used = strlen(q);
	int rc;
	if (!v)
		return 0;
	if (!(text = json_dumps(v, JSON_COMPACT)))
		return -ENOMEM;
	rc = dock_urlencode(text, enc, sizeof(enc));
	free(text);
	if (rc < 0)
		return rc;
	rc = snprintf(q + used, qlen - used, "&%s=%s", key, enc);
	return (rc < 0 || (size_t)rc >= qlen - used) ? -ENOSPC : 0;
}

int dock_image_build(struct dock_client *c, const struct dock_build *b,
		     char *err, size_t errlen)
{
	char path[12288], tag[512], df[512], net[64];
	struct build_ctx bc;
	struct dock_resp resp;
	struct dock_req rq;
	int rc;

	memset(&bc, 0, sizeof(bc));
	bc.b = b;
	if (dock_urlencode(b->tag, tag, sizeof(tag)) < 0 ||
	    dock_urlencode(b->dockerfile, df, sizeof(df)) < 0 ||
	    dock_urlencode(b->networkmode ? b->networkmode : "", net, sizeof(net)) < 0) {
		snprintf(err, errlen, "docker build %s: name too long", b->tag);
		return -ENAMETOOLONG;
	}
	snprintf(path, sizeof(path), "/build?t=%s&dockerfile=%s&rm=1&forcerm=1",
		 tag, df);
	if (*net) {
		size_t u = strlen(path);
		snprintf(path + u, sizeof(path) - u, "&networkmode=%s", net);
	}
	if (query_json(path, sizeof(path), "buildargs", b->buildargs) < 0 ||
	    query_json(path, sizeof(path), "labels", b->labels) < 0) {
		snprintf(err, errlen, "docker build %s: build args too long",
			 b->tag);
		return -ENOSPC;
	}
	rq = (struct dock_req){"POST", path, "application/x-tar", b->context,
			       b->context_len, 0, on_build_body, &bc};
	rc = dock_request(c, &rq, &resp, err, errlen);
	dock_lines_end(&bc.lines, on_build_line, &bc);
	if (rc < 0)
		return rc;
	if (resp.status < 200 || resp.status >= 300) {
		char msg[768];
		dock_error_message(resp.status, resp.body.data, resp.body.len, msg,
				   sizeof(msg));
		snprintf(err, errlen, "docker build of %s: %s (HTTP %ld)", b->tag,
			 msg, resp.status);
		dock_resp_free(&resp);
		return resp.status == 404 ? -ENOENT : -EIO;
	}
	dock_resp_free(&resp);
	if (bc.failed) {
		snprintf(err, errlen, "docker build of %s failed: %s%s%s", b->tag,
			 bc.error, bc.tail_len ? "\n--- last build output ---\n" : "",
			 bc.tail);
		return -EIO;
	}
	return 0;
}

int dock_container_create(struct dock_client *c, const char *name,
			  json_t *spec, char *id, size_t idlen, char *err,
			  size_t errlen)
{
	char path[300], enc[256];
	json_t *out = NULL;
	int rc;
	if (name) {
		if (dock_urlencode(name, enc, sizeof(enc)) < 0)
			return -ENAMETOOLONG;
		snprintf(path, sizeof(path), "/containers/create?name=%s", enc);
	} else {
		snprintf(path, sizeof(path), "/containers/create");
	}
	rc = call_json(c, "create container", "POST", path, spec, 60000, &out,
		       err, errlen);
	if (rc < 0)
		return rc;
	const char *s = json_string_value(json_object_get(out, "Id"));
	if (!s || strlen(s) >= idlen) {
		snprintf(err, errlen, "docker create container: no Id in the answer");
		rc = -EPROTO;
	} else {
		snprintf(id, idlen, "%s", s);
	}
	json_decref(out);
	return rc;
}

/* A call on /<kind>/<id><suffix> with no body in or out. */
static int simple(struct dock_client *c, const char *what, const char *method,
		  const char *kind, const char *id, const char *suffix,
		  long timeout_ms, char *err, size_t errlen)
{
	char path[512], enc[300];
	struct dock_resp resp;
	int rc;
	if (dock_urlencode(id, enc, sizeof(enc)) < 0)
		return -ENAMETOOLONG;
	snprintf(path, sizeof(path), "/%s/%s%s", kind, enc, suffix);
	rc = call(c, what, method, path, NULL, NULL, 0, timeout_ms, &resp, err,
		  errlen);
	if (rc == 0)
		dock_resp_free(&resp);
	return rc;
}

int dock_container_start(struct dock_client *c, const char *id, char *err,
			 size_t errlen)
{
	return simple(c, "start container", "POST", "containers", id, "/start",
		      60000, err, errlen);
}

int dock_container_kill(struct dock_client *c, const char *id, char *err,
			size_t errlen)
{
	int rc = simple(c, "kill container", "POST", "containers", id,
			"/kill?signal=KILL", 30000, err, errlen);
	return (rc == -EBUSY || rc == -ENOENT) ? 0 : rc;
}

int dock_container_remove(struct dock_client *c, const char *id, char *err,
			  size_t errlen)
{
	int rc = simple(c, "remove container", "DELETE", "containers", id,
			"?force=1&v=1", 60000, err, errlen);
	/* 404: gone already; 409: removal already in progress */
	return (rc == -ENOENT || rc == -EBUSY) ? 0 : rc;
}

int dock_container_wait(struct dock_client *c, const char *id,
			long timeout_ms, int64_t *status, char *err,
			size_t errlen)
{
	char path[300];
	json_t *out = NULL;
	int rc;
	snprintf(path, sizeof(path), "/containers/%s/wait", id);
	rc = call_json(c, "wait for container", "POST", path, NULL, timeout_ms,
		       &out, err, errlen);
	if (rc < 0)
		return rc;
	json_t *sc = json_object_get(out, "StatusCode");
	if (!json_is_integer(sc)) {
		snprintf(err, errlen, "docker wait: no StatusCode in the answer");
		rc = -EPROTO;
	} else {
		*status = json_integer_value(sc);
	}
	json_decref(out);
	return rc;
}

int dock_container_update(struct dock_client *c, const char *id,
			  json_t *resources, char *err, size_t errlen)
{
	char path[300];
	json_t *out = NULL;
	snprintf(path, sizeof(path), "/containers/%s/update", id);
	int rc = call_json(c, "update container", "POST", path, resources, 30000,
			   &out, err, errlen);
	json_decref(out);
	return rc;
}

int dock_container_inspect(struct dock_client *c, const char *id,
			   json_t **out, char *err, size_t errlen)
{
	char path[300];
	snprintf(path, sizeof(path), "/containers/%s/json", id);
	return call_json(c, "inspect container", "GET", path, NULL, 30000, out,
			 err, errlen);
}

int dock_container_put_archive(struct dock_client *c, const char *id,
			       const char *dir, const void *tar, size_t len,
			       char *err, size_t errlen)
{
	char path[1200], enc[1024];
	struct dock_resp resp;
	int rc;
	if (dock_urlencode(dir, enc, sizeof(enc)) < 0)
		return -ENAMETOOLONG;
	snprintf(path, sizeof(path), "/containers/%s/archive?path=%s", id, enc);
	rc = call(c, "put the plan into the container", "PUT", path,
		  "application/x-tar", tar, len, 300000, &resp, err, errlen);
	if (rc == 0)
		dock_resp_free(&resp);
	return rc;
}

static int list(struct dock_client *c, const char *what, const char *base,
		const char *label, json_t **out, char *err, size_t errlen)
{
	char path[1024], enc[768];
	json_t *f = json_pack("{s:[s]}", "label", label);
	char *text = f ? json_dumps(f, JSON_COMPACT) : NULL;
	int rc = -ENOMEM;
	json_decref(f);
	if (!text)
		return rc;
	rc = dock_urlencode(text, enc, sizeof(enc));
	free(text);
	if (rc < 0)
		return rc;
	snprintf(path, sizeof(path), "%s%cfilters=%s", base,
		 strchr(base, '?') ? '&' : '?', enc);
	return call_json(c, what, "GET", path, NULL, 30000, out, err, errlen);
}

int dock_container_list(struct dock_client *c, const char *label,
			json_t **out, char *err, size_t errlen)
{
	return list(c, "list containers", "/containers/json?all=1", label, out,
		    err, errlen);
}

int dock_volume_list(struct dock_client *c, const char *label, json_t **out,
		     char *err, size_t errlen)
{
	json_t *all = NULL;
	int rc = list(c, "list volumes", "/volumes", label, &all, err, errlen);
	if (rc < 0)
		return rc;
	json_t *v = json_object_get(all, "Volumes");
	*out = json_is_array(v) ? json_incref(v) : json_array();
	json_decref(all);
	return 0;
}

int dock_volume_remove(struct dock_client *c, const char *name, char *err,
		       size_t errlen)
{
	int rc = simple(c, "remove volume", "DELETE", "volumes", name, "", 30000,
			err, errlen);
	return rc == -ENOENT ? 0 : rc;
}
