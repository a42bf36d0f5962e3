#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include <gtest/gtest.h>

#include "alloy/allocator.h"
#include "alloy/fault_injection.h"
#include "alloy/huge_page.h"
#include "alloy/numa.h"
#include "alloy/vm.h"
#include "tests/contract/contract_suite.h"
#include "tests/support/explicit_huge_pages.h"
#include "tests/support/page_faults.h"
#include "tests/support/support.h"

namespace {

using alloy_test::ExplicitHugePages;

using alloy_test::FaultCountsAreReliable;
using alloy_test::MinorFaults;

using alloy_test::ContractSubject;
using alloy_test::ResourceContract;

const size_t kHuge = alloy_huge_page_size();

alloy_huge_page_config Config(size_t capacity, alloy_page_kind best, bool require) {
  alloy_huge_page_config config = alloy_huge_page_config_default();
  config.capacity = capacity;
  config.best = best;
  config.require_kind = require;
  return config;
}

ContractSubject Subject(const char *name, alloy_page_kind best) {
  ContractSubject subject;
  subject.name = name;
  subject.create = [best] {
    alloy_huge_page_config config = Config(4 << 20, best, false);
    alloy_huge_page_arena *arena = nullptr;
    EXPECT_EQ(alloy_huge_page_arena_create(&config, &arena), ALLOY_OK);
    return alloy_huge_page_arena_resource(arena);
  };
  subject.destroy = [](alloy_resource *resource) {
    alloy_huge_page_arena_destroy(reinterpret_cast<alloy_huge_page_arena *>(resource));
  };
  subject.max_size = 1 << 20;
  subject.max_alignment = kHuge;
  subject.bounded = true;
  subject.exhaustion_limit = 4 << 20;
  return subject;
}

INSTANTIATE_TEST_SUITE_P(HugePage, ResourceContract,
                         ::testing::Values(Subject("best", ALLOY_PAGES_EXPLICIT_HUGE),
                                           Subject("normal", ALLOY_PAGES_NORMAL)),
                         alloy_test::SubjectName);

TEST_F(ExplicitHugePages, ArenaOnExplicitPagesWhenReserved) {
  alloy_huge_page_config config = Config(kHuge, ALLOY_PAGES_EXPLICIT_HUGE, true);
  alloy_huge_page_arena *arena = nullptr;
  alloy_status status = alloy_huge_page_arena_create(&config, &arena);
  if (!alloy_huge_pages_enabled()) {
    EXPECT_EQ(status, ALLOY_E_UNAVAILABLE);
    GTEST_SKIP() << "built with huge pages off (ALLOY_WITH_HUGE_PAGES=0)";
  }
  if (alloy_huge_pages_free() == 0 && status != ALLOY_OK) {
    EXPECT_EQ(status, ALLOY_E_UNAVAILABLE);
    EXPECT_EQ(arena, nullptr);
    GTEST_SKIP() << "no explicit huge pages reserved on this machine, and reserving them needs root "
                    "(write /proc/sys/vm/nr_hugepages)";
  }
  ASSERT_EQ(status, ALLOY_OK);
  EXPECT_EQ(alloy_huge_page_arena_kind(arena), ALLOY_PAGES_EXPLICIT_HUGE);
  alloy_block block;
  ASSERT_EQ(alloy_huge_page_arena_allocate(arena, kHuge / 2, 64, &block), ALLOY_OK);
  std::memset(block.ptr, 3, block.size);
  ASSERT_EQ(alloy_huge_page_arena_allocate(arena, kHuge / 2, 64, &block), ALLOY_OK);
  std::memset(block.ptr, 4, block.size);
  alloy_huge_page_arena_destroy(arena);
}

TEST(HugePageArena, TransparentHugePagesWhenTheKernelAllowsThem) {
  alloy_huge_page_config config = Config(2 * kHuge, ALLOY_PAGES_TRANSPARENT_HUGE, true);
  alloy_huge_page_arena *arena = nullptr;
  alloy_status status = alloy_huge_page_arena_create(&config, &arena);
  const alloy_thp_mode mode = alloy_thp_current_mode();
  if (mode == ALLOY_THP_NEVER || mode == ALLOY_THP_UNSUPPORTED || !alloy_huge_pages_enabled()) {
    EXPECT_EQ(status, ALLOY_E_UNAVAILABLE);
    GTEST_SKIP() << "transparent huge pages are disabled on this machine or in this build";
  }
  ASSERT_EQ(status, ALLOY_OK);
  EXPECT_EQ(alloy_huge_page_arena_kind(arena), ALLOY_PAGES_TRANSPARENT_HUGE);
  alloy_block block;
  ASSERT_EQ(alloy_huge_page_arena_allocate(arena, 2 * kHuge, kHuge, &block), ALLOY_OK);
  std::memset(block.ptr, 1, block.size);
  alloy_huge_mapping mapping = alloy_huge_page_arena_mapping(arena);
  const size_t backed = alloy_huge_pages_thp_backed_bytes(mapping.base, mapping.size);
  std::printf("THP backing: %zu of %zu bytes\n", backed, mapping.size);
  EXPECT_LE(backed, mapping.size);
  alloy_huge_page_arena_destroy(arena);
}

TEST(HugePageArena, NormalPagesAlwaysWork) {
  alloy_huge_page_config config = Config(1, ALLOY_PAGES_NORMAL, true);
  alloy_huge_page_arena *arena = nullptr;
  ASSERT_EQ(alloy_huge_page_arena_create(&config, &arena), ALLOY_OK);
  EXPECT_EQ(alloy_huge_page_arena_kind(arena), ALLOY_PAGES_NORMAL);
  EXPECT_EQ(alloy_huge_page_arena_capacity(arena), kHuge) << "rounded up to a whole huge page";
  alloy_huge_page_arena_destroy(arena);
}

TEST(HugePageArena, DegradesAndReportsWhatItGot) {
  alloy_huge_page_config config = Config(kHuge, ALLOY_PAGES_EXPLICIT_HUGE, false);
  alloy_huge_page_arena *arena = nullptr;
  ASSERT_EQ(alloy_huge_page_arena_create(&config, &arena), ALLOY_OK);
  const alloy_page_kind kind = alloy_huge_page_arena_kind(arena);
  std::printf("arena got: %s\n", alloy_page_kind_name(kind));
  if (!alloy_huge_pages_enabled()) {
    EXPECT_EQ(kind, ALLOY_PAGES_NORMAL) << "built with huge pages off: normal pages only";
    alloy_huge_page_arena_destroy(arena);
    return;
  }
  if (alloy_huge_pages_free() == 0) {
    EXPECT_NE(kind, ALLOY_PAGES_EXPLICIT_HUGE);
  }
  const alloy_thp_mode mode = alloy_thp_current_mode();
  if (kind != ALLOY_PAGES_EXPLICIT_HUGE && (mode == ALLOY_THP_MADVISE || mode == ALLOY_THP_ALWAYS)) {
    EXPECT_EQ(kind, ALLOY_PAGES_TRANSPARENT_HUGE) << "THP is on, so the arena must not fall to normal pages";
  }
  alloy_huge_page_arena_destroy(arena);
}

class Arena : public ::testing::Test {
 protected:
  void SetUp() override {
    alloy_huge_page_config config = Config(kHuge, ALLOY_PAGES_NORMAL, false);
    ASSERT_EQ(alloy_huge_page_arena_create(&config, &arena_), ALLOY_OK);
  }
  void TearDown() override { alloy_huge_page_arena_destroy(arena_); }
  alloy_huge_page_arena *arena_ = nullptr;
};

TEST_F(Arena, BumpsFreesAtTheTopAndResets) {
  alloy_block a, b;
  ASSERT_EQ(alloy_huge_page_arena_allocate(arena_, 100, 16, &a), ALLOY_OK);
  ASSERT_EQ(alloy_huge_page_arena_allocate(arena_, 200, 4096, &b), ALLOY_OK);
  EXPECT_TRUE(alloy_ptr_is_aligned(b.ptr, 4096));
  EXPECT_GT(b.ptr, a.ptr);
  const size_t used = alloy_huge_page_arena_used(arena_);
  EXPECT_EQ(alloy_huge_page_arena_deallocate(arena_, a), ALLOY_OK);
  EXPECT_EQ(alloy_huge_page_arena_used(arena_), used) << "a is not the top block";
  EXPECT_EQ(alloy_huge_page_arena_deallocate(arena_, b), ALLOY_OK);
  EXPECT_EQ(alloy_huge_page_arena_used(arena_), 4096u) << "b was the top block";
  alloy_huge_page_arena_reset(arena_);
  EXPECT_EQ(alloy_huge_page_arena_used(arena_), 0u);
  alloy_block again;
  ASSERT_EQ(alloy_huge_page_arena_allocate(arena_, 100, 16, &again), ALLOY_OK);
  EXPECT_EQ(again.ptr, a.ptr);
}

TEST_F(Arena, ReverseOrderFreesOfAnySizeEmptyTheArena) {
  // Sizes that are not multiples of the alignment: each block's end is
  // rounded, so freeing newest-first walks the top back to zero.
  const size_t sizes[] = {100, 1, 0, 4097, 65537, 17, 1024 * 1024 - 3};
  std::vector<alloy_block> blocks;
  for (size_t size : sizes) {
    alloy_block block;
    ASSERT_EQ(alloy_huge_page_arena_allocate(arena_, size, 16, &block), ALLOY_OK);
    EXPECT_TRUE(alloy_ptr_is_aligned(block.ptr, 16));
    blocks.push_back(block);
  }
  for (size_t i = blocks.size(); i-- > 0;) {
    ASSERT_EQ(alloy_huge_page_arena_deallocate(arena_, blocks[i]), ALLOY_OK);
    EXPECT_EQ(alloy_huge_page_arena_used(arena_), static_cast<size_t>(static_cast<char *>(blocks[i].ptr) -
                                                                       static_cast<char *>(blocks[0].ptr)))
        << "block " << i << " was the top block";
  }
  EXPECT_EQ(alloy_huge_page_arena_used(arena_), 0u);
  // Many rounds of the same pattern never run out of room.
  for (int round = 0; round < 100; ++round) {
    for (size_t i = 0; i < blocks.size(); ++i)
      ASSERT_EQ(alloy_huge_page_arena_allocate(arena_, sizes[i], 16, &blocks[i]), ALLOY_OK) << "round " << round;
    for (size_t i = blocks.size(); i-- > 0;) ASSERT_EQ(alloy_huge_page_arena_deallocate(arena_, blocks[i]), ALLOY_OK);
  }
  EXPECT_EQ(alloy_huge_page_arena_used(arena_), 0u);
}

TEST_F(Arena, MarkersRewindAndTopBlocksGrowInPlace) {
  alloy_allocator a = alloy_allocator_of(alloy_huge_page_arena_resource(arena_));
  alloy_block keep;
  ASSERT_EQ(alloy_alloc(a, 64, 16, &keep), ALLOY_OK);
  alloy_marker marker;
  ASSERT_EQ(alloy_scope_marker(a, &marker), ALLOY_OK);
  alloy_block top;
  ASSERT_EQ(alloy_alloc(a, 1000, 16, &top), ALLOY_OK);
  alloy_test::Fill(top.ptr, 1000, 2);
  void *before = top.ptr;
  ASSERT_EQ(alloy_reallocate(a, &top, 100000, 16), ALLOY_OK);
  EXPECT_EQ(top.ptr, before);
  EXPECT_TRUE(alloy_test::Check(top.ptr, 1000, 2));
  EXPECT_EQ(alloy_rewind(a, marker), ALLOY_OK);
  EXPECT_EQ(alloy_huge_page_arena_used(arena_), marker.position);
  alloy_test::FaultRecorder faults;
  EXPECT_EQ(alloy_huge_page_arena_deallocate(arena_, top), ALLOY_E_DOUBLE_FREE) << "the rewind freed it";
  alloy_marker stale = {marker.position + 4096};
  EXPECT_EQ(alloy_rewind(a, stale), ALLOY_E_OUT_OF_ORDER);
  EXPECT_EQ(alloy_free(a, keep, 16), ALLOY_OK);
}

TEST_F(Arena, LimitsAreStatuses) {
  alloy_block block = {nullptr, 0};
  EXPECT_EQ(alloy_huge_page_arena_allocate(arena_, kHuge + 1, 16, &block), ALLOY_E_CAPACITY);
  EXPECT_EQ(alloy_huge_page_arena_allocate(arena_, 16, 2 * kHuge, &block), ALLOY_E_UNSUPPORTED);
  EXPECT_EQ(alloy_huge_page_arena_allocate(arena_, 16, 48, &block), ALLOY_E_INVALID_ARGUMENT);
  EXPECT_EQ(block.ptr, nullptr);
  alloy_test::FaultRecorder faults;
  int on_stack;
  EXPECT_EQ(alloy_huge_page_arena_deallocate(arena_, alloy_block_make(&on_stack, 4)), ALLOY_E_NOT_OWNED);
  EXPECT_EQ(faults.count(ALLOY_E_NOT_OWNED), 1u);
}

// Regression: a second free of the top block was reported as a foreign block
// ("outside the arena's used range"). It is a double free; a size that runs
// past the top is a size mismatch; an address outside the mapping is foreign.
// The arena goes on allocating and freeing after each.
TEST_F(Arena, Regression_DoubleFreeIsNamedADoubleFree) {
  alloy_test::FaultRecorder faults;
  alloy_block first, second;
  ASSERT_EQ(alloy_huge_page_arena_allocate(arena_, 256, 16, &first), ALLOY_OK);
  ASSERT_EQ(alloy_huge_page_arena_allocate(arena_, 512, 16, &second), ALLOY_OK);
  ASSERT_EQ(alloy_huge_page_arena_deallocate(arena_, second), ALLOY_OK);
  EXPECT_EQ(alloy_huge_page_arena_deallocate(arena_, second), ALLOY_E_DOUBLE_FREE);
  ASSERT_EQ(faults.count(ALLOY_E_DOUBLE_FREE), 1u);
  EXPECT_EQ(faults.faults().back().ptr, second.ptr);
  EXPECT_EQ(alloy_huge_page_arena_deallocate(arena_, alloy_block_make(first.ptr, 4096)), ALLOY_E_SIZE_MISMATCH);
  ASSERT_EQ(faults.count(ALLOY_E_SIZE_MISMATCH), 1u);
  EXPECT_GE(faults.faults().back().expected_size, first.size);
  EXPECT_LT(faults.faults().back().expected_size, 4096u);
  int on_stack;
  EXPECT_EQ(alloy_huge_page_arena_deallocate(arena_, alloy_block_make(&on_stack, 4)), ALLOY_E_NOT_OWNED);
  EXPECT_EQ(faults.faults().size(), 3u);
  // Nothing was given back by the refused frees: the arena still holds `first`.
  EXPECT_GE(alloy_huge_page_arena_used(arena_), first.size);
  ASSERT_EQ(alloy_huge_page_arena_allocate(arena_, 512, 16, &second), ALLOY_OK);
  alloy_test::Fill(second.ptr, 512, 7);
  EXPECT_TRUE(alloy_test::Check(second.ptr, 512, 7));
  EXPECT_EQ(alloy_huge_page_arena_deallocate(arena_, second), ALLOY_OK);
  EXPECT_EQ(alloy_huge_page_arena_deallocate(arena_, first), ALLOY_OK);
  EXPECT_EQ(alloy_huge_page_arena_used(arena_), 0u);
}

TEST(HugePageArena, BadConfigsAndRefusals) {
  alloy_huge_page_arena *arena = nullptr;
  alloy_huge_page_config config = Config(0, ALLOY_PAGES_NORMAL, false);
  EXPECT_EQ(alloy_huge_page_arena_create(&config, &arena), ALLOY_E_INVALID_ARGUMENT);
  config = Config(kHuge, static_cast<alloy_page_kind>(7), false);
  EXPECT_EQ(alloy_huge_page_arena_create(&config, &arena), ALLOY_E_INVALID_ARGUMENT);
  config = Config(kHuge, ALLOY_PAGES_NORMAL, false);
  config.numa_node = alloy_numa_node_count();
  EXPECT_EQ(alloy_huge_page_arena_create(&config, &arena), ALLOY_E_UNAVAILABLE) << "absent node";
  config.numa_node = -5;
  EXPECT_EQ(alloy_huge_page_arena_create(&config, &arena), ALLOY_E_INVALID_ARGUMENT);
  config = Config(kHuge, ALLOY_PAGES_TRANSPARENT_HUGE, false);
  alloy_platform_fail_next(ALLOY_PLATFORM_RESERVE, 0, 3);
  EXPECT_EQ(alloy_huge_page_arena_create(&config, &arena), ALLOY_E_OUT_OF_MEMORY);
  alloy_platform_fail_reset();
  EXPECT_EQ(arena, nullptr);
}

TEST(HugePageNuma, PagesAreOnTheNode) {
  int local = -1;
  ASSERT_EQ(alloy_numa_current_node(&local), ALLOY_OK);
  for (int node : {ALLOY_HUGE_PAGE_NUMA_LOCAL, 0}) {
    alloy_huge_page_config config = Config(kHuge, ALLOY_PAGES_EXPLICIT_HUGE, false);
    config.numa_node = node;
    alloy_huge_page_arena *arena = nullptr;
    ASSERT_EQ(alloy_huge_page_arena_create(&config, &arena), ALLOY_OK);
    alloy_block block;
    ASSERT_EQ(alloy_huge_page_arena_allocate(arena, 64 << 10, 16, &block), ALLOY_OK);
    std::memset(block.ptr, 1, block.size);
    int placed = -1;
    ASSERT_EQ(alloy_numa_node_of(block.ptr, &placed), ALLOY_OK);
    EXPECT_EQ(placed, node == ALLOY_HUGE_PAGE_NUMA_LOCAL ? local : node);
    alloy_huge_page_arena_destroy(arena);
  }
}

TEST(HugePageTools, UseAfterResetIsReportedByAsan) {
  if (!alloy_test::kAsan) GTEST_SKIP() << "needs the asan config";
  alloy_huge_page_config config = Config(kHuge, ALLOY_PAGES_NORMAL, false);
  alloy_huge_page_arena *arena = nullptr;
  ASSERT_EQ(alloy_huge_page_arena_create(&config, &arena), ALLOY_OK);
  alloy_block block;
  ASSERT_EQ(alloy_huge_page_arena_allocate(arena, 256, 16, &block), ALLOY_OK);
  alloy_huge_page_arena_reset(arena);
  volatile char *stale = static_cast<char *>(block.ptr) + 8;
  EXPECT_DEATH(*stale = 1, "use-after-poison");
  alloy_huge_page_arena_destroy(arena);
}

TEST(HugePageTools, UseAfterResetIsReportedByMemcheck) {
  if (!alloy_test::UnderValgrind()) GTEST_SKIP() << "needs the valgrind config";
  EXPECT_EXIT(
      {
        alloy_huge_page_config config = Config(kHuge, ALLOY_PAGES_NORMAL, false);
        alloy_huge_page_arena *arena = nullptr;
        if (alloy_huge_page_arena_create(&config, &arena) != ALLOY_OK) std::exit(1);
        alloy_block block;
        if (alloy_huge_page_arena_allocate(arena, 256, 16, &block) != ALLOY_OK) std::exit(1);
        alloy_huge_page_arena_reset(arena);
        static_cast<volatile char *>(block.ptr)[8] = 1;
        std::exit(0);
      },
      ::testing::ExitedWithCode(97), "");
}

// Writes the first `bytes` of a fresh arena page by page; returns the faults.
long FaultsToFill(alloy_huge_page_arena *arena, size_t bytes) {
  alloy_block block;
  if (alloy_huge_page_arena_allocate(arena, bytes, 64, &block) != ALLOY_OK) return -1;
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  volatile char *p = static_cast<char *>(block.ptr);
  const long before = MinorFaults();
  for (size_t offset = 0; offset < bytes; offset += page) p[offset] = 1;
  return MinorFaults() - before;
}

TEST(HugePagePrewarm, ThePrewarmedPrefixTakesNoFaults) {
  const size_t bytes = size_t{1} << 20;
  alloy_huge_page_config config = Config(2 * kHuge, ALLOY_PAGES_NORMAL, true);
  config.prewarm_bytes = bytes;
  alloy_huge_page_arena *warm = nullptr;
  ASSERT_EQ(alloy_huge_page_arena_create(&config, &warm), ALLOY_OK);
  config.prewarm_bytes = 0;
  alloy_huge_page_arena *lazy = nullptr;
  ASSERT_EQ(alloy_huge_page_arena_create(&config, &lazy), ALLOY_OK);
  const long warm_faults = FaultsToFill(warm, bytes);
  const long lazy_faults = FaultsToFill(lazy, bytes);
  ASSERT_GE(warm_faults, 0);
  ASSERT_GE(lazy_faults, 0);
  if (FaultCountsAreReliable()) {
    const long pages = static_cast<long>(bytes / static_cast<size_t>(sysconf(_SC_PAGESIZE)));
    EXPECT_LE(warm_faults, pages / 16);
    EXPECT_GE(lazy_faults, pages * 3 / 4);
  }
  alloy_huge_page_arena_destroy(warm);
  alloy_huge_page_arena_destroy(lazy);
}

TEST(HugePagePrewarm, PrewarmBeyondTheCapacityIsInvalid) {
  alloy_huge_page_config config = Config(kHuge, ALLOY_PAGES_NORMAL, false);
  config.prewarm_bytes = kHuge + 1;
  alloy_huge_page_arena *arena = nullptr;
  EXPECT_EQ(alloy_huge_page_arena_create(&config, &arena), ALLOY_E_INVALID_ARGUMENT);
  EXPECT_EQ(arena, nullptr);
  config.prewarm_bytes = kHuge;
  ASSERT_EQ(alloy_huge_page_arena_create(&config, &arena), ALLOY_OK) << "the whole arena may be pre-warmed";
  alloy_block block;
  ASSERT_EQ(alloy_huge_page_arena_allocate(arena, kHuge, 64, &block), ALLOY_OK);
  std::memset(block.ptr, 2, block.size);
  alloy_huge_page_arena_destroy(arena);
}

}  // namespace
