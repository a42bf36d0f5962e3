#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <set>
#include <vector>

#include <gtest/gtest.h>

#include "alloy/allocator.h"
#include "alloy/fault_injection.h"
#include "alloy/pool.h"
#include "alloy/system.h"
#include "alloy/vm.h"
#include "tests/contract/contract_suite.h"
#include "tests/support/support.h"
#include "tests/support/tool_reports.h"

namespace {

using alloy_test::ContractSubject;
using alloy_test::ExpectToolsReport;
using alloy_test::ResourceContract;

alloy_pool *MakePool(alloy_pool_config config) {
  alloy_pool *pool = nullptr;
  EXPECT_EQ(alloy_pool_create(&config, &pool), ALLOY_OK);
  return pool;
}

ContractSubject PoolSubject(const char *name, size_t block_size, size_t block_align, size_t max_blocks = 0,
                            alloy_resource *parent = nullptr, bool concurrent = false,
                            alloy_pool_commit commit = ALLOY_POOL_COMMIT_BATCHED) {
  ContractSubject subject;
  subject.name = name;
  subject.create = [=] {
    alloy_pool_config config = alloy_pool_config_default(block_size);
    config.block_align = block_align;
    config.max_blocks = max_blocks;
    config.parent = parent;
    config.concurrent_free = concurrent;
    config.commit = commit;
    return alloy_pool_resource(MakePool(config));
  };
  subject.destroy = [](alloy_resource *resource) { alloy_pool_destroy(reinterpret_cast<alloy_pool *>(resource)); };
  subject.max_size = block_size;
  subject.max_alignment = block_align;
  subject.bounded = max_blocks != 0;
  subject.exhaustion_limit = max_blocks * block_size;
  return subject;
}

INSTANTIATE_TEST_SUITE_P(Pool, ResourceContract,
                         ::testing::Values(PoolSubject("pool64", 64, 16), PoolSubject("pool4k", 4096, 4096),
                                           PoolSubject("bounded", 256, 32, 300),
                                           PoolSubject("on_parent", 128, 64, 0, alloy_system_resource()),
                                           PoolSubject("concurrent", 64, 16, 0, nullptr, true),
                                           PoolSubject("concurrent_bounded", 256, 32, 300, nullptr, true),
                                           PoolSubject("lazy_commit", 512, 64, 0, nullptr, false,
                                                       ALLOY_POOL_COMMIT_LAZY)),
                         alloy_test::SubjectName);

class PoolTest : public ::testing::Test {
 protected:
  void Create(alloy_pool_config config) {
    if (pool_ != nullptr) alloy_pool_destroy(pool_);
    ASSERT_EQ(alloy_pool_create(&config, &pool_), ALLOY_OK);
    a_ = alloy_allocator_of(alloy_pool_resource(pool_));
  }
  void SetUp() override { Create(alloy_pool_config_default(64)); }
  void TearDown() override { alloy_pool_destroy(pool_); }
  alloy_pool_stats Stats() const {
    alloy_pool_stats stats;
    alloy_pool_get_stats(pool_, &stats);
    return stats;
  }
  alloy_pool *pool_ = nullptr;
  alloy_allocator a_{};
};

TEST_F(PoolTest, BlocksAreDistinctFixedSizeAndReusedLastFreedFirst) {
  const size_t n = alloy_test::Scaled(5000, 500);
  std::vector<alloy_block> blocks(n);
  std::set<void *> distinct;
  for (size_t i = 0; i < n; ++i) {
    ASSERT_EQ(alloy_alloc(a_, 1 + i % 64, 8, &blocks[i]), ALLOY_OK);
    EXPECT_EQ(blocks[i].size, 64u) << "every block is a full block";
    alloy_test::Fill(blocks[i].ptr, 64, static_cast<uint32_t>(i));
    distinct.insert(blocks[i].ptr);
  }
  EXPECT_EQ(distinct.size(), n);
  for (size_t i = 0; i < n; ++i) ASSERT_TRUE(alloy_test::Check(blocks[i].ptr, 64, static_cast<uint32_t>(i)));
  alloy_pool_stats stats = Stats();
  EXPECT_EQ(stats.live_blocks, n);
  EXPECT_EQ(stats.slab_count, (n + stats.blocks_per_slab - 1) / stats.blocks_per_slab) << "slabs added on demand";
  for (size_t i = 0; i < n; i += 2) ASSERT_EQ(alloy_free(a_, blocks[i], 8), ALLOY_OK);
  alloy_block again;
  ASSERT_EQ(alloy_alloc(a_, 64, 16, &again), ALLOY_OK);
  EXPECT_EQ(again.ptr, blocks[(n - 1) / 2 * 2].ptr) << "the free list is LIFO: the hottest block comes back";
  EXPECT_EQ(Stats().slab_count, stats.slab_count) << "freed blocks are reused before any new slab";
  ASSERT_EQ(alloy_free(a_, again, 16), ALLOY_OK);
  for (size_t i = 1; i < n; i += 2) ASSERT_EQ(alloy_free(a_, blocks[i], 8), ALLOY_OK);
  EXPECT_EQ(Stats().live_blocks, 0u);
}

TEST_F(PoolTest, EveryPowerOfTwoAlignmentUpTo4KiB) {
  for (size_t align = 1; align <= 4096; align *= 2) {
    alloy_pool_config config = alloy_pool_config_default(24);
    config.block_align = align;
    Create(config);
    for (int i = 0; i < 20; ++i) {
      alloy_block block;
      ASSERT_EQ(alloy_alloc(a_, 24, align, &block), ALLOY_OK) << align;
      EXPECT_TRUE(alloy_ptr_is_aligned(block.ptr, align)) << align;
      EXPECT_GE(block.size, 24u);
      std::memset(block.ptr, 0x42, block.size);
    }
    alloy_block block = {nullptr, 0};
    EXPECT_EQ(alloy_alloc(a_, 24, align * 2, &block), ALLOY_E_UNSUPPORTED) << "stricter than the blocks";
    EXPECT_EQ(block.ptr, nullptr);
  }
}

TEST_F(PoolTest, RequestsThePoolCannotServeGetAClearStatus) {
  alloy_block block = {nullptr, 0};
  EXPECT_EQ(alloy_alloc(a_, 65, 8, &block), ALLOY_E_UNSUPPORTED) << "larger than a block";
  EXPECT_EQ(alloy_alloc(a_, 64, 2 * ALLOY_DEFAULT_ALIGNMENT, &block), ALLOY_E_UNSUPPORTED)
      << "more aligned than a block (blocks default to ALLOY_DEFAULT_ALIGNMENT)";
  EXPECT_EQ(alloy_alloc(a_, SIZE_MAX, 8, &block), ALLOY_E_INVALID_ARGUMENT);
  EXPECT_EQ(alloy_alloc(a_, 8, 0, &block), ALLOY_E_INVALID_ARGUMENT);
  EXPECT_EQ(alloy_alloc(a_, 8, 3, &block), ALLOY_E_INVALID_ARGUMENT);
  EXPECT_EQ(block.ptr, nullptr);
  ASSERT_EQ(alloy_alloc(a_, 0, 1, &block), ALLOY_OK) << "size 0 is a block like any other";
  alloy_block resized;
  EXPECT_EQ(alloy_resource_resize(a_.resource, block, 64, 8, &resized), ALLOY_OK) << "already full size";
  EXPECT_EQ(alloy_try_reallocate(a_, &block, 65, 8), ALLOY_E_UNSUPPORTED);
  EXPECT_EQ(alloy_reallocate(a_, &block, 1000, 8), ALLOY_E_UNSUPPORTED);
  EXPECT_EQ(alloy_free(a_, block, 1), ALLOY_OK);
}

TEST_F(PoolTest, TheSlabAndItsPoolAreFoundFromABlockPointer) {
  alloy_pool_config config = alloy_pool_config_default(48);
  config.slab_size = alloy_vm_page_size();
  Create(config);
  alloy_pool_stats stats = Stats();
  std::vector<alloy_block> blocks(stats.blocks_per_slab * 3 + 1);
  for (auto &block : blocks) ASSERT_EQ(alloy_alloc(a_, 48, 16, &block), ALLOY_OK);
  EXPECT_EQ(Stats().slab_count, 4u);
  for (auto &block : blocks) {
    EXPECT_EQ(alloy_pool_of_block(block.ptr, stats.slab_size), pool_);
    EXPECT_EQ(alloy_pool_of_block(static_cast<char *>(block.ptr) + 47, stats.slab_size), pool_);
  }
}

TEST_F(PoolTest, MaxBlocksBoundsThePool) {
  alloy_pool_config config = alloy_pool_config_default(32);
  config.max_blocks = 1000;
  Create(config);
  std::vector<alloy_block> blocks;
  alloy_block block;
  alloy_status status;
  while ((status = alloy_alloc(a_, 32, 8, &block)) == ALLOY_OK) blocks.push_back(block);
  EXPECT_EQ(status, ALLOY_E_CAPACITY);
  EXPECT_EQ(blocks.size(), 1000u);
  EXPECT_EQ(Stats().capacity_blocks, 1000u);
  ASSERT_EQ(alloy_free(a_, blocks.back(), 8), ALLOY_OK);
  blocks.pop_back();
  ASSERT_EQ(alloy_alloc(a_, 32, 8, &block), ALLOY_OK) << "a freed block is available again";
  EXPECT_EQ(alloy_alloc(a_, 32, 8, &block), ALLOY_E_CAPACITY);
}

// A parent that counts what the pool takes and gives back.
struct CountingParent {
  alloy_resource resource;
  int live = 0;
  int taken = 0;
  bool refuse = false;
  static alloy_status Allocate(alloy_resource *self, size_t size, size_t align, alloy_block *out) {
    auto *parent = reinterpret_cast<CountingParent *>(self);
    if (parent->refuse) return ALLOY_E_BUDGET_EXCEEDED;
    ALLOY_TRY(alloy_resource_allocate(alloy_system_resource(), size, align, out));
    parent->live++;
    parent->taken++;
    return ALLOY_OK;
  }
  static alloy_status Deallocate(alloy_resource *self, alloy_block block, size_t align) {
    reinterpret_cast<CountingParent *>(self)->live--;
    return alloy_resource_deallocate(alloy_system_resource(), block, align);
  }
};
alloy_resource_ops CountingOps() {
  alloy_resource_ops ops;
  std::memset(&ops, 0, sizeof ops);
  ops.struct_size = sizeof ops;
  ops.name = "counting";
  ops.allocate = CountingParent::Allocate;
  ops.deallocate = CountingParent::Deallocate;
  return ops;
}
const alloy_resource_ops kCountingOps = CountingOps();

TEST(PoolParent, SlabsComeFromTheParentAndGoBackToIt) {
  CountingParent parent;
  parent.resource.ops = &kCountingOps;
  alloy_pool_config config = alloy_pool_config_default(100);
  config.parent = &parent.resource;
  config.slab_size = 16384;
  alloy_pool *pool = MakePool(config);
  ASSERT_NE(pool, nullptr);
  EXPECT_EQ(parent.taken, 0) << "no slab before the first allocation";
  alloy_allocator a = alloy_allocator_of(alloy_pool_resource(pool));
  std::vector<alloy_block> blocks(400);
  for (auto &block : blocks) ASSERT_EQ(alloy_alloc(a, 100, 16, &block), ALLOY_OK);
  alloy_pool_stats stats;
  alloy_pool_get_stats(pool, &stats);
  EXPECT_EQ(parent.live, static_cast<int>(stats.slab_count));
  EXPECT_GE(parent.live, 3);
  for (auto &block : blocks) EXPECT_EQ(alloy_pool_of_block(block.ptr, 16384), pool);

  parent.refuse = true;
  std::vector<alloy_block> more;
  alloy_block block = {nullptr, 0};
  alloy_status status;
  while ((status = alloy_alloc(a, 100, 16, &block)) == ALLOY_OK) more.push_back(block);
  EXPECT_EQ(status, ALLOY_E_BUDGET_EXCEEDED) << "the parent's refusal is passed on";
  EXPECT_LT(more.size(), stats.blocks_per_slab);
  parent.refuse = false;
  EXPECT_EQ(alloy_alloc(a, 100, 16, &block), ALLOY_OK);
  alloy_pool_destroy(pool);
  EXPECT_EQ(parent.live, 0) << "every slab went back to the parent";
}

TEST_F(PoolTest, PlatformFailureIsAStatusAndRecovers) {
  alloy_block block = {nullptr, 0};
  alloy_platform_fail_next(ALLOY_PLATFORM_RESERVE, 0, 1);
  EXPECT_EQ(alloy_alloc(a_, 64, 8, &block), ALLOY_E_OUT_OF_MEMORY);
  EXPECT_EQ(block.ptr, nullptr);
  EXPECT_EQ(Stats().slab_count, 0u);
  EXPECT_EQ(alloy_alloc(a_, 64, 8, &block), ALLOY_OK);
  EXPECT_EQ(alloy_free(a_, block, 8), ALLOY_OK);
}

TEST(PoolConfig, BadConfigsAreInvalidArguments) {
  alloy_pool *pool = reinterpret_cast<alloy_pool *>(0x1);
  alloy_pool_config config = alloy_pool_config_default(0);
  EXPECT_EQ(alloy_pool_create(&config, &pool), ALLOY_E_INVALID_ARGUMENT) << "block size 0";
  config = alloy_pool_config_default(SIZE_MAX);
  EXPECT_EQ(alloy_pool_create(&config, &pool), ALLOY_E_INVALID_ARGUMENT);
  config = alloy_pool_config_default(64);
  config.block_align = 24;
  EXPECT_EQ(alloy_pool_create(&config, &pool), ALLOY_E_INVALID_ARGUMENT);
  config = alloy_pool_config_default(64);
  config.slab_size = 3 * alloy_vm_page_size();
  EXPECT_EQ(alloy_pool_create(&config, &pool), ALLOY_E_INVALID_ARGUMENT) << "slab size not a power of two";
  config.slab_size = 512;
  EXPECT_EQ(alloy_pool_create(&config, &pool), ALLOY_E_INVALID_ARGUMENT) << "slab below a page";
  config = alloy_pool_config_default(8192);
  config.slab_size = 8192;
  EXPECT_EQ(alloy_pool_create(&config, &pool), ALLOY_E_INVALID_ARGUMENT) << "no block fits beside the header";
  EXPECT_EQ(alloy_pool_create(nullptr, &pool), ALLOY_E_INVALID_ARGUMENT);
  config = alloy_pool_config_default(64);
  EXPECT_EQ(alloy_pool_create(&config, nullptr), ALLOY_E_INVALID_ARGUMENT);
  alloy_platform_fail_next(ALLOY_PLATFORM_RESERVE, 0, 1);
  EXPECT_EQ(alloy_pool_create(&config, &pool), ALLOY_E_OUT_OF_MEMORY);
  EXPECT_EQ(pool, reinterpret_cast<alloy_pool *>(0x1)) << "failed creates write nothing";
  config = alloy_pool_config_default(size_t{1} << 20);  // large blocks get a larger default slab
  ASSERT_EQ(alloy_pool_create(&config, &pool), ALLOY_OK);
  alloy_pool_stats stats;
  alloy_pool_get_stats(pool, &stats);
  EXPECT_GE(stats.blocks_per_slab, 2u);
  alloy_pool_destroy(pool);
}

TEST_F(PoolTest, OwnershipNeverReadsForeignMemory) {
  alloy_pool *other = MakePool(alloy_pool_config_default(64));
  alloy_block mine, theirs;
  ASSERT_EQ(alloy_alloc(a_, 64, 8, &mine), ALLOY_OK);
  ASSERT_EQ(alloy_pool_allocate(other, 64, 8, &theirs), ALLOY_OK);
  EXPECT_TRUE(alloy_resource_owns(a_.resource, mine));
  EXPECT_FALSE(alloy_resource_owns(a_.resource, theirs));
  EXPECT_FALSE(alloy_resource_owns(a_.resource, alloy_block_make(static_cast<char *>(mine.ptr) - 4096, 8)));
  EXPECT_FALSE(alloy_resource_owns(a_.resource, alloy_block_make(mine.ptr, 65))) << "reaches past the block area";
  EXPECT_EQ(alloy_pool_free(other, theirs, 8), ALLOY_OK);
  alloy_pool_destroy(other);
}

TEST_F(PoolTest, ForeignFreesAreReported) {
  alloy_test::FaultRecorder faults;
  int local = 0;
  EXPECT_EQ(alloy_free(a_, alloy_block_make(&local, sizeof local), 4), ALLOY_E_NOT_OWNED) << "outside every slab";
  alloy_block block;
  ASSERT_EQ(alloy_alloc(a_, 64, 8, &block), ALLOY_OK);
  EXPECT_EQ(alloy_free(a_, alloy_block_make(&local, sizeof local), 4), ALLOY_E_NOT_OWNED);
  EXPECT_EQ(faults.count(ALLOY_E_NOT_OWNED), 2u);
  EXPECT_NE(faults.last_message().find("pool"), std::string::npos);
  EXPECT_EQ(Stats().live_blocks, 1u);
  EXPECT_EQ(alloy_free(a_, block, 8), ALLOY_OK);
}

TEST_F(PoolTest, DebugBuildsCatchDoubleFreesAndMisplacedPointers) {
  if (!ALLOY_DEBUG) GTEST_SKIP() << "exact free checks are on in ALLOY_DEBUG builds";
  alloy_test::FaultRecorder faults;
  alloy_block a, b;
  ASSERT_EQ(alloy_alloc(a_, 64, 8, &a), ALLOY_OK);
  ASSERT_EQ(alloy_alloc(a_, 64, 8, &b), ALLOY_OK);
  EXPECT_EQ(alloy_free(a_, alloy_block_make(static_cast<char *>(a.ptr) + 8, 8), 8), ALLOY_E_INTERIOR_POINTER)
      << "inside a slab but not a block start";
  EXPECT_EQ(alloy_free(a_, alloy_block_make(a.ptr, 100), 8), ALLOY_E_SIZE_MISMATCH);
  EXPECT_EQ(alloy_free(a_, a, 64), ALLOY_E_ALIGN_MISMATCH);
  ASSERT_EQ(alloy_free(a_, a, 8), ALLOY_OK);
  EXPECT_EQ(alloy_free(a_, a, 8), ALLOY_E_DOUBLE_FREE);
  EXPECT_EQ(faults.faults().size(), 4u);
  alloy_block c;
  ASSERT_EQ(alloy_alloc(a_, 64, 8, &c), ALLOY_OK);
  EXPECT_EQ(c.ptr, a.ptr) << "the double free did not corrupt the free list";
  ASSERT_EQ(alloy_alloc(a_, 64, 8, &c), ALLOY_OK);
  EXPECT_NE(c.ptr, a.ptr);
  EXPECT_EQ(alloy_free(a_, b, 8), ALLOY_OK);
}

TEST_F(PoolTest, InlineFastPathsKeepTheContract) {
  std::vector<alloy_block> blocks(alloy_test::Scaled(3000, 300));
  for (auto &block : blocks) {
    ASSERT_EQ(alloy_pool_allocate_fast(pool_, 64, 16, &block), ALLOY_OK);
    EXPECT_EQ(block.size, 64u);
    std::memset(block.ptr, 7, block.size);
  }
  EXPECT_EQ(Stats().live_blocks, blocks.size());
  alloy_block refused = {nullptr, 0};
  EXPECT_EQ(alloy_pool_allocate_fast(pool_, 65, 16, &refused), ALLOY_E_UNSUPPORTED);
  EXPECT_EQ(alloy_pool_allocate_fast(pool_, 64, 3, &refused), ALLOY_E_INVALID_ARGUMENT);
  EXPECT_EQ(alloy_pool_allocate_fast(pool_, 64, 0, &refused), ALLOY_E_INVALID_ARGUMENT);
  EXPECT_EQ(refused.ptr, nullptr);
  for (auto &block : blocks) ASSERT_EQ(alloy_pool_free_fast(pool_, block, 16), ALLOY_OK);
  EXPECT_EQ(Stats().live_blocks, 0u);
  alloy_block again;
  ASSERT_EQ(alloy_pool_allocate_fast(pool_, 64, 16, &again), ALLOY_OK);
  EXPECT_EQ(again.ptr, blocks.back().ptr);
  EXPECT_EQ(alloy_pool_free_fast(pool_, again, 16), ALLOY_OK);
  alloy_test::FaultRecorder faults;
  alignas(16) static char foreign[64];
  EXPECT_EQ(alloy_pool_free_fast(pool_, alloy_block_make(foreign, 64), 16), ALLOY_E_NOT_OWNED);
  EXPECT_EQ(alloy_pool_free_fast(pool_, alloy_block_null(), 4), ALLOY_OK);
}

TEST_F(PoolTest, UseAfterFreeIsReportedByTheTools) {
  alloy_block block, neighbour;
  ASSERT_EQ(alloy_alloc(a_, 64, 8, &block), ALLOY_OK);
  ASSERT_EQ(alloy_alloc(a_, 64, 8, &neighbour), ALLOY_OK);
  std::memset(block.ptr, 1, 64);
  ASSERT_EQ(alloy_free(a_, block, 8), ALLOY_OK);
  std::memset(neighbour.ptr, 1, 64);
  ExpectToolsReport(static_cast<char *>(block.ptr) + 32);
}

TEST_F(PoolTest, TheFreeListLinkIsNotAddressable) {
  alloy_block block;
  ASSERT_EQ(alloy_alloc(a_, 64, 8, &block), ALLOY_OK);
  ASSERT_EQ(alloy_free(a_, block, 8), ALLOY_OK);
  ExpectToolsReport(block.ptr);
}

TEST_F(PoolTest, NeverCarvedBlocksAreNotAddressable) {
  alloy_block block;
  ASSERT_EQ(alloy_alloc(a_, 64, 8, &block), ALLOY_OK);
  ExpectToolsReport(static_cast<char *>(block.ptr) + 64);
}

// Every-build misuse checks (alloy/pool.h's table): each bad free is
// reported, returns its status, changes nothing, and the pool goes on
// serving distinct blocks. Release builds catch a double free where the
// block would come off the list a second time; debug builds at the free.

// Allocates and frees `n` blocks and checks they are distinct and inside the pool.
void ExpectPoolStillServes(alloy_pool *pool, size_t n) {
  std::vector<alloy_block> blocks(n);
  std::set<void *> distinct;
  for (auto &block : blocks) {
    ASSERT_EQ(alloy_pool_allocate(pool, 64, 8, &block), ALLOY_OK);
    EXPECT_TRUE(alloy_resource_owns(alloy_pool_resource(pool), block));
    EXPECT_TRUE(distinct.insert(block.ptr).second) << "handed out twice: " << block.ptr;
    std::memset(block.ptr, 0x5A, block.size);
  }
  for (auto &block : blocks) EXPECT_EQ(alloy_pool_free(pool, block, 8), ALLOY_OK);
}

// The second free's status: refused at the free in debug builds; accepted
// in release builds, where the list catches it later.
constexpr alloy_status kSecondFree = ALLOY_DEBUG ? ALLOY_E_DOUBLE_FREE : ALLOY_OK;

// Outside debug builds the pool's own push writes into the freed block, and
// ASan and memcheck report that write first (they catch the double free).
bool ToolsCatchTheSecondFree() { return !ALLOY_DEBUG && (alloy_test::kAsan || alloy_test::UnderValgrind()); }

// Allocates `n` blocks while live; none may be handed out twice.
std::vector<alloy_block> AllocateDistinct(alloy_pool *pool, size_t n, bool inline_path) {
  std::vector<alloy_block> blocks(n);
  std::set<void *> distinct;
  for (auto &block : blocks) {
    const alloy_status status =
        inline_path ? alloy_pool_allocate_fast(pool, 64, 8, &block) : alloy_pool_allocate(pool, 64, 8, &block);
    EXPECT_EQ(status, ALLOY_OK);
    EXPECT_TRUE(distinct.insert(block.ptr).second) << "handed out twice while live: " << block.ptr;
  }
  return blocks;
}

TEST_F(PoolTest, Regression_DoubleFreeRightAfterTheFreeIsCaught) {
  if (ToolsCatchTheSecondFree()) GTEST_SKIP() << "ASan and memcheck report the second free themselves";
  for (bool inline_path : {false, true}) {
    alloy_test::FaultRecorder faults;
    alloy_block a;
    ASSERT_EQ(alloy_pool_allocate(pool_, 64, 8, &a), ALLOY_OK);
    ASSERT_EQ(alloy_pool_free(pool_, a, 8), ALLOY_OK);
    EXPECT_EQ(inline_path ? alloy_pool_free_fast(pool_, a, 8) : alloy_pool_free(pool_, a, 8), kSecondFree);
    std::vector<alloy_block> live = AllocateDistinct(pool_, 3, inline_path);
    ASSERT_EQ(faults.count(ALLOY_E_DOUBLE_FREE), 1u) << (inline_path ? "inline path" : "call path");
    EXPECT_EQ(faults.faults()[0].ptr, a.ptr) << "the report names the block";
    EXPECT_NE(faults.last_message().find("pool"), std::string::npos);
    for (auto &block : live) EXPECT_EQ(alloy_pool_free(pool_, block, 8), ALLOY_OK);
    ExpectPoolStillServes(pool_, 100);
    EXPECT_EQ(faults.faults().size(), 1u);
  }
}

TEST_F(PoolTest, Regression_DoubleFreeAfterOtherFreesIsCaught) {
  if (ToolsCatchTheSecondFree()) GTEST_SKIP() << "ASan and memcheck report the second free themselves";
  alloy_test::FaultRecorder faults;
  alloy_block a, b;
  ASSERT_EQ(alloy_pool_allocate(pool_, 64, 8, &a), ALLOY_OK);
  ASSERT_EQ(alloy_pool_allocate(pool_, 64, 8, &b), ALLOY_OK);
  ASSERT_EQ(alloy_pool_free(pool_, a, 8), ALLOY_OK);
  ASSERT_EQ(alloy_pool_free(pool_, b, 8), ALLOY_OK);
  EXPECT_EQ(alloy_pool_free(pool_, a, 8), kSecondFree);
  // Without the check the list is A, B, A, B, ...: A would come out twice.
  std::vector<alloy_block> live = AllocateDistinct(pool_, 4, false);
  ASSERT_EQ(faults.count(ALLOY_E_DOUBLE_FREE), 1u);
  EXPECT_EQ(faults.faults()[0].ptr, a.ptr) << "the report names the block";
  EXPECT_EQ(faults.faults().size(), 1u);
  for (auto &block : live) EXPECT_EQ(alloy_pool_free(pool_, block, 8), ALLOY_OK);
  ExpectPoolStillServes(pool_, 100);
}

TEST_F(PoolTest, Regression_UserDataEqualToAnythingIsNeverADoubleFree) {
  alloy_test::FaultRecorder faults;
  // Blocks handed out and freed untouched, or filled with any pattern: no report.
  for (int round = 0; round < 3; ++round) {
    std::vector<alloy_block> live = AllocateDistinct(pool_, 200, false);
    for (size_t i = 0; i < live.size(); ++i)
      if (round == 1) std::memset(live[i].ptr, static_cast<int>(i), live[i].size);
    for (auto &block : live) EXPECT_EQ(alloy_pool_free(pool_, block, 8), ALLOY_OK);
  }
  EXPECT_EQ(faults.faults().size(), 0u);
  EXPECT_EQ(Stats().live_blocks, 0u);
}

TEST_F(PoolTest, Regression_InteriorPointerFreeIsCaught) {
  alloy_test::FaultRecorder faults;
  alloy_block a, b;
  ASSERT_EQ(alloy_pool_allocate(pool_, 64, 8, &a), ALLOY_OK);
  ASSERT_EQ(alloy_pool_allocate(pool_, 64, 8, &b), ALLOY_OK);
  alloy_test::Fill(b.ptr, b.size, 7);
  char *const start = static_cast<char *>(a.ptr);
  EXPECT_EQ(alloy_pool_free(pool_, alloy_block_make(start + 16, 8), 8), ALLOY_E_INTERIOR_POINTER);
  EXPECT_EQ(alloy_pool_free_fast(pool_, alloy_block_make(start + 16, 8), 8), ALLOY_E_INTERIOR_POINTER);
  EXPECT_EQ(alloy_pool_free(pool_, alloy_block_make(start + 40, 8), 8), ALLOY_E_INTERIOR_POINTER);
  EXPECT_EQ(alloy_pool_free(pool_, alloy_block_make(start + 1, 8), 8), ALLOY_E_INTERIOR_POINTER);
  EXPECT_EQ(faults.count(ALLOY_E_INTERIOR_POINTER), 4u);
  EXPECT_TRUE(alloy_test::Check(b.ptr, b.size, 7)) << "the neighbour was overwritten";
  EXPECT_EQ(Stats().live_blocks, 2u);
  ExpectPoolStillServes(pool_, 100);
  EXPECT_EQ(alloy_pool_free(pool_, a, 8), ALLOY_OK);
  EXPECT_EQ(alloy_pool_free(pool_, b, 8), ALLOY_OK);
  EXPECT_EQ(faults.faults().size(), 4u);
}

TEST_F(PoolTest, Regression_InteriorPointerFreeIsCaughtForOddBlockSizes) {
  for (size_t size : {24, 48, 80, 112, 200}) {
    alloy_test::FaultRecorder faults;
    alloy_pool_config config = alloy_pool_config_default(size);
    config.block_align = 8;
    Create(config);
    std::vector<alloy_block> blocks(40);
    for (auto &block : blocks) ASSERT_EQ(alloy_pool_allocate(pool_, size, 8, &block), ALLOY_OK);
    size_t reported = 0;
    for (const alloy_block &block : blocks)
      for (size_t offset = 8; offset < size; offset += 8, ++reported)
        EXPECT_EQ(alloy_pool_free(pool_, alloy_block_make(static_cast<char *>(block.ptr) + offset, 8), 8),
                  ALLOY_E_INTERIOR_POINTER)
            << "block size " << size << ", offset " << offset;
    EXPECT_EQ(faults.count(ALLOY_E_INTERIOR_POINTER), reported);
    for (const alloy_block &block : blocks) EXPECT_EQ(alloy_pool_free(pool_, block, 8), ALLOY_OK);
    EXPECT_EQ(faults.faults().size(), reported);
    EXPECT_EQ(Stats().live_blocks, 0u);
  }
}

TEST_F(PoolTest, Regression_WrongSizeFreeIsCaught) {
  alloy_test::FaultRecorder faults;
  alloy_block a;
  ASSERT_EQ(alloy_pool_allocate(pool_, 64, 8, &a), ALLOY_OK);
  EXPECT_EQ(alloy_pool_free(pool_, alloy_block_make(a.ptr, 4096), 8), ALLOY_E_SIZE_MISMATCH);
  EXPECT_EQ(alloy_pool_free_fast(pool_, alloy_block_make(a.ptr, 4096), 8), ALLOY_E_SIZE_MISMATCH);
  EXPECT_EQ(alloy_pool_free(pool_, alloy_block_make(a.ptr, 65), 8), ALLOY_E_SIZE_MISMATCH);
  EXPECT_EQ(faults.count(ALLOY_E_SIZE_MISMATCH), 3u);
  EXPECT_EQ(Stats().live_blocks, 1u);
  EXPECT_EQ(alloy_pool_free(pool_, a, 8), ALLOY_OK);
  ExpectPoolStillServes(pool_, 100);
}

// A write through a stale pointer into a freed block: never a pointer
// outside the pool, never a block twice, and the corruption reported.
TEST_F(PoolTest, Regression_UseAfterFreeWriteNeverYieldsAWildPointer) {
  if (alloy_test::kAsan || alloy_test::UnderValgrind()) GTEST_SKIP() << "the tools report the write itself";
  for (bool inline_path : {false, true}) {
    alloy_test::FaultRecorder faults;
    std::vector<alloy_block> blocks = AllocateDistinct(pool_, 16, inline_path);
    for (auto &block : blocks) ASSERT_EQ(alloy_pool_free(pool_, block, 8), ALLOY_OK);
    static_cast<uintptr_t *>(blocks[7].ptr)[0] = 0x4141414141414141u;  // a wild link
    static_cast<uintptr_t *>(blocks[3].ptr)[1] = 0x4242424242424242u;  // a mark overwritten
    std::set<void *> handed_out;
    for (size_t i = 0; i < blocks.size() + 4; ++i) {
      alloy_block block;
      ASSERT_EQ(inline_path ? alloy_pool_allocate_fast(pool_, 64, 8, &block) : alloy_pool_allocate(pool_, 64, 8, &block),
                ALLOY_OK);
      EXPECT_TRUE(alloy_resource_owns(alloy_pool_resource(pool_), block)) << "a wild pointer: " << block.ptr;
      EXPECT_TRUE(handed_out.insert(block.ptr).second) << "handed out twice: " << block.ptr;
    }
    EXPECT_EQ(faults.count(ALLOY_E_CORRUPTION), 1u) << "the list is dropped at the first bad block";
    EXPECT_EQ(faults.faults().size(), 1u);
    for (void *ptr : handed_out) EXPECT_EQ(alloy_pool_free(pool_, alloy_block_make(ptr, 64), 8), ALLOY_OK);
    Create(alloy_pool_config_default(64));
  }
}

// One-word blocks have no room for the mark: the size and interior checks
// still hold, and a double free is a debug-build catch only (the table).
TEST_F(PoolTest, OneWordBlocksStillGetTheShapeChecks) {
  alloy_test::FaultRecorder faults;
  alloy_pool_config config = alloy_pool_config_default(8);
  config.block_align = 8;
  Create(config);
  alloy_block a;
  ASSERT_EQ(alloy_pool_allocate(pool_, 8, 8, &a), ALLOY_OK);
  EXPECT_EQ(alloy_pool_free(pool_, alloy_block_make(static_cast<char *>(a.ptr) + 4, 4), 8), ALLOY_E_INTERIOR_POINTER);
  EXPECT_EQ(alloy_pool_free(pool_, alloy_block_make(a.ptr, 16), 8), ALLOY_E_SIZE_MISMATCH);
  EXPECT_EQ(alloy_pool_free(pool_, a, 8), ALLOY_OK);
  EXPECT_EQ(faults.faults().size(), 2u);
}

}  // namespace

