/* broker: capped exponential backoff with jitter (see backoff.h). */
#include "broker/backoff.h"

void mq_backoff_init(struct mq_backoff *b, uint64_t base_ms, uint64_t cap_ms,
		     uint64_t seed)
{
	b->base_ms = base_ms ? base_ms : 1;
	b->cap_ms = cap_ms < b->base_ms ? b->base_ms : cap_ms;
	b->attempt = 0;
	b->rng = seed ? seed : 0x9e3779b97f4a7c15ull;
}

void mq_backoff_reset(struct mq_backoff *b)
{
	b->attempt = 0;
}

static uint64_t next_rand(struct mq_backoff *b)
{
	uint64_t x = b->rng;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	b->rng = x;
	return x;
}

uint64_t mq_backoff_next(struct mq_backoff *b)
{
	uint64_t d = b->base_ms;
	uint64_t half;

	for (unsigned i = 0; i < b->attempt && d < b->cap_ms; i++)
		d *= 2;
	if (d > b->cap_ms)
		d = b->cap_ms;
	if (b->attempt < 64)
		b->attempt++;
	half = d / 2;
	return d - half + next_rand(b) % (half + 1);
}
