// fork() while other threads allocate, free remotely, exit and detach: the
// child's only thread must allocate and free every size without waiting on
// a lock that a vanished thread held.
#include <atomic>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "alloy/small_object.h"
#include "tests/support/fork_child.h"
#include "tests/support/support.h"

namespace {

constexpr size_t kMaxSize = ALLOY_SMALL_OBJECT_MAX_CLASS_SIZE;

// Blocks allocated on one thread, waiting to be freed on another.
class Exchange {
 public:
  bool Push(alloy_block block) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (blocks_.size() >= 4096) return false;
    blocks_.push_back(block);
    return true;
  }
  bool Pop(alloy_block *out) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (blocks_.empty()) return false;
    *out = blocks_.front();
    blocks_.pop_front();
    return true;
  }

 private:
  std::mutex mutex_;
  std::deque<alloy_block> blocks_;
};

struct Child {
  alloy_small_object *heap;
  alloy_block foreign;  // allocated by another thread of the parent
};

// The next size to try after `size`: 8 B on, and above 1 KiB one eighth
// of the power of two below it, the spacing of the classes there, so every
// class is met once without filling thousands of large blocks.
size_t NextSize(size_t size) {
  if (size < 1024) return size + 8;
  size_t step = 1;
  while (step * 16 <= size) step *= 2;
  return size + step;
}

// Every size class, at both alignments the direct and the class table
// serve, a few blocks each; then the same again after detaching.
int AllocateEverySize(alloy_small_object *heap) {
  for (size_t size = 1; size <= kMaxSize; size = NextSize(size)) {
    for (size_t align : {size_t{8}, size_t{16}}) {
      alloy_block blocks[4];
      for (alloy_block &block : blocks) {
        if (alloy_small_object_allocate(heap, size, align, &block) != ALLOY_OK) return 2;
        alloy_test::Fill(block.ptr, block.size, static_cast<uint32_t>(size));
      }
      for (alloy_block &block : blocks) {
        if (!alloy_test::Check(block.ptr, block.size, static_cast<uint32_t>(size))) return 3;
        if (alloy_small_object_deallocate(heap, block, align) != ALLOY_OK) return 4;
      }
    }
  }
  return 0;
}

int ChildBody(void *context) {
  auto *child = static_cast<Child *>(context);
  if (child->foreign.ptr != nullptr && alloy_small_object_deallocate(child->heap, child->foreign, 8) != ALLOY_OK)
    return 1;
  if (int failed = AllocateEverySize(child->heap)) return failed;
  alloy_small_object_thread_detach(child->heap);
  if (int failed = AllocateEverySize(child->heap)) return 10 + failed;
  alloy_small_object_trim(child->heap);
  return 0;
}

void FreeAll(alloy_small_object *heap, std::vector<alloy_block> *blocks) {
  for (alloy_block block : *blocks) EXPECT_EQ(alloy_small_object_deallocate(heap, block, 8), ALLOY_OK);
  blocks->clear();
}

TEST(SmallObjectFork, Regression_ForkWhileAnotherThreadDetachesDoesNotHangTheChild) {
  alloy_small_object_config config = {};
  config.max_size = kMaxSize;
  alloy_small_object *heap = nullptr;
  ASSERT_EQ(alloy_small_object_create(&config, &heap), ALLOY_OK);
  Exchange exchange;
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;

  // Allocators: mixed sizes, half freed locally, half handed to the freer.
  for (int t = 0; t < 2; ++t)
    threads.emplace_back([&, t] {
      size_t size = 1 + static_cast<size_t>(t) * 37;
      while (!stop.load(std::memory_order_relaxed)) {
        alloy_test::LetOthersRunUnderValgrind();
        alloy_block block;
        if (alloy_small_object_allocate(heap, size, 8, &block) != ALLOY_OK) continue;
        size = size * 7 % kMaxSize + 1;
        if ((size & 1) != 0 || !exchange.Push(block)) {
          EXPECT_EQ(alloy_small_object_deallocate(heap, block, 8), ALLOY_OK);
        }
      }
    });
  // The remote freer.
  threads.emplace_back([&] {
    while (!stop.load(std::memory_order_relaxed)) {
      alloy_test::LetOthersRunUnderValgrind();
      alloy_block block;
      if (exchange.Pop(&block)) {
        EXPECT_EQ(alloy_small_object_deallocate(heap, block, 8), ALLOY_OK);
      } else {
        std::this_thread::yield();
      }
    }
  });
  // The detacher of the report: its cache goes back to the heap under the lock, over and over.
  threads.emplace_back([&] {
    std::vector<alloy_block> blocks;
    while (!stop.load(std::memory_order_relaxed)) {
      alloy_test::LetOthersRunUnderValgrind();
      for (size_t size = 8; size <= kMaxSize; size += 120) {
        alloy_block block;
        if (alloy_small_object_allocate(heap, size, 8, &block) == ALLOY_OK) blocks.push_back(block);
      }
      FreeAll(heap, &blocks);
      alloy_small_object_thread_detach(heap);
    }
  });
  // Threads that come and go: a cache abandoned at each exit, adopted by the next.
  threads.emplace_back([&] {
    while (!stop.load(std::memory_order_relaxed)) {
      alloy_test::LetOthersRunUnderValgrind();
      std::thread short_lived([&] {
        std::vector<alloy_block> blocks;
        for (size_t size = 16; size <= kMaxSize; size += 200) {
          alloy_block block;
          if (alloy_small_object_allocate(heap, size, 8, &block) == ALLOY_OK) blocks.push_back(block);
        }
        FreeAll(heap, &blocks);
      });
      short_lived.join();
    }
  });

  const size_t forks = alloy_test::ForksWhileThreadsRun(40, 5);
  for (size_t i = 0; i < forks; ++i) {
    Child child = {heap, {nullptr, 0}};
    while (!exchange.Pop(&child.foreign)) std::this_thread::yield();
    alloy_test::ChildOutcome outcome = alloy_test::RunInChild(ChildBody, &child, alloy_test::ChildTimeoutMs());
    EXPECT_EQ(alloy_small_object_deallocate(heap, child.foreign, 8), ALLOY_OK);  // the parent's copy
    ASSERT_TRUE(outcome.ok()) << "fork " << i << " of " << forks << ": " << outcome.describe();
  }

  stop = true;
  for (std::thread &thread : threads) thread.join();
  alloy_block block;
  while (exchange.Pop(&block)) EXPECT_EQ(alloy_small_object_deallocate(heap, block, 8), ALLOY_OK);
  alloy_small_object_destroy(heap);
}

}  // namespace
