// The small-object heap: contract, size classes, coexisting heaps, thread
// caches (exit, adoption), remote free, bad input, tools catching misuse.
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <set>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "alloy/allocator.h"
#include "alloy/fault_injection.h"
#include "alloy/size_class.h"
#include "alloy/small_object.h"
#include "tests/contract/contract_suite.h"
#include "tests/support/support.h"

namespace {

using alloy_test::ContractSubject;
using alloy_test::ResourceContract;

ContractSubject Subject(const char *name, size_t max_size, size_t capacity = 0) {
  ContractSubject subject;
  subject.name = name;
  subject.create = [max_size, capacity] {
    alloy_small_object_config config = {};
    config.max_size = max_size;
    config.capacity = capacity;
    alloy_small_object *heap = nullptr;
    EXPECT_EQ(alloy_small_object_create(&config, &heap), ALLOY_OK);
    return alloy_small_object_resource(heap);
  };
  subject.destroy = [](alloy_resource *r) { alloy_small_object_destroy(reinterpret_cast<alloy_small_object *>(r)); };
  subject.max_size = max_size;
  subject.max_alignment = max_size;  // the largest power of two not above max_size
  subject.bounded = capacity != 0;
  subject.exhaustion_limit = capacity;
  return subject;
}

INSTANTIATE_TEST_SUITE_P(SmallObject, ResourceContract,
                         ::testing::Values(Subject("default_256", 256), Subject("classes_to_1024", 1024), Subject("classes_to_8192", 8192),
                                           Subject("bounded_16_pages", 256, 16 * ALLOY_SMALL_OBJECT_DEFAULT_PAGE_SIZE)),
                         alloy_test::SubjectName);

// A heap for one test.
class Heap {
 public:
  explicit Heap(alloy_small_object_config config = {}) {
    EXPECT_EQ(alloy_small_object_create(&config, &heap_), ALLOY_OK);
  }
  ~Heap() { alloy_small_object_destroy(heap_); }
  Heap(const Heap &) = delete;
  Heap &operator=(const Heap &) = delete;
  alloy_small_object *get() const { return heap_; }
  alloy_block Alloc(size_t size, size_t align = 8) {
    alloy_block block = {nullptr, 0};
    EXPECT_EQ(alloy_small_object_allocate(heap_, size, align, &block), ALLOY_OK) << size;
    return block;
  }
  void Free(alloy_block block, size_t align = 8) {
    EXPECT_EQ(alloy_small_object_deallocate(heap_, block, align), ALLOY_OK);
  }
  alloy_small_object_stats Stats() const {
    alloy_small_object_stats stats;
    alloy_small_object_get_stats(heap_, &stats);
    return stats;
  }

 private:
  alloy_small_object *heap_ = nullptr;
};

TEST(SmallObject, ServesEverySizeFromItsClassWithBoundedWaste) {
  Heap heap;
  for (size_t size = 0; size <= 256; ++size) {
    alloy_block block = heap.Alloc(size);
    ASSERT_NE(block.ptr, nullptr);
    EXPECT_EQ(block.size, alloy_size_class_size(alloy_size_class_of(size))) << size;
    if (size > 64) {
      EXPECT_LE(block.size - size, size / 8) << "waste above 12.5 % for " << size;
    }
    std::memset(block.ptr, 0xA5, block.size);
    heap.Free(alloy_block_make(block.ptr, size));
  }
}

TEST(SmallObject, LocalFreeIsReusedFirst) {
  Heap heap;
  alloy_block a = heap.Alloc(40);
  heap.Free(a);
  alloy_block b = heap.Alloc(40);
  EXPECT_EQ(a.ptr, b.ptr);
  heap.Free(b);
}

// Pages that filled up take frees again (they become partial and are
// allocated from before any new page), and a page whose last block comes
// back leaves its class.
TEST(SmallObject, FullPagesAreReusedAndEmptyOnesLeaveTheirClass) {
  Heap heap;
  const size_t per_page = ALLOY_SMALL_OBJECT_DEFAULT_PAGE_SIZE / 64;
  std::vector<alloy_block> blocks;
  for (size_t i = 0; i < 4 * per_page; ++i) blocks.push_back(heap.Alloc(64));
  const size_t committed = heap.Stats().pages_committed;
  EXPECT_GE(committed, 4u);
  // Every other block of the first three (full) pages.
  std::set<void *> freed;
  for (size_t i = 0; i < 3 * per_page; i += 2) {
    freed.insert(blocks[i].ptr);
    heap.Free(blocks[i]);
    blocks[i].ptr = nullptr;
  }
  // Finish the current page, then the freed blocks come back, no new page.
  const size_t again = freed.size() + per_page;
  for (size_t i = 0; i < again; ++i) {
    alloy_block block = heap.Alloc(64);
    freed.erase(block.ptr);
    blocks.push_back(block);
  }
  EXPECT_TRUE(freed.empty()) << freed.size() << " freed blocks were not reused";
  EXPECT_LE(heap.Stats().pages_committed, committed + 1);
  for (alloy_block block : blocks)
    if (block.ptr != nullptr) heap.Free(block);
  alloy_small_object_stats s = heap.Stats();
  EXPECT_EQ(s.live_bytes, 0u);
  // Two empty pages stay with the thread, the current one stays current.
  EXPECT_GE(s.pages_recycled + 3, s.pages_committed) << s.pages_recycled << " of " << s.pages_committed;
  // They are reused: the same work needs no new page.
  for (size_t i = 0; i < per_page; ++i) blocks[i] = heap.Alloc(64);
  for (size_t i = 0; i < per_page; ++i) heap.Free(blocks[i]);
  EXPECT_EQ(heap.Stats().pages_committed, s.pages_committed);
}

TEST(SmallObject, AlignedRequestsGetAlignedBlocks) {
  Heap heap;
  std::vector<std::pair<alloy_block, size_t>> live;
  for (size_t align = 1; align <= 256; align *= 2)
    for (size_t size : {size_t{0}, size_t{1}, size_t{24}, size_t{72}, size_t{200}, size_t{256}}) {
      alloy_block block = heap.Alloc(size, align);
      EXPECT_EQ(reinterpret_cast<uintptr_t>(block.ptr) % align, 0u) << size << " / " << align;
      EXPECT_EQ(block.size % align, 0u);
      live.push_back({block, align});
    }
  for (auto &[block, align] : live) heap.Free(block, align);
}

// malloc's alignment, 16, takes the fast path with the size rounded up to
// 16: every size gets the smallest class that holds it and is a multiple of
// 16, 16-aligned, as the general path would choose.
TEST(SmallObject, SixteenAlignedRequestsGetTheSmallestSixteenAlignedClass) {
  alloy_small_object_config config = {};
  config.max_size = ALLOY_SMALL_OBJECT_MAX_CLASS_SIZE;
  Heap heap(config);
  std::vector<alloy_block> live;
  for (size_t size = 0; size <= ALLOY_SMALL_OBJECT_MAX_CLASS_SIZE; ++size) {
    size_t cls = alloy_size_class_of(size < 16 ? 16 : size);
    while (alloy_size_class_size(cls) % 16 != 0) ++cls;
    alloy_block block = heap.Alloc(size, 16);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(block.ptr) % 16, 0u) << size;
    EXPECT_EQ(block.size, alloy_size_class_size(cls)) << size;
    live.push_back(block);
  }
  for (alloy_block block : live) heap.Free(block, 16);
}

