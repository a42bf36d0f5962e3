// Partitions used from many threads at once, no lock around them: remote
// frees, thread exit and detach giving caches back, purge, and misuse found
// while the block sits in a thread cache or on a return list.
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "alloy/partition.h"
#include "alloy/vm.h"
#include "tests/support/support.h"

namespace {

class ThreadedPartitions : public ::testing::Test {
 protected:
  void SetUp() override {
    alloy_partition_root_config root_config = alloy_partition_root_config_default();
    root_config.reserve_bytes = size_t{256} << 20;
    ASSERT_EQ(alloy_partition_root_create(&root_config, &root_), ALLOY_OK);
    alloy_partition_config config = alloy_partition_config_default();
    config.numa_node = ALLOY_PARTITION_NUMA_NONE;
    ASSERT_EQ(alloy_partition_create(root_, "a", &config, &a_), ALLOY_OK);
    ASSERT_EQ(alloy_partition_create(root_, "b", &config, &b_), ALLOY_OK);
  }
  void TearDown() override { alloy_partition_root_destroy(root_); }
  static alloy_partition_stats Stats(alloy_partition *p) {
    alloy_partition_stats stats;
    alloy_partition_get_stats(p, &stats);
    return stats;
  }
  alloy_partition_root *root_ = nullptr;
  alloy_partition *a_ = nullptr;
  alloy_partition *b_ = nullptr;
};

TEST_F(ThreadedPartitions, InfoSaysThreadSafe) {
  alloy_resource_info info;
  alloy_resource_get_info(alloy_partition_resource(a_), &info);
  EXPECT_EQ(info.thread_safety, ALLOY_THREAD_SAFE);
}

// Producers allocate from both partitions, consumers free what others
// allocated; every block keeps its contents until its free.
TEST_F(ThreadedPartitions, RemoteFreesFromManyThreads) {
  struct Item {
    alloy_partition *p;
    alloy_block block;
    size_t size;
    uint32_t seed;
  };
  std::mutex mutex;
  std::vector<Item> queue;
  std::atomic<int> producers_left{4};
  std::atomic<bool> failed{false};
  const size_t per_producer = alloy_test::Scaled(alloy_test::kTsan ? 4000 : 20000, 500);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(static_cast<uint32_t>(t + 1));
      for (size_t i = 0; i < per_producer; ++i) {
        Item item{(rng() & 1) ? a_ : b_, {nullptr, 0}, 1 + rng() % 1024, static_cast<uint32_t>(t * 1000003 + i)};
        if (alloy_partition_allocate(item.p, item.size, 16, &item.block) != ALLOY_OK) {
          failed = true;
          break;
        }
        alloy_test::Fill(item.block.ptr, item.size, item.seed);
        std::lock_guard<std::mutex> lock(mutex);
        queue.push_back(item);
      }
      producers_left--;
    });
  }
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&] {
      for (;;) {
        std::vector<Item> taken;
        {
          std::lock_guard<std::mutex> lock(mutex);
          taken.swap(queue);
        }
        if (taken.empty()) {
          if (producers_left.load() == 0) {
            std::lock_guard<std::mutex> lock(mutex);
            if (queue.empty()) return;
          }
          std::this_thread::yield();
          continue;
        }
        for (const Item &item : taken) {
          if (!alloy_test::Check(item.block.ptr, item.size, item.seed)) failed = true;
          if (alloy_partition_deallocate(item.p, item.block) != ALLOY_OK) failed = true;
        }
      }
    });
  }
  for (std::thread &thread : threads) thread.join();
  EXPECT_FALSE(failed.load());
  for (alloy_partition *p : {a_, b_}) {
    alloy_partition_stats stats = Stats(p);
    EXPECT_EQ(stats.allocations, stats.deallocations);
    EXPECT_EQ(stats.live_bytes, 0u);
  }
  EXPECT_EQ(Stats(a_).allocations + Stats(b_).allocations, 4 * per_producer);
}

