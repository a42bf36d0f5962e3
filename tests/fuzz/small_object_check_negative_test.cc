// Checker self-test for the small-object heap: corrupts one invariant at a
// time (a free-list link, a free block's mark, a list's shape, a field of a
// page descriptor) and requires alloy_small_object_check to name that rule,
// so the small-object fuzz targets' "check is clean" assertions can be
// trusted. An untouched control passes; restoring the word heals the heap,
// which then keeps allocating and freeing.
//
// The layouts are the ones small_object_internal.h documents: a free block
// links to the next in its first word and holds the heap's free key in its
// second (blocks of 16 bytes and more); the page descriptors are two cache
// lines each and run downwards from the first page, page i's at
// pages_begin - (i + 1) descriptors. The test mirrors only the fields it
// corrupts, and checks the mirror against what it knows before using it.
#include <gtest/gtest.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "alloy/fault.h"
#include "alloy/size_class.h"
#include "alloy/small_object.h"
#include "alloy/tool_hooks.h"

#include "tests/fuzz/recorded_fault.h"

namespace {

constexpr size_t kPageSize = size_t{1} << 14;

struct PageDescriptor {  // mirrors so_page
  void *free;
  uint64_t allocations;
  uint64_t frees;
  uint32_t slow_at;
  uint32_t block_size;
  uint8_t state;
  bool decommitted;
  bool suspect;
  uint32_t reclaimed;
  void *deferred;
  char *unbuilt;
  PageDescriptor *prev;
  alignas(64) void *owner;
  void *heap;
  char *base;
  PageDescriptor *next;
  uint32_t block_magic;
  uint32_t block_limit;
  uint8_t size_class;
  uint16_t block_count;
  uint16_t free_size_max;
  uint8_t mark_offset;
  // The page's remote-free source follows, inside the second line.
};
constexpr size_t kDescriptorBytes = 128;  // two cache lines
static_assert(offsetof(PageDescriptor, owner) == 64, "the second line starts at the owner");
static_assert(sizeof(PageDescriptor) <= kDescriptorBytes, "the mirror fits a descriptor");
constexpr uint8_t kStatePartial = 2;  // SO_PAGE_PARTIAL

using alloy_fuzz::Record;
using alloy_fuzz::Recorded;

void **Words(void *block) { return static_cast<void **>(block); }

// A heap with 16 KiB pages: page 0 holds 64-byte blocks a, b, c, d, of
// which b, then d were freed (its free list: d -> b -> the rest of the
// carved blocks); page 1 holds 16-byte blocks x, y, z, of which y was freed.
class SmallObjectCheckNegative : public ::testing::Test {
 protected:
  void SetUp() override {
    alloy_fault_set_handler(Record, &recorded_);
    alloy_small_object_config config = {};
    config.page_size = kPageSize;
    config.capacity = size_t{1} << 24;
    config.max_threads = 4;
    ASSERT_EQ(alloy_small_object_create(&config, &heap_), ALLOY_OK);
    for (alloy_block *block : {&a_, &b_, &c_, &d_}) Allocate(64, block);
    for (alloy_block *block : {&x_, &y_, &z_}) Allocate(16, block);
    Free(b_);
    Free(d_);
    Free(y_);
    ASSERT_EQ(alloy_small_object_check(heap_), ALLOY_OK);
    ASSERT_EQ(recorded_.faults, 0);

    // Page 0 starts the page area; its first block is a.
    pages_begin_ = static_cast<char *>(a_.ptr);
    ASSERT_EQ(reinterpret_cast<uintptr_t>(pages_begin_) % kPageSize, 0u);
    large_ = reinterpret_cast<PageDescriptor *>(pages_begin_ - kDescriptorBytes);
    small_ = reinterpret_cast<PageDescriptor *>(pages_begin_ - 2 * kDescriptorBytes);
    ASSERT_EQ(large_->heap, heap_) << "the test's mirror of the descriptor is out of date";
    ASSERT_EQ(large_->base, pages_begin_);
    ASSERT_EQ(large_->block_size, 64u);
    ASSERT_EQ(large_->free_size_max, 64u);
    ASSERT_EQ(large_->size_class, alloy_size_class_of(64));
    ASSERT_EQ(large_->block_count, kPageSize / 64);
    ASSERT_EQ(small_->base, pages_begin_ + kPageSize);
    ASSERT_EQ(small_->block_size, 16u);
    ASSERT_EQ(small_->size_class, alloy_size_class_of(16));
    ASSERT_EQ(small_->owner, large_->owner);
  }

