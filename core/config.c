/* Loading config.yaml: libyaml's event stream into a small node tree (so every
 * value keeps its line and column, and duplicate keys can be caught), then
 * the schema of config_schema.c applied to it; the "runners:" mapping; the
 * error messages; lookups. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "core/config_schema.h"

#define CFG_MAX_DEPTH 32
#define CFG_MAX_FILE (16u << 20)

void yn_free(struct yn *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->n; i++)
		yn_free(n->kids[i]);
	free(n->kids);
	free(n->s);
	free(n);
}

int yn_is_null(const struct yn *n)
{
	static const char *const nulls[] = {"", "~", "null", "Null", "NULL"};

	if (n->type != YN_SCALAR || !n->plain)
		return 0;
	for (size_t i = 0; i < sizeof(nulls) / sizeof(nulls[0]); i++)
		if (strcmp(n->s, nulls[i]) == 0)
			return 1;
	return 0;
}

int cfg_fail(struct cfg_loader *ld, const struct yn *at, const char *path,
	     const char *fmt, ...)
{
	va_list ap;
	int k;

	if (!ld->err || ld->errlen == 0)
		return -EINVAL;
	k = snprintf(ld->err, ld->errlen, "%s:%d:%d: %s%s", ld->name,
		     at ? at->line : 1, at ? at->col : 1, path ? path : "",
		     path && *path ? ": " : "");
	if (k >= 0 && (size_t)k < ld->errlen) {
		va_start(ap, fmt);
		vsnprintf(ld->err + k, ld->errlen - (size_t)k, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

void cfg_describe(const struct yn *n, char *buf, size_t len)
{
	size_t o = 0, i;

	if (n->type == YN_SEQ) {
		snprintf(buf, len, "%s", n->n ? "a list" : "[]");
		return;
	}
	if (n->type == YN_MAP) {
		snprintf(buf, len, "%s", n->n ? "a mapping" : "{}");
		return;
	}
	if (yn_is_null(n)) {
		snprintf(buf, len, "%s", n->len ? "null" : "nothing");
		return;
	}
	if (len < 16) {
		snprintf(buf, len, "a string");
		return;
	}
	buf[o++] = '"';
	for (i = 0; i < n->len && o + 8 < len; i++) {
		unsigned char c = (unsigned char)n->s[i];
		if (c == '"' || c == '\\')
			o += (size_t)snprintf(buf + o, len - o, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			o += (size_t)snprintf(buf + o, len - o, "\\x%02x", c);
		else
			buf[o++] = (char)c;
	}
	snprintf(buf + o, len - o, "%s\"", i < n->len ? "..." : "");
}

void cfg_path_join(char *out, size_t outlen, const char *parent,
		   const char *key)
{
	snprintf(out, outlen, "%s%s%s", parent, *parent ? "." : "", key);
}

int cfg_check_map(struct cfg_loader *ld, const struct yn *map,
		  const char *path, const char *what)
{
	char got[96], kp[320];

	if (map->type != YN_MAP) {
		cfg_describe(map, got, sizeof(got));
		return cfg_fail(ld, map, path, "expected %s, got %s", what, got);
	}
	for (size_t i = 0; i + 1 < map->n; i += 2) {
		const struct yn *key = map->kids[i];
		if (key->type != YN_SCALAR) {
			cfg_describe(key, got, sizeof(got));
			return cfg_fail(ld, key, path, "expected a key name, got %s", got);
		}
		for (size_t j = 0; j < i; j += 2)
			if (strcmp(map->kids[j]->s, key->s) == 0) {
				cfg_path_join(kp, sizeof(kp), path, key->s);
				return cfg_fail(ld, key, kp, "duplicate key (first at line %d)",
						map->kids[j]->line);
			}
	}
	return 0;
}

int cfg_mark_seen(struct cfg_loader *ld, const void *field, const char *path,
		  const struct yn *at)
{
	struct cfg_seen *s;

	for (size_t i = 0; i < ld->nseen; i++)
		if (ld->seen[i].field == field)
			return cfg_fail(ld, at, path, "duplicate key (already given as %s at line %d; keep one)",
					ld->seen[i].path, ld->seen[i].line);
	if (ld->nseen == ld->capseen) {
		size_t cap = ld->capseen ? ld->capseen * 2 : 64;
		s = realloc(ld->seen, cap * sizeof(*s));
		if (!s)
			return -ENOMEM;
		ld->seen = s;
		ld->capseen = cap;
	}
	s = &ld->seen[ld->nseen];
	s->path = strdup(path);
	if (!s->path)
		return -ENOMEM;
	s->field = field;
	s->line = at->line;
	ld->nseen++;
	return 0;
}

int cfg_was_seen(const struct cfg_loader *ld, const void *field)
{
	for (size_t i = 0; i < ld->nseen; i++)
		if (ld->seen[i].field == field)
			return 1;
	return 0;
}

void cfg_loader_clear(struct cfg_loader *ld)
{
	for (size_t i = 0; i < ld->nseen; i++)
		free(ld->seen[i].path);
	free(ld->seen);
	ld->seen = NULL;
	ld->nseen = ld->capseen = 0;
}

/* ---- YAML events into a tree ---- */

