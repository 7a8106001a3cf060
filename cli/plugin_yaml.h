/* A YAML file as a jansson tree (for `runlet plugin-test` cases). */
#ifndef RUNLET_PLUGIN_YAML_H
#define RUNLET_PLUGIN_YAML_H

#include <jansson.h>
#include <stddef.h>

/* Read path, whose top level must be a mapping. New reference, or NULL
 * with err set ("line 4: ..."); err must be "" on entry. */
json_t *pyaml_load(const char *path, char *err, size_t errlen);

#endif
