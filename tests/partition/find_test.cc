// alloy_partition_find: the block around any address of the root, from the
// slot table alone, for callers that route frees by address and keep no
// header (the drop-in malloc's medium blocks).
#include <cstdint>
#include <vector>

#include <gtest/gtest.h>

#include "alloy/partition.h"
#include "alloy/vm.h"

namespace {

class Find : public ::testing::Test {
 protected:
  void SetUp() override {
    alloy_partition_root_config root_config = alloy_partition_root_config_default();
    root_config.reserve_bytes = size_t{256} << 20;
    root_config.slab_size = size_t{256} << 10;
    ASSERT_EQ(alloy_partition_root_create(&root_config, &root_), ALLOY_OK);
    alloy_partition_config config = alloy_partition_config_default();
    config.numa_node = ALLOY_PARTITION_NUMA_NONE;
    config.max_bucket_size = size_t{64} << 10;
    ASSERT_EQ(alloy_partition_create(root_, "one", &config, &one_), ALLOY_OK);
    ASSERT_EQ(alloy_partition_create(root_, "two", &config, &two_), ALLOY_OK);
  }
  void TearDown() override { alloy_partition_root_destroy(root_); }
  alloy_partition_root *root_ = nullptr;
  alloy_partition *one_ = nullptr;
  alloy_partition *two_ = nullptr;
};

// Every byte of a slab object finds the object (its start and class size)
// and its partition, for sizes across the buckets up to the largest.
TEST_F(Find, EveryByteOfAnObjectFindsIt) {
  for (size_t size : {size_t{16}, size_t{100}, size_t{9000}, size_t{20000}, size_t{64} << 10}) {
    alloy_block block;
    ASSERT_EQ(alloy_partition_allocate(two_, size, 16, &block), ALLOY_OK) << size;
    ASSERT_GE(block.size, size);
    char *start = static_cast<char *>(block.ptr);
    for (size_t at : {size_t{0}, size_t{1}, size_t{15}, block.size / 2, block.size - 1}) {
      alloy_partition *owner = nullptr;
      alloy_block found{};
      ASSERT_TRUE(alloy_partition_find(root_, start + at, &owner, &found)) << size << " at " << at;
      EXPECT_EQ(owner, two_);
      EXPECT_EQ(found.ptr, block.ptr) << size << " at " << at;
      EXPECT_EQ(found.size, block.size) << size;
    }
    EXPECT_EQ(alloy_partition_deallocate(two_, block), ALLOY_OK);
  }
}

// Neighbours in one slab are told apart: the byte after an object is the
// next object's start.
TEST_F(Find, NeighboursAreDistinct) {
  std::vector<alloy_block> blocks(8);
  for (alloy_block &block : blocks) ASSERT_EQ(alloy_partition_allocate(one_, 12000, 16, &block), ALLOY_OK);
  for (const alloy_block &block : blocks) {
    char *past = static_cast<char *>(block.ptr) + block.size;
    alloy_partition *owner = nullptr;
    alloy_block found{};
    // Past the slab's last object lies its header: nothing is found there.
    if (alloy_partition_find(root_, past, &owner, &found)) {
      EXPECT_EQ(found.ptr, past);
    }
    ASSERT_TRUE(alloy_partition_find(root_, past - 1, &owner, &found));
    EXPECT_EQ(found.ptr, block.ptr);
  }
  for (const alloy_block &block : blocks) EXPECT_EQ(alloy_partition_deallocate(one_, block), ALLOY_OK);
}

// A direct-mapped block is found from any of its bytes, in any slot of its
// span; nothing is found once it is freed, nor outside the root.
TEST_F(Find, DirectBlocksAndForeignAddresses) {
  const size_t size = size_t{3} << 20;
  alloy_block block;
  ASSERT_EQ(alloy_partition_allocate(one_, size, 16, &block), ALLOY_OK);
  char *start = static_cast<char *>(block.ptr);
  for (size_t at : {size_t{0}, size_t{4096}, size - 1}) {
    alloy_partition *owner = nullptr;
    alloy_block found{};
    ASSERT_TRUE(alloy_partition_find(root_, start + at, &owner, &found)) << at;
    EXPECT_EQ(owner, one_);
    EXPECT_EQ(found.ptr, block.ptr);
    EXPECT_EQ(found.size, block.size);
  }
  EXPECT_EQ(alloy_partition_deallocate(one_, block), ALLOY_OK);
  alloy_partition *owner = nullptr;
  alloy_block found{};
  EXPECT_FALSE(alloy_partition_find(root_, start, &owner, &found));
  int on_stack = 0;
  EXPECT_FALSE(alloy_partition_find(root_, &on_stack, &owner, &found));
  EXPECT_FALSE(alloy_partition_find(root_, nullptr, &owner, &found));
}

// Every block lies in the root's reservation, which is as large as asked.
TEST_F(Find, BlocksLieInTheRootsRange) {
  alloy_block range;
  alloy_partition_root_range(root_, &range);
  EXPECT_EQ(range.size, size_t{256} << 20);
  for (size_t size : {size_t{16}, size_t{20000}, size_t{1} << 20}) {
    alloy_block block;
    ASSERT_EQ(alloy_partition_allocate(one_, size, 16, &block), ALLOY_OK);
    uintptr_t offset = reinterpret_cast<uintptr_t>(block.ptr) - reinterpret_cast<uintptr_t>(range.ptr);
    EXPECT_LE(offset + block.size, range.size) << size;
    EXPECT_EQ(alloy_partition_deallocate(one_, block), ALLOY_OK);
  }
}

// A slab whose objects all came back and were purged serves no bucket:
// its addresses find nothing.
TEST_F(Find, APurgedSlabHoldsNothing) {
  alloy_block block;
  ASSERT_EQ(alloy_partition_allocate(two_, 30000, 16, &block), ALLOY_OK);
  EXPECT_EQ(alloy_partition_deallocate(two_, block), ALLOY_OK);
  alloy_partition_purge(two_);
  alloy_partition *owner = nullptr;
  alloy_block found{};
  EXPECT_FALSE(alloy_partition_find(root_, block.ptr, &owner, &found));
}

}  // namespace
