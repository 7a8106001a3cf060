/* broker: capped exponential backoff with jitter, for reconnecting.
 * Delay n (from 0) is drawn uniformly from [d/2, d] where
 * d = min(cap, base * 2^n): it grows fast, never exceeds cap, and several
 * daemons that lost the same broker do not reconnect in lockstep.
 * Plain data, no allocation; the random state lives in the struct.
 */
#ifndef RUNLET_BROKER_BACKOFF_H
#define RUNLET_BROKER_BACKOFF_H

#include <stdint.h>

struct mq_backoff {
	uint64_t base_ms;
	uint64_t cap_ms;
	unsigned attempt;
	uint64_t rng; /* xorshift64 state, never 0 */
};

void mq_backoff_init(struct mq_backoff *b, uint64_t base_ms, uint64_t cap_ms,
		     uint64_t seed);
/* The next delay in milliseconds; advances the attempt counter. */
uint64_t mq_backoff_next(struct mq_backoff *b);
/* After a success: start again from base. */
void mq_backoff_reset(struct mq_backoff *b);

#endif