TEST(SmallObject, LargerOrOveralignedRequestsAreUnsupported) {
  Heap heap;
  alloy_block block = {nullptr, 0};
  EXPECT_EQ(alloy_small_object_allocate(heap.get(), 257, 8, &block), ALLOY_E_UNSUPPORTED);
  EXPECT_EQ(alloy_small_object_allocate(heap.get(), 4096, 8, &block), ALLOY_E_UNSUPPORTED);
  EXPECT_EQ(alloy_small_object_allocate(heap.get(), 16, 512, &block), ALLOY_E_UNSUPPORTED);
  EXPECT_EQ(alloy_small_object_allocate(heap.get(), 16, 0, &block), ALLOY_E_INVALID_ARGUMENT);
  EXPECT_EQ(alloy_small_object_allocate(heap.get(), 16, 24, &block), ALLOY_E_INVALID_ARGUMENT);
  for (size_t align : {3, 5, 6, 7, 9, 12, 15, 17, 33})
    EXPECT_EQ(alloy_small_object_allocate(heap.get(), 16, align, &block), ALLOY_E_INVALID_ARGUMENT) << align;
  EXPECT_EQ(alloy_small_object_allocate(heap.get(), 300, 3, &block), ALLOY_E_INVALID_ARGUMENT);
  EXPECT_EQ(alloy_small_object_allocate(heap.get(), SIZE_MAX, 8, &block), ALLOY_E_INVALID_ARGUMENT);
  EXPECT_EQ(block.ptr, nullptr);
}

// Every alignment up to a class's own serves a size from the same pages, and
// the sizes between max_size and the largest class are refused like any
// other: the steps of one class stay together whichever alignment rolls its
// current page over.
TEST(SmallObject, SmallAlignmentsOfOneSizeShareTheClassPages) {
  alloy_small_object_config config = {};
  config.max_size = 64;
  Heap heap(config);
  const size_t per_page = ALLOY_SMALL_OBJECT_DEFAULT_PAGE_SIZE / 48;
  const size_t aligns[] = {1, 2, 4, 8, 16};
  std::vector<std::pair<alloy_block, size_t>> live;
  for (size_t i = 0; i < 3 * per_page; ++i) {
    size_t align = aligns[i % 5];
    alloy_block block = heap.Alloc(41 + i % 8, align);
    ASSERT_EQ(block.size, 48u);
    ASSERT_EQ(reinterpret_cast<uintptr_t>(block.ptr) % align, 0u);
    live.push_back({block, align});
  }
  EXPECT_EQ(heap.Stats().pages_committed, 3u);
  alloy_block refused = {nullptr, 0};
  for (size_t size : {65, 100, 256, 1024, 1025})
    for (size_t align : aligns)
      EXPECT_EQ(alloy_small_object_allocate(heap.get(), size, align, &refused), ALLOY_E_UNSUPPORTED) << size;
  EXPECT_EQ(refused.ptr, nullptr);
  for (auto &[block, align] : live) heap.Free(block, align);
  alloy_small_object_stats s = heap.Stats();
  EXPECT_EQ(s.live_bytes, 0u);
  EXPECT_EQ(s.allocations, s.deallocations);
  // Refilled through the other alignment first: still the same pages.
  for (size_t i = 0; i < 3 * per_page; ++i) live[i].first = heap.Alloc(48, i < per_page ? 16 : 8);
  EXPECT_EQ(heap.Stats().pages_committed, 3u);
  for (auto &[block, align] : live) heap.Free(block, align);
}

TEST(SmallObject, AlignmentsAboveTheLargestOfASmallHeapAreUnsupported) {
  alloy_small_object_config config = {};
  config.max_size = 8;  // max alignment 8
  Heap heap(config);
  alloy_block block = {nullptr, 0};
  EXPECT_EQ(alloy_small_object_allocate(heap.get(), 8, 16, &block), ALLOY_E_UNSUPPORTED);
  EXPECT_EQ(alloy_small_object_allocate(heap.get(), 8, 32, &block), ALLOY_E_UNSUPPORTED);
  EXPECT_EQ(alloy_small_object_allocate(heap.get(), 8, 6, &block), ALLOY_E_INVALID_ARGUMENT);
  EXPECT_EQ(block.ptr, nullptr);
  block = heap.Alloc(8, 8);
  EXPECT_EQ(block.size, 8u);
  heap.Free(block, 8);
}

TEST(SmallObject, ConfigIsValidated) {
  alloy_small_object *heap = nullptr;
  alloy_small_object_config config = {};
  config.max_size = ALLOY_SMALL_OBJECT_MAX_CLASS_SIZE + 1;
  EXPECT_EQ(alloy_small_object_create(&config, &heap), ALLOY_E_INVALID_ARGUMENT);
  config = {};
  config.page_size = 3 * 16384;
  EXPECT_EQ(alloy_small_object_create(&config, &heap), ALLOY_E_INVALID_ARGUMENT);
  config.page_size = 1 << 20;
  EXPECT_EQ(alloy_small_object_create(&config, &heap), ALLOY_E_INVALID_ARGUMENT);
  EXPECT_EQ(alloy_small_object_create(nullptr, nullptr), ALLOY_E_INVALID_ARGUMENT);
  EXPECT_EQ(heap, nullptr);
  // A max_size between classes is rounded up to its class.
  config = {};
  config.max_size = 100;
  ASSERT_EQ(alloy_small_object_create(&config, &heap), ALLOY_OK);
  alloy_resource_info info;
  alloy_resource_get_info(alloy_small_object_resource(heap), &info);
  EXPECT_EQ(info.max_size, 104u);
  EXPECT_EQ(info.max_alignment, 64u);
  EXPECT_EQ(info.size_class_count, alloy_size_class_count(104));
  alloy_small_object_destroy(heap);
}

