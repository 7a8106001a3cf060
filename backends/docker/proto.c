/* backends/docker: small protocol helpers: API version negotiation, error
 * bodies, query-string encoding. Pure functions, unit-tested. */
#include "backends/docker/http.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int dock_version_cmp(const char *a, const char *b)
{
	for (;;) {
		char *ea, *eb;
		unsigned long x = strtoul(a, &ea, 10);
		unsigned long y = strtoul(b, &eb, 10);
		if (x != y)
			return x < y ? -1 : 1;
		if (*ea != '.' && *eb != '.')
			return 0;
		a = *ea == '.' ? ea + 1 : ea;
		b = *eb == '.' ? eb + 1 : eb;
	}
}

static int valid_version(const char *v)
{
	int dots = 0, digits = 0;
	if (!v || !*v || strlen(v) > 10)
		return 0;
	for (; *v; v++) {
		if (*v == '.') {
			if (!digits)
				return 0;
			dots++;
			digits = 0;
		} else if (*v >= '0' && *v <= '9') {
			digits++;
		} else {
			return 0;
		}
	}
	return dots == 1 && digits > 0;
}

int dock_version_negotiate(const char *body, size_t len, char *out,
			   size_t outlen, char *err, size_t errlen)
{
	json_error_t je;
	json_t *root = json_loadb(body, len, 0, &je);
	const char *api, *min;
	int rc = 0;

	if (!root || !json_is_object(root)) {
		snprintf(err, errlen,
			 "the Docker engine's /version answer is not JSON");
		rc = -EPROTO;
		goto out;
	}
	api = json_string_value(json_object_get(root, "ApiVersion"));
	min = json_string_value(json_object_get(root, "MinAPIVersion"));
	if (!valid_version(api)) {
		snprintf(err, errlen,
			 "the Docker engine's /version answer has no ApiVersion");
		rc = -EPROTO;
		goto out;
	}
	if (dock_version_cmp(api, DOCK_API_MIN) < 0) {
		snprintf(err, errlen,
			 "the Docker engine speaks API %s; runlet needs at least %s "
			 "(Docker 1.13 or newer): upgrade Docker",
			 api, DOCK_API_MIN);
		rc = -ENOTSUP;
		goto out;
	}
	const char *pick = dock_version_cmp(api, DOCK_API_MAX) > 0 ? DOCK_API_MAX : api;
	if (valid_version(min) && dock_version_cmp(pick, min) < 0) {
		snprintf(err, errlen,
			 "the Docker engine needs API %s or newer; runlet speaks %s to %s: "
			 "upgrade runlet",
			 min, DOCK_API_MIN, DOCK_API_MAX);
		rc = -ENOTSUP;
		goto out;
	}
	snprintf(out, outlen, "%s", pick);
out:
	json_decref(root);
	return rc;
}

void dock_error_message(long status, const char *body, size_t len, char *out,
			size_t outlen)
{
	json_t *root = NULL;
	const char *msg = NULL;
	if (body && len) {
		root = json_loadb(body, len, 0, NULL);
		if (json_is_object(root))
			msg = json_string_value(json_object_get(root, "message"));
	}
	if (msg && *msg) {
		snprintf(out, outlen, "%s", msg);
	} else if (body && len) {
		size_t b = 0, e = len;
		while (b < e && (body[b] == ' ' || body[b] == '\n' ||
				 body[b] == '\r' || body[b] == '\t'))
			b++;
		while (e > b && (body[e - 1] == ' ' || body[e - 1] == '\n' ||
				 body[e - 1] == '\r' || body[e - 1] == '\t'))
			e--;
		if (e > b)
			snprintf(out, outlen, "%.*s", (int)(e - b > 512 ? 512 : e - b),
				 body + b);
		else
			snprintf(out, outlen, "HTTP %ld", status);
	} else {
		snprintf(out, outlen, "HTTP %ld", status);
	}
	json_decref(root);
}

int dock_urlencode(const char *s, char *out, size_t outlen)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		int plain = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			    (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' ||
			    ch == '.' || ch == '~';
		if (o + (plain ? 1 : 3) >= outlen)
			return -ENOSPC;
		if (plain) {
			out[o++] = (char)ch;
		} else {
			out[o++] = '%';
			out[o++] = hex[ch >> 4];
			out[o++] = hex[ch & 15];
		}
	}
	if (o >= outlen)
		return -ENOSPC;
	out[o] = '\0';
	return 0;
}
