/* Private to the config module: the YAML node tree config.c builds from
 * libyaml's events, and the key schema (config_schema.c) that turns a tree
 * into struct cfg. Not for use outside core/config*.c.
 *
 * Ownership: a struct yn owns its text and children (yn_free). The loader
 * owns its "seen" records; it borrows the name and the error buffer.
 */
#ifndef RUNLET_CONFIG_SCHEMA_H
#define RUNLET_CONFIG_SCHEMA_H

#include <stddef.h>
#include <stdint.h>

#include "core/config.h"

enum yn_type { YN_SCALAR, YN_SEQ, YN_MAP };

struct yn {
	enum yn_type type;
	int line, col;      /* 1-based start of the node */
	int plain;          /* scalar written without quotes */
	char *s;            /* scalar text, NUL-terminated, len bytes */
	size_t len;
	struct yn **kids;   /* seq: items; map: key0, val0, key1, val1, ... */
	size_t n;           /* entries in kids */
	size_t cap;
};

void yn_free(struct yn *n);
/* A plain ~, null, Null, NULL or empty scalar. */
int yn_is_null(const struct yn *n);

/* A field written once during the load, to catch synonyms given twice
 * (env + envs, workers + broker.workers) and to tell per-runner overrides
 * from inherited values. */
struct cfg_seen {
	const void *field;
	char *path;         /* owned */
	int line;
};

struct cfg_loader {
	const char *name;   /* borrowed: file name for messages */
	char *err;          /* borrowed */
	size_t errlen;
	struct cfg *cfg;    /* borrowed: the config being built */
	struct cfg_seen *seen;
	size_t nseen, capseen;
};

/* Format "NAME:LINE:COL: PATH: MSG" into the loader's error buffer (PATH
 * omitted when NULL or empty). Returns -EINVAL. */
int cfg_fail(struct cfg_loader *ld, const struct yn *at, const char *path,
	     const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Describe a node for "got ...": "\"ten\"", "a list", "a mapping", "null". */
void cfg_describe(const struct yn *n, char *buf, size_t len);
/* Join a key path: out = parent.key (or key at the top). */
void cfg_path_join(char *out, size_t outlen, const char *parent,
		   const char *key);
/* Reject a non-mapping, non-scalar keys and duplicate keys. 0 or -EINVAL. */
int cfg_check_map(struct cfg_loader *ld, const struct yn *map,
		  const char *path, const char *what);
/* Record that field was set from path; -EINVAL if it was set before. */
int cfg_mark_seen(struct cfg_loader *ld, const void *field, const char *path,
		  const struct yn *at);
int cfg_was_seen(const struct cfg_loader *ld, const void *field);
void cfg_loader_clear(struct cfg_loader *ld);

/* The schema sections. */
enum cfg_section {
	CFG_SEC_TOP,     /* base: struct cfg */
	CFG_SEC_RUNNER,  /* base: struct cfg_runner */
};

/* Set every default of a section (strings are allocated). 0 or -ENOMEM. */
int cfg_schema_defaults(enum cfg_section sec, void *base);
/* Apply a YAML mapping to base following the section's table. */
int cfg_schema_apply(struct cfg_loader *ld, enum cfg_section sec, void *base,
		     const struct yn *map, const char *path);
/* Free everything the section's table allocated in base. */
void cfg_schema_free(enum cfg_section sec, void *base);
/* Fill unset runner limits from the top level (and the derived defaults). */
void cfg_schema_resolve_limits(const struct cfg_loader *ld, struct cfg *c,
			       struct cfg_runner *r);

/* Implemented in config.c: the "runners:" mapping. */
int cfg_load_runners(struct cfg_loader *ld, void *base, const struct yn *val,
		     const char *path);

#endif /* RUNLET_CONFIG_SCHEMA_H */
