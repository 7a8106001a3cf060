/* backends/docker: owner tags and the startup sweep (see sweep.h). */
#include "backends/docker/sweep.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "backends/docker/api.h"
#include "backends/docker/spec.h"

int dock_proc_starttime(long pid, unsigned long long *out)
{
	char path[64], buf[1024];
	FILE *f;
	size_t n;
	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	if (!(f = fopen(path, "re")))
		return -ESRCH;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* comm may hold spaces and parentheses: fields start after the last ')' */
	char *p = strrchr(buf, ')');
	if (!p)
		return -ESRCH;
	p++;
	/* a zombie has run its course: its containers are orphans */
	if (p[0] == ' ' && (p[1] == 'Z' || p[1] == 'X'))
		return -ESRCH;
	for (int field = 3; field < 22; field++) {
		p = strchr(p + 1, ' ');
		if (!p)
			return -ESRCH;
	}
	*out = strtoull(p + 1, NULL, 10);
	return 0;
}

int dock_owner_self(char *out, size_t outlen)
{
	char host[256] = "";
	unsigned long long st = 0;
	if (gethostname(host, sizeof(host) - 1) < 0)
		snprintf(host, sizeof(host), "unknown");
	dock_proc_starttime((long)getpid(), &st);
	int n = snprintf(out, outlen, "%s/%ld/%llu", host, (long)getpid(), st);
	return (n < 0 || (size_t)n >= outlen) ? -ENAMETOOLONG : 0;
}

int dock_owner_alive(const char *tag)
{
	char host[256] = "";
	const char *a, *b;
	char *end;
	long pid;
	unsigned long long st, now;
	if (!tag || !(a = strchr(tag, '/')) || !(b = strchr(a + 1, '/')))
		return -1;
	if (gethostname(host, sizeof(host) - 1) < 0)
		return -1;
	if ((size_t)(a - tag) != strlen(host) || memcmp(tag, host, (size_t)(a - tag)) != 0)
		return -1;
	pid = strtol(a + 1, &end, 10);
	if (end != b || pid <= 0)
		return -1;
	st = strtoull(b + 1, &end, 10);
	if (*end)
		return -1;
	if (dock_proc_starttime(pid, &now) < 0)
		return 0;
	return now == st ? 1 : 0;
}

static int stale(json_t *labels, long long created)
{
	const char *owner = json_string_value(json_object_get(labels, DOCK_LABEL_OWNER));
	int alive = dock_owner_alive(owner);
	if (alive == 0)
		return 1;
	if (alive == 1)
		return 0;
	return created > 0 && (long long)time(NULL) - created > DOCK_SWEEP_MAX_AGE_S;
}

static long long parse_time(const char *s)
{
	struct tm tm;
	memset(&tm, 0, sizeof(tm));
	if (!s || !strptime(s, "%Y-%m-%dT%H:%M:%S", &tm))
		return 0;
	return (long long)timegm(&tm);
}

int dock_sweep(struct dock_client *c, char *err, size_t errlen)
{
	json_t *list = NULL, *it;
	size_t i;
	int removed = 0, rc;
	char e2[512];

	rc = dock_container_list(c, DOCK_LABEL "=1", &list, err, errlen);
	if (rc < 0)
		return rc;
	json_array_foreach(list, i, it) {
		const char *id = json_string_value(json_object_get(it, "Id"));
		json_int_t created = json_integer_value(json_object_get(it, "Created"));
		if (!id || !stale(json_object_get(it, "Labels"), created))
			continue;
		if (dock_container_remove(c, id, e2, sizeof(e2)) == 0)
			removed++;
	}
	json_decref(list);
	list = NULL;
	if (dock_volume_list(c, DOCK_LABEL "=1", &list, e2, sizeof(e2)) == 0) {
		json_array_foreach(list, i, it) {
			const char *name = json_string_value(json_object_get(it, "Name"));
			const char *ca = json_string_value(json_object_get(it, "CreatedAt"));
			if (!name || !stale(json_object_get(it, "Labels"), parse_time(ca)))
				continue;
			/* a volume still in use answers 409: left for later */
			if (dock_volume_remove(c, name, e2, sizeof(e2)) == 0)
				removed++;
		}
		json_decref(list);
	}
	return removed;
}
