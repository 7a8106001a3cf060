/* The plugin registry: dlopen each configured language's plugin, check it. */
#include "core/registry.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/config.h"

struct reg_entry {
	char *code;  /* owned */
	char *path;  /* owned */
	void *handle; /* owned: dlclose */
	const struct runlet_plugin *plugin; /* borrowed from handle */
};

struct registry {
	struct reg_entry *e;
	size_t n;
};

int registry_resolve(const char *plugin_dir, const char *ref, char *out,
		     size_t outlen)
{
	size_t rl = strlen(ref);
	int n;
	if (strchr(ref, '/') || (rl > 3 && strcmp(ref + rl - 3, ".so") == 0))
		n = snprintf(out, outlen, "%s", ref);
	else
		n = snprintf(out, outlen, "%s/runlet-%s.so",
			     plugin_dir ? plugin_dir : ".", ref);
	return (n < 0 || (size_t)n >= outlen) ? -ENAMETOOLONG : 0;
}

/* The file must be a regular file (not a symlink), not writable by group or
 * others, owned by root or by us. */
static int check_file(const char *path, char *err, size_t errlen)
{
	struct stat st;
	if (lstat(path, &st) < 0) {
		int e = errno;
		snprintf(err, errlen, "plugin %s: %s%s", path, strerror(e),
			 e == ENOENT ? " (build it, or fix plugin/plugin_dir in the config)" : "");
		return -e;
	}
	if (S_ISLNK(st.st_mode)) {
		snprintf(err, errlen,
			 "plugin %s: is a symbolic link; refusing to load it (point the config at the real file)",
			 path);
		return -ELOOP;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "plugin %s: not a regular file", path);
		return -EINVAL;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		snprintf(err, errlen,
			 "plugin %s: writable by group or others (mode %04o); refusing to load it (chmod go-w)",
			 path, (unsigned)(st.st_mode & 07777));
		return -EPERM;
	}
	if (st.st_uid != 0 && st.st_uid != geteuid()) {
		snprintf(err, errlen,
			 "plugin %s: owned by uid %u, neither root nor runlet's user; refusing to load it",
			 path, (unsigned)st.st_uid);
		return -EPERM;
	}
	return 0;
}

int registry_open_file(const char *path, void **handle,
		       const struct runlet_plugin **plugin, char *err,
		       size_t errlen)
{
	int rc = check_file(path, err, errlen);
	void *h;
	runlet_plugin_entry_fn entry;
	const struct runlet_plugin *p;

	if (rc < 0)
		return rc;
	dlerror();
	h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		const char *e = dlerror();
		snprintf(err, errlen, "plugin %s: cannot load: %s", path,
			 e ? e : "unknown error");
		return -ENOEXEC;
	}
	*(void **)&entry = dlsym(h, RUNLET_PLUGIN_ENTRY);
	if (!entry) {
		snprintf(err, errlen,
			 "plugin %s: no symbol %s (not a runlet plugin, or built without RUNLET_PLUGIN_EXPORT)",
			 path, RUNLET_PLUGIN_ENTRY);
		rc = -ENOEXEC;
		goto fail;
	}
	p = entry();
	if (!p) {
		snprintf(err, errlen, "plugin %s: %s() returned NULL", path,
			 RUNLET_PLUGIN_ENTRY);
		rc = -ENOEXEC;
		goto fail;
	}
	if (p->abi_major != RUNLET_PLUGIN_ABI_MAJOR) {
		snprintf(err, errlen,
			 "plugin %s: built for plugin ABI %u, this runlet speaks ABI %u (rebuild the plugin against this runlet's plugin.h)",
			 path, (unsigned)p->abi_major,
			 (unsigned)RUNLET_PLUGIN_ABI_MAJOR);
		rc = -EPROTO;
		goto fail;
	}
	if (p->struct_size < offsetof(struct runlet_plugin, source_name) ||
	    !p->name || !p->name[0] || !p->version) {
		snprintf(err, errlen,
			 "plugin %s: malformed plugin header (struct_size %u, name and version required)",
			 path, (unsigned)p->struct_size);
		rc = -EPROTO;
		goto fail;
	}
	if (!RUNLET_PLUGIN_HAS(p, source_name) || !p->source_name ||
	    !p->source_name[0] || strchr(p->source_name, '/')) {
		snprintf(err, errlen,
			 "plugin %s: source_name must be a plain file name",
			 path);
		rc = -EPROTO;
		goto fail;
	}
	if (RUNLET_PLUGIN_HAS(p, binary_name) && p->binary_name &&
	    (!p->binary_name[0] || strchr(p->binary_name, '/'))) {
		snprintf(err, errlen,
			 "plugin %s: binary_name must be a plain file name",
			 path);
		rc = -EPROTO;
		goto fail;
	}
	*handle = h;
	*plugin = p;
	return 0;
fail:
	dlclose(h);
	return rc;
}

int registry_load(const struct cfg *cfg, const char *plugin_dir,
		  struct registry **out, char *err, size_t errlen)
{
	struct registry *r = calloc(1, sizeof(*r));
	int rc = 0;
	if (!r)
		return -ENOMEM;
	r->e = calloc(cfg->nrunners ? cfg->nrunners : 1, sizeof(*r->e));
	if (!r->e) {
		free(r);
		return -ENOMEM;
	}
	for (size_t i = 0; i < cfg->nrunners; i++) {
		const struct cfg_runner *cr = &cfg->runners[i];
		const char *ref = cr->plugin ? cr->plugin
					     : cfg_default_plugin(cr->code);
		char path[4096], why[1024];
		struct reg_entry *e = &r->e[r->n];
		rc = registry_resolve(plugin_dir, ref, path, sizeof(path));
		if (rc < 0) {
			snprintf(err, errlen, "runners.%s.plugin: path too long",
				 cr->code);
			goto fail;
		}
		rc = registry_open_file(path, &e->handle, &e->plugin, why,
					sizeof(why));
		if (rc < 0) {
			snprintf(err, errlen, "%s:%d:%d: runners.%s: %s",
				 cfg->path ? cfg->path : "config", cr->line,
				 cr->col, cr->code, why);
			goto fail;
		}
		e->code = strdup(cr->code);
		e->path = strdup(path);
		r->n++;
		if (!e->code || !e->path) {
			rc = -ENOMEM;
			goto fail;
		}
	}
	*out = r;
	return 0;
fail:
	registry_free(r);
	return rc;
}

void registry_free(struct registry *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++) {
		free(r->e[i].code);
		free(r->e[i].path);
		if (r->e[i].handle)
			dlclose(r->e[i].handle);
	}
	free(r->e);
	free(r);
}

static const struct reg_entry *find(const struct registry *r,
				    const char *code)
{
	for (size_t i = 0; r && i < r->n; i++)
		if (strcmp(r->e[i].code, code) == 0)
			return &r->e[i];
	return NULL;
}

const struct runlet_plugin *registry_get(const struct registry *r,
					 const char *code)
{
	const struct reg_entry *e = find(r, code);
	return e ? e->plugin : NULL;
}

const char *registry_path(const struct registry *r, const char *code)
{
	const struct reg_entry *e = find(r, code);
	return e ? e->path : NULL;
}

size_t registry_count(const struct registry *r)
{
	return r ? r->n : 0;
}

const char *registry_code_at(const struct registry *r, size_t i)
{
	return r && i < r->n ? r->e[i].code : NULL;
}