static int yaml_fail(struct cfg_loader *ld, const yaml_parser_t *p)
{
	struct yn at = {.line = (int)p->problem_mark.line + 1,
			.col = (int)p->problem_mark.column + 1};

	if (p->error == YAML_MEMORY_ERROR)
		return -ENOMEM;
	if (p->error == YAML_READER_ERROR)
		return cfg_fail(ld, NULL, NULL, "cannot read the file as YAML: %s (at byte %zu)",
				p->problem ? p->problem : "invalid input", p->problem_offset);
	if (p->context)
		return cfg_fail(ld, &at, NULL, "YAML syntax error: %s (%s at line %d, column %d)",
				p->problem ? p->problem : "invalid YAML", p->context,
				(int)p->context_mark.line + 1, (int)p->context_mark.column + 1);
	return cfg_fail(ld, &at, NULL, "YAML syntax error: %s",
			p->problem ? p->problem : "invalid YAML");
}

static int next_event(struct cfg_loader *ld, yaml_parser_t *p, yaml_event_t *ev)
{
	return yaml_parser_parse(p, ev) ? 0 : yaml_fail(ld, p);
}

static int add_kid(struct yn *n, struct yn *kid)
{
	if (n->n == n->cap) {
		size_t cap = n->cap ? n->cap * 2 : 8;
		struct yn **k = realloc(n->kids, cap * sizeof(*k));
		if (!k)
			return -ENOMEM;
		n->kids = k;
		n->cap = cap;
	}
	n->kids[n->n++] = kid;
	return 0;
}

/* Build the node that ev starts; consumes ev and the node's events. */
static int build(struct cfg_loader *ld, yaml_parser_t *p, yaml_event_t *ev,
		 int depth, struct yn **out)
{
	struct yn *n = calloc(1, sizeof(*n));
	yaml_char_t *anchor = NULL;
	yaml_event_type_t end = YAML_NO_EVENT;
	int rc = 0;

	if (!n) {
		yaml_event_delete(ev);
		return -ENOMEM;
	}
	n->line = (int)ev->start_mark.line + 1;
	n->col = (int)ev->start_mark.column + 1;
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		anchor = ev->data.scalar.anchor;
		n->type = YN_SCALAR;
		n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
		n->len = ev->data.scalar.length;
		n->s = malloc(n->len + 1);
		if (!n->s) {
			rc = -ENOMEM;
			break;
		}
		memcpy(n->s, ev->data.scalar.value, n->len);
		n->s[n->len] = '\0';
		break;
	case YAML_SEQUENCE_START_EVENT:
		anchor = ev->data.sequence_start.anchor;
		n->type = YN_SEQ;
		end = YAML_SEQUENCE_END_EVENT;
		break;
	case YAML_MAPPING_START_EVENT:
		anchor = ev->data.mapping_start.anchor;
		n->type = YN_MAP;
		end = YAML_MAPPING_END_EVENT;
		break;
	case YAML_ALIAS_EVENT:
		rc = cfg_fail(ld, n, NULL, "aliases (*%s) are not supported: write the value out",
			      (const char *)ev->data.alias.anchor);
		break;
	default:
		rc = cfg_fail(ld, n, NULL, "unexpected YAML event");
	}
	if (rc == 0 && anchor)
		rc = cfg_fail(ld, n, NULL, "anchors (&%s) are not supported: write the value out",
			      (const char *)anchor);
	if (rc == 0 && end != YAML_NO_EVENT && depth >= CFG_MAX_DEPTH)
		rc = cfg_fail(ld, n, NULL, "nested more than %d levels deep", CFG_MAX_DEPTH);
	yaml_event_delete(ev);
	while (rc == 0 && end != YAML_NO_EVENT) {
		struct yn *kid = NULL;
		rc = next_event(ld, p, ev);
		if (rc < 0)
			break;
		if (ev->type == end) {
			yaml_event_delete(ev);
			break;
		}
		rc = build(ld, p, ev, depth + 1, &kid);
		if (rc == 0 && (rc = add_kid(n, kid)) < 0)
			yn_free(kid);
	}
	if (rc < 0) {
		yn_free(n);
		return rc;
	}
	*out = n;
	return 0;
}