// A thread that frees much and exits gives its cache, and the batches it
// sent back, to the slabs: the emptied slabs give their memory back.
TEST_F(ThreadedPartitions, ThreadExitFlushesItsCache) {
  alloy_partition_stats full;
  std::thread worker([&] {
    std::vector<alloy_block> blocks(4000);
    for (alloy_block &block : blocks) ASSERT_EQ(alloy_partition_allocate(a_, 256, 16, &block), ALLOY_OK);
    full = Stats(a_);
    for (const alloy_block &block : blocks) ASSERT_EQ(alloy_partition_deallocate(a_, block), ALLOY_OK);
  });
  worker.join();
  alloy_partition_stats after = Stats(a_);
  EXPECT_GE(full.slab_count, 10u);
  EXPECT_EQ(after.live_bytes, 0u);
  EXPECT_EQ(after.allocations, 4000u) << "the exited thread's counts stay";
  EXPECT_EQ(after.deallocations, 4000u);
  EXPECT_LT(after.committed_bytes, full.committed_bytes / 4) << "its cache went back at exit";
}

TEST_F(ThreadedPartitions, DetachGivesTheCachesBack) {
  std::vector<alloy_block> blocks(4000);
  for (alloy_block &block : blocks) ASSERT_EQ(alloy_partition_allocate(b_, 512, 16, &block), ALLOY_OK);
  alloy_partition_stats full = Stats(b_);
  for (const alloy_block &block : blocks) ASSERT_EQ(alloy_partition_deallocate(b_, block), ALLOY_OK);
  alloy_partition_root_thread_detach(root_);
  alloy_partition_stats after = Stats(b_);
  EXPECT_LT(after.committed_bytes, full.committed_bytes / 4);
  // The thread uses the partition again through a new cache.
  alloy_block block;
  ASSERT_EQ(alloy_partition_allocate(b_, 512, 16, &block), ALLOY_OK);
  EXPECT_EQ(alloy_partition_deallocate(b_, block), ALLOY_OK);
  EXPECT_EQ(Stats(b_).allocations, 4001u);
}

// Purge: the calling thread's cache and what others sent back go home, and
// every empty slab's memory goes back; the partition keeps working.
TEST_F(ThreadedPartitions, PurgeGivesMemoryBack) {
  std::vector<alloy_block> blocks(3000);
  for (alloy_block &block : blocks) ASSERT_EQ(alloy_partition_allocate(a_, 1000, 16, &block), ALLOY_OK);
  alloy_partition_stats full = Stats(a_);
  std::thread other([&] {
    for (size_t i = 0; i < blocks.size(); i += 2) ASSERT_EQ(alloy_partition_deallocate(a_, blocks[i]), ALLOY_OK);
    alloy_partition_root_thread_detach(root_);
  });
  other.join();
  for (size_t i = 1; i < blocks.size(); i += 2) ASSERT_EQ(alloy_partition_deallocate(a_, blocks[i]), ALLOY_OK);
  alloy_partition_stats before = Stats(a_);
  EXPECT_GT(before.committed_bytes, full.committed_bytes / 4) << "frees alone keep the memory";
  alloy_partition_purge(a_);
  alloy_partition_stats after = Stats(a_);
  EXPECT_EQ(after.live_bytes, 0u);
  EXPECT_LE(after.committed_bytes, after.slab_count * alloy_vm_page_size()) << "at most a header page per slab stays";
  alloy_block block;
  ASSERT_EQ(alloy_partition_allocate(a_, 1000, 16, &block), ALLOY_OK);
  alloy_test::Fill(block.ptr, 1000, 3);
  EXPECT_TRUE(alloy_test::Check(block.ptr, 1000, 3));
  EXPECT_EQ(alloy_partition_deallocate(a_, block), ALLOY_OK);
}

