// The spec's producer/consumer stress on the small-object heap: producers
// allocate blocks of mixed sizes and stamp them with 0xDEADBEEF, consumers
// on other threads verify and free them (remote frees), everyone also
// allocates and frees locally. Atomic counters and the heap's stats must
// agree at the end and every page must come back.
#include <atomic>
#include <cstdint>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "alloy/small_object.h"
#include "tests/support/support.h"

namespace {

constexpr uint32_t kPattern = 0xDEADBEEFu;

void Stamp(alloy_block block) {
  auto *words = static_cast<uint32_t *>(block.ptr);
  for (size_t i = 0; i < block.size / sizeof(uint32_t); ++i) words[i] = kPattern;
}

bool Intact(alloy_block block) {
  const auto *words = static_cast<const uint32_t *>(block.ptr);
  for (size_t i = 0; i < block.size / sizeof(uint32_t); ++i)
    if (words[i] != kPattern) return false;
  return true;
}

// A bounded hand-off of block batches between producers and consumers.
class Channel {
 public:
  void Push(std::vector<alloy_block> batch) {
    std::lock_guard<std::mutex> lock(mutex_);
    batches_.push_back(std::move(batch));
  }
  bool Pop(std::vector<alloy_block> *batch) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (batches_.empty()) return false;
    *batch = std::move(batches_.front());
    batches_.pop_front();
    return true;
  }

 private:
  std::mutex mutex_;
  std::deque<std::vector<alloy_block>> batches_;
};

TEST(SmallObjectStress, ProducersAndConsumersAgreeWithTheHeap) {
  alloy_small_object *heap = nullptr;
  ASSERT_EQ(alloy_small_object_create(nullptr, &heap), ALLOY_OK);
  const int producers = 3, consumers = 3;
  const size_t batches_per_producer = alloy_test::Scaled(600, 20);
  const size_t batch_size = 64;

  Channel channel;
  std::atomic<uint64_t> allocated{0}, freed{0}, allocated_bytes{0}, freed_bytes{0}, corrupted{0};
  std::atomic<int> producers_left{producers}, consumers_left{consumers};

  auto local_churn = [&](uint32_t seed) {
    // A little thread-local traffic between hand-offs.
    alloy_block local[8];
    for (int i = 0; i < 8; ++i) {
      size_t size = 8 + ((seed + static_cast<uint32_t>(i) * 37) % 249);
      ASSERT_EQ(alloy_small_object_allocate(heap, size, 8, &local[i]), ALLOY_OK);
      Stamp(local[i]);
    }
    for (int i = 0; i < 8; ++i) {
      if (!Intact(local[i])) corrupted++;
      ASSERT_EQ(alloy_small_object_deallocate(heap, local[i], 8), ALLOY_OK);
    }
    allocated += 8;
    freed += 8;
  };

  std::vector<std::thread> threads;
  for (int p = 0; p < producers; ++p)
    threads.emplace_back([&, p] {
      uint32_t x = 12345u + static_cast<uint32_t>(p);
      for (size_t b = 0; b < batches_per_producer; ++b) {
        std::vector<alloy_block> batch(batch_size);
        for (alloy_block &block : batch) {
          x = x * 1664525u + 1013904223u;
          size_t size = 8 + (x >> 8) % 249;  // 8..256
          ASSERT_EQ(alloy_small_object_allocate(heap, size, 8, &block), ALLOY_OK);
          ASSERT_GE(block.size, size);
          Stamp(block);
          allocated_bytes += block.size;
        }
        allocated += batch_size;
        channel.Push(std::move(batch));
        if (b % 8 == 0) local_churn(x);
      }
      producers_left--;
      // Stay alive until the consumers are done, so every hand-off is a
      // remote free (a consumer started later would adopt an exited
      // producer's cache and free locally).
      while (consumers_left.load() != 0) std::this_thread::yield();
    });
  for (int c = 0; c < consumers; ++c)
    threads.emplace_back([&, c] {
      std::vector<alloy_block> batch;
      uint32_t round = 0;
      for (;;) {
        if (!channel.Pop(&batch)) {
          if (producers_left.load() == 0 && !channel.Pop(&batch)) break;
          if (batch.empty()) {
            std::this_thread::yield();
            continue;
          }
        }
        for (alloy_block block : batch) {
          if (!Intact(block)) corrupted++;
          freed_bytes += block.size;
          ASSERT_EQ(alloy_small_object_deallocate(heap, block, 8), ALLOY_OK);
        }
        freed += batch.size();
        batch.clear();
        if (++round % 8 == 0) local_churn(round * 31u + static_cast<uint32_t>(c));
      }
      consumers_left--;
    });
  for (auto &t : threads) t.join();

  EXPECT_EQ(corrupted.load(), 0u) << "a block was overwritten while live";
  EXPECT_EQ(allocated.load(), freed.load());
  EXPECT_EQ(allocated_bytes.load(), freed_bytes.load());

  alloy_small_object_stats s;
  alloy_small_object_get_stats(heap, &s);
  EXPECT_EQ(s.allocations, allocated.load());
  EXPECT_EQ(s.deallocations, freed.load());
  EXPECT_EQ(s.live_bytes, 0u);
  EXPECT_EQ(s.remote_deallocations, uint64_t{producers} * batches_per_producer * batch_size);
  EXPECT_EQ(s.abandoned_caches, s.thread_caches) << "every exited thread handed its cache back";

  // No leak: trimming reclaims what was sent to the abandoned caches, and
  // every page is back in the recycler.
  alloy_small_object_trim(heap);
  alloy_small_object_get_stats(heap, &s);
  EXPECT_EQ(s.pages_recycled, s.pages_committed) << "pages stranded after every thread left";
  EXPECT_EQ(s.live_bytes, 0u);
  alloy_small_object_destroy(heap);
}