TEST(SmallObject, InfoDescribesClassesAndStats) {
  Heap heap;
  alloy_block a = heap.Alloc(100);
  alloy_resource_info info;
  alloy_resource_get_info(alloy_small_object_resource(heap.get()), &info);
  EXPECT_STREQ(info.name, "small_object");
  EXPECT_EQ(info.thread_safety, ALLOY_THREAD_SAFE);
  EXPECT_EQ(info.max_size, 256u);
  ASSERT_EQ(info.size_class_count, alloy_size_class_count(256));
  for (size_t i = 1; i < info.size_class_count; ++i) EXPECT_LT(info.size_classes[i - 1], info.size_classes[i]);
  EXPECT_TRUE(info.has_stats);
  EXPECT_EQ(info.stats.live_bytes, a.size);
  EXPECT_EQ(info.stats.allocations, 1u);
  EXPECT_GT(info.stats.committed_bytes, 0u);
  heap.Free(a);
  alloy_resource_get_info(alloy_small_object_resource(heap.get()), &info);
  EXPECT_EQ(info.stats.live_bytes, 0u);
  EXPECT_EQ(info.stats.deallocations, 1u);
  EXPECT_EQ(info.stats.peak_live_bytes, a.size);
}

// The heap's counts come from its pages, which outlive their blocks and
// change size class when they are reused; remote frees count as soon as they
// are made, before the owner takes them back.
TEST(SmallObject, StatsStayExactAcrossPageReuseAndRemoteFrees) {
  Heap heap;
  std::vector<alloy_block> small;
  for (int i = 0; i < 20000; ++i) small.push_back(heap.Alloc(16));  // several 64 KiB pages
  for (alloy_block b : small) heap.Free(b);  // they empty and leave their class
  alloy_small_object_stats s = heap.Stats();
  EXPECT_EQ(s.allocations, 20000u);
  EXPECT_EQ(s.deallocations, 20000u);
  EXPECT_EQ(s.live_bytes, 0u);
  EXPECT_GT(s.pages_recycled, 0u);

  std::vector<alloy_block> large;
  for (int i = 0; i < 1000; ++i) large.push_back(heap.Alloc(256));  // the same pages, another class
  EXPECT_EQ(heap.Stats().pages_committed, s.pages_committed);
  EXPECT_EQ(heap.Stats().live_bytes, 1000u * 256u);
  std::thread([&] {
    for (size_t i = 0; i < 300; ++i) heap.Free(large[i]);
  }).join();  // sent, not yet taken back by the owner
  s = heap.Stats();
  EXPECT_EQ(s.allocations, 21000u);
  EXPECT_EQ(s.deallocations, 20300u);
  EXPECT_EQ(s.remote_deallocations, 300u);
  EXPECT_EQ(s.live_bytes, 700u * 256u);
  alloy_small_object_collect(heap.get());  // taken back: nothing changes
  EXPECT_EQ(heap.Stats().live_bytes, 700u * 256u);
  EXPECT_EQ(heap.Stats().deallocations, 20300u);
  for (size_t i = 300; i < large.size(); ++i) heap.Free(large[i]);
  s = heap.Stats();
  EXPECT_EQ(s.deallocations, 21000u);
  EXPECT_EQ(s.live_bytes, 0u);
  EXPECT_EQ(s.peak_live_bytes, 1000u * 256u);  // the largest snapshot taken
}

TEST(SmallObject, SeveralHeapsCoexistWithTheirOwnCaches) {
  Heap h1, h2, h3;
  Heap *heaps[] = {&h1, &h2, &h3};
  std::vector<std::pair<int, alloy_block>> live;
  std::set<void *> seen;
  for (int round = 0; round < 300; ++round)
    for (int i = 0; i < 3; ++i) {
      alloy_block block = heaps[i]->Alloc(static_cast<size_t>(8 + (round % 31) * 8));
      EXPECT_TRUE(seen.insert(block.ptr).second) << "two heaps handed out one block";
      alloy_test::Fill(block.ptr, block.size, static_cast<uint32_t>(round * 3 + i));
      live.push_back({i, block});
    }
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j)
      EXPECT_EQ(alloy_resource_owns(alloy_small_object_resource(heaps[j]->get()), live[static_cast<size_t>(i)].second),
                i == j);
  for (size_t k = 0; k < live.size(); ++k) {
    auto &[i, block] = live[k];
    EXPECT_TRUE(alloy_test::Check(block.ptr, block.size, static_cast<uint32_t>(k)));
    heaps[i]->Free(block);
  }
  for (Heap *h : heaps) {
    EXPECT_EQ(h->Stats().live_bytes, 0u);
    EXPECT_EQ(h->Stats().allocations, 300u);
  }
}

TEST(SmallObject, ThreadExitHandsTheCacheBack) {
  Heap heap;
  std::thread([&] {
    std::vector<alloy_block> blocks;
    for (int i = 0; i < 5000; ++i) blocks.push_back(heap.Alloc(64));
    for (alloy_block b : blocks) heap.Free(b);
  }).join();
  alloy_small_object_stats s = heap.Stats();
  EXPECT_EQ(s.thread_caches, 1u);
  EXPECT_EQ(s.abandoned_caches, 1u);
  EXPECT_EQ(s.pages_recycled, s.pages_committed) << "an exited thread kept empty pages";
  EXPECT_EQ(s.live_bytes, 0u);
  // The next thread adopts the abandoned cache instead of creating one.
  std::thread([&] { heap.Free(heap.Alloc(64)); }).join();
  s = heap.Stats();
  EXPECT_EQ(s.thread_caches, 1u);
  EXPECT_EQ(s.adoptions, 1u);
}

TEST(SmallObject, RemoteFreesReachTheOwnerInBatches) {
  Heap heap;
  std::vector<alloy_block> blocks;
  for (int i = 0; i < 2000; ++i) blocks.push_back(heap.Alloc(32));
  std::thread([&] {
    for (alloy_block b : blocks) heap.Free(b);
  }).join();  // the freeing thread's exit sends its last batch
  alloy_small_object_stats s = heap.Stats();
  EXPECT_EQ(s.remote_deallocations, 2000u);
  EXPECT_EQ(s.live_bytes, 0u);
  // The owner reclaims everything in one collect and reuses those blocks.
  alloy_small_object_collect(heap.get());
  std::set<void *> freed;
  for (alloy_block b : blocks) freed.insert(b.ptr);
  size_t reused = 0;
  std::vector<alloy_block> again;
  for (int i = 0; i < 2000; ++i) {
    again.push_back(heap.Alloc(32));
    reused += freed.count(again.back().ptr);
  }
  // Blocks the owner had carved but not handed out yet go first.
  EXPECT_GE(reused, 2000u - 4096u / 32u);
  EXPECT_EQ(heap.Stats().pages_committed, s.pages_committed);
  for (alloy_block b : again) heap.Free(b);
}