// A double free is found wherever the first free left the block: in the
// thread's bin, on a bucket's return list after another thread's bin
// overflowed, back in its slab.
TEST_F(ThreadedPartitions, DoubleFreeIsFoundInEveryPlace) {
  alloy_test::FaultRecorder faults;
  alloy_block keep, cached;
  ASSERT_EQ(alloy_partition_allocate(a_, 48, 16, &keep), ALLOY_OK);
  ASSERT_EQ(alloy_partition_allocate(a_, 48, 16, &cached), ALLOY_OK);
  ASSERT_EQ(alloy_partition_deallocate(a_, cached), ALLOY_OK);
  EXPECT_EQ(alloy_partition_deallocate(a_, cached), ALLOY_E_DOUBLE_FREE) << "in the thread's cache";
  EXPECT_EQ(alloy_partition_deallocate(b_, cached), ALLOY_E_NOT_OWNED) << "wrong partition, block in a cache";

  // Another thread frees enough to overflow its bin: most blocks go to the
  // bucket's return list, the rest stay in its cache; while it is still
  // alive, a second free from here is found for each.
  std::vector<alloy_block> blocks(2000);
  for (alloy_block &block : blocks) ASSERT_EQ(alloy_partition_allocate(a_, 48, 16, &block), ALLOY_OK);
  std::atomic<int> stage{0};
  std::thread other([&] {
    for (const alloy_block &block : blocks) ASSERT_EQ(alloy_partition_deallocate(a_, block), ALLOY_OK);
    stage = 1;
    while (stage.load() != 2) std::this_thread::yield();
  });
  while (stage.load() != 1) std::this_thread::yield();
  for (size_t i = 0; i < blocks.size(); i += 97)
    EXPECT_EQ(alloy_partition_deallocate(a_, blocks[i]), ALLOY_E_DOUBLE_FREE) << "freed by a thread still running";
  stage = 2;
  other.join();
  EXPECT_EQ(alloy_partition_deallocate(a_, blocks[1]), ALLOY_E_DOUBLE_FREE) << "after that thread exited";

  // Back in their slabs (purge), still found; the kept block keeps its slab.
  alloy_partition_purge(a_);
  EXPECT_EQ(alloy_partition_deallocate(a_, cached), ALLOY_E_DOUBLE_FREE) << "back in its slab";
  EXPECT_EQ(faults.count(ALLOY_E_DOUBLE_FREE), 3u + (blocks.size() + 96) / 97);
  EXPECT_EQ(faults.count(ALLOY_E_NOT_OWNED), 1u);
  alloy_partition_stats stats = Stats(a_);
  EXPECT_EQ(stats.deallocations, 1u + blocks.size()) << "refused frees change nothing";
  EXPECT_EQ(alloy_partition_deallocate(a_, keep), ALLOY_OK);
}

TEST_F(ThreadedPartitions, BadInputsGetClearStatuses) {
  alloy_test::FaultRecorder faults;
  alloy_block block = {nullptr, 0};
  EXPECT_EQ(alloy_partition_allocate(a_, 64, 24, &block), ALLOY_E_INVALID_ARGUMENT);
  EXPECT_EQ(alloy_partition_allocate(a_, 64, 0, &block), ALLOY_E_INVALID_ARGUMENT);
  EXPECT_EQ(alloy_partition_allocate(a_, ALLOY_MAX_REQUEST + 1, 16, &block), ALLOY_E_INVALID_ARGUMENT);
  EXPECT_EQ(block.ptr, nullptr);
  alloy_block zero;
  ASSERT_EQ(alloy_partition_allocate(a_, 0, 1, &zero), ALLOY_OK);
  EXPECT_NE(zero.ptr, nullptr);
  EXPECT_EQ(alloy_partition_deallocate(a_, zero), ALLOY_OK);
  EXPECT_EQ(alloy_partition_deallocate(a_, alloy_block{nullptr, 0}), ALLOY_OK);
  int on_stack = 0;
  EXPECT_EQ(alloy_partition_deallocate(a_, alloy_block_make(&on_stack, sizeof on_stack)), ALLOY_E_NOT_OWNED);
  void *heap = std::malloc(64);
  EXPECT_EQ(alloy_partition_deallocate(a_, alloy_block_make(heap, 64)), ALLOY_E_NOT_OWNED);
  std::free(heap);
  // Inside the root, in a slot nobody took yet.
  alloy_block live;
  ASSERT_EQ(alloy_partition_allocate(a_, 64, 16, &live), ALLOY_OK);
  char *far = static_cast<char *>(live.ptr) + (size_t{128} << 20);
  EXPECT_EQ(alloy_partition_deallocate(a_, alloy_block_make(far, 64)), ALLOY_E_NOT_OWNED);
  EXPECT_EQ(faults.count(ALLOY_E_NOT_OWNED), 3u);
  EXPECT_EQ(alloy_partition_deallocate(a_, live), ALLOY_OK);
}

