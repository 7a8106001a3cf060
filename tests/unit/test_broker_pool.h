/* Unit tests of broker/pool.c, registered by test_broker.c. */
#ifndef RUNLET_TEST_BROKER_POOL_H
#define RUNLET_TEST_BROKER_POOL_H

void test_pool_all_done(void **state);
void test_pool_take_queued(void **state);
void test_pool_idle_worker_keeps_job(void **state);

#endif