// Several heaps used by several threads at once: each thread gets one cache
// per heap, frees go to the right heap's owners, every exit hands back one
// cache per heap, and a concurrent trim is harmless.
TEST(SmallObjectStress, SeveralHeapsSeveralThreads) {
  constexpr int kHeaps = 3, kThreads = 4;
  alloy_small_object *heaps[kHeaps];
  for (auto &h : heaps) ASSERT_EQ(alloy_small_object_create(nullptr, &h), ALLOY_OK);
  const size_t rounds = alloy_test::Scaled(300, 10);
  // Thread t frees what thread t-1 allocated (a ring of hand-offs).
  Channel inboxes[kThreads];
  std::atomic<int> done{0};
  std::atomic<uint64_t> corrupted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      for (size_t r = 0; r < rounds; ++r) {
        std::vector<alloy_block> out;
        for (int h = 0; h < kHeaps; ++h)
          for (int k = 0; k < 8; ++k) {
            alloy_block block;
            size_t size = 8 + static_cast<size_t>((r * 7 + static_cast<size_t>(k) * 29 + static_cast<size_t>(h)) % 249);
            ASSERT_EQ(alloy_small_object_allocate(heaps[h], size, 8, &block), ALLOY_OK);
            Stamp(block);
            out.push_back(block);  // blocks [8h, 8h + 8) come from heap h
          }
        inboxes[(t + 1) % kThreads].Push(std::move(out));
        std::vector<alloy_block> in;
        while (inboxes[t].Pop(&in)) {
          for (size_t i = 0; i < in.size(); ++i) {
            if (!Intact(in[i])) corrupted++;
            ASSERT_EQ(alloy_small_object_deallocate(heaps[i / 8], in[i], 8), ALLOY_OK);
          }
          in.clear();
        }
        if (t == 0 && r % 50 == 0) alloy_small_object_trim(heaps[r / 50 % kHeaps]);
      }
      done++;
      // Drain what the neighbour sends until everyone has finished.
      for (;;) {
        std::vector<alloy_block> in;
        bool all_done = done.load() == kThreads;
        while (inboxes[t].Pop(&in)) {
          for (size_t i = 0; i < in.size(); ++i) {
            if (!Intact(in[i])) corrupted++;
            ASSERT_EQ(alloy_small_object_deallocate(heaps[i / 8], in[i], 8), ALLOY_OK);
          }
          in.clear();
        }
        if (all_done) break;
        std::this_thread::yield();
      }
    });
  for (auto &t : threads) t.join();
  EXPECT_EQ(corrupted.load(), 0u);
  for (auto *heap : heaps) {
    alloy_small_object_trim(heap);
    alloy_small_object_stats s;
    alloy_small_object_get_stats(heap, &s);
    EXPECT_EQ(s.allocations, rounds * kThreads * 8);
    EXPECT_EQ(s.deallocations, s.allocations);
    EXPECT_EQ(s.live_bytes, 0u);
    EXPECT_EQ(s.abandoned_caches, s.thread_caches) << "one cache per thread and heap came back";
    EXPECT_EQ(s.pages_recycled, s.pages_committed);
    alloy_small_object_destroy(heap);
  }
}

}  // namespace
