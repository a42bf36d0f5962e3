// Sizes above a partition's buckets and alignments beyond its objects':
// direct-mapped spans of the root's slots, with inaccessible pages around
// each block, kept for their partition when freed.
#include <cstdint>
#include <cstring>
#include <set>
#include <vector>

#include <gtest/gtest.h>

#include "alloy/partition.h"
#include "alloy/vm.h"
#include "tests/support/support.h"

namespace {

class DirectMaps : public ::testing::Test {
 protected:
  void SetUp() override { Make(size_t{256} << 20, 0); }
  void TearDown() override { alloy_partition_root_destroy(root_); }
  void Make(size_t reserve, size_t max_bytes) {
    if (root_ != nullptr) alloy_partition_root_destroy(root_);
    alloy_partition_root_config root_config = alloy_partition_root_config_default();
    root_config.reserve_bytes = reserve;
    ASSERT_EQ(alloy_partition_root_create(&root_config, &root_), ALLOY_OK);
    alloy_partition_config config = alloy_partition_config_default();
    config.numa_node = ALLOY_PARTITION_NUMA_NONE;
    config.max_bytes = max_bytes;
    ASSERT_EQ(alloy_partition_create(root_, "big", &config, &big_), ALLOY_OK);
    ASSERT_EQ(alloy_partition_create(root_, "other", &config, &other_), ALLOY_OK);
  }
  static alloy_partition_stats Stats(alloy_partition *p) {
    alloy_partition_stats stats;
    alloy_partition_get_stats(p, &stats);
    return stats;
  }
  alloy_partition_root *root_ = nullptr;
  alloy_partition *big_ = nullptr;
  alloy_partition *other_ = nullptr;
};

TEST_F(DirectMaps, AHugeBlockIsWholeAndCounted) {
  const size_t size = (size_t{3} << 20) + 5;
  alloy_block block;
  ASSERT_EQ(alloy_partition_allocate(big_, size, 16, &block), ALLOY_OK);
  EXPECT_GE(block.size, size);
  EXPECT_EQ(block.size % alloy_vm_page_size(), 0u);
  EXPECT_TRUE(alloy_ptr_is_aligned(block.ptr, 16));
  alloy_test::Fill(block.ptr, block.size, 9);
  EXPECT_TRUE(alloy_test::Check(block.ptr, block.size, 9));
  EXPECT_EQ(alloy_partition_of(root_, block.ptr), big_);
  EXPECT_EQ(alloy_partition_of(root_, static_cast<char *>(block.ptr) + block.size - 1), big_);
  EXPECT_TRUE(alloy_resource_owns(alloy_partition_resource(big_), block));
  EXPECT_FALSE(alloy_resource_owns(alloy_partition_resource(other_), block));
  alloy_partition_stats stats = Stats(big_);
  EXPECT_EQ(stats.direct_mapped_count, 1u);
  EXPECT_EQ(stats.direct_mapped_bytes, block.size);
  EXPECT_GE(stats.live_bytes, block.size);
  EXPECT_GE(stats.committed_bytes, block.size);
  EXPECT_EQ(alloy_partition_deallocate(big_, block), ALLOY_OK);
  stats = Stats(big_);
  EXPECT_EQ(stats.direct_mapped_count, 0u);
  EXPECT_EQ(stats.direct_mapped_bytes, 0u);
  EXPECT_EQ(stats.live_bytes, 0u);
  EXPECT_EQ(stats.committed_bytes, 0u) << "a freed span is decommitted";
}

TEST_F(DirectMaps, TheBlockResizesInPlaceWithinItsPages) {
  alloy_resource *resource = alloy_partition_resource(big_);
  alloy_block block, resized;
  ASSERT_EQ(alloy_resource_allocate(resource, 100000, 16, &block), ALLOY_OK);
  ASSERT_EQ(alloy_resource_reallocate(resource, block, block.size, 16, &resized), ALLOY_OK);
  EXPECT_EQ(resized.ptr, block.ptr);
  EXPECT_EQ(alloy_resource_deallocate(resource, resized, 16), ALLOY_OK);
}

TEST_F(DirectMaps, AlignmentsAboveAPage) {
  for (size_t align : {size_t{8192}, size_t{64} << 10, size_t{1} << 20, size_t{4} << 20}) {
    for (size_t size : {size_t{64}, size_t{20000}, size_t{3} << 20}) {
      alloy_block block;
      ASSERT_EQ(alloy_partition_allocate(big_, size, align, &block), ALLOY_OK) << size << " at " << align;
      EXPECT_TRUE(alloy_ptr_is_aligned(block.ptr, align)) << size << " at " << align;
      EXPECT_GE(block.size, size);
      std::memset(block.ptr, 0x5a, size);
      EXPECT_EQ(alloy_partition_of(root_, block.ptr), big_);
      EXPECT_EQ(alloy_partition_deallocate(big_, block), ALLOY_OK);
    }
  }
}

TEST_F(DirectMaps, GuardPagesAroundTheBlockFault) {
  alloy_block block;
  ASSERT_EQ(alloy_partition_allocate(big_, 100000, 16, &block), ALLOY_OK);
  volatile char *before = static_cast<char *>(block.ptr) - 1;
  volatile char *after = static_cast<char *>(block.ptr) + block.size;
  EXPECT_DEATH(*before = 1, "");
  EXPECT_DEATH(*after = 1, "");
  EXPECT_EQ(alloy_partition_deallocate(big_, block), ALLOY_OK);
}

TEST_F(DirectMaps, MisuseIsReported) {
  alloy_test::FaultRecorder faults;
  alloy_block block;
  ASSERT_EQ(alloy_partition_allocate(big_, 1 << 20, 16, &block), ALLOY_OK);
  alloy_block inner = alloy_block_make(static_cast<char *>(block.ptr) + 4096, 100);
  EXPECT_EQ(alloy_partition_deallocate(big_, inner), ALLOY_E_NOT_OWNED);
  EXPECT_EQ(alloy_partition_deallocate(big_, alloy_block_make(block.ptr, block.size + 1)), ALLOY_E_SIZE_MISMATCH);
  EXPECT_EQ(alloy_partition_deallocate(other_, block), ALLOY_E_NOT_OWNED);
  EXPECT_NE(faults.last_message().find("big"), std::string::npos) << faults.last_message();
  EXPECT_EQ(alloy_partition_deallocate(big_, block), ALLOY_OK);
  EXPECT_EQ(alloy_partition_deallocate(big_, block), ALLOY_E_DOUBLE_FREE);
  EXPECT_EQ(faults.count(ALLOY_E_NOT_OWNED), 2u);
  EXPECT_EQ(faults.count(ALLOY_E_SIZE_MISMATCH), 1u);
  EXPECT_EQ(faults.count(ALLOY_E_DOUBLE_FREE), 1u);
}

// Beyond the reservation: a status, nothing allocated; the root still serves.
TEST_F(DirectMaps, BeyondTheReservationIsCapacity) {
  Make(size_t{16} << 20, 0);
  alloy_block block = {nullptr, 0};
  EXPECT_EQ(alloy_partition_allocate(big_, size_t{32} << 20, 16, &block), ALLOY_E_CAPACITY);
  EXPECT_EQ(alloy_partition_allocate(big_, ALLOY_MAX_REQUEST, 16, &block), ALLOY_E_CAPACITY);
  EXPECT_EQ(alloy_partition_allocate(big_, 100, size_t{1} << 40, &block), ALLOY_E_CAPACITY);
  EXPECT_EQ(block.ptr, nullptr);
  EXPECT_EQ(Stats(big_).failures, 3u);
  ASSERT_EQ(alloy_partition_allocate(big_, size_t{4} << 20, 16, &block), ALLOY_OK);
  EXPECT_EQ(alloy_partition_deallocate(big_, block), ALLOY_OK);
}

// max_bytes caps direct maps too; freeing one makes room again.
TEST_F(DirectMaps, ExhaustionAndRecovery) {
  Make(size_t{256} << 20, size_t{8} << 20);
  std::vector<alloy_block> blocks;
  alloy_block block;
  alloy_status status;
  while ((status = alloy_partition_allocate(big_, size_t{1} << 20, 16, &block)) == ALLOY_OK) blocks.push_back(block);
  EXPECT_EQ(status, ALLOY_E_CAPACITY);
  EXPECT_EQ(blocks.size(), 8u);
  ASSERT_EQ(alloy_partition_deallocate(big_, blocks.back()), ALLOY_OK);
  blocks.pop_back();
  ASSERT_EQ(alloy_partition_allocate(big_, size_t{1} << 20, 16, &block), ALLOY_OK);
  blocks.push_back(block);
  for (const alloy_block &b : blocks) ASSERT_EQ(alloy_partition_deallocate(big_, b), ALLOY_OK);
}

// Freed spans serve their partition's later direct maps (the reservation
// is not used up by a loop), and never another partition's.
TEST_F(DirectMaps, FreedSpansStayWithTheirPartition) {
  Make(size_t{64} << 20, 0);
  std::set<uintptr_t> spans;
  for (int i = 0; i < 400; ++i) {
    alloy_block block;
    ASSERT_EQ(alloy_partition_allocate(big_, (size_t{1} << 20) + static_cast<size_t>(i % 7) * 4096, 16, &block),
              ALLOY_OK)
        << "round " << i;
    spans.insert(reinterpret_cast<uintptr_t>(block.ptr));
    ASSERT_EQ(alloy_partition_deallocate(big_, block), ALLOY_OK);
  }
  EXPECT_LE(spans.size(), 7u);
  for (int i = 0; i < 20; ++i) {
    alloy_block block;
    ASSERT_EQ(alloy_partition_allocate(other_, size_t{1} << 20, 16, &block), ALLOY_OK);
    EXPECT_EQ(spans.count(reinterpret_cast<uintptr_t>(block.ptr)), 0u);
    EXPECT_EQ(alloy_partition_of(root_, block.ptr), other_);
    ASSERT_EQ(alloy_partition_deallocate(other_, block), ALLOY_OK);
  }
}

TEST_F(DirectMaps, DestroyedPartitionsKeepTheirSpans) {
  alloy_block block;
  ASSERT_EQ(alloy_partition_allocate(other_, size_t{2} << 20, 16, &block), ALLOY_OK);
  alloy_partition_destroy(other_);
  other_ = nullptr;
  EXPECT_EQ(alloy_partition_of(root_, block.ptr), nullptr);
  alloy_test::FaultRecorder faults;
  EXPECT_EQ(alloy_partition_deallocate(big_, block), ALLOY_E_NOT_OWNED);
  EXPECT_NE(faults.last_message().find("destroyed"), std::string::npos) << faults.last_message();
  alloy_block fresh;
  ASSERT_EQ(alloy_partition_allocate(big_, size_t{2} << 20, 16, &fresh), ALLOY_OK);
  EXPECT_NE(fresh.ptr, block.ptr);
  EXPECT_EQ(alloy_partition_deallocate(big_, fresh), ALLOY_OK);
}

}  // namespace
