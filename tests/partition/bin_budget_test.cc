// The byte budget of large buckets: a thread's bin of a 64 KiB bucket and
// the bucket's spare list keep a few blocks, not a fixed count of 8, so blocks
// freed in bulk go back to their slabs and the emptied slabs give their
// memory back at the next refill.
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "alloy/partition.h"
#include "alloy/vm.h"
#include "tests/support/support.h"

namespace {

constexpr size_t kSlab = size_t{256} << 10;
constexpr size_t kLarge = size_t{64} << 10;  // the largest bucket: a quarter slab, three to a slab

class BinBudget : public ::testing::Test {
 protected:
  void SetUp() override {
    alloy_partition_root_config root_config = alloy_partition_root_config_default();
    root_config.reserve_bytes = size_t{256} << 20;
    root_config.slab_size = kSlab;
    ASSERT_EQ(alloy_partition_root_create(&root_config, &root_), ALLOY_OK);
    alloy_partition_config config = alloy_partition_config_default();
    config.max_bucket_size = kLarge;
    config.numa_node = ALLOY_PARTITION_NUMA_NONE;
    ASSERT_EQ(alloy_partition_create(root_, "large", &config, &p_), ALLOY_OK);
  }
  void TearDown() override { alloy_partition_root_destroy(root_); }
  alloy_partition_stats Stats() const {
    alloy_partition_stats stats;
    alloy_partition_get_stats(p_, &stats);
    return stats;
  }
  alloy_partition_root *root_ = nullptr;
  alloy_partition *p_ = nullptr;
};

// 90 blocks of 64 KiB (30 slabs) freed by one thread, then one refill by
// another: the freeing thread's bin keeps at most one block, the spare list
// eight (four bins' worth), so at most ten slabs stay in use (a bin of 8
// blocks and a spare list of four such bins kept 38 blocks, 13 slabs or
// more).
TEST_F(BinBudget, LargeBucketsKeepAFewBlocks) {
  std::vector<alloy_block> blocks(90);
  for (alloy_block &block : blocks) {
    ASSERT_EQ(alloy_partition_allocate(p_, kLarge, 16, &block), ALLOY_OK);
    alloy_test::Fill(block.ptr, 64, 1);
  }
  const alloy_partition_stats full = Stats();
  ASSERT_GE(full.slab_count, 30u);
  for (const alloy_block &block : blocks) ASSERT_EQ(alloy_partition_deallocate(p_, block), ALLOY_OK);
  alloy_block kept;
  std::thread other([&] { ASSERT_EQ(alloy_partition_allocate(p_, kLarge, 16, &kept), ALLOY_OK); });
  other.join();
  const alloy_partition_stats after = Stats();
  EXPECT_EQ(after.live_bytes, kLarge);
  const size_t page = alloy_vm_page_size();
  // Ten slabs in use and one empty one committed; the others keep at most
  // their header's pages.
  EXPECT_LE(after.committed_bytes, 11 * kSlab + after.slab_count * 2 * page);
  alloy_test::Fill(kept.ptr, kLarge, 2);
  EXPECT_TRUE(alloy_test::Check(kept.ptr, kLarge, 2));
  EXPECT_EQ(alloy_partition_deallocate(p_, kept), ALLOY_OK);
}

// A bin of the largest bucket still serves a free-then-allocate pair from
// the thread's cache (the block freed last comes back first); the second
// block freed fills it, and both go to the bucket's return list.
TEST_F(BinBudget, LargeBucketBinKeepsOneBlock) {
  alloy_test::FaultRecorder faults;
  alloy_block first, second, again;
  ASSERT_EQ(alloy_partition_allocate(p_, kLarge, 16, &first), ALLOY_OK);
  ASSERT_EQ(alloy_partition_allocate(p_, kLarge, 16, &second), ALLOY_OK);
  ASSERT_EQ(alloy_partition_deallocate(p_, second), ALLOY_OK);
  ASSERT_EQ(alloy_partition_allocate(p_, kLarge, 16, &again), ALLOY_OK);
  EXPECT_EQ(again.ptr, second.ptr);
  EXPECT_EQ(alloy_partition_deallocate(p_, again), ALLOY_OK);
  EXPECT_EQ(alloy_partition_deallocate(p_, first), ALLOY_OK);
  EXPECT_EQ(alloy_partition_deallocate(p_, first), ALLOY_E_DOUBLE_FREE) << "on the return list";
}

}  // namespace