TEST(SmallObject, AbandonedCachesAreAdoptedAndRemoteFreesIntoThemAreSafe) {
  Heap heap;
  alloy_block mine = heap.Alloc(8);  // this thread has a cache of its own
  std::vector<alloy_block> blocks;
  std::thread([&] {
    for (int i = 0; i < 3000; ++i) blocks.push_back(heap.Alloc(48));
  }).join();  // the owner left with live blocks: its cache is abandoned
  EXPECT_EQ(heap.Stats().abandoned_caches, 1u);
  for (alloy_block b : blocks) heap.Free(b);  // remote frees into an abandoned cache
  alloy_small_object_collect(heap.get());     // this thread's outgoing batch goes out
  EXPECT_EQ(heap.Stats().live_bytes, mine.size);
  // A new thread adopts the abandoned cache, reclaims what was sent to it and
  // allocates from its pages; at exit every empty page goes back.
  size_t committed = heap.Stats().pages_committed;
  std::thread([&] {
    alloy_block b = heap.Alloc(48);
    alloy_small_object_collect(heap.get());
    heap.Free(b);
  }).join();
  alloy_small_object_stats s = heap.Stats();
  EXPECT_EQ(s.adoptions, 1u);
  EXPECT_EQ(s.thread_caches, 2u);
  EXPECT_EQ(s.pages_committed, committed) << "the adopter used the abandoned pages";
  EXPECT_EQ(s.pages_recycled, committed - 1) << "only this thread's page is still held";
  heap.Free(mine);
}

TEST(SmallObject, PagesOfAbandonedCachesReturnWhenMemoryRunsShort) {
  alloy_small_object_config config = {};
  config.capacity = 4 * ALLOY_SMALL_OBJECT_DEFAULT_PAGE_SIZE;
  Heap heap(config);
  alloy_block mine = heap.Alloc(8);
  std::vector<alloy_block> blocks;
  std::thread([&] {
    for (int i = 0; i < 3000; ++i) blocks.push_back(heap.Alloc(48));  // three pages
  }).join();
  for (alloy_block b : blocks) heap.Free(b);
  alloy_small_object_collect(heap.get());
  EXPECT_EQ(heap.Stats().pages_committed, 4u);
  // Every page is carved; the abandoned cache's pages are empty but nobody
  // adopted it. Running short collects them instead of failing.
  std::vector<alloy_block> more;
  for (int i = 0; i < 600; ++i) more.push_back(heap.Alloc(256));  // three pages of another class
  EXPECT_EQ(heap.Stats().abandoned_caches, 1u);
  for (alloy_block b : more) heap.Free(b);
  heap.Free(mine);
}

TEST(SmallObject, TrimGivesRecycledPagesBackToTheOs) {
  Heap heap;
  std::thread([&] {
    std::vector<alloy_block> blocks;
    for (int i = 0; i < 20000; ++i) blocks.push_back(heap.Alloc(128));
    for (alloy_block b : blocks) heap.Free(b);
  }).join();
  alloy_small_object_stats before = heap.Stats();
  ASSERT_GT(before.pages_recycled, 30u);
  alloy_small_object_trim(heap.get());
  alloy_small_object_stats after = heap.Stats();
  EXPECT_EQ(before.committed_bytes - after.committed_bytes, before.pages_recycled * ALLOY_SMALL_OBJECT_DEFAULT_PAGE_SIZE);
  // Decommitted pages serve again (committed anew, zero-filled or not).
  std::vector<alloy_block> again;
  for (int i = 0; i < 20000; ++i) {
    again.push_back(heap.Alloc(64));
    alloy_test::Fill(again.back().ptr, 64, static_cast<uint32_t>(i));
  }
  for (size_t i = 0; i < again.size(); ++i) {
    EXPECT_TRUE(alloy_test::Check(again[i].ptr, 64, static_cast<uint32_t>(i)));
    heap.Free(again[i]);
  }
  EXPECT_EQ(heap.Stats().pages_committed, before.pages_committed) << "recycled pages were reused";
}

TEST(SmallObject, ThreadDetachReturnsPagesAtOnce) {
  Heap heap;
  heap.Free(heap.Alloc(16));
  alloy_small_object_thread_detach(heap.get());
  alloy_small_object_stats s = heap.Stats();
  EXPECT_EQ(s.abandoned_caches, 1u);
  EXPECT_EQ(s.pages_recycled, s.pages_committed);
  heap.Free(heap.Alloc(16));  // the thread gets its cache back
  EXPECT_EQ(heap.Stats().adoptions, 1u);
}

TEST(SmallObject, CapacityExhaustionIsAStatusAndRecovers) {
  alloy_small_object_config config = {};
  config.capacity = 2 * ALLOY_SMALL_OBJECT_DEFAULT_PAGE_SIZE;
  Heap heap(config);
  std::vector<alloy_block> live;
  alloy_status status = ALLOY_OK;
  while (status == ALLOY_OK && live.size() < 100000) {
    alloy_block block = {nullptr, 0};
    status = alloy_small_object_allocate(heap.get(), 256, 8, &block);
    if (status == ALLOY_OK) live.push_back(block);
  }
  EXPECT_EQ(status, ALLOY_E_CAPACITY);
  EXPECT_GT(live.size(), 400u);
  for (alloy_block b : live) heap.Free(b);
  heap.Free(heap.Alloc(8));  // freed pages serve another class
}

TEST(SmallObject, PlatformFailuresAreStatuses) {
  alloy_small_object *heap = nullptr;
  alloy_platform_fail_next(ALLOY_PLATFORM_RESERVE, 0, 1);
  EXPECT_EQ(alloy_small_object_create(nullptr, &heap), ALLOY_E_OUT_OF_MEMORY);
  EXPECT_EQ(heap, nullptr);
  alloy_platform_fail_next(ALLOY_PLATFORM_COMMIT, 0, 1);
  EXPECT_EQ(alloy_small_object_create(nullptr, &heap), ALLOY_E_OUT_OF_MEMORY);
  Heap ok;
  alloy_block keep = ok.Alloc(8);
  alloy_block block = {nullptr, 0};
  alloy_platform_fail_next(ALLOY_PLATFORM_COMMIT, 0, 1);
  EXPECT_EQ(alloy_small_object_allocate(ok.get(), 128, 8, &block), ALLOY_E_OUT_OF_MEMORY);
  EXPECT_EQ(block.ptr, nullptr);
  alloy_platform_fail_reset();
  ok.Free(ok.Alloc(128));
  ok.Free(keep);
}

TEST(SmallObject, ThreadsBeyondMaxThreadsCanStillFree) {
  alloy_small_object_config config = {};
  config.max_threads = 1;
  Heap heap(config);
  alloy_block mine = heap.Alloc(24);
  std::thread([&] {
    alloy_block block = {nullptr, 0};
    EXPECT_EQ(alloy_small_object_allocate(heap.get(), 24, 8, &block), ALLOY_E_CAPACITY);
    heap.Free(mine);  // no cache: sent directly to the owner
  }).join();
  alloy_small_object_collect(heap.get());
  EXPECT_EQ(heap.Stats().deallocations, 1u);
  EXPECT_EQ(heap.Stats().live_bytes, 0u);
  // The owner reclaimed it: it comes back once the carved blocks are used.
  std::vector<alloy_block> again;
  bool found = false;
  for (int i = 0; i < 512 && !found; ++i) {
    again.push_back(heap.Alloc(24));
    found = again.back().ptr == mine.ptr;
  }
  EXPECT_TRUE(found);
  for (alloy_block b : again) heap.Free(b);
}

