// Checker self-test: corrupts one invariant at a time in TLSF's metadata and
// requires alloy_tlsf_check to name that corruption, so the fuzz targets'
// "check is clean" assertions can be trusted. An untouched control passes.
//
// The block header layout is the one tlsf_internal.h documents (prev_phys,
// size | flags, next_free, prev_free; the payload starts at next_free) and
// the control structure starts with the resource and fl_bitmap. The test
// mirrors only those few words.
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "alloy/fault.h"
#include "alloy/tlsf.h"
#include "alloy/tool_hooks.h"

#include "tests/fuzz/recorded_fault.h"

namespace {

struct BlockHeader {  // mirrors tlsf_block
  BlockHeader *prev_phys;
  size_t size;
  BlockHeader *next_free;
  BlockHeader *prev_free;
};
constexpr size_t kPayloadOffset = offsetof(BlockHeader, next_free);
constexpr size_t kPrevFree = 2;

struct ControlHead {  // mirrors the start of struct alloy_tlsf
  alloy_resource resource;
  uint32_t fl_bitmap;
};

BlockHeader *HeaderOf(void *payload) {
  return reinterpret_cast<BlockHeader *>(static_cast<char *>(payload) - kPayloadOffset);
}

using alloy_fuzz::Record;
using alloy_fuzz::Recorded;

// A heap in a buffer of its own with three used blocks a, b, c and b freed:
// b is a free block between two used ones, alone on its free list.
class TlsfCheckNegative : public ::testing::Test {
 protected:
  void SetUp() override {
    alloy_fault_set_handler(Record, &recorded_);
    ASSERT_EQ(alloy_tlsf_create_in_place(memory_, sizeof memory_, &tlsf_), ALLOY_OK);
    ASSERT_EQ(alloy_tlsf_allocate(tlsf_, 64, 16, &a_), ALLOY_OK);
    ASSERT_EQ(alloy_tlsf_allocate(tlsf_, 96, 16, &b_), ALLOY_OK);
    ASSERT_EQ(alloy_tlsf_allocate(tlsf_, 64, 16, &c_), ALLOY_OK);
    // Defined contents: a corrupted walk may read a used payload as a header.
    std::memset(a_.ptr, 0, a_.size);
    std::memset(c_.ptr, 0, c_.size);
    ASSERT_EQ(alloy_tlsf_deallocate(tlsf_, b_), ALLOY_OK);
    ASSERT_EQ(alloy_tlsf_check(tlsf_), ALLOY_OK);
    ASSERT_EQ(recorded_.faults, 0);
  }

  void TearDown() override { alloy_fault_set_handler(nullptr, nullptr); }

  // Runs the check on the corrupted heap, then undoes the corruption.
  void ExpectReported(const char *rule, void *word, size_t bytes) {
    EXPECT_EQ(alloy_tlsf_check(tlsf_), ALLOY_E_CORRUPTION);
    EXPECT_EQ(recorded_.faults, 1);
    EXPECT_EQ(recorded_.kind, ALLOY_E_CORRUPTION);
    EXPECT_EQ(recorded_.detail, rule);
    std::memcpy(word, saved_, bytes);
    recorded_ = Recorded{};
    EXPECT_EQ(alloy_tlsf_check(tlsf_), ALLOY_OK) << "restoring the word must heal the heap";
    EXPECT_EQ(recorded_.faults, 0);
    alloy_tlsf_destroy(tlsf_);
  }

  // Metadata inside a free block is no-access to memcheck outside TLSF's
  // own accesses; the test reaches past that on purpose.
  void Save(void *word, size_t bytes) {
    ALLOY_MEM_DEFINED(word, bytes);
    std::memcpy(saved_, word, bytes);
  }

  alignas(64) unsigned char memory_[1 << 16];
  unsigned char saved_[16];
  alloy_tlsf *tlsf_ = nullptr;
  alloy_block a_{}, b_{}, c_{};
  Recorded recorded_;
};

TEST_F(TlsfCheckNegative, UncorruptedControlPasses) {
  EXPECT_EQ(alloy_tlsf_check(tlsf_), ALLOY_OK);
  EXPECT_EQ(recorded_.faults, 0);
  alloy_tlsf_destroy(tlsf_);
}

TEST_F(TlsfCheckNegative, FreeBlockSizeChanged) {
  BlockHeader *free_block = HeaderOf(b_.ptr);
  Save(&free_block->size, sizeof free_block->size);
  free_block->size += 16;  // still aligned, but no longer where the next block starts
  ExpectReported("PREV_FREE flag disagrees with the previous block", &free_block->size, sizeof free_block->size);
}

TEST_F(TlsfCheckNegative, FreeListBackLinkBroken) {
  BlockHeader *free_block = HeaderOf(b_.ptr);
  Save(&free_block->prev_free, sizeof free_block->prev_free);
  free_block->prev_free = HeaderOf(a_.ptr);
  ExpectReported("free list back link is broken", &free_block->prev_free, sizeof free_block->prev_free);
}

TEST_F(TlsfCheckNegative, FreeListForwardLinkIntoUsedBlock) {
  BlockHeader *free_block = HeaderOf(b_.ptr);
  Save(&free_block->next_free, sizeof free_block->next_free);
  free_block->next_free = HeaderOf(c_.ptr);
  ExpectReported("used block on a free list", &free_block->next_free, sizeof free_block->next_free);
}

TEST_F(TlsfCheckNegative, FirstLevelBitmapBitFlipped) {
  auto *control = reinterpret_cast<ControlHead *>(tlsf_);
  Save(&control->fl_bitmap, sizeof control->fl_bitmap);
  // Clear the bit of the lowest first level that holds a free block.
  ASSERT_NE(control->fl_bitmap, 0u);
  control->fl_bitmap &= control->fl_bitmap - 1;
  ExpectReported("first-level bit disagrees with its second-level map", &control->fl_bitmap,
                 sizeof control->fl_bitmap);
}

TEST_F(TlsfCheckNegative, UsedBlockClaimsFreePredecessor) {
  BlockHeader *used = HeaderOf(a_.ptr);
  Save(&used->size, sizeof used->size);
  used->size |= kPrevFree;  // a is the first block of the pool
  ExpectReported("first block of a pool claims a free predecessor", &used->size, sizeof used->size);
}

}  // namespace
