#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>
#include <random>
#include <set>
#include <vector>

#include <gtest/gtest.h>

#include "alloy/fault_injection.h"
#include "alloy/numa.h"
#include "alloy/partition.h"
#include "alloy/vm.h"
#include "tests/contract/contract_suite.h"
#include "tests/support/support.h"

namespace {

using alloy_test::ContractSubject;
using alloy_test::ResourceContract;

alloy_partition_root *MakeRoot(size_t reserve = size_t{64} << 20) {
  alloy_partition_root_config config = alloy_partition_root_config_default();
  config.reserve_bytes = reserve;
  alloy_partition_root *root = nullptr;
  EXPECT_EQ(alloy_partition_root_create(&config, &root), ALLOY_OK);
  return root;
}

// Each contract subject owns a root of its own, found again from the resource.
std::map<alloy_resource *, alloy_partition_root *> &SubjectRoots() {
  static std::map<alloy_resource *, alloy_partition_root *> roots;
  return roots;
}

ContractSubject PartitionSubject(const char *name, bool guard_pages, size_t max_bytes) {
  ContractSubject subject;
  subject.name = name;
  subject.create = [guard_pages, max_bytes] {
    alloy_partition_root *root = MakeRoot();
    alloy_partition_config config = alloy_partition_config_default();
    config.guard_pages = guard_pages;
    config.max_bytes = max_bytes;
    alloy_partition *partition = nullptr;
    EXPECT_EQ(alloy_partition_create(root, "contract", &config, &partition), ALLOY_OK);
    SubjectRoots()[alloy_partition_resource(partition)] = root;
    return alloy_partition_resource(partition);
  };
  subject.destroy = [](alloy_resource *resource) {
    alloy_partition_root_destroy(SubjectRoots()[resource]);
    SubjectRoots().erase(resource);
  };
  // Buckets up to 8 KiB, direct maps above (the capped one holds only 1 MiB).
  subject.max_size = max_bytes != 0 ? 8192 : size_t{1} << 18;
  subject.max_alignment = size_t{64} << 10;  // direct-mapped beyond a bucket's alignment
  subject.bounded = max_bytes != 0;
  subject.exhaustion_limit = max_bytes;
  return subject;
}

INSTANTIATE_TEST_SUITE_P(Partition, ResourceContract,
                         ::testing::Values(PartitionSubject("plain", false, 0), PartitionSubject("guarded", true, 0),
                                           PartitionSubject("capped", false, 1 << 20)),
                         alloy_test::SubjectName);

class Partitions : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = MakeRoot();
    alloy_partition_config config = alloy_partition_config_default();
    ASSERT_EQ(alloy_partition_create(root_, "textures", &config, &textures_), ALLOY_OK);
    ASSERT_EQ(alloy_partition_create(root_, "network", &config, &network_), ALLOY_OK);
  }
  void TearDown() override { alloy_partition_root_destroy(root_); }
  alloy_block Alloc(alloy_partition *p, size_t size, size_t align = 16) {
    alloy_block block = {nullptr, 0};
    EXPECT_EQ(alloy_partition_allocate(p, size, align, &block), ALLOY_OK);
    return block;
  }
  alloy_partition_root *root_ = nullptr;
  alloy_partition *textures_ = nullptr;
  alloy_partition *network_ = nullptr;
};

TEST_F(Partitions, BlocksKnowTheirPartition) {
  alloy_block t = Alloc(textures_, 100), n = Alloc(network_, 100);
  EXPECT_EQ(alloy_partition_of(root_, t.ptr), textures_);
  EXPECT_EQ(alloy_partition_of(root_, n.ptr), network_);
  EXPECT_STREQ(alloy_partition_name(textures_), "textures");
  EXPECT_TRUE(alloy_resource_owns(alloy_partition_resource(textures_), t));
  EXPECT_FALSE(alloy_resource_owns(alloy_partition_resource(textures_), n));
  int on_stack;
  EXPECT_EQ(alloy_partition_of(root_, &on_stack), nullptr);
  alloy_resource_info info;
  alloy_resource_get_info(alloy_partition_resource(network_), &info);
  EXPECT_STREQ(info.name, "network");
  EXPECT_EQ(alloy_partition_deallocate(textures_, t), ALLOY_OK);
  EXPECT_EQ(alloy_partition_deallocate(network_, n), ALLOY_OK);
}