// The head's fast paths leave one-word pools to the out-of-line code: the
// inline calls still serve them, reuse their blocks and refuse bad frees.
TEST_F(PoolTest, OneWordBlocksThroughTheInlinePaths) {
  alloy_test::FaultRecorder faults;
  alloy_pool_config config = alloy_pool_config_default(8);
  config.block_align = 8;
  Create(config);
  alloy_block a, b;
  ASSERT_EQ(alloy_pool_allocate_fast(pool_, 8, 8, &a), ALLOY_OK);
  ASSERT_EQ(alloy_pool_allocate_fast(pool_, 8, 8, &b), ALLOY_OK);
  EXPECT_NE(a.ptr, b.ptr);
  EXPECT_EQ(alloy_pool_free_fast(pool_, alloy_block_make(static_cast<char *>(a.ptr) + 4, 4), 8),
            ALLOY_E_INTERIOR_POINTER);
  EXPECT_EQ(alloy_pool_free_fast(pool_, alloy_block_make(a.ptr, 16), 8), ALLOY_E_SIZE_MISMATCH);
  EXPECT_EQ(alloy_pool_free_fast(pool_, a, 8), ALLOY_OK);
  alloy_block again;
  ASSERT_EQ(alloy_pool_allocate_fast(pool_, 8, 8, &again), ALLOY_OK);
  EXPECT_EQ(again.ptr, a.ptr) << "the freed block is reused first";
  EXPECT_EQ(alloy_pool_free_fast(pool_, again, 8), ALLOY_OK);
  EXPECT_EQ(alloy_pool_free_fast(pool_, b, 8), ALLOY_OK);
  EXPECT_EQ(Stats().live_blocks, 0u);
  EXPECT_EQ(faults.faults().size(), 2u);
  EXPECT_EQ(alloy_pool_check(pool_), ALLOY_OK);
}