TEST(SmallObject, ForeignPointersAreReportedNotFreed) {
  Heap heap;
  alloy_test::FaultRecorder faults;
  int on_stack = 0;
  EXPECT_EQ(alloy_small_object_deallocate(heap.get(), alloy_block_make(&on_stack, 4), 4), ALLOY_E_NOT_OWNED);
  EXPECT_EQ(alloy_small_object_deallocate(heap.get(), alloy_block_make(nullptr, 8), 8), ALLOY_E_NOT_OWNED);
  Heap other;
  alloy_block theirs = other.Alloc(16);
  EXPECT_EQ(alloy_small_object_deallocate(heap.get(), theirs, 8), ALLOY_E_NOT_OWNED);
  EXPECT_EQ(faults.count(ALLOY_E_NOT_OWNED), 3u);
  EXPECT_NE(faults.last_message().find("small_object"), std::string::npos);
  other.Free(theirs);
}

TEST(SmallObject, FreeIntoAnEmptyPageIsReportedAsADoubleFree) {
  Heap heap;
  alloy_block block = {nullptr, 0};
  std::thread([&] {
    block = heap.Alloc(200);
    heap.Free(block);
  }).join();  // the page went back to the recycler with the thread's cache
  alloy_test::FaultRecorder faults;
  EXPECT_EQ(alloy_small_object_deallocate(heap.get(), block, 8), ALLOY_E_DOUBLE_FREE);
  EXPECT_EQ(faults.count(ALLOY_E_DOUBLE_FREE), 1u);
}

TEST(SmallObject, DebugBuildsCatchWrongSizesAndDoubleFrees) {
#if !ALLOY_DEBUG
  GTEST_SKIP() << "checked in ALLOY_DEBUG builds";
#endif
  Heap heap;
  alloy_test::FaultRecorder faults;
  alloy_block block = heap.Alloc(32);
  EXPECT_EQ(alloy_small_object_deallocate(heap.get(), alloy_block_make(block.ptr, 200), 8), ALLOY_E_SIZE_MISMATCH);
  EXPECT_EQ(alloy_small_object_deallocate(heap.get(), alloy_block_make(static_cast<char *>(block.ptr) + 8, 8), 8),
            ALLOY_E_INTERIOR_POINTER);
  heap.Free(block);
  EXPECT_EQ(alloy_small_object_deallocate(heap.get(), block, 8), ALLOY_E_DOUBLE_FREE);
}

// ---- Every-build misuse checks (regressions) -------------------------------

// After a reported bad free the heap still hands out distinct blocks of its
// own and takes them back.
void ExpectHeapStillWorks(Heap &heap, size_t size) {
  std::set<void *> seen;
  std::vector<alloy_block> blocks;
  for (int i = 0; i < 300; ++i) {
    blocks.push_back(heap.Alloc(size));
    EXPECT_TRUE(seen.insert(blocks.back().ptr).second) << "handed out twice: " << blocks.back().ptr;
    EXPECT_TRUE(alloy_resource_owns(alloy_small_object_resource(heap.get()), blocks.back()));
  }
  for (alloy_block b : blocks) heap.Free(b);
}

// Allocates `count` blocks of `size`, keeping them all live: a double free is
// caught when its block would be handed out the second time, so no pointer
// may come out twice.
std::vector<alloy_block> AllocDistinct(Heap &heap, size_t size, int count) {
  std::set<void *> live;
  std::vector<alloy_block> blocks;
  for (int i = 0; i < count; ++i) {
    blocks.push_back(heap.Alloc(size));
    EXPECT_TRUE(live.insert(blocks.back().ptr).second) << "live block handed out twice: " << blocks.back().ptr;
  }
  return blocks;
}

// Double frees write into freed memory, which ASan and memcheck report
// themselves (first).
bool ToolsCatchDoubleFrees() { return alloy_test::kAsan || alloy_test::UnderValgrind(); }

TEST(SmallObject, Regression_DoubleFreeAfterOtherFreesIsCaught) {
  if (ToolsCatchDoubleFrees()) GTEST_SKIP() << "the tools report the double free first";
  for (size_t size : {16, 24, 64, 80, 256}) {
    Heap heap;
    alloy_test::FaultRecorder faults;
    alloy_block a = heap.Alloc(size);
    alloy_block b = heap.Alloc(size);
    heap.Free(a);
    heap.Free(b);
    alloy_status again = alloy_small_object_deallocate(heap.get(), a, 8);
    EXPECT_TRUE(again == ALLOY_OK || again == ALLOY_E_DOUBLE_FREE) << alloy_status_name(again);
    std::vector<alloy_block> blocks = AllocDistinct(heap, size, 8);
    EXPECT_EQ(faults.count(ALLOY_E_DOUBLE_FREE), 1u) << size;
    EXPECT_NE(faults.last_message().find("small_object"), std::string::npos);
    for (alloy_block block : blocks) heap.Free(block);
    ExpectHeapStillWorks(heap, size);
  }
}

TEST(SmallObject, Regression_DoubleFreeRightAfterTheFreeIsCaught) {
  if (ToolsCatchDoubleFrees()) GTEST_SKIP() << "the tools report the double free first";
  for (size_t size : {16, 64, 200}) {
    Heap heap;
    alloy_test::FaultRecorder faults;
    alloy_block a = heap.Alloc(size);
    heap.Free(a);
    alloy_status again = alloy_small_object_deallocate(heap.get(), a, 8);
    EXPECT_TRUE(again == ALLOY_OK || again == ALLOY_E_DOUBLE_FREE) << alloy_status_name(again);
    std::vector<alloy_block> blocks = AllocDistinct(heap, size, 4);
    EXPECT_EQ(faults.count(ALLOY_E_DOUBLE_FREE), 1u) << size;
    for (alloy_block block : blocks) heap.Free(block);
    ExpectHeapStillWorks(heap, size);
  }
}

TEST(SmallObject, Regression_DoubleFreeOfAReusedBlockIsCaught) {
  // A, B, A with A's first life handed out again in between: the list still
  // never yields a live block.
  if (ToolsCatchDoubleFrees()) GTEST_SKIP() << "the tools report the double free first";
  Heap heap;
  alloy_test::FaultRecorder faults;
  alloy_block a = heap.Alloc(48);
  alloy_block b = heap.Alloc(48);
  heap.Free(a);
  heap.Free(b);
  (void)alloy_small_object_deallocate(heap.get(), a, 8);
  std::vector<alloy_block> first = AllocDistinct(heap, 48, 2);
  // A free of one of them: legitimate, though ALLOY_DEBUG builds, which find
  // that block at the head of the free list (the list still holds it),
  // refuse it.
  (void)alloy_small_object_deallocate(heap.get(), first[0], 8);
  std::vector<alloy_block> more = AllocDistinct(heap, 48, 6);
  std::set<void *> live;
  for (alloy_block block : more) live.insert(block.ptr);
  EXPECT_EQ(live.count(first[1].ptr), 0u) << "a live block handed out again";
  EXPECT_GE(faults.count(ALLOY_E_DOUBLE_FREE), 1u);
  heap.Free(first[1]);
  for (alloy_block block : more) heap.Free(block);
  ExpectHeapStillWorks(heap, 48);
}

