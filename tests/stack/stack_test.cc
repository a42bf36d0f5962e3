#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include <gtest/gtest.h>

#include "alloy/allocator.h"
#include "alloy/fault_injection.h"
#include "alloy/stack.h"
#include "alloy/vm.h"
#include "tests/contract/contract_suite.h"
#include "tests/support/support.h"
#include "tests/support/tool_reports.h"

namespace {

using alloy_test::ContractSubject;
using alloy_test::ExpectToolsReport;
using alloy_test::ResourceContract;

const size_t kPage = alloy_vm_page_size();

ContractSubject StackSubject() {
  ContractSubject subject = alloy_test::LinearArenaSubject("stack", size_t{4} << 20);
  subject.create = [] {
    alloy_stack_config config = alloy_stack_config_default(size_t{4} << 20);
    alloy_stack *stack = nullptr;
    EXPECT_EQ(alloy_stack_create(&config, &stack), ALLOY_OK);
    return alloy_stack_resource(stack);
  };
  subject.destroy = [](alloy_resource *resource) {
    alloy_stack_destroy(reinterpret_cast<alloy_stack *>(resource));
  };
  return subject;
}

INSTANTIATE_TEST_SUITE_P(Stack, ResourceContract, ::testing::Values(StackSubject()), alloy_test::SubjectName);

class StackTest : public ::testing::Test {
 protected:
  void Create(size_t reserve, size_t chunk = 0) {
    alloy_stack_config config = alloy_stack_config_default(reserve);
    config.commit_chunk = chunk;
    ASSERT_EQ(alloy_stack_create(&config, &stack_), ALLOY_OK);
    a_ = alloy_allocator_of(alloy_stack_resource(stack_));
  }
  void SetUp() override { Create(size_t{1} << 20); }
  void TearDown() override { alloy_stack_destroy(stack_); }
  size_t Used() const {
    alloy_stack_stats stats;
    alloy_stack_get_stats(stack_, &stats);
    return stats.used;
  }
  alloy_stack *stack_ = nullptr;
  alloy_allocator a_{};
};

struct Live {
  alloy_block block;
  size_t align;
  uint32_t seed;
};

TEST_F(StackTest, LifoFreesReclaimEverythingIncludingPadding) {
  std::vector<Live> live;
  uint32_t seed = 0;
  for (int round = 0; round < 3; ++round) {
    for (size_t align = 1; align <= 4096; align *= 2) {
      for (size_t size : {size_t{0}, size_t{1}, size_t{17}, align, 3 * align + 5}) {
        alloy_block block;
        ASSERT_EQ(alloy_alloc(a_, size, align, &block), ALLOY_OK) << size << "/" << align;
        EXPECT_TRUE(alloy_ptr_is_aligned(block.ptr, align)) << size << "/" << align;
        EXPECT_GE(block.size, size);
        EXPECT_EQ(block.size % ALLOY_DEFAULT_ALIGNMENT, 0u) << "sizes are rounded to the grain";
        alloy_test::Fill(block.ptr, block.size, seed);
        live.push_back({block, align, seed++});
      }
    }
    // Free half, in LIFO order, then allocate again on top of the rest.
    for (size_t i = live.size() / 2; i-- > 0;) {
      EXPECT_TRUE(alloy_test::Check(live.back().block.ptr, live.back().block.size, live.back().seed));
      ASSERT_EQ(alloy_free(a_, live.back().block, live.back().align), ALLOY_OK);
      live.pop_back();
    }
  }
  while (!live.empty()) {
    // Free with the requested rather than the returned size half of the time: both are accepted.
    alloy_block block = live.back().block;
    if (live.size() % 2) block.size -= block.size > 0 ? 1 : 0;
    ASSERT_EQ(alloy_free(a_, block, live.back().align), ALLOY_OK);
    live.pop_back();
  }
  EXPECT_EQ(Used(), 0u) << "padding of over-aligned blocks is reclaimed too";
}

TEST_F(StackTest, FreeingTheTopReusesItsSpace) {
  alloy_block a, b, c;
  ASSERT_EQ(alloy_alloc(a_, 40, 8, &a), ALLOY_OK);
  ASSERT_EQ(alloy_alloc(a_, 40, 8, &b), ALLOY_OK);
  const size_t forty = alloy_align_up(40, ALLOY_DEFAULT_ALIGNMENT); /* sizes round up to the grain */
  const size_t eight = alloy_align_up(8, ALLOY_DEFAULT_ALIGNMENT);
  EXPECT_EQ(b.ptr, static_cast<char *>(a.ptr) + forty);
  ASSERT_EQ(alloy_free(a_, b, 8), ALLOY_OK);
  ASSERT_EQ(alloy_alloc(a_, 8, 8, &c), ALLOY_OK);
  EXPECT_EQ(c.ptr, b.ptr);
  alloy_stack_stats stats;
  alloy_stack_get_stats(stack_, &stats);
  EXPECT_EQ(stats.used, forty + eight);
  EXPECT_EQ(stats.peak_used, 2 * forty);
}

TEST_F(StackTest, OutOfOrderFreeIsReportedAndChangesNothing) {
  alloy_block a, b;
  ASSERT_EQ(alloy_alloc(a_, 64, 16, &a), ALLOY_OK);
  ASSERT_EQ(alloy_alloc(a_, 64, 16, &b), ALLOY_OK);
  {
    alloy_test::FaultRecorder faults;
    EXPECT_EQ(alloy_free(a_, a, 16), ALLOY_E_OUT_OF_ORDER);
    ASSERT_EQ(faults.count(ALLOY_E_OUT_OF_ORDER), 1u);
    EXPECT_EQ(faults.faults()[0].ptr, a.ptr);
    EXPECT_NE(faults.last_message().find("stack"), std::string::npos);
    EXPECT_EQ(Used(), 128u);
    EXPECT_EQ(alloy_free(a_, alloy_block_make(a.ptr, 32), 16), ALLOY_E_OUT_OF_ORDER) << "a wrong size is caught too";
  }
  EXPECT_EQ(alloy_free(a_, b, 16), ALLOY_OK);
  EXPECT_EQ(alloy_free(a_, a, 16), ALLOY_OK);
  EXPECT_EQ(Used(), 0u);
}

TEST_F(StackTest, OutOfOrderFreeAbortsWithTheDefaultHandler) {
  alloy_block a, b;
  ASSERT_EQ(alloy_alloc(a_, 64, 16, &a), ALLOY_OK);
  ASSERT_EQ(alloy_alloc(a_, 64, 16, &b), ALLOY_OK);
  EXPECT_DEATH(ALLOY_IGNORE_STATUS(alloy_free(a_, a, 16)), "ALLOY_E_OUT_OF_ORDER.*'stack'");
}

TEST_F(StackTest, DoubleFreeForeignAndAlignMismatchAreReported) {
  alloy_test::FaultRecorder faults;
  alloy_block a, b;
  ASSERT_EQ(alloy_alloc(a_, 64, 16, &a), ALLOY_OK);
  ASSERT_EQ(alloy_alloc(a_, 64, 16, &b), ALLOY_OK);
  ASSERT_EQ(alloy_free(a_, b, 16), ALLOY_OK);
  EXPECT_EQ(alloy_free(a_, b, 16), ALLOY_E_DOUBLE_FREE);
  int local = 0;
  EXPECT_EQ(alloy_free(a_, alloy_block_make(&local, sizeof local), 4), ALLOY_E_NOT_OWNED);
  EXPECT_FALSE(alloy_resource_owns(a_.resource, alloy_block_make(&local, sizeof local)));
  EXPECT_EQ(alloy_free(a_, a, 256), ALLOY_E_ALIGN_MISMATCH) << "no back link below a 16-aligned block";
  EXPECT_EQ(alloy_free(a_, alloy_block_make(a.ptr, 65), 16), ALLOY_E_SIZE_MISMATCH) << "reaches past the top";
  EXPECT_EQ(faults.faults().size(), 4u);
  EXPECT_EQ(Used(), 64u) << "none of them changed the stack";
  EXPECT_EQ(alloy_free(a_, a, 16), ALLOY_OK);
}

TEST_F(StackTest, MarkersRollBack) {
  alloy_block keep, scratch;
  ASSERT_EQ(alloy_alloc(a_, 32, 8, &keep), ALLOY_OK);
  alloy_test::Fill(keep.ptr, 32, 5);
  alloy_marker marker = alloy_stack_mark(stack_);
  for (int i = 0; i < 10; ++i) ASSERT_EQ(alloy_alloc(a_, 100, 64, &scratch), ALLOY_OK);
  alloy_marker inner;
  ASSERT_EQ(alloy_scope_marker(a_, &inner), ALLOY_OK);
  EXPECT_EQ(alloy_rewind(a_, marker), ALLOY_OK);
  EXPECT_EQ(Used(), 32u);
  EXPECT_EQ(alloy_stack_rewind(stack_, inner), ALLOY_E_INVALID_ARGUMENT) << "stale marker";
  EXPECT_EQ(alloy_stack_rewind(stack_, alloy_marker{8}), ALLOY_E_INVALID_ARGUMENT) << "not a marker position";
  EXPECT_TRUE(alloy_test::Check(keep.ptr, 32, 5));
  {
    ALLOY_SCOPE(a_);
    ASSERT_EQ(alloy_alloc(a_, 4000, 8, &scratch), ALLOY_OK);
  }
  EXPECT_EQ(Used(), 32u);
  EXPECT_EQ(alloy_free(a_, keep, 8), ALLOY_OK);
  ASSERT_EQ(alloy_alloc(a_, 4000, 8, &scratch), ALLOY_OK);
  alloy_stack_reset(stack_);
  EXPECT_EQ(Used(), 0u);
}

TEST_F(StackTest, ReallocateAtTheTopIsInPlace) {
  alloy_block below, top;
  ASSERT_EQ(alloy_alloc(a_, 64, 16, &below), ALLOY_OK);
  ASSERT_EQ(alloy_alloc(a_, 100, 256, &top), ALLOY_OK);
  alloy_test::Fill(top.ptr, 100, 8);
  void *where = top.ptr;
  ASSERT_EQ(alloy_reallocate(a_, &top, 200 << 10, 256), ALLOY_OK);
  EXPECT_EQ(top.ptr, where);
  std::memset(static_cast<char *>(top.ptr) + 100, 0, top.size - 100);
  EXPECT_TRUE(alloy_test::Check(top.ptr, 100, 8));
  ASSERT_EQ(alloy_try_reallocate(a_, &top, 10, 256), ALLOY_OK);
  EXPECT_EQ(top.ptr, where);
  EXPECT_EQ(top.size, alloy_align_up(10, ALLOY_DEFAULT_ALIGNMENT));
  EXPECT_EQ(alloy_try_reallocate(a_, &below, 60, 16), ALLOY_OK) << "same footprint";
  EXPECT_EQ(alloy_try_reallocate(a_, &below, 128, 16), ALLOY_E_UNSUPPORTED) << "pinned by the block above";
  EXPECT_EQ(alloy_reallocate(a_, &below, 128, 16), ALLOY_E_UNSUPPORTED) << "moving would free out of order";
  EXPECT_EQ(alloy_try_reallocate(a_, &top, size_t{2} << 20, 256), ALLOY_E_CAPACITY);
  EXPECT_EQ(top.size, alloy_align_up(10, ALLOY_DEFAULT_ALIGNMENT));
  EXPECT_EQ(alloy_free(a_, top, 256), ALLOY_OK);
  EXPECT_EQ(alloy_free(a_, below, 16), ALLOY_OK);
  EXPECT_EQ(Used(), 0u);
}

TEST_F(StackTest, ExhaustionIsAStatusAndRecovers) {
  alloy_stack_destroy(stack_);
  Create(32 * kPage, 4 * kPage);
  alloy_stack_stats stats;
  alloy_stack_get_stats(stack_, &stats);
  alloy_block block = {nullptr, 0};
  EXPECT_EQ(alloy_alloc(a_, stats.capacity + 1, 8, &block), ALLOY_E_CAPACITY);
  EXPECT_EQ(alloy_alloc(a_, 64, size_t{1} << 40, &block), ALLOY_E_CAPACITY);
  EXPECT_EQ(alloy_alloc(a_, ALLOY_MAX_REQUEST, 8, &block), ALLOY_E_CAPACITY);
  EXPECT_EQ(block.ptr, nullptr);
  std::vector<alloy_block> live;
  while (alloy_alloc(a_, 1024, 8, &block) == ALLOY_OK) live.push_back(block);
  EXPECT_EQ(live.size(), stats.capacity / 1024);
  alloy_stack_get_stats(stack_, &stats);
  EXPECT_LE(stats.committed, stats.capacity + kPage);
  EXPECT_EQ(stats.failures, 4u);
  for (auto it = live.rbegin(); it != live.rend(); ++it) ASSERT_EQ(alloy_free(a_, *it, 8), ALLOY_OK);
  EXPECT_EQ(alloy_alloc(a_, 1024, 8, &block), ALLOY_OK);
}

TEST_F(StackTest, CommitFailureIsOutOfMemoryAndRecovers) {
  alloy_block block = {nullptr, 0};
  alloy_platform_fail_next(ALLOY_PLATFORM_COMMIT, 0, 1);
  EXPECT_EQ(alloy_alloc(a_, 256 << 10, 4096, &block), ALLOY_E_OUT_OF_MEMORY);
  EXPECT_EQ(block.ptr, nullptr);
  EXPECT_EQ(Used(), 0u) << "the back link room was given back";
  EXPECT_EQ(alloy_alloc(a_, 256 << 10, 4096, &block), ALLOY_OK);
}

TEST_F(StackTest, BadInputs) {
  alloy_block block = {nullptr, 0};
  EXPECT_EQ(alloy_alloc(a_, 8, 0, &block), ALLOY_E_INVALID_ARGUMENT);
  EXPECT_EQ(alloy_alloc(a_, 8, 48, &block), ALLOY_E_INVALID_ARGUMENT);
  EXPECT_EQ(alloy_alloc(a_, SIZE_MAX, 8, &block), ALLOY_E_INVALID_ARGUMENT);
  EXPECT_EQ(block.ptr, nullptr);
  alloy_stack *stack = reinterpret_cast<alloy_stack *>(0x1);
  alloy_stack_config config = alloy_stack_config_default(0);
  EXPECT_EQ(alloy_stack_create(&config, &stack), ALLOY_E_INVALID_ARGUMENT);
  config = alloy_stack_config_default(SIZE_MAX / 2);
  EXPECT_EQ(alloy_stack_create(&config, &stack), ALLOY_E_INVALID_ARGUMENT);
  config = alloy_stack_config_default(kPage);
  config.numa_node = -3;
  EXPECT_EQ(alloy_stack_create(&config, &stack), ALLOY_E_INVALID_ARGUMENT);
  config.numa_node = 1 << 20;
  EXPECT_EQ(alloy_stack_create(&config, &stack), ALLOY_E_UNAVAILABLE);
  EXPECT_EQ(alloy_stack_create(nullptr, &stack), ALLOY_E_INVALID_ARGUMENT);
  config = alloy_stack_config_default(kPage);
  alloy_platform_fail_next(ALLOY_PLATFORM_RESERVE, 0, 1);
  EXPECT_EQ(alloy_stack_create(&config, &stack), ALLOY_E_OUT_OF_MEMORY);
  EXPECT_EQ(stack, reinterpret_cast<alloy_stack *>(0x1));
}

TEST_F(StackTest, OverrunningTheReservationFaults) {
  alloy_stack_destroy(stack_);
  Create(8 * kPage, kPage);
  alloy_stack_stats stats;
  alloy_stack_get_stats(stack_, &stats);
  alloy_block block;
  ASSERT_EQ(alloy_alloc(a_, stats.capacity, 16, &block), ALLOY_OK);
  volatile char *past = static_cast<char *>(block.ptr) + stats.capacity;
  EXPECT_DEATH(*past = 1, "");
}

TEST_F(StackTest, InlineFastPathsKeepTheContract) {
  std::vector<alloy_block> blocks;
  for (size_t size : {size_t{0}, size_t{1}, size_t{16}, size_t{100}, size_t{4096}}) {
    alloy_block block;
    ASSERT_EQ(alloy_stack_allocate_fast(stack_, size, 8, &block), ALLOY_OK);
    EXPECT_EQ(block.size % ALLOY_DEFAULT_ALIGNMENT, 0u);
    std::memset(block.ptr, 1, block.size);
    blocks.push_back(block);
  }
  alloy_block over;
  ASSERT_EQ(alloy_stack_allocate_fast(stack_, 10, 1024, &over), ALLOY_OK) << "over-aligned takes the call";
  EXPECT_TRUE(alloy_ptr_is_aligned(over.ptr, 1024));
  EXPECT_EQ(alloy_stack_free_fast(stack_, over, 1024), ALLOY_OK);
  {
    alloy_test::FaultRecorder faults;
    EXPECT_EQ(alloy_stack_free_fast(stack_, blocks.front(), 8), ALLOY_E_OUT_OF_ORDER);
    EXPECT_EQ(alloy_stack_free_fast(stack_, alloy_block_null(), 8), ALLOY_OK);
    EXPECT_EQ(faults.faults().size(), 1u);
  }
  alloy_block bad = {nullptr, 0};
  EXPECT_EQ(alloy_stack_allocate_fast(stack_, 8, 0, &bad), ALLOY_E_INVALID_ARGUMENT);
  EXPECT_EQ(alloy_stack_allocate_fast(stack_, SIZE_MAX, 8, &bad), ALLOY_E_INVALID_ARGUMENT);
  EXPECT_EQ(bad.ptr, nullptr);
  for (auto it = blocks.rbegin(); it != blocks.rend(); ++it) ASSERT_EQ(alloy_stack_free_fast(stack_, *it, 8), ALLOY_OK);
  EXPECT_EQ(Used(), 0u);
}

TEST_F(StackTest, UseAfterFreeIsReportedByTheTools) {
  alloy_block below, block;
  ASSERT_EQ(alloy_alloc(a_, 64, 16, &below), ALLOY_OK);
  ASSERT_EQ(alloy_alloc(a_, 64, 16, &block), ALLOY_OK);
  std::memset(block.ptr, 1, 64);
  ASSERT_EQ(alloy_free(a_, block, 16), ALLOY_OK);
  std::memset(below.ptr, 1, 64);  // still live
  ExpectToolsReport(static_cast<char *>(block.ptr) + 16);
}

TEST_F(StackTest, UseAfterRewindIsReportedByTheTools) {
  alloy_marker marker = alloy_stack_mark(stack_);
  alloy_block block;
  ASSERT_EQ(alloy_alloc(a_, 64, 512, &block), ALLOY_OK);
  std::memset(block.ptr, 1, 64);
  ASSERT_EQ(alloy_stack_rewind(stack_, marker), ALLOY_OK);
  ExpectToolsReport(block.ptr);
}

TEST_F(StackTest, TheBackLinkIsNotAddressable) {
  alloy_block block;
  ASSERT_EQ(alloy_alloc(a_, 64, 256, &block), ALLOY_OK);
  ExpectToolsReport(static_cast<char *>(block.ptr) - 1);
}

TEST(StackCommitPolicy, PassesThePolicyToTheArena) {
  alloy_stack_config config = alloy_stack_config_default(size_t{4} << 20);
  config.commit.prewarm_bytes = size_t{512} << 10;
  alloy_stack *stack = nullptr;
  ASSERT_EQ(alloy_stack_create(&config, &stack), ALLOY_OK);
  alloy_stack_stats stats;
  alloy_stack_get_stats(stack, &stats);
  EXPECT_GE(stats.committed, size_t{512} << 10) << "the pre-warmed prefix is committed at creation";
  alloy_block block;
  ASSERT_EQ(alloy_stack_allocate(stack, size_t{400} << 10, 16, &block), ALLOY_OK);
  std::memset(block.ptr, 1, block.size);
  ASSERT_EQ(alloy_stack_free(stack, block, 16), ALLOY_OK);
  alloy_stack_destroy(stack);

  config = alloy_stack_config_default(size_t{4} << 20);
  config.commit.mode = ALLOY_COMMIT_BATCHED;
  config.commit.commit_batch = size_t{1} << 20;
  ASSERT_EQ(alloy_stack_create(&config, &stack), ALLOY_OK);
  ASSERT_EQ(alloy_stack_allocate(stack, size_t{100} << 10, 16, &block), ALLOY_OK);
  alloy_stack_get_stats(stack, &stats);
  EXPECT_EQ(stats.committed, size_t{1} << 20) << "one batch";
  alloy_stack_destroy(stack);

  config = alloy_stack_config_default(size_t{1} << 20);
  config.commit.prewarm_bytes = size_t{2} << 20;
  EXPECT_EQ(alloy_stack_create(&config, &stack), ALLOY_E_INVALID_ARGUMENT);
  config = alloy_stack_config_default(size_t{1} << 20);
  config.commit.mode = ALLOY_COMMIT_BATCHED;
  alloy_platform_fail_next(ALLOY_PLATFORM_COMMIT, 0, 1);
  EXPECT_EQ(alloy_stack_create(&config, &stack), ALLOY_E_OUT_OF_MEMORY);
  alloy_platform_fail_reset();
}

}  // namespace