// A pointer into a slab's header (below its first block) lies inside the
// span but before every block of its slab: refused at the free.
TEST_F(PoolTest, Regression_SlabHeaderPointerFreeIsRefused) {
  alloy_test::FaultRecorder faults;
  alloy_block a;
  ASSERT_EQ(alloy_pool_allocate(pool_, 64, 8, &a), ALLOY_OK);
  char *const slab = static_cast<char *>(
      reinterpret_cast<void *>(reinterpret_cast<uintptr_t>(a.ptr) & ~(uintptr_t{Stats().slab_size} - 1)));
  ASSERT_LT(slab, static_cast<char *>(a.ptr));
  EXPECT_EQ(alloy_pool_free(pool_, alloy_block_make(slab, 8), 8), ALLOY_E_NOT_OWNED);
  EXPECT_EQ(alloy_pool_free_fast(pool_, alloy_block_make(slab, 8), 8), ALLOY_E_NOT_OWNED);
  EXPECT_EQ(faults.count(ALLOY_E_NOT_OWNED), 2u);
}

// The inline free's block-start test (one multiply and one compare, see
// alloy_pool_head) against the layout: in every slab of the pool, each
// 8-byte step and each odd byte that is not a block start (the header, a
// block's inside, the tail past the last whole block) is refused at the
// free, by the call and by the inline path, and changes nothing; every
// block start is a block the pool handed out and frees cleanly.
TEST_F(PoolTest, Regression_EveryOffsetOfASlabButABlockStartIsRefused) {
  for (size_t size : {16, 48, 64, 200, 4096}) {
    alloy_pool_config config = alloy_pool_config_default(size);
    config.block_align = 8;
    config.slab_size = 16384;
    Create(config);
    const size_t per_slab = Stats().blocks_per_slab;
    std::vector<alloy_block> blocks(per_slab * 3);  // three slabs, every block carved
    for (auto &block : blocks) ASSERT_EQ(alloy_pool_allocate(pool_, size, 8, &block), ALLOY_OK);
    std::set<uintptr_t> starts, slabs;
    for (const alloy_block &block : blocks) {
      starts.insert(reinterpret_cast<uintptr_t>(block.ptr));
      slabs.insert(reinterpret_cast<uintptr_t>(block.ptr) & ~uintptr_t{config.slab_size - 1});
    }
    ASSERT_EQ(slabs.size(), 3u);
    alloy_test::FaultRecorder faults;
    size_t refused = 0, seen_starts = 0;
    for (uintptr_t slab : slabs) {
      for (uintptr_t p = slab; p < slab + config.slab_size; ++p) {
        if (starts.count(p) != 0) {
          ++seen_starts;
          continue;
        }
        const bool inline_path = (p & 7) == 0;
        if (!inline_path && (p & 7) != 3) continue;  // an odd byte of each word is enough
        void *ptr = reinterpret_cast<void *>(p);
        const alloy_status status = inline_path ? alloy_pool_free_fast(pool_, alloy_block_make(ptr, 8), 8)
                                                : alloy_pool_free(pool_, alloy_block_make(ptr, 8), 8);
        ASSERT_TRUE(status == ALLOY_E_INTERIOR_POINTER || status == ALLOY_E_NOT_OWNED)
            << "block size " << size << ", slab offset " << (p - slab) << ": " << status;
        ++refused;
      }
    }
    EXPECT_EQ(seen_starts, blocks.size()) << "block size " << size;
    EXPECT_EQ(faults.faults().size(), refused) << "block size " << size;
    for (const alloy_block &block : blocks) EXPECT_EQ(alloy_pool_free_fast(pool_, block, 8), ALLOY_OK);
    EXPECT_EQ(faults.faults().size(), refused);
    EXPECT_EQ(Stats().live_blocks, 0u);
    EXPECT_EQ(alloy_pool_check(pool_), ALLOY_OK);
  }
}