TEST_F(Partitions, FreeThroughTheWrongPartitionIsReportedAndChangesNothing) {
  alloy_block t = Alloc(textures_, 200);
  alloy_test::Fill(t.ptr, 200, 4);
  {
    alloy_test::FaultRecorder faults;
    EXPECT_EQ(alloy_partition_deallocate(network_, t), ALLOY_E_NOT_OWNED);
    ASSERT_EQ(faults.count(ALLOY_E_NOT_OWNED), 1u);
    EXPECT_STREQ(faults.faults()[0].resource, "network");
    EXPECT_NE(faults.last_message().find("textures"), std::string::npos) << faults.last_message();
  }
  EXPECT_TRUE(alloy_test::Check(t.ptr, 200, 4));
  alloy_partition_stats stats;
  alloy_partition_get_stats(textures_, &stats);
  EXPECT_EQ(stats.deallocations, 0u);
  EXPECT_EQ(alloy_partition_deallocate(textures_, t), ALLOY_OK);
}

TEST_F(Partitions, MemoryIsNeverReusedAcrossPartitions) {
  std::set<uintptr_t> texture_slabs;
  const uintptr_t slab_mask = ~uintptr_t{(64 << 10) - 1};
  for (int round = 0; round < 3; ++round) {
    std::vector<alloy_block> blocks;
    for (int i = 0; i < 2000; ++i) blocks.push_back(Alloc(textures_, 32 + (i % 64) * 16));
    for (const alloy_block &b : blocks) texture_slabs.insert(reinterpret_cast<uintptr_t>(b.ptr) & slab_mask);
    for (const alloy_block &b : blocks) ASSERT_EQ(alloy_partition_deallocate(textures_, b), ALLOY_OK);
  }
  // Everything of textures is free now; network still never lands there.
  for (int i = 0; i < 4000; ++i) {
    alloy_block n = Alloc(network_, 32 + (i % 64) * 16);
    ASSERT_EQ(texture_slabs.count(reinterpret_cast<uintptr_t>(n.ptr) & slab_mask), 0u);
  }
}

TEST_F(Partitions, DestroyedPartitionsKeepTheirAddresses) {
  alloy_partition_config config = alloy_partition_config_default();
  alloy_partition *temporary = nullptr;
  ASSERT_EQ(alloy_partition_create(root_, "temporary", &config, &temporary), ALLOY_OK);
  alloy_block old = Alloc(temporary, 64);
  alloy_partition_destroy(temporary);
  EXPECT_EQ(alloy_partition_of(root_, old.ptr), nullptr);
  alloy_partition *fresh = nullptr;
  ASSERT_EQ(alloy_partition_create(root_, "fresh", &config, &fresh), ALLOY_OK);
  alloy_block block = Alloc(fresh, 64);
  EXPECT_NE(block.ptr, old.ptr);
  alloy_test::FaultRecorder faults;
  EXPECT_EQ(alloy_partition_deallocate(fresh, old), ALLOY_E_NOT_OWNED);
  EXPECT_NE(faults.last_message().find("destroyed"), std::string::npos) << faults.last_message();
  EXPECT_EQ(alloy_partition_deallocate(fresh, block), ALLOY_OK);
}

TEST_F(Partitions, MisuseIsReported) {
  alloy_test::FaultRecorder faults;
  alloy_block block = Alloc(textures_, 64);
  alloy_block inner = alloy_block_make(static_cast<char *>(block.ptr) + 16, 16);
  EXPECT_EQ(alloy_partition_deallocate(textures_, inner), ALLOY_E_NOT_OWNED);
  EXPECT_EQ(alloy_partition_deallocate(textures_, alloy_block_make(block.ptr, 4096)), ALLOY_E_SIZE_MISMATCH);
  alloy_block keep = Alloc(textures_, 64);  // keeps the slab in use
  EXPECT_EQ(alloy_partition_deallocate(textures_, block), ALLOY_OK);
  EXPECT_EQ(alloy_partition_deallocate(textures_, block), ALLOY_E_DOUBLE_FREE);
  void *heap = std::malloc(32);
  EXPECT_EQ(alloy_partition_deallocate(textures_, alloy_block_make(heap, 32)), ALLOY_E_NOT_OWNED);
  std::free(heap);
  EXPECT_EQ(faults.count(ALLOY_E_NOT_OWNED), 2u);
  EXPECT_EQ(faults.count(ALLOY_E_SIZE_MISMATCH), 1u);
  EXPECT_EQ(faults.count(ALLOY_E_DOUBLE_FREE), 1u);
  EXPECT_EQ(alloy_partition_deallocate(textures_, keep), ALLOY_OK);
}

