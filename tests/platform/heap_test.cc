#include <cstdint>
#include <cstring>

#include <gtest/gtest.h>

#include "alloy/align.h"
#include "alloy/fault_injection.h"
#include "alloy/heap.h"
#include "tests/support/support.h"

namespace {

TEST(Heap, AllocatesAlignedForEveryPowerOfTwo) {
  for (size_t align = 1; align <= (1u << 16); align *= 2) {
    void *ptr = nullptr;
    ASSERT_EQ(alloy_heap_allocate(100, align, &ptr), ALLOY_OK) << align;
    EXPECT_TRUE(alloy_ptr_is_aligned(ptr, align));
    EXPECT_GE(alloy_heap_usable_size(ptr), 100u);
    std::memset(ptr, 0x5A, 100);
    alloy_heap_free(ptr);
  }
}

TEST(Heap, SizeZeroIsAUniqueFreeablePointer) {
  void *a = nullptr, *b = nullptr;
  ASSERT_EQ(alloy_heap_allocate(0, 8, &a), ALLOY_OK);
  ASSERT_EQ(alloy_heap_allocate(0, 8, &b), ALLOY_OK);
  EXPECT_NE(a, b);
  alloy_heap_free(a);
  alloy_heap_free(b);
}

TEST(Heap, BadInputs) {
  void *ptr = reinterpret_cast<void *>(0x99);
  EXPECT_EQ(alloy_heap_allocate(8, 0, &ptr), ALLOY_E_INVALID_ARGUMENT);
  EXPECT_EQ(alloy_heap_allocate(8, 24, &ptr), ALLOY_E_INVALID_ARGUMENT);
  EXPECT_EQ(alloy_heap_allocate(SIZE_MAX, 8, &ptr), ALLOY_E_INVALID_ARGUMENT);
  EXPECT_EQ(alloy_heap_allocate(ALLOY_MAX_REQUEST, 8, &ptr), ALLOY_E_OUT_OF_MEMORY);
  EXPECT_EQ(ptr, reinterpret_cast<void *>(0x99));
  alloy_platform_fail_next(ALLOY_PLATFORM_HEAP, 0, 1);
  EXPECT_EQ(alloy_heap_allocate(8, 8, &ptr), ALLOY_E_OUT_OF_MEMORY);
  EXPECT_EQ(ptr, reinterpret_cast<void *>(0x99));
}

TEST(Heap, ReallocateKeepsContentsAndAlignment) {
  for (size_t align : {size_t{8}, size_t{256}, size_t{8192}}) {
    void *ptr = nullptr;
    ASSERT_EQ(alloy_heap_allocate(64, align, &ptr), ALLOY_OK);
    alloy_test::Fill(ptr, 64, 3);
    ASSERT_EQ(alloy_heap_reallocate(&ptr, 64, 5000, align), ALLOY_OK);
    EXPECT_TRUE(alloy_ptr_is_aligned(ptr, align));
    EXPECT_TRUE(alloy_test::Check(ptr, 64, 3));
    void *kept = ptr;
    EXPECT_EQ(alloy_heap_reallocate(&ptr, 5000, SIZE_MAX, align), ALLOY_E_INVALID_ARGUMENT);
    alloy_platform_fail_next(ALLOY_PLATFORM_HEAP, 0, 1);
    EXPECT_EQ(alloy_heap_reallocate(&ptr, 5000, 10000, align), ALLOY_E_OUT_OF_MEMORY);
    EXPECT_EQ(ptr, kept) << "a failed reallocate keeps the block";
    EXPECT_TRUE(alloy_test::Check(ptr, 64, 3));
    alloy_heap_free(ptr);
  }
}

}  // namespace
