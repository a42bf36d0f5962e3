// The spec's ConcurrentPoolAllocatorTest: the producer/consumer stress of
// //tests/pool:concurrent_pool_allocator_stress, short: ~0.5 s natively, a
// tenth of that under memcheck (ALLOY_TEST_SCALE scales it;
// --test_env=ALLOY_STRESS_SECONDS=5 gives the spec's 5 s). Producers own
// concurrent pools; consumers verify every block's 0xDEADBEEF pattern and
// free it remotely; every count must match at the end.
#include <cstdio>
#include <cstdlib>

#include <gtest/gtest.h>

#include "tests/pool/concurrent_pool_stress.h"
#include "tests/support/support.h"

namespace {

void RunStress(int producers, int consumers, bool affinity) {
  pool_stress_config config;
  config.producers = producers;
  config.consumers = consumers;
  config.seconds = 0.5 * alloy_test::Scale();
  if (const char *seconds = std::getenv("ALLOY_STRESS_SECONDS")) config.seconds = std::atof(seconds);
  config.block_size = 64;
  config.affinity = affinity;
  pool_stress_result r;
  const int failed = pool_stress_run(&config, &r);
  std::printf("%d x %d: %llu blocks, %llu remote frees, %llu batches, %llu collected\n", producers, consumers,
              static_cast<unsigned long long>(r.allocated), static_cast<unsigned long long>(r.remote_freed),
              static_cast<unsigned long long>(r.pool_batches), static_cast<unsigned long long>(r.collected));
  EXPECT_EQ(failed, 0) << r.first_error;
  EXPECT_EQ(r.errors, 0u) << r.first_error;
  EXPECT_EQ(r.corrupted, 0u);
  EXPECT_EQ(r.live_after, 0u) << "no block leaked";
  EXPECT_GT(r.allocated, 0u);
  EXPECT_GT(r.remote_freed, 0u) << "the remote path ran";
  EXPECT_EQ(r.allocated, r.remote_freed + r.local_freed);
  EXPECT_EQ(r.pool_allocations, r.allocated);
  EXPECT_EQ(r.pool_remote_frees, r.remote_freed);
  EXPECT_EQ(r.pool_local_frees, r.local_freed);
  EXPECT_LE(r.collected, r.remote_freed);
}

TEST(ConcurrentPoolAllocatorTest, SeveralProducersAndConsumers) { RunStress(3, 3, false); }

TEST(ConcurrentPoolAllocatorTest, OneProducerManyConsumersPinned) { RunStress(1, 3, true); }

TEST(ConcurrentPoolAllocatorTest, ManyProducersOneConsumer) { RunStress(3, 1, false); }

}  // namespace
