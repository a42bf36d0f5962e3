#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include <gtest/gtest.h>
#include <sys/resource.h>

#include "alloy/allocator.h"
#include "alloy/double_frame.h"
#include "alloy/fault_injection.h"
#include "alloy/frame.h"
#include "alloy/huge_pages.h"
#include "alloy/vm.h"
#include "tests/contract/contract_suite.h"
#include "tests/support/page_faults.h"
#include "tests/support/support.h"
#include "tests/support/tool_reports.h"

namespace {

using alloy_test::FaultCountsAreReliable;
using alloy_test::MinorFaults;

using alloy_test::ContractSubject;
using alloy_test::ExpectToolsReport;
using alloy_test::ResourceContract;

const size_t kPage = alloy_vm_page_size();

ContractSubject FrameSubject() {
  ContractSubject subject = alloy_test::LinearArenaSubject("frame", size_t{4} << 20);
  subject.create = [] {
    alloy_frame_config config = alloy_frame_config_default(size_t{4} << 20);
    alloy_frame *frame = nullptr;
    EXPECT_EQ(alloy_frame_create(&config, &frame), ALLOY_OK);
    return alloy_frame_resource(frame);
  };
  subject.destroy = [](alloy_resource *resource) {
    alloy_frame_destroy(reinterpret_cast<alloy_frame *>(resource));
  };
  return subject;
}

// The same contract with batched commit and pre-warm: the policy changes when
// pages are committed, never what the frame hands out.
ContractSubject PrewarmedFrameSubject() {
  ContractSubject subject = FrameSubject();
  subject.name = "frame_batched_prewarmed";
  subject.create = [] {
    alloy_frame_config config = alloy_frame_config_default(size_t{4} << 20);
    config.commit.mode = ALLOY_COMMIT_BATCHED;
    config.commit.commit_batch = size_t{256} << 10;
    config.commit.prewarm_bytes = size_t{128} << 10;
    config.commit.prewarm_ahead = size_t{64} << 10;
    alloy_frame *frame = nullptr;
    EXPECT_EQ(alloy_frame_create(&config, &frame), ALLOY_OK);
    return alloy_frame_resource(frame);
  };
  return subject;
}

INSTANTIATE_TEST_SUITE_P(Frame, ResourceContract, ::testing::Values(FrameSubject(), PrewarmedFrameSubject()),
                         alloy_test::SubjectName);

class FrameTest : public ::testing::Test {
 protected:
  void Create(size_t reserve, size_t chunk = 0, size_t decommit_above = 0) {
    alloy_frame_config config = alloy_frame_config_default(reserve);
    config.commit_chunk = chunk;
    config.decommit_above = decommit_above;
    ASSERT_EQ(alloy_frame_create(&config, &frame_), ALLOY_OK);
    a_ = alloy_allocator_of(alloy_frame_resource(frame_));
  }
  void SetUp() override { Create(size_t{1} << 20); }
  void TearDown() override { alloy_frame_destroy(frame_); }
  alloy_frame_stats Stats() const {
    alloy_frame_stats stats;
    alloy_frame_get_stats(frame_, &stats);
    return stats;
  }
  alloy_frame *frame_ = nullptr;
  alloy_allocator a_{};
};

TEST_F(FrameTest, BumpsContiguouslyAndKeepsContents) {
  std::vector<alloy_block> blocks;
  for (uint32_t i = 0; i < 100; ++i) {
    alloy_block block;
    ASSERT_EQ(alloy_alloc(a_, 24, 8, &block), ALLOY_OK);
    EXPECT_EQ(block.size, 24u) << "the frame reports exactly what it handed out";
    if (!blocks.empty()) {
      EXPECT_EQ(block.ptr, static_cast<char *>(blocks.back().ptr) + 24) << "no header, no gap";
    }
    alloy_test::Fill(block.ptr, block.size, i);
    blocks.push_back(block);
  }
  for (uint32_t i = 0; i < 100; ++i) EXPECT_TRUE(alloy_test::Check(blocks[i].ptr, 24, i));
  alloy_frame_stats stats = Stats();
  EXPECT_EQ(stats.used, 2400u);
  EXPECT_GE(stats.capacity, size_t{1} << 20);
  EXPECT_TRUE(alloy_resource_owns(a_.resource, blocks[50]));
  alloy_resource_info info;
  alloy_resource_get_info(a_.resource, &info);
  EXPECT_STREQ(info.name, "frame");
  EXPECT_TRUE(info.has_stats);
  EXPECT_EQ(info.stats.live_bytes, 2400u);
}

TEST_F(FrameTest, EveryPowerOfTwoAlignmentUpTo4KiB) {
  for (size_t align = 1; align <= 4096; align *= 2) {
    for (size_t size : {size_t{0}, size_t{1}, size_t{3}, align, align + 1}) {
      alloy_block block;
      ASSERT_EQ(alloy_alloc(a_, size, align, &block), ALLOY_OK) << size << "/" << align;
      EXPECT_TRUE(alloy_ptr_is_aligned(block.ptr, align)) << size << "/" << align;
      EXPECT_EQ(block.size, size);
      std::memset(block.ptr, 0xEE, size);
    }
  }
}

TEST_F(FrameTest, ResetStartsOverAtTheSameAddress) {
  alloy_block first, block;
  ASSERT_EQ(alloy_alloc(a_, 64, 16, &first), ALLOY_OK);
  for (size_t i = 0; i < alloy_test::Scaled(10000, 100); ++i) ASSERT_EQ(alloy_alloc(a_, 48, 16, &block), ALLOY_OK);
  const size_t used = Stats().used;
  alloy_frame_reset(frame_);
  alloy_frame_stats stats = Stats();
  EXPECT_EQ(stats.used, 0u);
  EXPECT_EQ(stats.last_frame_used, used);
  EXPECT_EQ(stats.peak_used, used);
  EXPECT_EQ(stats.resets, 1u);
  EXPECT_FALSE(alloy_resource_owns(a_.resource, first)) << "nothing is live after a reset";
  ASSERT_EQ(alloy_alloc(a_, 64, 16, &block), ALLOY_OK);
  EXPECT_EQ(block.ptr, first.ptr);
}

TEST_F(FrameTest, DecommitAboveReturnsASpikeToTheOs) {
  alloy_frame_destroy(frame_);
  Create(size_t{64} << 20, 16 * kPage, 64 * kPage);
  alloy_block block;
  ASSERT_EQ(alloy_alloc(a_, size_t{8} << 20, 16, &block), ALLOY_OK);  // the spike
  std::memset(block.ptr, 1, block.size);
  EXPECT_GE(Stats().committed, size_t{8} << 20);
  alloy_frame_reset(frame_);
  EXPECT_LE(Stats().committed, 64 * kPage + 16 * kPage) << "pages above the mark went back";
  ASSERT_EQ(alloy_alloc(a_, size_t{8} << 20, 16, &block), ALLOY_OK) << "and come back on demand";
  std::memset(block.ptr, 2, block.size);
}

TEST_F(FrameTest, WithoutThePolicyResetKeepsWhatItCommitted) {
  alloy_block block;
  ASSERT_EQ(alloy_alloc(a_, 512 << 10, 16, &block), ALLOY_OK);
  const size_t committed = Stats().committed;
  alloy_frame_reset(frame_);
  EXPECT_EQ(Stats().committed, committed);
}

TEST_F(FrameTest, MarkersRollBack) {
  alloy_block keep, scratch, again;
  ASSERT_EQ(alloy_alloc(a_, 32, 8, &keep), ALLOY_OK);
  alloy_test::Fill(keep.ptr, 32, 9);
  alloy_marker marker;
  ASSERT_EQ(alloy_scope_marker(a_, &marker), ALLOY_OK);
  EXPECT_EQ(marker.position, alloy_frame_mark(frame_).position);
  ASSERT_EQ(alloy_alloc(a_, 1000, 8, &scratch), ALLOY_OK);
  alloy_marker inner = alloy_frame_mark(frame_);
  ASSERT_EQ(alloy_alloc(a_, 1000, 8, &again), ALLOY_OK);
  EXPECT_EQ(alloy_rewind(a_, marker), ALLOY_OK);
  EXPECT_EQ(alloy_frame_rewind(frame_, inner), ALLOY_E_INVALID_ARGUMENT) << "a marker above the top is stale";
  ASSERT_EQ(alloy_alloc(a_, 10, 8, &again), ALLOY_OK);
  EXPECT_EQ(again.ptr, scratch.ptr) << "the rolled-back space is reused";
  EXPECT_TRUE(alloy_test::Check(keep.ptr, 32, 9)) << "blocks below the marker survive";
  {
    ALLOY_SCOPE(a_);
    ASSERT_EQ(alloy_alloc(a_, 4000, 8, &scratch), ALLOY_OK);
  }
  ASSERT_EQ(alloy_alloc(a_, 1, 1, &scratch), ALLOY_OK);
  EXPECT_EQ(scratch.ptr, static_cast<char *>(again.ptr) + 10) << "ALLOY_SCOPE rolled back at scope end";
}

TEST_F(FrameTest, FreeingTheTopBlockReclaimsIt) {
  alloy_block a, b, c;
  ASSERT_EQ(alloy_alloc(a_, 96, 8, &a), ALLOY_OK);
  ASSERT_EQ(alloy_alloc(a_, 100, 8, &b), ALLOY_OK);
  EXPECT_EQ(alloy_free(a_, a, 8), ALLOY_OK) << "not the top: accepted, nothing reclaimed";
  EXPECT_EQ(Stats().used, 196u);
  EXPECT_EQ(alloy_free(a_, b, 8), ALLOY_OK);
  EXPECT_EQ(Stats().used, 96u);
  ASSERT_EQ(alloy_alloc(a_, 50, 8, &c), ALLOY_OK);
  EXPECT_EQ(c.ptr, b.ptr);
}

TEST_F(FrameTest, ReallocateAtTheTopIsInPlace) {
  alloy_block below, top;
  ASSERT_EQ(alloy_alloc(a_, 64, 16, &below), ALLOY_OK);
  ASSERT_EQ(alloy_alloc(a_, 100, 16, &top), ALLOY_OK);
  alloy_test::Fill(top.ptr, 100, 3);
  void *where = top.ptr;
  ASSERT_EQ(alloy_try_reallocate(a_, &top, 300 << 10, 16), ALLOY_OK) << "grows in place, committing as it goes";
  EXPECT_EQ(top.ptr, where);
  EXPECT_EQ(top.size, size_t{300} << 10);
  std::memset(static_cast<char *>(top.ptr) + 100, 0, top.size - 100);
  EXPECT_TRUE(alloy_test::Check(top.ptr, 100, 3));
  ASSERT_EQ(alloy_reallocate(a_, &top, 40, 16), ALLOY_OK);
  EXPECT_EQ(top.ptr, where);
  EXPECT_EQ(Stats().used, static_cast<size_t>(static_cast<char *>(where) + 40 - static_cast<char *>(below.ptr)));
  EXPECT_TRUE(alloy_test::Check(top.ptr, 40, 3));

  alloy_test::Fill(below.ptr, 64, 4);
  EXPECT_EQ(alloy_try_reallocate(a_, &below, 128, 16), ALLOY_E_UNSUPPORTED) << "not the top: cannot grow in place";
  ASSERT_EQ(alloy_reallocate(a_, &below, 128, 16), ALLOY_OK) << "moves instead";
  EXPECT_NE(below.ptr, where);
  EXPECT_TRUE(alloy_test::Check(below.ptr, 64, 4));
  EXPECT_EQ(alloy_try_reallocate(a_, &top, 8, 16), ALLOY_OK) << "shrinking is always in place";
  EXPECT_EQ(alloy_try_reallocate(a_, &below, size_t{2} << 20, 16), ALLOY_E_CAPACITY);
  EXPECT_EQ(below.size, 128u) << "a failed resize leaves the block";
}

TEST_F(FrameTest, ExhaustionIsAStatusAndNeverGrowsPastTheReservation) {
  alloy_frame_destroy(frame_);
  Create(64 * kPage, 4 * kPage);
  const size_t capacity = Stats().capacity;
  alloy_block block = {reinterpret_cast<void *>(0x1), 1};
  EXPECT_EQ(alloy_alloc(a_, capacity + 1, 1, &block), ALLOY_E_CAPACITY);
  EXPECT_EQ(block.ptr, reinterpret_cast<void *>(0x1)) << "a failed allocation writes nothing";
  size_t n = 0;
  alloy_status status;
  while ((status = alloy_alloc(a_, 1000, 8, &block)) == ALLOY_OK) ++n;
  EXPECT_EQ(status, ALLOY_E_CAPACITY);
  EXPECT_EQ(n, capacity / 1000);
  alloy_frame_stats stats = Stats();
  EXPECT_EQ(stats.failures, 2u);
  EXPECT_LE(stats.committed, capacity + kPage) << "commits stay inside the reservation";
  alloy_frame_reset(frame_);
  EXPECT_EQ(alloy_alloc(a_, 1000, 8, &block), ALLOY_OK) << "recovers after reset";
}

TEST_F(FrameTest, OverrunningTheReservationFaults) {
  alloy_frame_destroy(frame_);
  Create(16 * kPage, kPage);
  alloy_block block;
  const size_t capacity = Stats().capacity;
  ASSERT_EQ(alloy_alloc(a_, capacity, 1, &block), ALLOY_OK);
  volatile char *past = static_cast<char *>(block.ptr) + capacity;
  EXPECT_DEATH(*past = 1, "");
}

TEST_F(FrameTest, CommitFailureIsOutOfMemoryAndRecovers) {
  alloy_block block = {nullptr, 0};
  alloy_platform_fail_next(ALLOY_PLATFORM_COMMIT, 0, 1);
  EXPECT_EQ(alloy_alloc(a_, 256 << 10, 16, &block), ALLOY_E_OUT_OF_MEMORY);
  EXPECT_EQ(block.ptr, nullptr);
  EXPECT_EQ(Stats().used, 0u);
  EXPECT_EQ(alloy_alloc(a_, 256 << 10, 16, &block), ALLOY_OK);
}

TEST_F(FrameTest, BadInputs) {
  alloy_block block = {nullptr, 0};
  EXPECT_EQ(alloy_alloc(a_, 8, 0, &block), ALLOY_E_INVALID_ARGUMENT);
  EXPECT_EQ(alloy_alloc(a_, 8, 24, &block), ALLOY_E_INVALID_ARGUMENT);
  EXPECT_EQ(alloy_alloc(a_, SIZE_MAX, 8, &block), ALLOY_E_INVALID_ARGUMENT);
  EXPECT_EQ(alloy_alloc(a_, ALLOY_MAX_REQUEST, 8, &block), ALLOY_E_CAPACITY);
  EXPECT_EQ(alloy_alloc(a_, 8, size_t{1} << 62, &block), ALLOY_E_CAPACITY);
  EXPECT_EQ(block.ptr, nullptr);

  alloy_frame *frame = reinterpret_cast<alloy_frame *>(0x1);
  alloy_frame_config config = alloy_frame_config_default(0);
  EXPECT_EQ(alloy_frame_create(&config, &frame), ALLOY_E_INVALID_ARGUMENT);
  config = alloy_frame_config_default(SIZE_MAX);
  EXPECT_EQ(alloy_frame_create(&config, &frame), ALLOY_E_INVALID_ARGUMENT);
  config = alloy_frame_config_default(kPage);
  config.numa_node = -5;
  EXPECT_EQ(alloy_frame_create(&config, &frame), ALLOY_E_INVALID_ARGUMENT);
  config.numa_node = 1 << 20;
  EXPECT_EQ(alloy_frame_create(&config, &frame), ALLOY_E_UNAVAILABLE);
  EXPECT_EQ(alloy_frame_create(nullptr, &frame), ALLOY_E_INVALID_ARGUMENT);
  EXPECT_EQ(alloy_frame_create(&config, nullptr), ALLOY_E_INVALID_ARGUMENT);
  config = alloy_frame_config_default(kPage);
  alloy_platform_fail_next(ALLOY_PLATFORM_RESERVE, 0, 1);
  EXPECT_EQ(alloy_frame_create(&config, &frame), ALLOY_E_OUT_OF_MEMORY);
  EXPECT_EQ(frame, reinterpret_cast<alloy_frame *>(0x1)) << "failed creates write nothing";
  config.numa_node = 0;
  ASSERT_EQ(alloy_frame_create(&config, &frame), ALLOY_OK) << "node 0 exists everywhere";
  alloy_frame_destroy(frame);
}

TEST_F(FrameTest, ForeignAndReleasedBlocksAreReported) {
  alloy_test::FaultRecorder faults;
  int local = 0;
  EXPECT_EQ(alloy_free(a_, alloy_block_make(&local, sizeof local), 4), ALLOY_E_NOT_OWNED);
  alloy_block block;
  ASSERT_EQ(alloy_alloc(a_, 64, 8, &block), ALLOY_OK);
  EXPECT_EQ(alloy_free(a_, alloy_block_make(block.ptr, 65), 8), ALLOY_E_SIZE_MISMATCH) << "reaches past the top";
  alloy_frame_reset(frame_);
  EXPECT_EQ(alloy_free(a_, block, 8), ALLOY_E_DOUBLE_FREE) << "freed after the reset released it";
  EXPECT_EQ(faults.count(ALLOY_E_SIZE_MISMATCH), 1u);
  EXPECT_EQ(faults.count(ALLOY_E_NOT_OWNED), 1u);
  EXPECT_EQ(faults.count(ALLOY_E_DOUBLE_FREE), 1u);
  EXPECT_NE(faults.last_message().find("frame"), std::string::npos) << faults.last_message();
}

TEST_F(FrameTest, InlineFastPathKeepsTheContract) {
  alloy_block previous = {nullptr, 0};
  for (size_t align = 1; align <= 4096; align *= 2) {
    alloy_block block;
    ASSERT_EQ(alloy_frame_allocate_fast(frame_, 40, align, &block), ALLOY_OK);
    EXPECT_TRUE(alloy_ptr_is_aligned(block.ptr, align));
    EXPECT_EQ(block.size, 40u);
    EXPECT_GT(block.ptr, previous.ptr);
    std::memset(block.ptr, 3, 40);
    previous = block;
  }
  alloy_block block = {nullptr, 0};
  EXPECT_EQ(alloy_frame_allocate_fast(frame_, 8, 12, &block), ALLOY_E_INVALID_ARGUMENT);
  EXPECT_EQ(alloy_frame_allocate_fast(frame_, SIZE_MAX, 8, &block), ALLOY_E_INVALID_ARGUMENT);
  EXPECT_EQ(alloy_frame_allocate_fast(frame_, size_t{4} << 20, 8, &block), ALLOY_E_CAPACITY);
  EXPECT_EQ(block.ptr, nullptr);
  ASSERT_EQ(alloy_frame_allocate_fast(frame_, 512 << 10, 8, &block), ALLOY_OK) << "commits through the slow path";
  std::memset(block.ptr, 4, block.size);
}

TEST(DoubleFrame, DataLivesForTwoFrames) {
  alloy_frame_config config = alloy_frame_config_default(size_t{1} << 20);
  alloy_double_frame pair;
  ASSERT_EQ(alloy_double_frame_create(&config, &pair), ALLOY_OK);
  alloy_block last = {nullptr, 0};
  for (uint32_t frame = 0; frame < 10; ++frame) {
    alloy_double_frame_swap(&pair);
    if (last.ptr != nullptr) {
      EXPECT_TRUE(alloy_resource_owns(alloy_frame_resource(alloy_double_frame_previous(&pair)), last));
      EXPECT_TRUE(alloy_test::Check(last.ptr, last.size, frame - 1)) << "last frame's data is intact";
    }
    alloy_allocator a = alloy_allocator_of(alloy_frame_resource(alloy_double_frame_current(&pair)));
    ASSERT_EQ(alloy_alloc(a, 256, 16, &last), ALLOY_OK);
    alloy_test::Fill(last.ptr, last.size, frame);
    alloy_frame_stats stats;
    alloy_frame_get_stats(alloy_double_frame_current(&pair), &stats);
    EXPECT_EQ(stats.used, 256u) << "the current frame was reset by the swap";
  }
  alloy_double_frame_destroy(&pair);
  alloy_platform_fail_next(ALLOY_PLATFORM_RESERVE, 1, 1);
  EXPECT_EQ(alloy_double_frame_create(&config, &pair), ALLOY_E_OUT_OF_MEMORY) << "the first frame is released";
}

TEST_F(FrameTest, UseAfterResetIsReportedByTheTools) {
  alloy_block block;
  ASSERT_EQ(alloy_alloc(a_, 64, 16, &block), ALLOY_OK);
  std::memset(block.ptr, 1, 64);
  alloy_frame_reset(frame_);
  ExpectToolsReport(static_cast<char *>(block.ptr) + 8);
}

TEST_F(FrameTest, UseAfterRewindIsReportedByTheTools) {
  alloy_block keep, block;
  ASSERT_EQ(alloy_alloc(a_, 64, 16, &keep), ALLOY_OK);
  alloy_marker marker = alloy_frame_mark(frame_);
  ASSERT_EQ(alloy_alloc(a_, 64, 16, &block), ALLOY_OK);
  std::memset(block.ptr, 1, 64);
  ASSERT_EQ(alloy_frame_rewind(frame_, marker), ALLOY_OK);
  std::memset(keep.ptr, 1, 64);  // below the marker: still fine
  ExpectToolsReport(block.ptr);
}

TEST_F(FrameTest, ReadingPastTheTopIsReportedByTheTools) {
  alloy_block block;
  ASSERT_EQ(alloy_alloc(a_, 64, 16, &block), ALLOY_OK);
  ExpectToolsReport(static_cast<char *>(block.ptr) + 64);
}

// ---- commit policy and pre-warm ---------------------------------------------

// A game-like frame: records of 32..256 bytes, each written once, until
// `bytes` are used. Returns the minor faults the frame took.
long FaultsForOneFrame(alloy_frame *frame, size_t bytes) {
  uint32_t seed = 12345;
  const long before = MinorFaults();
  alloy_frame_stats stats;
  do {
    seed = seed * 1664525u + 1013904223u;
    const size_t size = 32 + (seed >> 8) % 225;
    alloy_block block;
    if (alloy_frame_allocate(frame, size, 16, &block) != ALLOY_OK) return -1;
    std::memset(block.ptr, 0x3C, size);
    alloy_frame_get_stats(frame, &stats);
  } while (stats.used < bytes);
  return MinorFaults() - before;
}

alloy_frame *NewFrame(size_t reserve, size_t prewarm, size_t decommit_above = 0) {
  alloy_frame_config config = alloy_frame_config_default(reserve);
  config.commit.prewarm_bytes = prewarm;
  config.decommit_above = decommit_above;
  alloy_frame *frame = nullptr;
  EXPECT_EQ(alloy_frame_create(&config, &frame), ALLOY_OK);
  return frame;
}

TEST(FramePrewarm, TheFirstFrameTakesNoPageFaults) {
  if (!FaultCountsAreReliable()) GTEST_SKIP() << "minor fault counts are not one per page here (THP on every mapping, or tsan or "
                                                  "memcheck shadow memory)";
  const size_t frame_bytes = size_t{2} << 20;
  const long pages = static_cast<long>(frame_bytes / kPage);
  alloy_frame *warm = NewFrame(size_t{16} << 20, frame_bytes + (size_t{64} << 10));
  alloy_frame *lazy = NewFrame(size_t{16} << 20, 0);
  ASSERT_NE(warm, nullptr);
  ASSERT_NE(lazy, nullptr);
  const long warm_faults = FaultsForOneFrame(warm, frame_bytes);
  const long lazy_faults = FaultsForOneFrame(lazy, frame_bytes);
  EXPECT_LE(warm_faults, pages / 16) << "the pre-warmed frame runs on faulted-in pages";
  EXPECT_GE(lazy_faults, pages * 3 / 4) << "the lazy frame faults about once per page";
  alloy_frame_reset(lazy);
  EXPECT_LE(FaultsForOneFrame(lazy, frame_bytes), pages / 16) << "after its first frame, the lazy one is warm too";
  alloy_frame_destroy(warm);
  alloy_frame_destroy(lazy);
}

TEST(FramePrewarm, ResetWithDecommitKeepsThePrewarmedPagesWarm) {
  const size_t warm_bytes = size_t{1} << 20;
  alloy_frame *frame = NewFrame(size_t{16} << 20, warm_bytes, size_t{64} << 10);
  ASSERT_NE(frame, nullptr);
  ASSERT_GE(FaultsForOneFrame(frame, size_t{4} << 20), 0) << "a spike frame";
  alloy_frame_reset(frame);
  alloy_frame_stats stats;
  alloy_frame_get_stats(frame, &stats);
  EXPECT_GE(stats.committed, warm_bytes) << "decommit_above below the pre-warm keeps the pre-warmed pages";
  EXPECT_LT(stats.committed, warm_bytes + (size_t{256} << 10)) << "the spike's pages above it went back";
  const long faults = FaultsForOneFrame(frame, warm_bytes - (size_t{16} << 10));
  ASSERT_GE(faults, 0);
  if (FaultCountsAreReliable()) {
    EXPECT_LE(faults, static_cast<long>(warm_bytes / kPage / 16));
  }
  alloy_frame_destroy(frame);
}

TEST(FramePrewarm, BatchedCommitShowsInTheCommittedBytes) {
  alloy_frame_config config = alloy_frame_config_default(size_t{8} << 20);
  config.commit.mode = ALLOY_COMMIT_BATCHED;
  alloy_frame *frame = nullptr;
  ASSERT_EQ(alloy_frame_create(&config, &frame), ALLOY_OK);
  alloy_frame_stats stats;
  alloy_frame_get_stats(frame, &stats);
  EXPECT_GE(stats.committed, size_t{8} << 20) << "commit_batch 0: everything at creation";
  alloy_frame_destroy(frame);

  config.commit.commit_batch = size_t{1} << 20;
  ASSERT_EQ(alloy_frame_create(&config, &frame), ALLOY_OK);
  alloy_block block;
  ASSERT_EQ(alloy_frame_allocate(frame, 100 << 10, 16, &block), ALLOY_OK);
  alloy_frame_get_stats(frame, &stats);
  EXPECT_EQ(stats.committed, size_t{1} << 20) << "one batch, not a 64 KiB chunk";
  alloy_frame_destroy(frame);
}

TEST(FramePrewarm, InvalidPoliciesAndCommitFailures) {
  alloy_frame *frame = nullptr;
  alloy_frame_config config = alloy_frame_config_default(size_t{1} << 20);
  config.commit.prewarm_bytes = (size_t{1} << 20) + 1;
  EXPECT_EQ(alloy_frame_create(&config, &frame), ALLOY_E_INVALID_ARGUMENT) << "pre-warm beyond the reservation";
  config = alloy_frame_config_default(size_t{1} << 20);
  config.commit.prewarm_ahead = size_t{2} << 20;
  EXPECT_EQ(alloy_frame_create(&config, &frame), ALLOY_E_INVALID_ARGUMENT);
  config = alloy_frame_config_default(size_t{1} << 20);
  config.commit.commit_batch = size_t{256} << 10;
  EXPECT_EQ(alloy_frame_create(&config, &frame), ALLOY_E_INVALID_ARGUMENT) << "a batch size needs batched mode";
  config = alloy_frame_config_default(size_t{1} << 20);
  config.commit.prewarm_bytes = size_t{256} << 10;
  alloy_platform_fail_next(ALLOY_PLATFORM_COMMIT, 0, 1);
  EXPECT_EQ(alloy_frame_create(&config, &frame), ALLOY_E_OUT_OF_MEMORY) << "the pre-warm commit fails at create";
  EXPECT_EQ(frame, nullptr);

  config = alloy_frame_config_default(size_t{1} << 20);
  config.commit.prewarm_ahead = size_t{128} << 10;
  ASSERT_EQ(alloy_frame_create(&config, &frame), ALLOY_OK);
  alloy_block first;
  ASSERT_EQ(alloy_frame_allocate(frame, 100 << 10, 16, &first), ALLOY_OK);
  alloy_test::Fill(first.ptr, first.size, 7);
  alloy_block block = {nullptr, 0};
  alloy_platform_fail_next(ALLOY_PLATFORM_COMMIT, 0, 1);
  EXPECT_EQ(alloy_frame_allocate(frame, 200 << 10, 16, &block), ALLOY_E_OUT_OF_MEMORY) << "on the slow path";
  EXPECT_EQ(block.ptr, nullptr);
  alloy_frame_stats stats;
  alloy_frame_get_stats(frame, &stats);
  EXPECT_EQ(stats.used, first.size);
  EXPECT_EQ(stats.failures, 1u);
  EXPECT_TRUE(alloy_test::Check(first.ptr, first.size, 7)) << "nothing lost";
  EXPECT_EQ(alloy_frame_allocate(frame, 200 << 10, 16, &block), ALLOY_OK);
  alloy_frame_destroy(frame);
}

}  // namespace