static int parse_yaml(struct cfg_loader *ld, const char *text, size_t len,
		      struct yn **root)
{
	yaml_parser_t p;
	yaml_event_t ev;
	int rc, stage = 0;

	*root = NULL;
	if (!yaml_parser_initialize(&p))
		return -ENOMEM;
	yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
	for (;;) {
		rc = next_event(ld, &p, &ev);
		if (rc < 0)
			break;
		if (ev.type == YAML_STREAM_END_EVENT) {
			yaml_event_delete(&ev);
			break;
		}
		if (ev.type == YAML_DOCUMENT_START_EVENT && stage++ > 0) {
			struct yn at = {.line = (int)ev.start_mark.line + 1,
					.col = (int)ev.start_mark.column + 1};
			yaml_event_delete(&ev);
			rc = cfg_fail(ld, &at, NULL, "a second YAML document: a config file holds one");
			break;
		}
		if (ev.type == YAML_SCALAR_EVENT || ev.type == YAML_SEQUENCE_START_EVENT ||
		    ev.type == YAML_MAPPING_START_EVENT || ev.type == YAML_ALIAS_EVENT) {
			rc = build(ld, &p, &ev, 0, root);
			if (rc < 0)
				break;
			continue;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p);
	if (rc == 0 && !*root)
		rc = cfg_fail(ld, NULL, NULL, "empty config: expected a mapping with a runners: section");
	if (rc < 0) {
		yn_free(*root);
		*root = NULL;
	}
	return rc;
}

/* ---- runners ---- */

static int valid_code(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 32)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		int alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
		if (!alnum && (i == 0 || (c != '_' && c != '-')))
			return 0;
	}
	return 1;
}

int cfg_load_runners(struct cfg_loader *ld, void *base, const struct yn *val,
		     const char *path)
{
	struct cfg *c = base;
	char kp[320], got[96];
	int rc = cfg_check_map(ld, val, path, "a mapping of language codes to runner settings");

	if (rc < 0)
		return rc;
	if (val->n == 0)
		return cfg_fail(ld, val, path, "expected at least one language, got an empty mapping");
	c->runners = calloc(val->n / 2, sizeof(*c->runners));
	if (!c->runners)
		return -ENOMEM;
	for (size_t i = 0; i + 1 < val->n; i += 2) {
		const struct yn *key = val->kids[i], *v = val->kids[i + 1];
		struct cfg_runner *r;

		cfg_path_join(kp, sizeof(kp), path, key->s);
		if (!valid_code(key->s)) {
			cfg_describe(key, got, sizeof(got));
			return cfg_fail(ld, key, kp, "expected a language code of lowercase letters, digits, '_' or '-' (such as py or cpp), got %s", got);
		}
		if (v->type != YN_MAP) {
			cfg_describe(v, got, sizeof(got));
			return cfg_fail(ld, v, kp, "expected a mapping of runner settings (image, run_args, ...), got %s", got);
		}
		r = &c->runners[c->nrunners++];
		r->line = key->line;
		r->col = key->col;
		r->code = strdup(key->s);
		if (!r->code || cfg_schema_defaults(CFG_SEC_RUNNER, r) < 0)
			return -ENOMEM;
		rc = cfg_schema_apply(ld, CFG_SEC_RUNNER, r, v, kp);
		if (rc < 0)
			return rc;
		if (!r->plugin && !(r->plugin = strdup(cfg_default_plugin(r->code))))
			return -ENOMEM;
	}
	return 0;
}

