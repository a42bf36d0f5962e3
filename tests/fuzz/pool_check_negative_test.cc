// Checker self-test for the pool: corrupts one invariant at a time (a free
// list link, a free block's mark, the list's shape, a slab header) and
// requires alloy_pool_check to name that corruption, so the pool fuzz
// targets' "check is clean" assertions can be trusted. An untouched control
// passes, and restoring the word heals the pool.
//
// The free block layout is the one pool.h's inline paths use: the first
// word links to the next free block, the second holds the pool's free key;
// a slab's first word names its pool.
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "alloy/fault.h"
#include "alloy/pool.h"
#include "alloy/tool_hooks.h"

#include "tests/fuzz/recorded_fault.h"

namespace {

constexpr size_t kSlabSize = size_t{1} << 14;

using alloy_fuzz::Record;
using alloy_fuzz::Recorded;

void **Words(void *block) { return static_cast<void **>(block); }

// A pool of 64-byte blocks with a, b, c, d handed out and b, then d freed:
// the free list is d -> b.
class PoolCheckNegative : public ::testing::Test {
 protected:
  void SetUp() override {
    alloy_fault_set_handler(Record, &recorded_);
    alloy_pool_config config = alloy_pool_config_default(64);
    config.slab_size = kSlabSize;
    ASSERT_EQ(alloy_pool_create(&config, &pool_), ALLOY_OK);
    for (alloy_block *block : {&a_, &b_, &c_, &d_}) {
      ASSERT_EQ(alloy_pool_allocate(pool_, 64, 16, block), ALLOY_OK);
      std::memset(block->ptr, 0, block->size);
    }
    ASSERT_EQ(alloy_pool_free(pool_, b_, 16), ALLOY_OK);
    ASSERT_EQ(alloy_pool_free(pool_, d_, 16), ALLOY_OK);
    ASSERT_EQ(alloy_pool_check(pool_), ALLOY_OK);
    ASSERT_EQ(recorded_.faults, 0);
  }

  void TearDown() override {
    alloy_pool_destroy(pool_);
    alloy_fault_set_handler(nullptr, nullptr);
  }

  // The pool's own accesses to a free block's words are the only ones the
  // memory tools allow; the test reaches past that on purpose.
  void Save(void *word) {
    ALLOY_MEM_DEFINED(word, sizeof(void *));
    saved_word_ = word;
    std::memcpy(&saved_, word, sizeof saved_);
  }

  // Runs the check on the corrupted pool, then undoes the corruption.
  void ExpectReported(const char *rule) {
    EXPECT_EQ(alloy_pool_check(pool_), ALLOY_E_CORRUPTION);
    EXPECT_EQ(recorded_.faults, 1);
    EXPECT_EQ(recorded_.kind, ALLOY_E_CORRUPTION);
    EXPECT_EQ(recorded_.detail, rule);
    ALLOY_MEM_DEFINED(saved_word_, sizeof(void *));
    std::memcpy(saved_word_, &saved_, sizeof saved_);
    recorded_ = Recorded{};
    EXPECT_EQ(alloy_pool_check(pool_), ALLOY_OK) << "restoring the word must heal the pool";
    EXPECT_EQ(recorded_.faults, 0);
  }

  alloy_pool *pool_ = nullptr;
  alloy_block a_{}, b_{}, c_{}, d_{};
  void *saved_word_ = nullptr;
  uintptr_t saved_ = 0;
  Recorded recorded_;
};

TEST_F(PoolCheckNegative, UncorruptedControlPasses) {
  EXPECT_EQ(alloy_pool_check(pool_), ALLOY_OK);
  EXPECT_EQ(recorded_.faults, 0);
}

TEST_F(PoolCheckNegative, LinkOutsideThePool) {
  static uint64_t elsewhere[8];
  Save(&Words(d_.ptr)[0]);
  Words(d_.ptr)[0] = elsewhere;
  ExpectReported("a free-list link points outside every block of the pool");
}

TEST_F(PoolCheckNegative, LinkIntoTheMiddleOfABlock) {
  Save(&Words(d_.ptr)[0]);
  Words(d_.ptr)[0] = static_cast<char *>(a_.ptr) + 8;
  ExpectReported("a free-list link points outside every block of the pool");
}

TEST_F(PoolCheckNegative, LinkIntoBlocksNeverCarved) {
  Save(&Words(d_.ptr)[0]);
  Words(d_.ptr)[0] = static_cast<char *>(d_.ptr) + 4 * d_.size;  // d is the last block carved
  ExpectReported("a free-list link points into blocks never carved");
}

TEST_F(PoolCheckNegative, FreeBlockLostItsMark) {
  Save(&Words(b_.ptr)[1]);
  Words(b_.ptr)[1] = nullptr;
  ExpectReported("a block on the free list is not marked free");
}

TEST_F(PoolCheckNegative, LinkToALiveBlock) {
  Save(&Words(b_.ptr)[0]);
  Words(b_.ptr)[0] = c_.ptr;  // c is handed out: it carries no mark
  ExpectReported("a block on the free list is not marked free");
}

TEST_F(PoolCheckNegative, ListCycles) {
  Save(&Words(b_.ptr)[0]);
  Words(b_.ptr)[0] = d_.ptr;  // d -> b -> d -> ...
  ExpectReported("the free list is longer than the blocks carved: it cycles (a double free)");
}

TEST_F(PoolCheckNegative, SlabHeaderNamesAnotherPool) {
  void *slab = reinterpret_cast<void *>(reinterpret_cast<uintptr_t>(a_.ptr) & ~(kSlabSize - 1));
  Save(slab);
  Words(slab)[0] = &saved_;
  ExpectReported("a slab header names another pool");
}

}  // namespace