  void TearDown() override {
    alloy_small_object_destroy(heap_);
    alloy_fault_set_handler(nullptr, nullptr);
  }

  void Allocate(size_t size, alloy_block *out) {
    ASSERT_EQ(alloy_small_object_allocate(heap_, size, 8, out), ALLOY_OK);
    std::memset(out->ptr, 0, out->size);
  }

  void Free(alloy_block block) { ASSERT_EQ(alloy_small_object_deallocate(heap_, block, 8), ALLOY_OK); }

  // A free block's words are the heap's: the memory tools allow only its
  // own accesses, and the test reaches past that on purpose.
  void SaveBlockWord(void *word) {
    ALLOY_MEM_DEFINED(word, sizeof(void *));
    Save(word, sizeof(void *));
  }

  void Save(void *where, size_t bytes) {
    ASSERT_LE(bytes, sizeof saved_);
    saved_where_ = where;
    saved_bytes_ = bytes;
    std::memcpy(saved_, where, bytes);
  }

  // Runs the check on the corrupted heap, undoes the corruption, and
  // requires the heap sound and working again.
  void ExpectReported(const char *rule) {
    EXPECT_EQ(alloy_small_object_check(heap_), ALLOY_E_CORRUPTION);
    EXPECT_EQ(recorded_.faults, 1);
    EXPECT_EQ(recorded_.kind, ALLOY_E_CORRUPTION);
    EXPECT_EQ(recorded_.detail, rule);
    ALLOY_MEM_DEFINED(saved_where_, saved_bytes_);
    std::memcpy(saved_where_, saved_, saved_bytes_);
    recorded_ = Recorded{};
    EXPECT_EQ(alloy_small_object_check(heap_), ALLOY_OK) << "restoring the word must heal the heap";
    EXPECT_EQ(recorded_.faults, 0);
    ExpectWorking();
  }

  // Both classes hand out and take back blocks, and the check stays clean.
  void ExpectWorking() {
    alloy_block large{}, small{};
    Allocate(64, &large);
    Allocate(16, &small);
    if (heads_known_) {
      EXPECT_EQ(large.ptr, d_.ptr);  // the head of page 0's list
      EXPECT_EQ(small.ptr, y_.ptr);
    }
    EXPECT_EQ(alloy_small_object_check(heap_), ALLOY_OK);
    Free(large);
    Free(small);
    EXPECT_EQ(alloy_small_object_check(heap_), ALLOY_OK);
    EXPECT_EQ(recorded_.faults, 0);
  }

