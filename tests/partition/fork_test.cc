// fork() while other threads allocate and free through partitions. The
// root's own lock is registered with the fork guard, so the child's only
// thread allocates and frees every size (buckets and direct maps) without
// waiting on it, whether the partitions are used bare from many threads or
// behind the locked decorator (whose lock is held across the fork too).
#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "alloy/locked.h"
#include "alloy/partition.h"
#include "tests/support/fork_child.h"
#include "tests/support/support.h"

namespace {

constexpr size_t kMaxBucket = 8192;

// Two resources over partitions, the largest size the load asks of them,
// the largest size the child asks, and the partitions the child purges
// after its blocks (none when they are behind a decorator).
struct Shared {
  alloy_resource *resources[2];
  size_t load_max_size;
  size_t child_max_size;
  alloy_partition *purged[2];
};

// The child's only thread: four blocks of every size from each resource,
// their first page filled and checked; then the purges.
int ChildAllocatesEverySize(void *context) {
  auto *shared = static_cast<Shared *>(context);
  for (int i = 0; i < 2; ++i) {
    alloy_resource *resource = shared->resources[i];
    for (size_t size = 1; size <= shared->child_max_size; size = size < 64 ? size + 7 : size * 2 - 3) {
      const size_t filled = size < 4096 ? size : 4096;
      alloy_block blocks[4];
      for (alloy_block &block : blocks) {
        if (alloy_resource_allocate(resource, size, 8, &block) != ALLOY_OK) return 2;
        alloy_test::Fill(block.ptr, filled, static_cast<uint32_t>(size));
      }
      for (alloy_block &block : blocks) {
        if (!alloy_test::Check(block.ptr, filled, static_cast<uint32_t>(size))) return 3;
        if (alloy_resource_deallocate(resource, block, 8) != ALLOY_OK) return 4;
      }
    }
    if (shared->purged[i] != nullptr) alloy_partition_purge(shared->purged[i]);
  }
  return 0;
}

// Forks while two threads allocate from both resources and a third hands
// their blocks to short-lived threads that free them (and exit with full
// caches); every child must allocate every size. Frees what is left.
void ForkWhileThreadsAllocateFreeAndExit(Shared *shared) {
  std::atomic<bool> stop{false};
  std::mutex handoff_mutex;
  std::vector<std::pair<int, alloy_block>> handoff;  // freed by another thread
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t)
    threads.emplace_back([&, t] {
      size_t size = 1 + static_cast<size_t>(t) * 51;
      while (!stop.load(std::memory_order_relaxed)) {
        alloy_test::LetOthersRunUnderValgrind();
        alloy_block block;
        int which = static_cast<int>(size & 1);
        size = size * 7 % shared->load_max_size + 1;
        if (alloy_resource_allocate(shared->resources[which], size, 8, &block) != ALLOY_OK) continue;
        std::lock_guard<std::mutex> lock(handoff_mutex);
        if (handoff.size() < 256) {
          handoff.emplace_back(which, block);
        } else {
          EXPECT_EQ(alloy_resource_deallocate(shared->resources[which], block, 8), ALLOY_OK);
        }
      }
    });
  threads.emplace_back([&] {
    while (!stop.load(std::memory_order_relaxed)) {
      alloy_test::LetOthersRunUnderValgrind();
      std::thread short_lived([&] {
        std::vector<std::pair<int, alloy_block>> taken;
        {
          std::lock_guard<std::mutex> lock(handoff_mutex);
          taken.swap(handoff);
        }
        for (auto &entry : taken)
          EXPECT_EQ(alloy_resource_deallocate(shared->resources[entry.first], entry.second, 8), ALLOY_OK);
      });
      short_lived.join();
    }
  });

  const size_t forks = alloy_test::ForksWhileThreadsRun(40, 5);
  for (size_t i = 0; i < forks; ++i) {
    alloy_test::ChildOutcome outcome =
        alloy_test::RunInChild(ChildAllocatesEverySize, shared, alloy_test::ChildTimeoutMs());
    ASSERT_TRUE(outcome.ok()) << "fork " << i << " of " << forks << ": " << outcome.describe();
  }
  stop = true;
  for (std::thread &thread : threads) thread.join();
  for (auto &entry : handoff)
    EXPECT_EQ(alloy_resource_deallocate(shared->resources[entry.first], entry.second, 8), ALLOY_OK);
}

// No decorator: two partitions of one root used from several threads at
// once, direct maps among the blocks (a quarter of the load's, and the
// child's sizes up to 4 MiB).
TEST(PartitionFork, BarePartitionsChildAllocatesWhileThreadsAllocateFreeAndExit) {
  alloy_partition_root_config root_config = alloy_partition_root_config_default();
  alloy_partition_config config = alloy_partition_config_default();
  alloy_partition_root *root = nullptr;
  alloy_partition *partitions[2] = {nullptr, nullptr};
  ASSERT_EQ(alloy_partition_root_create(&root_config, &root), ALLOY_OK);
  ASSERT_EQ(alloy_partition_create(root, "fork_a", &config, &partitions[0]), ALLOY_OK);
  ASSERT_EQ(alloy_partition_create(root, "fork_b", &config, &partitions[1]), ALLOY_OK);
  Shared shared = {{alloy_partition_resource(partitions[0]), alloy_partition_resource(partitions[1])},
                   kMaxBucket * 4,
                   size_t{4} << 20,
                   {partitions[0], partitions[1]}};
  ForkWhileThreadsAllocateFreeAndExit(&shared);
  for (alloy_partition *partition : partitions) {
    alloy_partition_stats stats;
    alloy_partition_get_stats(partition, &stats);
    EXPECT_EQ(stats.allocations, stats.deallocations);
  }
  alloy_partition_root_destroy(root);
}

TEST(PartitionFork, LockedPartitionsChildAllocatesWhileOtherThreadsHeldTheLock) {
  alloy_partition_root_config root_config = alloy_partition_root_config_default();
  alloy_partition_config config = alloy_partition_config_default();
  // One root each, as before roots had a lock of their own: the decorator's
  // lock is then the only one a call can meet.
  alloy_partition_root *roots[2] = {nullptr, nullptr};
  alloy_partition *partitions[2] = {nullptr, nullptr};
  alloy_locked *locked[2] = {nullptr, nullptr};
  Shared shared = {{nullptr, nullptr}, kMaxBucket, kMaxBucket, {nullptr, nullptr}};
  const char *names[2] = {"fork_a", "fork_b"};
  for (int i = 0; i < 2; ++i) {
    ASSERT_EQ(alloy_partition_root_create(&root_config, &roots[i]), ALLOY_OK);
    ASSERT_EQ(alloy_partition_create(roots[i], names[i], &config, &partitions[i]), ALLOY_OK);
    ASSERT_EQ(alloy_locked_create(alloy_partition_resource(partitions[i]), nullptr, &locked[i]), ALLOY_OK);
    shared.resources[i] = alloy_locked_resource(locked[i]);
  }
  ForkWhileThreadsAllocateFreeAndExit(&shared);
  for (int i = 0; i < 2; ++i) {
    alloy_locked_destroy(locked[i]);
    alloy_partition_destroy(partitions[i]);
    alloy_partition_root_destroy(roots[i]);
  }
}

}  // namespace
