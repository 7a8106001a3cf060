/* Values shared by the runner protocol's plan and result codecs; private
 * to runner/wire*.c. */
#ifndef RUNLET_WIRE_INT_H
#define RUNLET_WIRE_INT_H

#include <stddef.h>
#include <stdint.h>

#include "wire.h"

/* Decimal numbers of a record's value: 0 or -EPROTO. */
int wire_parse_u64(const char *v, size_t len, uint64_t *out);
int wire_parse_i64(const char *v, size_t len, int64_t *out);
/* A NUL-terminated copy of len bytes (owned by the caller), or NULL. */
char *wire_dupn(const char *v, size_t len);
/* Replace *out by a copy of a value that holds no NUL byte (paths, argv,
 * env): 0, -EPROTO or -ENOMEM. */
int wire_dup_cstr(const char *v, size_t len, char **out);
/* A file mode as an octal record (mode, amode): put, and parse with
 * 0 or -EPROTO (at most 07777). */
int wire_put_mode(struct wire_buf *b, const char *tag, uint32_t mode);
int wire_parse_mode(const char *v, size_t len, uint32_t *out);

#endif /* RUNLET_WIRE_INT_H */