  alloy_small_object *heap_ = nullptr;
  bool heads_known_ = true;  // which blocks the next hand-outs give: d, then y
  alloy_block a_{}, b_{}, c_{}, d_{}, x_{}, y_{}, z_{};
  char *pages_begin_ = nullptr;
  PageDescriptor *large_ = nullptr;  // page 0: 64-byte blocks
  PageDescriptor *small_ = nullptr;  // page 1: 16-byte blocks
  void *saved_where_ = nullptr;
  size_t saved_bytes_ = 0;
  alignas(8) unsigned char saved_[16] = {};
  Recorded recorded_;
};

TEST_F(SmallObjectCheckNegative, UncorruptedControlPasses) {
  EXPECT_EQ(alloy_small_object_check(heap_), ALLOY_OK);
  EXPECT_EQ(recorded_.faults, 0);
  ExpectWorking();
}

// ---- Free lists ------------------------------------------------------------

TEST_F(SmallObjectCheckNegative, LinkOutsideThePage) {
  static uint64_t elsewhere[8];
  SaveBlockWord(&Words(d_.ptr)[0]);
  Words(d_.ptr)[0] = elsewhere;
  ExpectReported("a free-list link points outside its page's blocks");
}

TEST_F(SmallObjectCheckNegative, LinkIntoAnotherPageOfTheHeap) {
  SaveBlockWord(&Words(d_.ptr)[0]);
  Words(d_.ptr)[0] = y_.ptr;  // a free block, of the other class's page
  ExpectReported("a free-list link points outside its page's blocks");
}

TEST_F(SmallObjectCheckNegative, LinkIntoTheMiddleOfABlock) {
  SaveBlockWord(&Words(d_.ptr)[0]);
  Words(d_.ptr)[0] = static_cast<char *>(a_.ptr) + 8;
  ExpectReported("a free-list link points inside a block, not at its start");
}

TEST_F(SmallObjectCheckNegative, LinkIntoBlocksNeverCarved) {
  ASSERT_LT(large_->unbuilt, pages_begin_ + kPageSize) << "the page must have blocks never carved";
  SaveBlockWord(&Words(d_.ptr)[0]);
  Words(d_.ptr)[0] = large_->unbuilt;
  ExpectReported("a free-list link points into blocks never carved");
}

TEST_F(SmallObjectCheckNegative, FreeBlockLostItsMark) {
  SaveBlockWord(&Words(b_.ptr)[1]);
  Words(b_.ptr)[1] = nullptr;
  ExpectReported("a free block is not marked free");
}

TEST_F(SmallObjectCheckNegative, SmallFreeBlockLostItsMark) {
  SaveBlockWord(&Words(y_.ptr)[1]);
  Words(y_.ptr)[1] = &saved_;
  ExpectReported("a free block is not marked free");
}

TEST_F(SmallObjectCheckNegative, LinkToALiveBlock) {
  SaveBlockWord(&Words(b_.ptr)[0]);
  Words(b_.ptr)[0] = c_.ptr;  // c is handed out: it carries no mark
  ExpectReported("a free block is not marked free");
  ALLOY_MEM_DEFINED(c_.ptr, c_.size);  // the walk read c as a free block and left it so for the tools
}

TEST_F(SmallObjectCheckNegative, ListCycles) {
  SaveBlockWord(&Words(b_.ptr)[0]);
  Words(b_.ptr)[0] = d_.ptr;  // d -> b -> d -> ...
  ExpectReported("a free list is longer than its page's carved blocks: it cycles (a double free)");
}

TEST_F(SmallObjectCheckNegative, ListCutShort) {
  SaveBlockWord(&Words(d_.ptr)[0]);
  Words(d_.ptr)[0] = nullptr;  // b and the carved blocks behind it are lost
  ExpectReported("a page's free blocks and blocks in use do not add up to the blocks it carved");
}

// ---- Page descriptors ------------------------------------------------------

TEST_F(SmallObjectCheckNegative, DescriptorNamesAnotherHeap) {
  Save(&large_->heap, sizeof large_->heap);
  large_->heap = &saved_;
  ExpectReported("a page descriptor names another heap");
}

TEST_F(SmallObjectCheckNegative, DescriptorPointsAtAnotherPagesMemory) {
  Save(&large_->base, sizeof large_->base);
  large_->base += kPageSize;
  ExpectReported("a page's memory is not its slot in the page area");
}

TEST_F(SmallObjectCheckNegative, SizeClassOutOfRange) {
  Save(&large_->size_class, sizeof large_->size_class);
  large_->size_class = 200;
  ExpectReported("a page's size class is out of range");
}

TEST_F(SmallObjectCheckNegative, SizeClassIsAnotherClass) {
  Save(&large_->size_class, sizeof large_->size_class);
  large_->size_class = small_->size_class;
  ExpectReported("a page's block size is not its class's");
}

TEST_F(SmallObjectCheckNegative, BlockSizeIsNotTheClasss) {
  Save(&small_->block_size, sizeof small_->block_size);
  small_->block_size = 24;
  ExpectReported("a page's block size is not its class's");
}

TEST_F(SmallObjectCheckNegative, BlockCountDoesNotFillThePage) {
  Save(&large_->block_count, sizeof large_->block_count);
  large_->block_count--;
  ExpectReported("a page's block count does not fill the page");
}

TEST_F(SmallObjectCheckNegative, BlockStartTestIsStale) {
  Save(&large_->block_magic, sizeof large_->block_magic);
  large_->block_magic ^= 2;
  ExpectReported("a page's block-start test does not match its block size");
}

TEST_F(SmallObjectCheckNegative, PageOwnedByAnotherCache) {
  Save(&small_->owner, sizeof small_->owner);
  small_->owner = &saved_;
  ExpectReported("a page on a cache's list is owned by another cache");
}

TEST_F(SmallObjectCheckNegative, StateDoesNotMatchTheList) {
  Save(&large_->state, sizeof large_->state);
  large_->state = kStatePartial;  // it is its class's current page
  ExpectReported("a page's state does not match the list it is on");
}

TEST_F(SmallObjectCheckNegative, CarvingCursorInsideABlock) {
  Save(&large_->unbuilt, sizeof large_->unbuilt);
  large_->unbuilt += 8;
  ExpectReported("a page's carving cursor is outside its blocks");
}

TEST_F(SmallObjectCheckNegative, MoreBlocksInUseThanCarved) {
  Save(&large_->allocations, sizeof large_->allocations);
  large_->allocations += kPageSize;  // as many hand-outs as no page could hold
  ExpectReported("a page counts more blocks in use than it carved");
}

TEST_F(SmallObjectCheckNegative, BlocksInUseDoNotMatchTheLists) {
  Save(&small_->frees, sizeof small_->frees);
  small_->frees++;  // one free counted that no list holds
  ExpectReported("a page's free blocks and blocks in use do not add up to the blocks it carved");
}

// ---- A partial page ------------------------------------------------------------

// Page 0's blocks all handed out, then one of them freed: page 0 leaves the
// class's current slot for its partial list, behind page 2.
class SmallObjectCheckPartial : public SmallObjectCheckNegative {
 protected:
  void SetUp() override {
    SmallObjectCheckNegative::SetUp();
    if (HasFatalFailure()) return;
    heads_known_ = false;
    filled_.resize(kPageSize / 64 - 2 + 1);  // the rest of page 0 (all but a and c), and one more
    for (alloy_block &block : filled_) Allocate(64, &block);
    ASSERT_NE(reinterpret_cast<uintptr_t>(filled_.back().ptr) / kPageSize,
              reinterpret_cast<uintptr_t>(a_.ptr) / kPageSize)
        << "the last block comes from a new page";
    Free(c_);
    ASSERT_EQ(large_->state, kStatePartial);
    ASSERT_EQ(alloy_small_object_check(heap_), ALLOY_OK);
  }