TEST_F(Partitions, LargeAndOverAlignedRequestsAreDirectMapped) {
  alloy_block large = Alloc(textures_, 8193);
  EXPECT_GE(large.size, 8193u);
  alloy_block aligned_large = Alloc(textures_, 64, 8192);
  EXPECT_TRUE(alloy_ptr_is_aligned(aligned_large.ptr, 8192));
  EXPECT_EQ(alloy_partition_of(root_, large.ptr), textures_);
  EXPECT_EQ(alloy_partition_of(root_, aligned_large.ptr), textures_);
  alloy_block aligned = Alloc(textures_, 100, 4096);  // a bucket whose objects sit on pages
  EXPECT_TRUE(alloy_ptr_is_aligned(aligned.ptr, 4096));
  EXPECT_EQ(alloy_partition_deallocate(textures_, aligned), ALLOY_OK);
  EXPECT_EQ(alloy_partition_deallocate(textures_, aligned_large), ALLOY_OK);
  EXPECT_EQ(alloy_partition_deallocate(textures_, large), ALLOY_OK);
}

TEST_F(Partitions, EmptySlabsAreDecommitted) {
  std::vector<alloy_block> blocks;
  for (int i = 0; i < 4000; ++i) blocks.push_back(Alloc(textures_, 256));  // about 16 slabs
  alloy_partition_stats full, after;
  alloy_partition_get_stats(textures_, &full);
  EXPECT_GE(full.slab_count, 10u);
  for (const alloy_block &b : blocks) ASSERT_EQ(alloy_partition_deallocate(textures_, b), ALLOY_OK);
  alloy_partition_purge(textures_);  // the thread's cache and the returned batches go home first
  alloy_partition_get_stats(textures_, &after);
  EXPECT_EQ(after.live_bytes, 0u);
  EXPECT_LT(after.committed_bytes, full.committed_bytes / 4) << "empty slabs gave their memory back";
  blocks.clear();
  for (int i = 0; i < 4000; ++i) blocks.push_back(Alloc(textures_, 256));
  alloy_partition_get_stats(textures_, &after);
  EXPECT_EQ(after.slab_count, full.slab_count) << "the partition's own slabs were reused";
  for (const alloy_block &b : blocks) ASSERT_EQ(alloy_partition_deallocate(textures_, b), ALLOY_OK);
}

TEST(PartitionRoot, RunsOutWithCapacityAndRecovers) {
  alloy_partition_root *root = MakeRoot(4 * (64 << 10));
  alloy_partition_config config = alloy_partition_config_default();
  alloy_partition *p = nullptr;
  ASSERT_EQ(alloy_partition_create(root, "small", &config, &p), ALLOY_OK);
  std::vector<alloy_block> blocks;
  alloy_block block;
  alloy_status status;
  while ((status = alloy_partition_allocate(p, 4096, 16, &block)) == ALLOY_OK) blocks.push_back(block);
  EXPECT_EQ(status, ALLOY_E_CAPACITY);
  EXPECT_GE(blocks.size(), 4u * 14);
  ASSERT_EQ(alloy_partition_deallocate(p, blocks.back()), ALLOY_OK);
  blocks.pop_back();
  ASSERT_EQ(alloy_partition_allocate(p, 4096, 16, &block), ALLOY_OK);
  blocks.push_back(block);
  for (const alloy_block &b : blocks) ASSERT_EQ(alloy_partition_deallocate(p, b), ALLOY_OK);
  alloy_partition_root_destroy(root);
}

