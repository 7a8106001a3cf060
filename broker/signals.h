/* broker: SIGTERM / SIGINT for `runlet serve`. The handler only counts
 * signals in a volatile sig_atomic_t; the I/O thread polls with a short
 * timeout and reads the count. First signal: drain; second: stop now.
 * Signals stay unblocked and no disposition is SIG_IGN, so processes the
 * backends start inherit nothing unusual.
 * Ownership: struct mq_signals is the caller's (the old dispositions).
 */
#ifndef RUNLET_BROKER_SIGNALS_H
#define RUNLET_BROKER_SIGNALS_H

#include <signal.h>

struct mq_signals {
	struct sigaction old_term, old_int;
};

/* Install the handlers (without SA_RESTART, so poll returns EINTR). */
int mq_signals_install(struct mq_signals *s);
/* Restore the previous dispositions. */
void mq_signals_restore(const struct mq_signals *s);
/* How many SIGTERM/SIGINT arrived since install. */
int mq_signals_count(void);
/* The last one (SIGTERM or SIGINT), 0 if none. */
int mq_signals_last(void);

#endif
