/* broker: SIGTERM / SIGINT counting for the serve loop (see signals.h). */
#include <errno.h>
#include <string.h>

#include "broker/signals.h"

static volatile sig_atomic_t mq_sig_count;
static volatile sig_atomic_t mq_sig_last;

static void on_signal(int sig)
{
	mq_sig_last = sig;
	if (mq_sig_count < 1000)
		mq_sig_count = mq_sig_count + 1;
}

int mq_signals_install(struct mq_signals *s)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;
	mq_sig_count = 0;
	mq_sig_last = 0;
	if (sigaction(SIGTERM, &sa, &s->old_term) < 0 ||
	    sigaction(SIGINT, &sa, &s->old_int) < 0)
		return -errno;
	return 0;
}

void mq_signals_restore(const struct mq_signals *s)
{
	sigaction(SIGTERM, &s->old_term, NULL);
	sigaction(SIGINT, &s->old_int, NULL);
}

int mq_signals_count(void)
{
	return mq_sig_count;
}

int mq_signals_last(void)
{
	return mq_sig_last;
}
