/* broker: reading an incoming message's properties (see message.h). */
#include <stdio.h>
#include <string.h>

#include "broker/message.h"

uint64_t mq_hash64(const void *data, size_t len, uint64_t h)
{
	const unsigned char *p = data;

	if (h == 0)
		h = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

static void copy_bytes(char *dst, size_t cap, amqp_bytes_t b)
{
	size_t n = b.len < cap - 1 ? b.len : cap - 1;

	if (n > 0)
		memcpy(dst, b.bytes, n);
	dst[n] = '\0';
	/* an id with a NUL inside is cut there: ids are text */
}

static int is_string(const amqp_field_value_t *v)
{
	return v->kind == AMQP_FIELD_KIND_UTF8 || v->kind == AMQP_FIELD_KIND_BYTES;
}

static int key_is(amqp_bytes_t key, const char *name)
{
	size_t n = strlen(name);

	return key.len == n && memcmp(key.bytes, name, n) == 0;
}

static uint64_t field_uint(const amqp_field_value_t *v)
{
	switch (v->kind) {
	case AMQP_FIELD_KIND_I8: return v->value.i8 > 0 ? (uint64_t)v->value.i8 : 0;
	case AMQP_FIELD_KIND_U8: return v->value.u8;
	case AMQP_FIELD_KIND_I16: return v->value.i16 > 0 ? (uint64_t)v->value.i16 : 0;
	case AMQP_FIELD_KIND_U16: return v->value.u16;
	case AMQP_FIELD_KIND_I32: return v->value.i32 > 0 ? (uint64_t)v->value.i32 : 0;
	case AMQP_FIELD_KIND_U32: return v->value.u32;
	case AMQP_FIELD_KIND_I64: return v->value.i64 > 0 ? (uint64_t)v->value.i64 : 0;
	case AMQP_FIELD_KIND_U64: return v->value.u64;
	default: return 0;
	}
}

/* x-death is an array of tables, one per (queue, reason), each with a
 * "count" (RabbitMQ 3.x). */
static uint64_t death_count(const amqp_field_value_t *v)
{
	uint64_t n = 0;

	if (v->kind != AMQP_FIELD_KIND_ARRAY)
		return 0;
	for (int i = 0; i < v->value.array.num_entries; i++) {
		const amqp_field_value_t *e = &v->value.array.entries[i];

		if (e->kind != AMQP_FIELD_KIND_TABLE)
			continue;
		for (int j = 0; j < e->value.table.num_entries; j++) {
			const amqp_table_entry_t *te = &e->value.table.entries[j];

			if (key_is(te->key, "count"))
				n += field_uint(&te->value);
		}
	}
	return n;
}

void mq_meta_read(const amqp_basic_properties_t *props, const void *body,
		  size_t len, const char *task_header, struct mq_meta *m)
{
	uint64_t h;

	memset(m, 0, sizeof(*m));
	if (props != NULL) {
		if (props->_flags & AMQP_BASIC_MESSAGE_ID_FLAG)
			copy_bytes(m->message_id, sizeof(m->message_id), props->message_id);
		if (props->_flags & AMQP_BASIC_CORRELATION_ID_FLAG)
			copy_bytes(m->correlation_id, sizeof(m->correlation_id),
				   props->correlation_id);
		if (props->_flags & AMQP_BASIC_HEADERS_FLAG) {
			const amqp_table_t *t = &props->headers;

			for (int i = 0; i < t->num_entries; i++) {
				const amqp_table_entry_t *e = &t->entries[i];

				if (key_is(e->key, task_header) && is_string(&e->value)) {
					m->has_task_name = 1;
					m->task_name_len = e->value.value.bytes.len;
					copy_bytes(m->task_name, sizeof(m->task_name),
						   e->value.value.bytes);
				} else if (key_is(e->key, "x-death")) {
					m->deaths = death_count(&e->value);
				}
			}
		}
	}
	/* The key: the message id when there is one, else the body. */
	if (m->message_id[0] != '\0')
		h = mq_hash64(m->message_id, strlen(m->message_id), 0);
	else if (m->correlation_id[0] != '\0')
		h = mq_hash64(m->correlation_id, strlen(m->correlation_id), 0);
	else
		h = mq_hash64(body, len, 0);
	snprintf(m->key, sizeof(m->key), "%016llx", (unsigned long long)h);
}

const char *mq_meta_id(const struct mq_meta *m)
{
	if (m->message_id[0] != '\0')
		return m->message_id;
	return m->correlation_id;
}

int mq_meta_task_is(const struct mq_meta *m, const char *want)
{
	size_t n = strlen(want);

	return m->has_task_name && m->task_name_len == n &&
	       memcmp(m->task_name, want, n) == 0;
}
