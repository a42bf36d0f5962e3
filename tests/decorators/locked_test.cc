// The locked decorator makes a thread-unsafe resource shareable. The inner
// here is a plain single-threaded free list: under ThreadSanitizer any access
// the lock failed to order is reported, and natively the final state must
// balance exactly.
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "alloy/locked.h"
#include "bench/support/test_free_list.h"
#include "tests/support/support.h"

namespace {

TEST(Locked, ThreadsShareASingleThreadedResource) {
  alloy_resource *inner = alloy_test::CreateFreeList(8 << 20);
  ASSERT_NE(inner, nullptr);
  alloy_locked *locked;
  ASSERT_EQ(alloy_locked_create(inner, nullptr, &locked), ALLOY_OK);
  alloy_resource *shared = alloy_locked_resource(locked);

  const size_t rounds = alloy_test::Scaled(2000, 50);
  const int thread_count = 4;
  std::vector<std::thread> threads;
  std::vector<int> errors(thread_count, 0);
  for (int t = 0; t < thread_count; ++t) {
    threads.emplace_back([&, t] {
      std::vector<alloy_block> mine;
      for (size_t i = 0; i < rounds; ++i) {
        alloy_block block;
        size_t size = 16 + (i * 37 + static_cast<size_t>(t) * 11) % 500;
        if (alloy_resource_allocate(shared, size, 16, &block) != ALLOY_OK) {
          ++errors[t];
          continue;
        }
        alloy_test::Fill(block.ptr, size, static_cast<uint32_t>(i * 8 + t));
        mine.push_back(alloy_block_make(block.ptr, size));
        if (i % 3 == 2) {  // free two of every three, oldest first, and check they kept their bytes
          for (int k = 0; k < 2 && !mine.empty(); ++k) {
            alloy_block old = mine.front();
            mine.erase(mine.begin());
            if (alloy_resource_deallocate(shared, old, 16) != ALLOY_OK) ++errors[t];
          }
        }
      }
      for (const alloy_block &block : mine)
        if (alloy_resource_deallocate(shared, block, 16) != ALLOY_OK) ++errors[t];
    });
  }
  for (std::thread &thread : threads) thread.join();
  for (int t = 0; t < thread_count; ++t) EXPECT_EQ(errors[t], 0) << "thread " << t;
  EXPECT_EQ(alloy_test::FreeListLiveBlocks(inner), 0u);

  alloy_resource_info info;
  alloy_resource_get_info(shared, &info);
  EXPECT_STREQ(info.name, "locked");
  EXPECT_EQ(info.thread_safety, ALLOY_THREAD_SAFE);
  EXPECT_EQ(info.size_class_count, 13u) << "size classes are forwarded";
  alloy_locked_destroy(locked);
  alloy_test::DestroyFreeList(inner);
}

TEST(Locked, BlocksDoNotOverlapAcrossThreads) {
  alloy_resource *inner = alloy_test::CreateFreeList(8 << 20);
  ASSERT_NE(inner, nullptr);
  alloy_locked *locked;
  ASSERT_EQ(alloy_locked_create(inner, nullptr, &locked), ALLOY_OK);
  alloy_resource *shared = alloy_locked_resource(locked);
  const size_t count = alloy_test::Scaled(1000, 50);
  std::vector<std::vector<alloy_block>> per_thread(2);
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t)
    threads.emplace_back([&, t] {
      for (size_t i = 0; i < count; ++i) {
        alloy_block block;
        if (alloy_resource_allocate(shared, 64, 16, &block) != ALLOY_OK) return;
        alloy_test::Fill(block.ptr, 64, static_cast<uint32_t>(t * 100000 + i));
        per_thread[t].push_back(block);
      }
    });
  for (std::thread &thread : threads) thread.join();
  for (int t = 0; t < 2; ++t) {
    ASSERT_EQ(per_thread[t].size(), count);
    for (size_t i = 0; i < count; ++i)
      ASSERT_TRUE(alloy_test::Check(per_thread[t][i].ptr, 64, static_cast<uint32_t>(t * 100000 + i)))
          << "thread " << t << " block " << i << " was overwritten";
  }
  for (auto &blocks : per_thread)
    for (const alloy_block &block : blocks) EXPECT_EQ(alloy_resource_deallocate(shared, block, 16), ALLOY_OK);
  alloy_locked_destroy(locked);
  alloy_test::DestroyFreeList(inner);
}

TEST(Locked, ForwardsStatusesAndOwnership) {
  alloy_resource *inner = alloy_test::CreateFreeList(64 << 10);
  ASSERT_NE(inner, nullptr);
  alloy_locked *locked;
  ASSERT_EQ(alloy_locked_create(inner, nullptr, &locked), ALLOY_OK);
  alloy_resource *shared = alloy_locked_resource(locked);
  alloy_block block = {nullptr, 0};
  EXPECT_EQ(alloy_resource_allocate(shared, 8, 24, &block), ALLOY_E_INVALID_ARGUMENT);
  EXPECT_EQ(alloy_resource_allocate(shared, 1 << 20, 8, &block), ALLOY_E_UNSUPPORTED);
  ASSERT_EQ(alloy_resource_allocate(shared, 100, 8, &block), ALLOY_OK);
  EXPECT_TRUE(alloy_resource_owns(shared, block));
  EXPECT_EQ(alloy_resource_mark(shared, nullptr), ALLOY_E_UNSUPPORTED) << "the inner has no markers";
  EXPECT_EQ(alloy_resource_deallocate(shared, block, 8), ALLOY_OK);
  EXPECT_EQ(alloy_locked_create(nullptr, nullptr, &locked), ALLOY_E_INVALID_ARGUMENT);
  alloy_locked_destroy(locked);  // the failed create left it alone
  alloy_test::DestroyFreeList(inner);
}

}  // namespace
