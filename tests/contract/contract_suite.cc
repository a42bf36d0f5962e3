// The contract every alloy_resource keeps (see alloy/resource.h).
#include "tests/contract/contract_suite.h"

#include <cstdint>
#include <cstdlib>
#include <vector>

#include "alloy/align.h"
#include "alloy/allocator.h"
#include "tests/support/support.h"

namespace alloy_test {
namespace {

struct Live {
  alloy_block block;
  size_t requested;
  size_t align;
  uint32_t seed;
};

void FreeAll(alloy_resource *resource, std::vector<Live> &live) {
  // Reverse order keeps LIFO resources happy and is valid for every other one.
  for (auto it = live.rbegin(); it != live.rend(); ++it)
    EXPECT_EQ(alloy_resource_deallocate(resource, it->block, it->align), ALLOY_OK);
  live.clear();
}

std::vector<size_t> SizesUpTo(size_t max_size) {
  std::vector<size_t> sizes;
  for (size_t size : {size_t{0}, size_t{1}, size_t{7}, size_t{8}, size_t{13}, size_t{16}, size_t{24}, size_t{64},
                      size_t{100}, size_t{256}, size_t{1000}, size_t{4096}, size_t{10000}, size_t{65536}})
    if (size <= max_size) sizes.push_back(size);
  return sizes;
}

TEST_P(ResourceContract, AllocatesAlignedDistinctWritableBlocks) {
  const ContractSubject &subject = GetParam();
  std::vector<Live> live;
  uint32_t seed = 1;
  for (size_t align = 1; align <= subject.max_alignment && align <= 4096; align *= 2) {
    for (size_t size : SizesUpTo(subject.max_size)) {
      alloy_block block;
      ASSERT_EQ(alloy_resource_allocate(resource_, size, align, &block), ALLOY_OK)
          << "size " << size << " align " << align;
      ASSERT_NE(block.ptr, nullptr);
      EXPECT_GE(block.size, size);
      EXPECT_TRUE(alloy_ptr_is_aligned(block.ptr, align)) << block.ptr << " align " << align;
      Fill(block.ptr, size, seed);
      live.push_back({block, size, align, seed++});
    }
  }
  for (const Live &l : live) EXPECT_TRUE(Check(l.block.ptr, l.requested, l.seed)) << "block overwritten";
  FreeAll(resource_, live);
}

TEST_P(ResourceContract, SizeZeroGivesAFreeableBlock) {
  alloy_block block;
  ASSERT_EQ(alloy_resource_allocate(resource_, 0, 8, &block), ALLOY_OK);
  EXPECT_NE(block.ptr, nullptr);
  EXPECT_EQ(alloy_resource_deallocate(resource_, block, 8), ALLOY_OK);
}

TEST_P(ResourceContract, RejectsAlignmentThatIsNotAPowerOfTwo) {
  for (size_t align : {size_t{0}, size_t{3}, size_t{24}, size_t{48}, size_t{4097}}) {
    alloy_block block = {reinterpret_cast<void *>(0x1234), 77};
    EXPECT_EQ(alloy_resource_allocate(resource_, 16, align, &block), ALLOY_E_INVALID_ARGUMENT) << "align " << align;
    EXPECT_EQ(block.ptr, reinterpret_cast<void *>(0x1234)) << "a failed allocation wrote its output";
    EXPECT_EQ(block.size, 77u);
  }
}

TEST_P(ResourceContract, RejectsSizesThatOverflow) {
  for (size_t size : {SIZE_MAX, SIZE_MAX - 7, ALLOY_MAX_REQUEST + 1}) {
    alloy_block block = {nullptr, 0};
    EXPECT_EQ(alloy_resource_allocate(resource_, size, 64, &block), ALLOY_E_INVALID_ARGUMENT) << "size " << size;
    EXPECT_EQ(block.ptr, nullptr);
  }
}

TEST_P(ResourceContract, HugeSizeFailsWithAStatus) {
  alloy_block block = {nullptr, 0};
  alloy_status status = alloy_resource_allocate(resource_, ALLOY_MAX_REQUEST, 16, &block);
  EXPECT_TRUE(status == ALLOY_E_OUT_OF_MEMORY || status == ALLOY_E_UNSUPPORTED || status == ALLOY_E_CAPACITY)
      << alloy_status_name(status);
  EXPECT_EQ(block.ptr, nullptr);
}

TEST_P(ResourceContract, AlignmentAboveAPageIsServedOrRefused) {
  for (size_t align : {size_t{8192}, size_t{65536}}) {
    alloy_block block = {nullptr, 0};
    alloy_status status = alloy_resource_allocate(resource_, 64, align, &block);
    if (align <= GetParam().max_alignment) {
      ASSERT_EQ(status, ALLOY_OK) << "align " << align;
      EXPECT_TRUE(alloy_ptr_is_aligned(block.ptr, align));
      EXPECT_EQ(alloy_resource_deallocate(resource_, block, align), ALLOY_OK);
    } else {
      EXPECT_EQ(status, ALLOY_E_UNSUPPORTED) << "align " << align << ": " << alloy_status_name(status);
      EXPECT_EQ(block.ptr, nullptr);
    }
  }
}

TEST_P(ResourceContract, ReallocateKeepsContents) {
  const size_t max_size = GetParam().max_size;
  const size_t small = max_size < 24 ? max_size : 24;
  const size_t large = max_size < 200 ? max_size : 200;
  alloy_allocator a = alloy_allocator_of(resource_);
  alloy_block block;
  ASSERT_EQ(alloy_alloc(a, small, 8, &block), ALLOY_OK);
  Fill(block.ptr, small, 42);
  ASSERT_EQ(alloy_reallocate(a, &block, large, 8), ALLOY_OK);
  EXPECT_GE(block.size, large);
  EXPECT_TRUE(Check(block.ptr, small, 42));
  ASSERT_EQ(alloy_reallocate(a, &block, small / 2, 8), ALLOY_OK);
  EXPECT_TRUE(Check(block.ptr, small / 2, 42));
  EXPECT_EQ(alloy_free(a, block, 8), ALLOY_OK);
}

TEST_P(ResourceContract, FailedReallocateLeavesTheBlockOwned) {
  alloy_allocator a = alloy_allocator_of(resource_);
  alloy_block block;
  const size_t size = GetParam().max_size < 32 ? GetParam().max_size : 32;
  ASSERT_EQ(alloy_alloc(a, size, 8, &block), ALLOY_OK);
  Fill(block.ptr, size, 7);
  alloy_block before = block;
  EXPECT_EQ(alloy_reallocate(a, &block, SIZE_MAX, 8), ALLOY_E_INVALID_ARGUMENT);
  EXPECT_NE(alloy_reallocate(a, &block, ALLOY_MAX_REQUEST, 8), ALLOY_OK);
  EXPECT_EQ(block.ptr, before.ptr);
  EXPECT_EQ(block.size, before.size);
  EXPECT_TRUE(Check(block.ptr, size, 7));
  EXPECT_EQ(alloy_free(a, block, 8), ALLOY_OK);
}

// After a resize the caller may free with the size it asked for or the one it
// got back; a resource that cannot record the new size must refuse it.
TEST_P(ResourceContract, AResizedBlockIsFreedWithTheAskedOrTheReturnedSize) {
  const size_t large = GetParam().max_size < 200 ? GetParam().max_size : 200;
  const size_t small = large / 2;
  for (bool free_with_asked : {true, false}) {
    alloy_block block, resized;
    ASSERT_EQ(alloy_resource_allocate(resource_, large, 8, &block), ALLOY_OK);
    Fill(block.ptr, large, 5);
    const alloy_status status = alloy_resource_resize(resource_, block, small, 8, &resized);
    if (status != ALLOY_OK) {
      EXPECT_EQ(status, ALLOY_E_UNSUPPORTED);
      EXPECT_TRUE(Check(block.ptr, large, 5)) << "a refused resize changed the block";
      EXPECT_EQ(alloy_resource_deallocate(resource_, block, 8), ALLOY_OK);
      continue;
    }
    EXPECT_EQ(resized.ptr, block.ptr) << "resize moved the block";
    EXPECT_GE(resized.size, small);
    EXPECT_TRUE(Check(resized.ptr, small, 5));
    const alloy_block freed = free_with_asked ? alloy_block_make(resized.ptr, small) : resized;
    EXPECT_EQ(alloy_resource_deallocate(resource_, freed, 8), ALLOY_OK)
        << "freed with the " << (free_with_asked ? "asked" : "returned") << " size " << freed.size;
  }
}

TEST_P(ResourceContract, IsEqualToItself) { EXPECT_TRUE(alloy_resource_is_equal(resource_, resource_)); }

TEST_P(ResourceContract, OwnershipIsAnsweredWithoutTouchingForeignMemory) {
  if (!alloy_resource_can_tell_ownership(resource_)) GTEST_SKIP() << "resource does not track ownership";
  alloy_block block;
  ASSERT_EQ(alloy_resource_allocate(resource_, 16, 8, &block), ALLOY_OK);
  EXPECT_TRUE(alloy_resource_owns(resource_, block));
  int on_stack = 0;
  EXPECT_FALSE(alloy_resource_owns(resource_, alloy_block_make(&on_stack, sizeof on_stack)));
  void *from_heap = std::malloc(64);
  EXPECT_FALSE(alloy_resource_owns(resource_, alloy_block_make(from_heap, 64)));
  std::free(from_heap);
  EXPECT_FALSE(alloy_resource_owns(resource_, alloy_block_make(reinterpret_cast<void *>(0x10), 16)));
  EXPECT_EQ(alloy_resource_deallocate(resource_, block, 8), ALLOY_OK);
}

TEST_P(ResourceContract, ExhaustionReturnsAStatusAndRecovers) {
  const ContractSubject &subject = GetParam();
  if (!subject.bounded) GTEST_SKIP() << "resource is not bounded";
  const size_t size = subject.max_size < 4096 ? subject.max_size : 4096;
  std::vector<Live> live;
  alloy_status status = ALLOY_OK;
  const size_t attempts = subject.exhaustion_limit / (size ? size : 1) + 2;
  for (size_t i = 0; i < attempts; ++i) {
    alloy_block block;
    status = alloy_resource_allocate(resource_, size, 8, &block);
    if (status != ALLOY_OK) break;
    live.push_back({block, size, 8, 0});
  }
  EXPECT_TRUE(status == ALLOY_E_OUT_OF_MEMORY || status == ALLOY_E_CAPACITY) << alloy_status_name(status);
  FreeAll(resource_, live);
  alloy_block again;
  ASSERT_EQ(alloy_resource_allocate(resource_, size, 8, &again), ALLOY_OK) << "no recovery after freeing";
  EXPECT_EQ(alloy_resource_deallocate(resource_, again, 8), ALLOY_OK);
}

TEST_P(ResourceContract, InfoNamesTheResource) {
  alloy_resource_info info;
  alloy_resource_get_info(resource_, &info);
  ASSERT_NE(info.name, nullptr);
  EXPECT_STRNE(info.name, "");
  EXPECT_GE(info.max_alignment, 8u);
  EXPECT_GE(info.max_size, 8u);
}

}  // namespace
}  // namespace alloy_test