TEST(PartitionRoot, PlatformRefusalsAreStatuses) {
  alloy_partition_root_config root_config = alloy_partition_root_config_default();
  alloy_partition_root *root = nullptr;
  alloy_platform_fail_next(ALLOY_PLATFORM_RESERVE, 0, 1);
  EXPECT_EQ(alloy_partition_root_create(&root_config, &root), ALLOY_E_OUT_OF_MEMORY);
  EXPECT_EQ(root, nullptr);
  root = MakeRoot();
  alloy_partition_config config = alloy_partition_config_default();
  alloy_partition *p = nullptr;
  ASSERT_EQ(alloy_partition_create(root, "p", &config, &p), ALLOY_OK);
  alloy_block block = {nullptr, 0};
  alloy_platform_fail_next(ALLOY_PLATFORM_COMMIT, 0, 1);
  EXPECT_EQ(alloy_partition_allocate(p, 64, 16, &block), ALLOY_E_OUT_OF_MEMORY);
  EXPECT_EQ(block.ptr, nullptr);
  alloy_platform_fail_reset();
  ASSERT_EQ(alloy_partition_allocate(p, 64, 16, &block), ALLOY_OK);
  EXPECT_EQ(alloy_partition_deallocate(p, block), ALLOY_OK);
  alloy_partition_root_destroy(root);
}

TEST(PartitionRoot, BadConfigs) {
  alloy_partition_root_config root_config = alloy_partition_root_config_default();
  alloy_partition_root *root = nullptr;
  root_config.slab_size = 3 << 12;
  EXPECT_EQ(alloy_partition_root_create(&root_config, &root), ALLOY_E_INVALID_ARGUMENT);
  root = MakeRoot();
  alloy_partition_config config = alloy_partition_config_default();
  alloy_partition *p = nullptr;
  EXPECT_EQ(alloy_partition_create(root, "", &config, &p), ALLOY_E_INVALID_ARGUMENT);
  config.max_bucket_size = 1 << 20;
  EXPECT_EQ(alloy_partition_create(root, "big", &config, &p), ALLOY_E_INVALID_ARGUMENT);
  config = alloy_partition_config_default();
  config.numa_node = alloy_numa_node_count();
  EXPECT_EQ(alloy_partition_create(root, "far", &config, &p), ALLOY_E_UNAVAILABLE);
  config.numa_node = -9;
  EXPECT_EQ(alloy_partition_create(root, "odd", &config, &p), ALLOY_E_INVALID_ARGUMENT);
  EXPECT_EQ(p, nullptr);
  alloy_partition_root_destroy(root);
}

TEST(PartitionNuma, SlabsAreBoundToTheNode) {
  int local = -1;
  ASSERT_EQ(alloy_numa_current_node(&local), ALLOY_OK);
  alloy_partition_root *root = MakeRoot();
  for (int node : {ALLOY_PARTITION_NUMA_LOCAL, 0}) {
    alloy_partition_config config = alloy_partition_config_default();
    config.numa_node = node;
    alloy_partition *p = nullptr;
    ASSERT_EQ(alloy_partition_create(root, "numa", &config, &p), ALLOY_OK);
    alloy_block block;
    ASSERT_EQ(alloy_partition_allocate(p, 1000, 16, &block), ALLOY_OK);
    std::memset(block.ptr, 1, block.size);
    int placed = -1;
    ASSERT_EQ(alloy_numa_node_of(block.ptr, &placed), ALLOY_OK);
    EXPECT_EQ(placed, node == ALLOY_PARTITION_NUMA_LOCAL ? local : node);
    EXPECT_EQ(alloy_partition_deallocate(p, block), ALLOY_OK);
  }
  alloy_partition_root_destroy(root);
}

TEST(PartitionGuards, AnOverrunOffTheSlabFaults) {
  alloy_partition_root *root = MakeRoot();
  alloy_partition_config config = alloy_partition_config_default();
  config.guard_pages = true;
  alloy_partition *p = nullptr;
  ASSERT_EQ(alloy_partition_create(root, "guarded", &config, &p), ALLOY_OK);
  alloy_block block;
  ASSERT_EQ(alloy_partition_allocate(p, 64, 16, &block), ALLOY_OK);
  const uintptr_t slab = reinterpret_cast<uintptr_t>(block.ptr) & ~uintptr_t{(64 << 10) - 1};
  volatile char *guard = reinterpret_cast<char *>(slab + (64 << 10) - alloy_vm_page_size());
  EXPECT_DEATH(*guard = 1, "");
  // Without guards the next slot follows directly and is merely uncommitted;
  // with them, the page before the next slab is never committed at all.
  EXPECT_EQ(alloy_partition_deallocate(p, block), ALLOY_OK);
  alloy_partition_root_destroy(root);
}