TEST(SmallObject, Regression_DoubleFreeCannotEmptyAPageUnderALiveBlock) {
  // A double free counts one free too many: on a page that is not the
  // current one, the count says empty while a block is still live. The page
  // is checked before it is reused, and kept.
  if (ToolsCatchDoubleFrees()) GTEST_SKIP() << "the tools report the double free first";
  Heap heap;
  alloy_test::FaultRecorder faults;
  const size_t per_page = ALLOY_SMALL_OBJECT_DEFAULT_PAGE_SIZE / 256;
  std::vector<alloy_block> first_page = AllocDistinct(heap, 256, static_cast<int>(per_page));
  alloy_block next_page = heap.Alloc(256);  // the first page is full: another one is current
  alloy_block x = first_page[0], y = first_page[1], z = first_page[2];
  for (size_t i = 3; i < per_page; ++i) heap.Free(first_page[i]);
  heap.Free(x);
  heap.Free(z);
  (void)alloy_small_object_deallocate(heap.get(), x, 8);  // the page's count reaches 0 with y live
  EXPECT_EQ(faults.count(ALLOY_E_DOUBLE_FREE), 1u);
  std::vector<alloy_block> blocks = AllocDistinct(heap, 256, 1000);
  for (alloy_block block : blocks) EXPECT_NE(block.ptr, y.ptr) << "a live block handed out again";
  for (alloy_block block : blocks) heap.Free(block);
  heap.Free(y);
  heap.Free(next_page);
  ExpectHeapStillWorks(heap, 256);
}

TEST(SmallObject, Regression_BlockDataLikeAFreeListIsNoDoubleFree) {
  // Live blocks whose words hold what a free list would (a pointer into the
  // same page, or zero) free and come back normally.
  Heap heap;
  alloy_test::FaultRecorder faults;
  alloy_block a = heap.Alloc(32);
  alloy_block b = heap.Alloc(32);
  static_cast<void **>(a.ptr)[0] = b.ptr;
  static_cast<void **>(a.ptr)[1] = b.ptr;
  std::memset(b.ptr, 0, b.size);
  heap.Free(a);
  heap.Free(b);
  std::vector<alloy_block> blocks = AllocDistinct(heap, 32, 4);
  EXPECT_TRUE(faults.faults().empty());
  for (alloy_block block : blocks) heap.Free(block);
}

TEST(SmallObject, Regression_InteriorPointerFreeIsCaught) {
  for (size_t size : {64, 48, 80, 192, 24}) {
    Heap heap;
    alloy_test::FaultRecorder faults;
    alloy_block block = heap.Alloc(size);
    alloy_small_object_stats before = heap.Stats();
    char *p = static_cast<char *>(block.ptr);
    EXPECT_EQ(alloy_small_object_deallocate(heap.get(), alloy_block_make(p + 16, 8), 8), ALLOY_E_INTERIOR_POINTER)
        << size;
    EXPECT_EQ(alloy_small_object_deallocate(heap.get(), alloy_block_make(p + 8, 8), 8), ALLOY_E_INTERIOR_POINTER)
        << size;
    EXPECT_EQ(faults.count(ALLOY_E_INTERIOR_POINTER), 2u) << size;
    ASSERT_FALSE(faults.faults().empty());
    EXPECT_EQ(faults.faults().back().expected_size, block.size);
    EXPECT_NE(faults.last_message().find("small_object"), std::string::npos);
    alloy_small_object_stats after = heap.Stats();
    EXPECT_EQ(after.deallocations, before.deallocations) << "a refused free changed nothing";
    EXPECT_EQ(after.live_bytes, before.live_bytes);
    heap.Free(block);
    ExpectHeapStillWorks(heap, size);
  }
}

TEST(SmallObject, Regression_FreePastTheLastWholeBlockIsCaught) {
  // 48-byte blocks leave a tail of 16 bytes at the end of a 64 KiB page; the
  // tail's start is a multiple of 48 from the page, yet no block.
  Heap heap;
  alloy_test::FaultRecorder faults;
  alloy_block block = heap.Alloc(48);
  const size_t page = ALLOY_SMALL_OBJECT_DEFAULT_PAGE_SIZE;
  char *base = reinterpret_cast<char *>(reinterpret_cast<uintptr_t>(block.ptr) & ~(uintptr_t)(page - 1));
  char *tail = base + page / 48 * 48;
  EXPECT_EQ(alloy_small_object_deallocate(heap.get(), alloy_block_make(tail, 8), 8), ALLOY_E_INTERIOR_POINTER);
  EXPECT_EQ(faults.count(ALLOY_E_INTERIOR_POINTER), 1u);
  heap.Free(block);
  ExpectHeapStillWorks(heap, 48);
}

TEST(SmallObject, Regression_WrongSizeFreeIsCaught) {
  Heap heap;
  alloy_test::FaultRecorder faults;
  alloy_block block = heap.Alloc(64);
  alloy_small_object_stats before = heap.Stats();
  EXPECT_EQ(alloy_small_object_deallocate(heap.get(), alloy_block_make(block.ptr, 4096), 8), ALLOY_E_SIZE_MISMATCH);
  EXPECT_EQ(alloy_small_object_deallocate(heap.get(), alloy_block_make(block.ptr, 65), 8), ALLOY_E_SIZE_MISMATCH);
  EXPECT_EQ(faults.count(ALLOY_E_SIZE_MISMATCH), 2u);
  ASSERT_FALSE(faults.faults().empty());
  EXPECT_EQ(faults.faults().back().expected_size, 64u);
  EXPECT_EQ(heap.Stats().deallocations, before.deallocations);
  heap.Free(alloy_block_make(block.ptr, 64));
  ExpectHeapStillWorks(heap, 64);
}

TEST(SmallObject, Regression_RemoteBadFreesAreCaught) {
  Heap heap;
  alloy_test::FaultRecorder faults;
  alloy_block a = heap.Alloc(64);
  alloy_block b = heap.Alloc(64);
  alloy_status interior = ALLOY_OK, oversized = ALLOY_OK;
  std::thread([&] {
    interior = alloy_small_object_deallocate(heap.get(), alloy_block_make(static_cast<char *>(b.ptr) + 16, 8), 8);
    oversized = alloy_small_object_deallocate(heap.get(), alloy_block_make(b.ptr, 4096), 8);
    alloy_small_object_collect(heap.get());
  }).join();
  EXPECT_EQ(interior, ALLOY_E_INTERIOR_POINTER);
  EXPECT_EQ(oversized, ALLOY_E_SIZE_MISMATCH);
  heap.Free(a);
  heap.Free(b);
  ExpectHeapStillWorks(heap, 64);
}

