/* A YAML file as a jansson tree, for `runlet plugin-test` cases: libyaml's
 * events folded into json_t. Plain scalars that read as integers, booleans
 * or null become those; everything else (quoted and block scalars included)
 * is a string. Aliases are refused.
 */
#include "cli/plugin_yaml.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define PT_MAX_DEPTH 32

static json_t *pt_scalar(const yaml_event_t *ev)
{
	const char *s = (const char *)ev->data.scalar.value;
	size_t n = ev->data.scalar.length, i = s[0] == '-' ? 1 : 0;

	if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return json_stringn(s, n);
	if (n == 0 || strcmp(s, "~") == 0 || strcmp(s, "null") == 0)
		return json_null();
	if (strcmp(s, "true") == 0 || strcmp(s, "false") == 0)
		return json_boolean(s[0] == 't');
	if (n > i && n - i < 18 && strspn(s + i, "0123456789") == n - i)
		return json_integer(strtoll(s, NULL, 10));
	return json_stringn(s, n);
}

/* Build the node that starts with *ev (consumed). NULL with err set. */
static json_t *pt_node(yaml_parser_t *p, yaml_event_t *ev, int depth,
		       char *err, size_t errlen)
{
	yaml_event_type_t end = ev->type == YAML_SEQUENCE_START_EVENT
					? YAML_SEQUENCE_END_EVENT
					: YAML_MAPPING_END_EVENT;
	json_t *node = NULL, *key = NULL, *kid;
	yaml_event_t e;

	if (ev->type == YAML_SCALAR_EVENT) {
		node = pt_scalar(ev);
		yaml_event_delete(ev);
		return node;
	}
	if ((ev->type != YAML_SEQUENCE_START_EVENT &&
	     ev->type != YAML_MAPPING_START_EVENT) || depth > PT_MAX_DEPTH) {
		snprintf(err, errlen, "line %zu: %s", ev->start_mark.line + 1,
			 ev->type == YAML_ALIAS_EVENT ? "aliases are not supported"
						      : "nested too deeply");
		yaml_event_delete(ev);
		return NULL;
	}
	node = end == YAML_SEQUENCE_END_EVENT ? json_array() : json_object();
	yaml_event_delete(ev);
	for (;;) {
		if (!yaml_parser_parse(p, &e)) {
			snprintf(err, errlen, "line %zu: %s",
				 p->problem_mark.line + 1,
				 p->problem ? p->problem : "invalid YAML");
			goto fail;
		}
		if (e.type == end) {
			yaml_event_delete(&e);
			if (key)
				goto fail;
			return node;
		}
		if (!json_is_array(node) && !key) {
			if (e.type != YAML_SCALAR_EVENT) {
				snprintf(err, errlen, "line %zu: keys must be "
					 "plain strings", e.start_mark.line + 1);
				yaml_event_delete(&e);
				goto fail;
			}
			key = json_stringn((const char *)e.data.scalar.value,
					   e.data.scalar.length);
			yaml_event_delete(&e);
			continue;
		}
		kid = pt_node(p, &e, depth + 1, err, errlen);
		if (!kid)
			goto fail;
		if (json_is_array(node))
			json_array_append_new(node, kid);
		else
			json_object_set_new(node, json_string_value(key), kid);
		json_decref(key);
		key = NULL;
	}
fail:
	json_decref(key);
	json_decref(node);
	return NULL;
}

json_t *pyaml_load(const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	yaml_parser_t p;
	yaml_event_t e;
	json_t *root = NULL;

	if (!f) {
		snprintf(err, errlen, "%s", strerror(errno));
		return NULL;
	}
	yaml_parser_initialize(&p);
	yaml_parser_set_input_file(&p, f);
	while (yaml_parser_parse(&p, &e)) {
		if (e.type == YAML_STREAM_END_EVENT) {
			yaml_event_delete(&e);
			break;
		}
		if (e.type == YAML_SEQUENCE_START_EVENT ||
		    e.type == YAML_MAPPING_START_EVENT ||
		    e.type == YAML_SCALAR_EVENT || e.type == YAML_ALIAS_EVENT) {
			root = root ? root : pt_node(&p, &e, 0, err, errlen);
			if (!root)
				break;
		} else {
			yaml_event_delete(&e);
		}
	}
	if (p.error != YAML_NO_ERROR)
		snprintf(err, errlen, "line %zu: %s%s", p.problem_mark.line + 1,
			 p.problem ? p.problem : "invalid YAML",
			 p.problem && strstr(p.problem, "mapping values")
				 ? " (quote a value that contains \": \")" : "");
	if (p.error != YAML_NO_ERROR && root) {
		json_decref(root);
		root = NULL;
	}
	yaml_parser_delete(&p);
	fclose(f);
	if (root && !json_is_object(root)) {
		snprintf(err, errlen, "expected a mapping of case keys");
		json_decref(root);
		root = NULL;
	} else if (!root && !err[0]) {
		snprintf(err, errlen, "empty file");
	}
	return root;
}
