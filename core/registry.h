/* The plugin registry: loads each configured language's plugin with dlopen
 * and maps language codes to their struct runlet_plugin.
 *
 * A plugin file is refused when it is missing, a symlink, writable by group or
 * others, lacks RUNLET_PLUGIN_ENTRY, or declares another ABI major; every
 * message names the file. Ownership: the registry owns the dl handles; plugin
 * pointers it hands out are borrowed until registry_free.
 */
#ifndef RUNLET_REGISTRY_H
#define RUNLET_REGISTRY_H

#include <stddef.h>

#include "runlet/plugin.h"

struct cfg;
struct registry;

/* Resolve a plugin reference (a name like "python" or a path) to a file:
 * a value containing '/' or ending in ".so" is a path; a name becomes
 * <plugin_dir>/runlet-<name>.so. Writes into out. 0 or -ENAMETOOLONG. */
int registry_resolve(const char *plugin_dir, const char *ref, char *out,
		     size_t outlen);

/* Open one plugin file. On success *handle (dlclose it) and *plugin are the
 * caller's. -errno with err set otherwise. */
int registry_open_file(const char *path, void **handle,
		       const struct runlet_plugin **plugin, char *err,
		       size_t errlen);

/* Load the plugin of every runner in cfg. plugin_dir: where plugin names
 * are looked up. Fails on the first plugin that cannot load. */
int registry_load(const struct cfg *cfg, const char *plugin_dir,
		  struct registry **out, char *err, size_t errlen);
void registry_free(struct registry *r);

/* Borrowed until registry_free; NULL when code is not configured. */
const struct runlet_plugin *registry_get(const struct registry *r,
					 const char *code);
const char *registry_path(const struct registry *r, const char *code);

/* Iterate: 0 .. registry_count()-1 */
size_t registry_count(const struct registry *r);
const char *registry_code_at(const struct registry *r, size_t i);

#endif /* RUNLET_REGISTRY_H */