TEST(SmallObject, Regression_RemoteDoubleFreeRightAfterTheFreeIsCaught) {
  if (ToolsCatchDoubleFrees()) GTEST_SKIP() << "the tools report the double free first";
  Heap heap;
  alloy_test::FaultRecorder faults;
  alloy_block a = heap.Alloc(64);
  alloy_block keep = heap.Alloc(64);
  alloy_status second = ALLOY_OK;
  std::thread([&] {
    EXPECT_EQ(alloy_small_object_deallocate(heap.get(), a, 8), ALLOY_OK);
    second = alloy_small_object_deallocate(heap.get(), a, 8);
    alloy_small_object_collect(heap.get());
  }).join();
  EXPECT_TRUE(second == ALLOY_OK || second == ALLOY_E_DOUBLE_FREE) << alloy_status_name(second);
  alloy_small_object_collect(heap.get());  // the owner takes the batch: A is in it twice
  std::vector<alloy_block> blocks = AllocDistinct(heap, 64, 300);
  EXPECT_EQ(faults.count(ALLOY_E_DOUBLE_FREE), 1u);
  for (alloy_block block : blocks) heap.Free(block);
  heap.Free(keep);
  ExpectHeapStillWorks(heap, 64);
}

TEST(SmallObject, Regression_RemoteDoubleFreeAfterOtherFreesIsCaught) {
  // Another thread frees A, B, A in one batch; then A again in a later batch,
  // and the owner frees B again: the owner never hands a block out twice.
  if (ToolsCatchDoubleFrees()) GTEST_SKIP() << "the tools report the double free first";
  Heap heap;
  alloy_test::FaultRecorder faults;
  alloy_block a = heap.Alloc(64);
  alloy_block b = heap.Alloc(64);
  std::vector<alloy_block> keep = AllocDistinct(heap, 64, 4);
  std::thread([&] {
    EXPECT_EQ(alloy_small_object_deallocate(heap.get(), a, 8), ALLOY_OK);
    EXPECT_EQ(alloy_small_object_deallocate(heap.get(), b, 8), ALLOY_OK);
    (void)alloy_small_object_deallocate(heap.get(), a, 8);
    alloy_small_object_collect(heap.get());
  }).join();
  alloy_small_object_collect(heap.get());
  std::vector<alloy_block> blocks = AllocDistinct(heap, 64, 300);
  EXPECT_GE(faults.count(ALLOY_E_DOUBLE_FREE), 1u);
  for (alloy_block block : blocks) heap.Free(block);
  for (alloy_block block : keep) heap.Free(block);
  ExpectHeapStillWorks(heap, 64);
}

TEST(SmallObject, Regression_RemoteDoubleFreeInLaterBatchesIsCaught) {
  if (ToolsCatchDoubleFrees()) GTEST_SKIP() << "the tools report the double free first";
  Heap heap;
  alloy_test::FaultRecorder faults;
  alloy_block a = heap.Alloc(64);
  std::vector<alloy_block> keep = AllocDistinct(heap, 64, 4);
  heap.Free(a);  // freed by its owner ...
  std::thread([&] {
    (void)alloy_small_object_deallocate(heap.get(), a, 8);  // ... and again by another thread
    alloy_small_object_collect(heap.get());
  }).join();
  std::vector<alloy_block> blocks = AllocDistinct(heap, 64, 300);  // reclaims the batch on the way
  alloy_small_object_collect(heap.get());
  std::vector<alloy_block> more = AllocDistinct(heap, 64, 300);
  std::set<void *> live;
  for (alloy_block block : blocks) live.insert(block.ptr);
  for (alloy_block block : more) EXPECT_EQ(live.count(block.ptr), 0u) << "a live block handed out again";
  EXPECT_EQ(faults.count(ALLOY_E_DOUBLE_FREE), 1u);
  for (alloy_block block : blocks) heap.Free(block);
  for (alloy_block block : more) heap.Free(block);
  for (alloy_block block : keep) heap.Free(block);
  ExpectHeapStillWorks(heap, 64);
}

TEST(SmallObject, Regression_UseAfterFreeWriteIsReportedNotHandedOut) {
  if (ToolsCatchDoubleFrees()) GTEST_SKIP() << "writes into freed (poisoned) memory";
  for (size_t size : {16, 64, 256}) {
    Heap heap;
    alloy_test::FaultRecorder faults;
    alloy_resource *resource = alloy_small_object_resource(heap.get());
    alloy_block a = heap.Alloc(size);
    alloy_block b = heap.Alloc(size);
    heap.Free(b);
    heap.Free(a);  // the list: a, b, ...
    static_cast<volatile uintptr_t *>(a.ptr)[0] = 0x4141414141414141u;  // a wild link
    static_cast<volatile uintptr_t *>(a.ptr)[1] = 0x4242424242424242u;  // and whatever follows it
    std::set<void *> live;
    std::vector<alloy_block> blocks;
    for (int i = 0; i < 2000; ++i) {
      blocks.push_back(heap.Alloc(size));
      ASSERT_TRUE(alloy_resource_owns(resource, blocks.back())) << blocks.back().ptr;
      EXPECT_TRUE(live.insert(blocks.back().ptr).second) << blocks.back().ptr;
    }
    EXPECT_EQ(faults.count(ALLOY_E_CORRUPTION), 1u) << size;
    EXPECT_EQ(live.count(a.ptr), 0u) << "the overwritten block is not handed out";
    for (alloy_block block : blocks) heap.Free(block);
    ExpectHeapStillWorks(heap, size);
  }
}

TEST(SmallObject, DestroyWithLiveBlocksReleasesEverything) {
  // Destroy is an arena-style release: live blocks go with it, nothing leaks
  // (LeakSanitizer and memcheck check this process at exit).
  alloy_small_object *heap = nullptr;
  ASSERT_EQ(alloy_small_object_create(nullptr, &heap), ALLOY_OK);
  for (int i = 0; i < 1000; ++i) {
    alloy_block block;
    ASSERT_EQ(alloy_small_object_allocate(heap, 64, 8, &block), ALLOY_OK);
  }
  std::thread([&] {
    alloy_block block;
    ASSERT_EQ(alloy_small_object_allocate(heap, 64, 8, &block), ALLOY_OK);
  }).join();
  alloy_small_object_destroy(heap);
  // A new heap works, and the stale thread-local binding does not confuse it.
  ASSERT_EQ(alloy_small_object_create(nullptr, &heap), ALLOY_OK);
  alloy_block block;
  ASSERT_EQ(alloy_small_object_allocate(heap, 64, 8, &block), ALLOY_OK);
  EXPECT_EQ(alloy_small_object_deallocate(heap, block, 8), ALLOY_OK);
  alloy_small_object_destroy(heap);
}

