// fork() while other threads free a concurrent pool's blocks remotely and
// come and go: the pool takes no lock (the owner's side is lock-free, other
// threads' frees are batched and sent with one CAS), so the child — the
// owner's own thread — must allocate, take back remote frees and free
// without waiting on anything.
#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "alloy/pool.h"
#include "tests/support/fork_child.h"
#include "tests/support/support.h"

namespace {

constexpr size_t kBlockSize = 48;

struct Handoff {
  std::mutex mutex;
  std::vector<alloy_block> blocks;
  void Give(alloy_block block) {
    std::lock_guard<std::mutex> lock(mutex);
    blocks.push_back(block);
  }
  std::vector<alloy_block> TakeAll() {
    std::lock_guard<std::mutex> lock(mutex);
    std::vector<alloy_block> taken;
    taken.swap(blocks);
    return taken;
  }
};

// More blocks than one slab holds, so the child carves, takes remote
// batches and frees all of them back.
int ChildBody(void *context) {
  auto *pool = static_cast<alloy_pool *>(context);
  static alloy_block blocks[4096];  // the child does not touch the C heap
  for (size_t i = 0; i < 4096; ++i) {
    if (alloy_pool_allocate(pool, kBlockSize, 8, &blocks[i]) != ALLOY_OK) return 2;
    alloy_test::Fill(blocks[i].ptr, kBlockSize, static_cast<uint32_t>(i));
  }
  for (size_t i = 0; i < 4096; ++i) {
    if (!alloy_test::Check(blocks[i].ptr, kBlockSize, static_cast<uint32_t>(i))) return 3;
    if (alloy_pool_free(pool, blocks[i], 8) != ALLOY_OK) return 4;
  }
  (void)alloy_pool_collect(pool);
  return 0;
}

TEST(PoolFork, ConcurrentPoolChildAllocatesWhileOtherThreadsFreedRemotely) {
  alloy_pool_config config = alloy_pool_config_default(kBlockSize);
  config.concurrent_free = true;
  alloy_pool *pool = nullptr;
  ASSERT_EQ(alloy_pool_create(&config, &pool), ALLOY_OK);  // this thread owns it
  Handoff handoff;
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  // Remote freers, one long-lived and a stream of short-lived ones.
  threads.emplace_back([&] {
    while (!stop.load(std::memory_order_relaxed)) {
      alloy_test::LetOthersRunUnderValgrind();
      for (alloy_block block : handoff.TakeAll()) EXPECT_EQ(alloy_pool_free(pool, block, 8), ALLOY_OK);
      std::this_thread::yield();
    }
  });
  threads.emplace_back([&] {
    while (!stop.load(std::memory_order_relaxed)) {
      alloy_test::LetOthersRunUnderValgrind();
      std::thread short_lived([&] {
        for (alloy_block block : handoff.TakeAll()) EXPECT_EQ(alloy_pool_free(pool, block, 8), ALLOY_OK);
      });
      short_lived.join();
    }
  });

  const size_t forks = alloy_test::ForksWhileThreadsRun(40, 5);
  for (size_t i = 0; i < forks; ++i) {
    for (size_t n = 0; n < 512; ++n) {
      alloy_block block;
      ASSERT_EQ(alloy_pool_allocate(pool, kBlockSize, 8, &block), ALLOY_OK);
      handoff.Give(block);
    }
    alloy_test::ChildOutcome outcome = alloy_test::RunInChild(ChildBody, pool, alloy_test::ChildTimeoutMs());
    ASSERT_TRUE(outcome.ok()) << "fork " << i << " of " << forks << ": " << outcome.describe();
  }
  stop = true;
  for (std::thread &thread : threads) thread.join();
  for (alloy_block block : handoff.TakeAll()) EXPECT_EQ(alloy_pool_free(pool, block, 8), ALLOY_OK);
  (void)alloy_pool_collect(pool);
  alloy_pool_destroy(pool);
}

}  // namespace