  std::vector<alloy_block> filled_;
};

TEST_F(SmallObjectCheckPartial, ControlPasses) {
  EXPECT_EQ(alloy_small_object_check(heap_), ALLOY_OK);
  EXPECT_EQ(recorded_.faults, 0);
}

TEST_F(SmallObjectCheckPartial, SlowPathTriggerIsStale) {
  Save(&large_->slow_at, sizeof large_->slow_at);
  large_->slow_at++;  // the page would not retire when its last block comes back
  ExpectReported("a partial page's slow-path trigger does not match its blocks in use");
}

TEST_F(SmallObjectCheckPartial, BackLinkIsBroken) {
  Save(&large_->prev, sizeof large_->prev);
  large_->prev = small_;  // page 0 is the list's only page
  ExpectReported("a partial list's back link is broken");
}

// ---- The control while another thread frees ----------------------------------

// The check's contract: no other thread allocates, but others may free,
// into any page, meanwhile (under tsan: without a race). Another thread
// frees blocks of this thread's pages, collects and detaches while this
// thread checks; every check is clean, and so is the heap once this thread
// took the frees back.
TEST(SmallObjectCheckConcurrent, CleanWhileAnotherThreadFrees) {
  alloy_small_object_config config = {};
  config.page_size = kPageSize;
  config.capacity = size_t{1} << 24;
  alloy_small_object *heap = nullptr;
  ASSERT_EQ(alloy_small_object_create(&config, &heap), ALLOY_OK);
  std::vector<alloy_block> blocks(600);
  for (size_t i = 0; i < blocks.size(); ++i)
    ASSERT_EQ(alloy_small_object_allocate(heap, size_t{16} << (i % 3), 8, &blocks[i]), ALLOY_OK);
  std::atomic<bool> done{false};
  std::atomic<int> checks{0};
  std::thread freer([&] {
    while (checks.load(std::memory_order_acquire) == 0) std::this_thread::yield();  // overlap the checks
    for (const alloy_block &block : blocks) EXPECT_EQ(alloy_small_object_deallocate(heap, block, 8), ALLOY_OK);
    alloy_small_object_collect(heap);  // sends what is still batched
    alloy_small_object_thread_detach(heap);
    done.store(true, std::memory_order_release);
  });
  do {
    ASSERT_EQ(alloy_small_object_check(heap), ALLOY_OK) << "after " << checks.load() << " clean checks";
    checks.fetch_add(1, std::memory_order_release);
  } while (!done.load(std::memory_order_acquire));
  freer.join();
  alloy_small_object_collect(heap);
  EXPECT_EQ(alloy_small_object_check(heap), ALLOY_OK);
  alloy_small_object_stats stats;
  alloy_small_object_get_stats(heap, &stats);
  EXPECT_EQ(stats.live_bytes, 0u);
  alloy_small_object_destroy(heap);
}

}  // namespace