TEST(SmallObjectDeathTest, AsanReportsUseAfterFree) {
  if (!alloy_test::kAsan) GTEST_SKIP() << "needs AddressSanitizer";
  EXPECT_DEATH(
      {
        Heap heap;
        alloy_block block = heap.Alloc(64);
        heap.Free(block);
        static_cast<volatile char *>(block.ptr)[10] = 1;
      },
      "use-after-poison");
}

TEST(SmallObjectDeathTest, MemcheckReportsUseAfterFree) {
  if (!alloy_test::UnderValgrind()) GTEST_SKIP() << "needs Valgrind";
  EXPECT_EXIT(
      {
        Heap heap;
        alloy_block block = heap.Alloc(64);
        heap.Free(block);
        static_cast<volatile char *>(block.ptr)[10] = 1;
        std::exit(0);
      },
      ::testing::ExitedWithCode(97), "");
}

TEST(SmallObjectDeathTest, MemcheckReportsUseAfterRemoteFree) {
  if (!alloy_test::UnderValgrind() && !alloy_test::kAsan) GTEST_SKIP() << "needs Valgrind or ASan";
  auto body = [] {
    Heap heap;
    alloy_block block = heap.Alloc(64);
    std::thread([&] {
      heap.Free(block);
      alloy_small_object_collect(heap.get());
    }).join();
    alloy_small_object_collect(heap.get());
    static_cast<volatile char *>(block.ptr)[20] = 1;
    std::exit(0);
  };
  if (alloy_test::kAsan)
    EXPECT_DEATH(body(), "use-after-poison");
  else
    EXPECT_EXIT(body(), ::testing::ExitedWithCode(97), "");
}

}  // namespace

// A pointer-only free finds the block size from the address alone: every
// block start of the heap answers its class size, anything else 0.
TEST(SmallObjectBlockSize, AnswersBlockStartsOnly) {
  alloy_small_object *heap = nullptr;
  ASSERT_EQ(alloy_small_object_create(nullptr, &heap), ALLOY_OK);
  EXPECT_EQ(alloy_small_object_block_size(heap, nullptr), 0u);
  int on_stack = 0;
  EXPECT_EQ(alloy_small_object_block_size(heap, &on_stack), 0u);
  std::vector<alloy_block> blocks;
  for (size_t size = 1; size <= 256; size += 7) {
    alloy_block block;
    ASSERT_EQ(alloy_small_object_allocate(heap, size, 8, &block), ALLOY_OK);
    EXPECT_EQ(alloy_small_object_block_size(heap, block.ptr), block.size) << size;
    EXPECT_GE(block.size, size);
    EXPECT_EQ(alloy_small_object_block_size(heap, static_cast<char *>(block.ptr) + 1), 0u) << size;
    blocks.push_back(block);
  }
  // Another heap's blocks are foreign.
  alloy_small_object *other = nullptr;
  ASSERT_EQ(alloy_small_object_create(nullptr, &other), ALLOY_OK);
  EXPECT_EQ(alloy_small_object_block_size(other, blocks[0].ptr), 0u);
  alloy_small_object_destroy(other);
  for (const alloy_block &block : blocks) {
    alloy_block sized = {block.ptr, alloy_small_object_block_size(heap, block.ptr)};
    EXPECT_EQ(alloy_small_object_deallocate(heap, sized, 1), ALLOY_OK);
  }
  alloy_small_object_destroy(heap);
}

// The pointer-only free: a block start is freed with its own size (the next
// allocation of its class gets it back, counted as a free); a pointer
// outside the heap's pages is left alone, unreported; an interior pointer
// inside them is reported and frees nothing.
TEST(SmallObjectFree, FreesBlockStartsAndLeavesOtherMemoryAlone) {
  alloy_test::FaultRecorder faults;
  alloy_small_object *heap = nullptr;
  ASSERT_EQ(alloy_small_object_create(nullptr, &heap), ALLOY_OK);
  int on_stack = 0;
  EXPECT_FALSE(alloy_small_object_free(heap, nullptr));
  EXPECT_FALSE(alloy_small_object_free(heap, &on_stack));
  EXPECT_EQ(faults.faults().size(), 0u);
  for (size_t size = 1; size <= 256; size += 7) {
    alloy_block block;
    ASSERT_EQ(alloy_small_object_allocate(heap, size, 8, &block), ALLOY_OK);
    EXPECT_TRUE(alloy_small_object_free(heap, static_cast<char *>(block.ptr) + 4)) << size;
    EXPECT_EQ(faults.count(ALLOY_E_INTERIOR_POINTER), 1u) << size;
    faults.clear();
    EXPECT_TRUE(alloy_small_object_free(heap, block.ptr)) << size;
    alloy_block again;
    ASSERT_EQ(alloy_small_object_allocate(heap, size, 8, &again), ALLOY_OK);
    EXPECT_EQ(again.ptr, block.ptr) << size;
    EXPECT_TRUE(alloy_small_object_free(heap, again.ptr));
  }
  EXPECT_EQ(faults.faults().size(), 0u);
  alloy_small_object_stats stats;
  alloy_small_object_get_stats(heap, &stats);
  EXPECT_EQ(stats.live_bytes, 0u);
  EXPECT_EQ(stats.allocations, stats.deallocations);
  alloy_small_object_destroy(heap);
}

// The free's block-start test (one 32-bit multiply and compare from the
// page descriptor) against the layout, for every class up to 8 KiB in the
// largest pages, where the test's bound is tightest: over a whole page, an
// offset names a block exactly when it is a multiple of the block size
// below the last whole block. alloy_small_object_block_size answers from
// the same test, without touching the block.
TEST(SmallObject, Regression_BlockStartTestMatchesTheLayoutForEveryClass) {
  alloy_small_object_config config = {};
  config.max_size = ALLOY_SMALL_OBJECT_MAX_CLASS_SIZE;
  config.page_size = 256u * 1024u;
  Heap heap(config);
  for (size_t cls = 0; cls < alloy_size_class_count(config.max_size); ++cls) {
    const size_t size = alloy_size_class_size(cls);
    alloy_block block = heap.Alloc(size);
    ASSERT_EQ(block.size, size);
    const uintptr_t page = reinterpret_cast<uintptr_t>(block.ptr) & ~uintptr_t{config.page_size - 1};
    const size_t last_end = config.page_size / size * size;
    size_t mismatches = 0;
    for (size_t offset = 0; offset < config.page_size; ++offset) {
      if ((offset & 7) != 0 && (offset & 7) != 5) continue;  // every word, and an odd byte of each
      const size_t expected = offset % size == 0 && offset < last_end ? size : 0;
      const size_t got = alloy_small_object_block_size(heap.get(), reinterpret_cast<void *>(page + offset));
      if (got != expected && ++mismatches <= 3) ADD_FAILURE() << "block size " << size << ", offset " << offset;
    }
    EXPECT_EQ(mismatches, 0u) << "block size " << size;
    heap.Free(block);
  }
}