// Many threads, both partitions, blocks handed between threads at random,
// threads coming and going: the counters end balanced.
TEST_F(ThreadedPartitions, ManyThreadsComeAndGo) {
  struct Item {
    int part;
    alloy_block block;
    size_t size;
    uint32_t seed;
  };
  std::mutex mutex;
  std::vector<Item> shared;
  std::atomic<bool> failed{false};
  alloy_partition *parts[2] = {a_, b_};
  const int rounds = alloy_test::UnderValgrind() ? 2 : 6;
  const size_t steps = alloy_test::Scaled(alloy_test::kTsan ? 1500 : 6000, 300);
  for (int round = 0; round < rounds; ++round) {
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
      threads.emplace_back([&, t] {
        std::mt19937 rng(static_cast<uint32_t>(round * 8 + t));
        std::vector<Item> mine;
        for (size_t step = 0; step < steps; ++step) {
          uint32_t r = rng();
          if (r % 3 != 0 || mine.empty()) {
            Item item{static_cast<int>(r & 1), {nullptr, 0}, r % 16 == 0 ? 1 + rng() % 20000 : 1 + rng() % 300,
                      static_cast<uint32_t>(rng())};
            alloy_status status = alloy_partition_allocate(parts[item.part], item.size, 8, &item.block);
            if (status != ALLOY_OK) {
              ADD_FAILURE() << "allocate " << item.size << ": " << alloy_status_name(status);
              failed = true;
              return;
            }
            alloy_test::Fill(item.block.ptr, item.size < 64 ? item.size : 64, item.seed);
            mine.push_back(item);
          } else {
            Item item = mine.back();
            mine.pop_back();
            if (!alloy_test::Check(item.block.ptr, item.size < 64 ? item.size : 64, item.seed)) {
              ADD_FAILURE() << "contents of a block of " << item.size;
              failed = true;
            }
            alloy_status status = alloy_partition_deallocate(parts[item.part], item.block);
            if (status != ALLOY_OK) {
              ADD_FAILURE() << "free " << item.size << ": " << alloy_status_name(status);
              failed = true;
            }
          }
          if (step % 64 == 0) {
            // Trade: leave some blocks to whichever thread comes next.
            std::lock_guard<std::mutex> lock(mutex);
            while (mine.size() > 8) {
              shared.push_back(mine.back());
              mine.pop_back();
            }
            while (!shared.empty() && mine.size() < 16) {
              mine.push_back(shared.back());
              shared.pop_back();
            }
          }
        }
        std::lock_guard<std::mutex> lock(mutex);
        shared.insert(shared.end(), mine.begin(), mine.end());
      });
    }
    for (std::thread &thread : threads) thread.join();
  }
  EXPECT_FALSE(failed.load());
  for (const Item &item : shared) {
    ASSERT_TRUE(alloy_test::Check(item.block.ptr, item.size < 64 ? item.size : 64, item.seed));
    ASSERT_EQ(alloy_partition_deallocate(parts[item.part], item.block), ALLOY_OK);
  }
  for (alloy_partition *p : parts) {
    alloy_partition_stats stats = Stats(p);
    EXPECT_EQ(stats.allocations, stats.deallocations);
    EXPECT_EQ(stats.live_bytes, 0u);
    EXPECT_EQ(stats.direct_mapped_count, 0u);
  }
}

