/* broker: how many times runlet started judging a message without settling
 * it, so a message that keeps crashing the daemon (or keeps failing
 * inside runlet) goes to the dead-letter queue instead of round and round.
 *
 * A count lives in memory and, when a state directory is usable, in a
 * small file <dir>/<key> as well, so it survives the daemon being killed
 * (the case it exists for: the broker then redelivers the message to the
 * restarted daemon). Files are removed when the message is settled; files
 * older than a day are pruned at open (their messages went elsewhere).
 * Several daemons on one host may share the directory.
 * Ownership: struct mq_attempts owns its table; mq_attempts_close frees.
 * One thread only.
 */
#ifndef RUNLET_BROKER_ATTEMPTS_H
#define RUNLET_BROKER_ATTEMPTS_H

#include <stddef.h>

struct mq_attempts;

/* dir may be NULL (memory only). A directory that cannot be created or
 * written is reported in err and the store falls back to memory (returns
 * 0 with *warned = 1). -ENOMEM otherwise. */
int mq_attempts_open(const char *dir, struct mq_attempts **out, int *warned,
		     char *err, size_t errlen);
void mq_attempts_close(struct mq_attempts *a);

/* Attempts started and not settled for key (0 if unknown). */
unsigned mq_attempts_get(struct mq_attempts *a, const char *key);
/* Record n attempts for key. */
void mq_attempts_set(struct mq_attempts *a, const char *key, unsigned n);
/* The message was settled (acked, rejected, or requeued by runlet itself). */
void mq_attempts_clear(struct mq_attempts *a, const char *key);

#endif