/* ---- the public API ---- */

int cfg_load_buffer(const char *name, const char *text, size_t len,
		    struct cfg **out, char *err, size_t errlen)
{
	struct cfg_loader ld = {.name = name, .err = err, .errlen = errlen};
	struct yn *root = NULL;
	struct cfg *c;
	int rc;

	*out = NULL;
	if (err && errlen)
		err[0] = '\0';
	c = calloc(1, sizeof(*c));
	if (!c || !(c->path = strdup(name)) || cfg_schema_defaults(CFG_SEC_TOP, c) < 0) {
		rc = -ENOMEM;
		goto out;
	}
	ld.cfg = c;
	rc = parse_yaml(&ld, text, len, &root);
	if (rc == 0)
		rc = cfg_check_map(&ld, root, NULL, "a mapping of config keys");
	if (rc == 0)
		rc = cfg_schema_apply(&ld, CFG_SEC_TOP, c, root, "");
	if (rc == 0 && c->nrunners == 0)
		rc = cfg_fail(&ld, root, "runners", "missing: declare at least one language (see docs/CONFIG.md)");
	for (size_t i = 0; rc == 0 && i < c->nrunners; i++)
		cfg_schema_resolve_limits(&ld, c, &c->runners[i]);
out:
	if (rc == -ENOMEM && err && errlen)
		snprintf(err, errlen, "%s: out of memory while loading the config", name);
	yn_free(root);
	cfg_loader_clear(&ld);
	if (rc < 0)
		cfg_free(c);
	else
		*out = c;
	return rc;
}

int cfg_load(const char *path, struct cfg **out, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int rc = 0;

	*out = NULL;
	if (!f)
		goto io;
	for (;;) {
		size_t got;
		if (len == cap) {
			char *nb;
			if (cap >= CFG_MAX_FILE) {
				snprintf(err, errlen, "%s: too large for a config file (over %u MiB)",
					 path, CFG_MAX_FILE >> 20);
				rc = -EFBIG;
				goto out;
			}
			cap = cap ? cap * 2 : 8192;
			nb = realloc(buf, cap);
			if (!nb) {
				rc = -ENOMEM;
				snprintf(err, errlen, "%s: out of memory", path);
				goto out;
			}
			buf = nb;
		}
		got = fread(buf + len, 1, cap - len, f);
		len += got;
		if (got == 0)
			break;
	}
	if (ferror(f))
		goto io;
	rc = cfg_load_buffer(path, buf, len, out, err, errlen);
	goto out;
io:
	rc = errno ? -errno : -EIO;
	snprintf(err, errlen, "%s: cannot read the config file: %s", path, strerror(-rc));
out:
	if (f)
		fclose(f);
	free(buf);
	return rc;
}

void cfg_free(struct cfg *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->nrunners; i++) {
		free(c->runners[i].code);
		cfg_schema_free(CFG_SEC_RUNNER, &c->runners[i]);
	}
	free(c->runners);
	cfg_schema_free(CFG_SEC_TOP, c);
	free(c->path);
	free(c);
}

const struct cfg_runner *cfg_runner_find(const struct cfg *c, const char *code)
{
	if (!c || !code)
		return NULL;
	for (size_t i = 0; i < c->nrunners; i++)
		if (strcmp(c->runners[i].code, code) == 0)
			return &c->runners[i];
	return NULL;
}

const char *cfg_default_plugin(const char *code)
{
	static const struct { const char *code, *plugin; } map[] = {
		{"py", "python"}, {"go", "go"}, {"js", "js"},
		{"cs", "csharp"}, {"cpp", "cpp"}};

	for (size_t i = 0; code && i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(code, map[i].code) == 0)
			return map[i].plugin;
	return code;
}