TEST(PartitionTools, UseAfterFreeIsReportedByAsan) {
  if (!alloy_test::kAsan) GTEST_SKIP() << "needs the asan config";
  alloy_partition_root *root = MakeRoot();
  alloy_partition_config config = alloy_partition_config_default();
  alloy_partition *p = nullptr;
  ASSERT_EQ(alloy_partition_create(root, "p", &config, &p), ALLOY_OK);
  alloy_block block, keep;
  ASSERT_EQ(alloy_partition_allocate(p, 64, 16, &keep), ALLOY_OK);
  ASSERT_EQ(alloy_partition_allocate(p, 64, 16, &block), ALLOY_OK);
  ASSERT_EQ(alloy_partition_deallocate(p, block), ALLOY_OK);
  volatile char *stale = static_cast<char *>(block.ptr) + 16;  // past the free-list link
  EXPECT_DEATH(*stale = 1, "use-after-poison");
  EXPECT_EQ(alloy_partition_deallocate(p, keep), ALLOY_OK);
  alloy_partition_root_destroy(root);
}

TEST(PartitionTools, UseAfterFreeIsReportedByMemcheck) {
  if (!alloy_test::UnderValgrind()) GTEST_SKIP() << "needs the valgrind config";
  EXPECT_EXIT(
      {
        alloy_partition_root *root = MakeRoot();
        alloy_partition_config config = alloy_partition_config_default();
        alloy_partition *p = nullptr;
        if (alloy_partition_create(root, "p", &config, &p) != ALLOY_OK) std::exit(1);
        alloy_block block;
        alloy_block keep;
        if (alloy_partition_allocate(p, 64, 16, &keep) != ALLOY_OK) std::exit(1);
        if (alloy_partition_allocate(p, 64, 16, &block) != ALLOY_OK) std::exit(1);
        ALLOY_IGNORE_STATUS(alloy_partition_deallocate(p, block));
        static_cast<volatile char *>(block.ptr)[16] = 1;
        std::exit(0);
      },
      ::testing::ExitedWithCode(97), "");
}

TEST(PartitionRandom, ManyPartitionsKeepTheirObjects) {
  alloy_partition_root *root = MakeRoot();
  alloy_partition_config config = alloy_partition_config_default();
  alloy_partition *parts[3];
  for (int i = 0; i < 3; ++i) ASSERT_EQ(alloy_partition_create(root, "r", &config, &parts[i]), ALLOY_OK);
  struct Live {
    int part;
    alloy_block block;
    size_t size;
    uint32_t seed;
  };
  std::vector<Live> live;
  std::mt19937 rng(7);
  uint32_t seed = 1;
  const size_t steps = alloy_test::Scaled(alloy_test::kTsan ? 4000 : 20000, 1000);
  for (size_t step = 0; step < steps; ++step) {
    if (rng() % 2 == 0 || live.empty()) {
      Live l{static_cast<int>(rng() % 3), {nullptr, 0}, rng() % 8193, seed++};
      size_t align = size_t{1} << (rng() % 7);
      ASSERT_EQ(alloy_partition_allocate(parts[l.part], l.size, align, &l.block), ALLOY_OK);
      ASSERT_TRUE(alloy_ptr_is_aligned(l.block.ptr, align));
      ASSERT_EQ(alloy_partition_of(root, l.block.ptr), parts[l.part]);
      alloy_test::Fill(l.block.ptr, l.size, l.seed);
      live.push_back(l);
    } else {
      size_t i = rng() % live.size();
      ASSERT_TRUE(alloy_test::Check(live[i].block.ptr, live[i].size, live[i].seed)) << "step " << step;
      ASSERT_EQ(alloy_partition_deallocate(parts[live[i].part], live[i].block), ALLOY_OK);
      live[i] = live.back();
      live.pop_back();
    }
  }
  for (const Live &l : live) {
    ASSERT_TRUE(alloy_test::Check(l.block.ptr, l.size, l.seed));
    ASSERT_EQ(alloy_partition_deallocate(parts[l.part], l.block), ALLOY_OK);
  }
  alloy_partition_root_destroy(root);
}

}  // namespace