// A partition destroyed while other threads still hold caches of it: those
// caches keep nothing of it, and the threads exit cleanly.
// A thread that takes turns over more partitions than it remembers: each
// block goes back to its own partition's cache, and a partition created
// where a destroyed one lay (its address may come back) starts with a cache
// of its own, not the old one's.
TEST(PartitionLifetime, ManyPartitionsInTurnKeepTheirOwnCaches) {
  alloy_partition_root_config root_config = alloy_partition_root_config_default();
  alloy_partition_root *root = nullptr;
  ASSERT_EQ(alloy_partition_root_create(&root_config, &root), ALLOY_OK);
  alloy_partition_config config = alloy_partition_config_default();
  config.numa_node = ALLOY_PARTITION_NUMA_NONE;
  constexpr int kParts = 13;
  alloy_partition *parts[kParts];
  for (auto &part : parts) ASSERT_EQ(alloy_partition_create(root, "turn", &config, &part), ALLOY_OK);
  constexpr int kRounds = 50;
  for (int round = 0; round < kRounds; ++round) {
    alloy_block blocks[kParts];
    for (int i = 0; i < kParts; ++i) {
      ASSERT_EQ(alloy_partition_allocate(parts[i], 16 + 16 * static_cast<size_t>(i), 8, &blocks[i]), ALLOY_OK);
      ASSERT_EQ(alloy_partition_of(root, blocks[i].ptr), parts[i]);
    }
    for (int i = kParts - 1; i >= 0; i -= 2) ASSERT_EQ(alloy_partition_deallocate(parts[i], blocks[i]), ALLOY_OK);
    for (int i = kParts - 2; i >= 0; i -= 2) ASSERT_EQ(alloy_partition_deallocate(parts[i], blocks[i]), ALLOY_OK);
  }
  for (alloy_partition *part : parts) {
    alloy_partition_stats stats;
    alloy_partition_get_stats(part, &stats);
    EXPECT_EQ(stats.allocations, static_cast<uint64_t>(kRounds));
    EXPECT_EQ(stats.deallocations, static_cast<uint64_t>(kRounds));
    EXPECT_EQ(stats.live_bytes, 0u);
  }
  // The partition this thread used last (the last free above) goes.
  alloy_partition_destroy(parts[1]);
  alloy_partition *again = nullptr;
  ASSERT_EQ(alloy_partition_create(root, "again", &config, &again), ALLOY_OK);
  alloy_block block;
  ASSERT_EQ(alloy_partition_allocate(again, 16, 8, &block), ALLOY_OK);
  EXPECT_EQ(alloy_partition_of(root, block.ptr), again);
  alloy_partition_stats stats;
  alloy_partition_get_stats(again, &stats);
  EXPECT_EQ(stats.allocations, 1u);
  EXPECT_EQ(stats.live_bytes, 16u);
  ASSERT_EQ(alloy_partition_deallocate(again, block), ALLOY_OK);
  alloy_partition_get_stats(again, &stats);
  EXPECT_EQ(stats.deallocations, 1u);
  EXPECT_EQ(stats.live_bytes, 0u);
  alloy_partition_root_destroy(root);
}

TEST(PartitionLifetime, DestroyWhileThreadsHoldCaches) {
  alloy_partition_root_config root_config = alloy_partition_root_config_default();
  alloy_partition_root *root = nullptr;
  ASSERT_EQ(alloy_partition_root_create(&root_config, &root), ALLOY_OK);
  alloy_partition_config config = alloy_partition_config_default();
  alloy_partition *doomed = nullptr, *kept = nullptr;
  ASSERT_EQ(alloy_partition_create(root, "doomed", &config, &doomed), ALLOY_OK);
  ASSERT_EQ(alloy_partition_create(root, "kept", &config, &kept), ALLOY_OK);
  std::atomic<int> stage{0};
  std::thread worker([&] {
    alloy_block block;
    ASSERT_EQ(alloy_partition_allocate(doomed, 64, 16, &block), ALLOY_OK);
    ASSERT_EQ(alloy_partition_deallocate(doomed, block), ALLOY_OK);  // stays in this thread's cache
    stage = 1;
    while (stage.load() != 2) std::this_thread::yield();
    ASSERT_EQ(alloy_partition_allocate(kept, 64, 16, &block), ALLOY_OK);
    ASSERT_EQ(alloy_partition_deallocate(kept, block), ALLOY_OK);
  });
  while (stage.load() != 1) std::this_thread::yield();
  alloy_partition_destroy(doomed);
  stage = 2;
  worker.join();
  alloy_partition_stats stats;
  alloy_partition_get_stats(kept, &stats);
  EXPECT_EQ(stats.allocations, 1u);
  EXPECT_EQ(stats.live_bytes, 0u);
  alloy_partition_root_destroy(root);
}

}  // namespace
