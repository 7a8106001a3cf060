/* The host side of the plugin ABI: the string lists and buffers plugins
 * manipulate, and the struct runlet_host handed to every hook.
 * Ownership: a runlet_strv owns its strings (NULL-terminated array v of n
 * entries); a runlet_buf owns data (always NUL-terminated when non-NULL).
 */
#ifndef RUNLET_HOST_H
#define RUNLET_HOST_H

#include <stddef.h>

#include "runlet/plugin.h"

struct runlet_strv {
	char **v;
	size_t n;
};

struct runlet_buf {
	char *data;
	size_t len;
	size_t cap;
};

int strv_push(struct runlet_strv *s, const char *str);
int strv_push_all(struct runlet_strv *s, char *const *src, size_t n);
int strv_push_const(struct runlet_strv *s, const char *const *src);
void strv_clear(struct runlet_strv *s);
/* Moves the array out: caller owns *v (n entries, NULL-terminated). */
void strv_take(struct runlet_strv *s, char ***v, size_t *n);

int buf_add(struct runlet_buf *b, const char *data, size_t len);
void buf_clear(struct runlet_buf *b);

/* Process-wide host table (static, read-only). */
const struct runlet_host *host_get(void);

#endif /* RUNLET_HOST_H */
