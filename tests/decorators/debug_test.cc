// The debug decorator: one test per misuse it promises to catch, the
// quarantine, fill patterns and guard pages, and proof that ASan and memcheck
// see quarantined blocks as freed.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "alloy/debug.h"
#include "alloy/fault_injection.h"
#include "alloy/memory_config.h"
#include "alloy/system.h"
#include "bench/support/test_free_list.h"
#include "tests/support/support.h"

namespace {

using alloy_test::FaultRecorder;

class DebugTest : public ::testing::Test {
 protected:
  void SetUp() override { Create(alloy_debug_config_default()); }
  void TearDown() override { alloy_debug_destroy(debug_); }

  void Create(alloy_debug_config config) {
    if (debug_ != nullptr) alloy_debug_destroy(debug_);
    ASSERT_EQ(alloy_debug_create(alloy_system_resource(), &config, &debug_), ALLOY_OK);
    resource_ = alloy_debug_resource(debug_);
  }

  alloy_block Allocate(size_t size, size_t align = 16) {
    alloy_block block = {nullptr, 0};
    EXPECT_EQ(alloy_resource_allocate(resource_, size, align, &block), ALLOY_OK);
    return block;
  }

  alloy_debug *debug_ = nullptr;
  alloy_resource *resource_ = nullptr;
};

// A fault must leave the block live and intact: it can still be used and
// then freed correctly.
void ExpectStillLive(alloy_resource *resource, alloy_block block, size_t align) {
  EXPECT_TRUE(alloy_resource_owns(resource, block)) << "the faulty call released the block";
  EXPECT_EQ(alloy_resource_deallocate(resource, block, align), ALLOY_OK);
}

TEST_F(DebugTest, HandsOutExactBlocksFilledWithTheAllocationPattern) {
  alloy_block block = Allocate(100);
  EXPECT_EQ(block.size, 100u);
  if (!alloy_test::UnderValgrind()) {  // memcheck rightly calls the bytes uninitialised
    const auto *bytes = static_cast<const unsigned char *>(block.ptr);
    for (size_t i = 0; i < block.size; ++i) ASSERT_EQ(bytes[i], ALLOY_DEBUG_ALLOC_BYTE) << i;
  }
  EXPECT_EQ(alloy_resource_deallocate(resource_, block, 16), ALLOY_OK);
}

TEST_F(DebugTest, DoubleFreeIsReportedAndChangesNothing) {
  FaultRecorder faults;
  alloy_block block = Allocate(48);
  ASSERT_EQ(alloy_resource_deallocate(resource_, block, 16), ALLOY_OK);
  EXPECT_EQ(alloy_resource_deallocate(resource_, block, 16), ALLOY_E_DOUBLE_FREE);
  ASSERT_EQ(faults.count(ALLOY_E_DOUBLE_FREE), 1u);
  EXPECT_EQ(faults.faults()[0].ptr, block.ptr);
  EXPECT_STREQ(faults.faults()[0].resource, "debug");
  EXPECT_NE(faults.last_message().find("already freed"), std::string::npos) << faults.last_message();
  alloy_debug_counts counts;
  alloy_debug_get_counts(debug_, &counts);
  EXPECT_EQ(counts.quarantined_blocks, 1u) << "the double free must not enter the quarantine twice";
  EXPECT_EQ(counts.faults, 1u);
}

TEST_F(DebugTest, DoubleFreeIsRecognisedWithoutQuarantine) {
  alloy_debug_config config = alloy_debug_config_default();
  config.quarantine = 0;
  Create(config);
  FaultRecorder faults;
  alloy_block block = Allocate(48);
  ASSERT_EQ(alloy_resource_deallocate(resource_, block, 16), ALLOY_OK);
  EXPECT_EQ(alloy_resource_deallocate(resource_, block, 16), ALLOY_E_DOUBLE_FREE);
  EXPECT_EQ(faults.count(ALLOY_E_DOUBLE_FREE), 1u);
}

TEST_F(DebugTest, ForeignPointerIsReportedWithoutBeingRead) {
  FaultRecorder faults;
  alignas(16) static char elsewhere[64];
  EXPECT_EQ(alloy_resource_deallocate(resource_, alloy_block_make(elsewhere, 64), 16), ALLOY_E_NOT_OWNED);
  // An address nothing is mapped at: reading it would crash.
  EXPECT_EQ(alloy_resource_deallocate(resource_, alloy_block_make(reinterpret_cast<void *>(0x40), 8), 16),
            ALLOY_E_NOT_OWNED);
  EXPECT_EQ(faults.count(ALLOY_E_NOT_OWNED), 2u);
  EXPECT_NE(faults.last_message().find("ALLOY_E_NOT_OWNED"), std::string::npos);
  EXPECT_FALSE(alloy_resource_owns(resource_, alloy_block_make(elsewhere, 64)));
}

TEST_F(DebugTest, FreeWithTheWrongSizeIsReported) {
  FaultRecorder faults;
  alloy_block block = Allocate(40);
  EXPECT_EQ(alloy_resource_deallocate(resource_, alloy_block_make(block.ptr, 48), 16), ALLOY_E_SIZE_MISMATCH);
  ASSERT_EQ(faults.count(ALLOY_E_SIZE_MISMATCH), 1u);
  EXPECT_EQ(faults.faults()[0].size, 48u);
  EXPECT_EQ(faults.faults()[0].expected_size, 40u);
  ExpectStillLive(resource_, block, 16);
}

TEST_F(DebugTest, FreeWithTheWrongAlignmentIsReported) {
  FaultRecorder faults;
  alloy_block block = Allocate(40, 64);
  EXPECT_EQ(alloy_resource_deallocate(resource_, block, 16), ALLOY_E_ALIGN_MISMATCH);
  ASSERT_EQ(faults.count(ALLOY_E_ALIGN_MISMATCH), 1u);
  EXPECT_EQ(faults.faults()[0].align, 16u);
  EXPECT_EQ(faults.faults()[0].expected_align, 64u);
  ExpectStillLive(resource_, block, 64);
}

TEST_F(DebugTest, UnderrunIntoTheFrontCanaryIsReported) {
  FaultRecorder faults;
  alloy_block block = Allocate(32);
  static_cast<unsigned char *>(block.ptr)[-3] = 0;
  EXPECT_EQ(alloy_resource_deallocate(resource_, block, 16), ALLOY_E_CORRUPTION);
  ASSERT_EQ(faults.count(ALLOY_E_CORRUPTION), 1u);
  EXPECT_EQ(faults.faults()[0].ptr, block.ptr);
  EXPECT_NE(faults.last_message().find("front canary"), std::string::npos) << faults.last_message();
  EXPECT_NE(faults.last_message().find("32-byte block"), std::string::npos) << faults.last_message();
  EXPECT_EQ(alloy_debug_check_all(debug_), ALLOY_E_CORRUPTION) << "still live, still corrupt";
  static_cast<unsigned char *>(block.ptr)[-3] = ALLOY_DEBUG_CANARY_BYTE;  // repair so the block can go
  EXPECT_EQ(alloy_resource_deallocate(resource_, block, 16), ALLOY_OK);
}

TEST_F(DebugTest, OverrunIntoTheBackCanaryIsReported) {
  FaultRecorder faults;
  alloy_block block = Allocate(30);
  static_cast<unsigned char *>(block.ptr)[30] = 'x';  // one past the end
  EXPECT_EQ(alloy_resource_deallocate(resource_, block, 16), ALLOY_E_CORRUPTION);
  ASSERT_EQ(faults.count(ALLOY_E_CORRUPTION), 1u);
  EXPECT_NE(faults.last_message().find("back canary"), std::string::npos) << faults.last_message();
  EXPECT_NE(faults.last_message().find("byte 0 after"), std::string::npos) << faults.last_message();
  static_cast<unsigned char *>(block.ptr)[30] = ALLOY_DEBUG_CANARY_BYTE;
  ExpectStillLive(resource_, block, 16);
}

TEST_F(DebugTest, WriteAfterFreeIsCaughtWhenTheBlockLeavesQuarantine) {
  if (alloy_test::kAsan || alloy_test::UnderValgrind())
    GTEST_SKIP() << "the tools stop the write itself (see the tool tests below)";
  alloy_debug_config config = alloy_debug_config_default();
  config.quarantine = 2;
  Create(config);
  FaultRecorder faults;
  alloy_block block = Allocate(64);
  ASSERT_EQ(alloy_resource_deallocate(resource_, block, 16), ALLOY_OK);
  static_cast<unsigned char *>(block.ptr)[10] = 1;  // use after free
  alloy_block a = Allocate(16), b = Allocate(16);
  EXPECT_EQ(alloy_resource_deallocate(resource_, a, 16), ALLOY_OK);
  EXPECT_EQ(faults.count(ALLOY_E_CORRUPTION), 0u) << "still in quarantine";
  EXPECT_EQ(alloy_debug_check_all(debug_), ALLOY_E_CORRUPTION) << "check_all looks into the quarantine";
  faults.clear();
  EXPECT_EQ(alloy_resource_deallocate(resource_, b, 16), ALLOY_E_CORRUPTION) << "evicts the written block";
  ASSERT_EQ(faults.count(ALLOY_E_CORRUPTION), 1u);
  EXPECT_EQ(faults.faults()[0].ptr, block.ptr);
  EXPECT_NE(faults.last_message().find("modified after free (byte 10 of a 64-byte block)"), std::string::npos)
      << faults.last_message();
}

TEST_F(DebugTest, FreedBlocksAreFilledAndHeldInQuarantine) {
  alloy_debug_config config = alloy_debug_config_default();
  config.quarantine = 4;
  Create(config);
  std::vector<alloy_block> blocks;
  for (int i = 0; i < 6; ++i) blocks.push_back(Allocate(24));
  for (const alloy_block &block : blocks) EXPECT_EQ(alloy_resource_deallocate(resource_, block, 16), ALLOY_OK);
  alloy_debug_counts counts;
  alloy_debug_get_counts(debug_, &counts);
  EXPECT_EQ(counts.live_blocks, 0u);
  EXPECT_EQ(counts.quarantined_blocks, 4u);
  EXPECT_EQ(alloy_debug_flush_quarantine(debug_), ALLOY_OK);
  alloy_debug_get_counts(debug_, &counts);
  EXPECT_EQ(counts.quarantined_blocks, 0u);
  EXPECT_EQ(counts.faults, 0u);
}

TEST_F(DebugTest, ReallocateMovesKeepsContentsAndChecksTheOldBlock) {
  alloy_block block = Allocate(20);
  alloy_test::Fill(block.ptr, 20, 5);
  alloy_block moved;
  ASSERT_EQ(alloy_resource_reallocate(resource_, block, 200, 16, &moved), ALLOY_OK);
  EXPECT_NE(moved.ptr, block.ptr);
  EXPECT_EQ(moved.size, 200u);
  EXPECT_TRUE(alloy_test::Check(moved.ptr, 20, 5));
  {
    FaultRecorder faults;
    alloy_block out = {nullptr, 0};
    EXPECT_EQ(alloy_resource_reallocate(resource_, alloy_block_make(moved.ptr, 199), 300, 16, &out),
              ALLOY_E_SIZE_MISMATCH);
    EXPECT_EQ(out.ptr, nullptr);
    EXPECT_EQ(alloy_resource_reallocate(resource_, block, 300, 16, &out), ALLOY_E_DOUBLE_FREE) << "stale block";
  }
  EXPECT_EQ(alloy_resource_deallocate(resource_, moved, 16), ALLOY_OK);
}

TEST_F(DebugTest, QuarantineGivesMemoryBackWhenTheInnerRunsOut) {
  alloy_resource *inner = alloy_test::CreateFreeList(64 << 10);
  ASSERT_NE(inner, nullptr);
  alloy_debug_config config = alloy_debug_config_default();
  config.quarantine = 64;
  alloy_debug *debug;
  ASSERT_EQ(alloy_debug_create(inner, &config, &debug), ALLOY_OK);
  alloy_resource *resource = alloy_debug_resource(debug);
  // 8 blocks of 8 KiB classes fill the 64 KiB; freed ones sit in quarantine.
  for (int round = 0; round < 3; ++round) {
    std::vector<alloy_block> blocks;
    alloy_block block;
    while (alloy_resource_allocate(resource, 4000, 16, &block) == ALLOY_OK) blocks.push_back(block);
    EXPECT_GE(blocks.size(), 7u) << "round " << round;
    for (const alloy_block &b : blocks) EXPECT_EQ(alloy_resource_deallocate(resource, b, 16), ALLOY_OK);
  }
  alloy_debug_destroy(debug);
  EXPECT_EQ(alloy_test::FreeListLiveBlocks(inner), 0u) << "destroy released the quarantine";
  alloy_test::DestroyFreeList(inner);
}

TEST_F(DebugTest, BadRequestsAndPlatformFailuresAreStatuses) {
  alloy_block block = {nullptr, 0};
  EXPECT_EQ(alloy_resource_allocate(resource_, 8, 3, &block), ALLOY_E_INVALID_ARGUMENT);
  EXPECT_EQ(alloy_resource_allocate(resource_, SIZE_MAX, 8, &block), ALLOY_E_INVALID_ARGUMENT);
  EXPECT_EQ(alloy_resource_allocate(resource_, ALLOY_MAX_REQUEST - 8, 8, &block), ALLOY_E_UNSUPPORTED);
  // The first refusal makes the decorator release its quarantine and retry.
  alloy_platform_fail_next(ALLOY_PLATFORM_HEAP, 0, 2);
  EXPECT_EQ(alloy_resource_allocate(resource_, 64, 8, &block), ALLOY_E_OUT_OF_MEMORY);
  EXPECT_EQ(block.ptr, nullptr);
  alloy_platform_fail_reset();
  alloy_debug_counts counts;
  alloy_debug_get_counts(debug_, &counts);
  EXPECT_EQ(counts.live_blocks, 0u);
}

TEST_F(DebugTest, ConfigComesFromTheMemoryConfig) {
  alloy_memory_config memory = alloy_memory_config_defaults();
  char error[256];
  ASSERT_EQ(alloy_memory_config_parse("debug.canary=0;debug.quarantine=3;debug.guard_pages=1", &memory, error,
                                      sizeof error),
            ALLOY_OK)
      << error;
  alloy_debug_config config = alloy_debug_config_from_memory_config(&memory);
  EXPECT_FALSE(config.canary);
  EXPECT_EQ(config.quarantine, 3u);
  EXPECT_TRUE(config.guard_pages);
}

// ---- the default handler and the tools ----------------------------------

using DebugDeathTest = DebugTest;

TEST_F(DebugDeathTest, DefaultHandlerNamesTheErrorAndAborts) {
  alloy_block block = Allocate(48);
  ASSERT_EQ(alloy_resource_deallocate(resource_, block, 16), ALLOY_OK);
  EXPECT_DEATH((void)alloy_resource_deallocate(resource_, block, 16),
               "ALLOY_E_DOUBLE_FREE .* in resource 'debug': block 0x[0-9a-f]+, size 48");
  alloy_block other = Allocate(30);
  static_cast<unsigned char *>(other.ptr)[31] = 0;
  EXPECT_DEATH((void)alloy_resource_deallocate(resource_, other, 16), "ALLOY_E_CORRUPTION.*back canary");
  static_cast<unsigned char *>(other.ptr)[31] = ALLOY_DEBUG_CANARY_BYTE;
  EXPECT_EQ(alloy_resource_deallocate(resource_, other, 16), ALLOY_OK);
}

TEST_F(DebugDeathTest, GuardPageStopsAnOverrunAtTheFirstByte) {
  alloy_debug_config config = alloy_debug_config_default();
  config.guard_pages = true;
  Create(config);
  alloy_block block = Allocate(100, 1);
  auto *bytes = static_cast<volatile unsigned char *>(block.ptr);
  bytes[99] = 1;  // the last byte is fine
  EXPECT_DEATH(bytes[100] = 1, "");
  EXPECT_EQ(alloy_resource_deallocate(resource_, block, 1), ALLOY_OK);
}

TEST_F(DebugTest, GuardPageBlocksAreAlignedAndChecked) {
  alloy_debug_config config = alloy_debug_config_default();
  config.guard_pages = true;
  Create(config);
  FaultRecorder faults;
  for (size_t align : {size_t{1}, size_t{8}, size_t{64}, size_t{4096}}) {
    alloy_block block = Allocate(1000, align);
    ASSERT_NE(block.ptr, nullptr);
    EXPECT_TRUE(alloy_ptr_is_aligned(block.ptr, align));
    std::memset(block.ptr, 0x5a, 1000);
    EXPECT_EQ(alloy_resource_deallocate(resource_, block, align), ALLOY_OK);
  }
  alloy_block block = {nullptr, 0};
  EXPECT_EQ(alloy_resource_allocate(resource_, 64, 8192, &block), ALLOY_E_UNSUPPORTED);
  alloy_block small = Allocate(10, 16);  // 6 bytes of slack before the guard page hold the back canary
  static_cast<unsigned char *>(small.ptr)[11] = 0;
  EXPECT_EQ(alloy_resource_deallocate(resource_, small, 16), ALLOY_E_CORRUPTION);
  EXPECT_NE(faults.last_message().find("back canary"), std::string::npos);
  static_cast<unsigned char *>(small.ptr)[11] = ALLOY_DEBUG_CANARY_BYTE;
  EXPECT_EQ(alloy_resource_deallocate(resource_, small, 16), ALLOY_OK);
}

TEST_F(DebugDeathTest, AsanReportsUseOfAQuarantinedBlock) {
  if (!alloy_test::kAsan) GTEST_SKIP() << "needs AddressSanitizer";
  alloy_block block = Allocate(64);
  ASSERT_EQ(alloy_resource_deallocate(resource_, block, 16), ALLOY_OK);
  EXPECT_DEATH(static_cast<volatile char *>(block.ptr)[8] = 1, "use-after-poison");
}

TEST_F(DebugDeathTest, MemcheckReportsUseOfAQuarantinedBlock) {
  if (!alloy_test::UnderValgrind()) GTEST_SKIP() << "needs Valgrind";
  alloy_block block = Allocate(64);
  ASSERT_EQ(alloy_resource_deallocate(resource_, block, 16), ALLOY_OK);
  EXPECT_EXIT(
      {
        static_cast<volatile char *>(block.ptr)[8] = 1;
        std::exit(0);
      },
      ::testing::ExitedWithCode(97), "");
}

}  // namespace

namespace {

// A resource that hands out scope markers, like frame and stack: the debug
// decorator must not hold its frees back.
alloy_status MarkerAllocate(alloy_resource *, size_t size, size_t align, alloy_block *out) {
  return alloy_resource_allocate(alloy_system_resource(), size, align, out);
}
alloy_status MarkerDeallocate(alloy_resource *, alloy_block block, size_t align) {
  return alloy_resource_deallocate(alloy_system_resource(), block, align);
}
alloy_status MarkerMark(alloy_resource *, alloy_marker *out) {
  out->position = 0;
  return ALLOY_OK;
}

TEST(DebugOverLifo, QuarantineIsOffOverResourcesWithMarkers) {
  alloy_resource_ops ops;
  std::memset(&ops, 0, sizeof ops);
  ops.struct_size = sizeof ops;
  ops.name = "lifo";
  ops.allocate = MarkerAllocate;
  ops.deallocate = MarkerDeallocate;
  ops.mark = MarkerMark;
  alloy_resource lifo = {&ops};
  alloy_debug *debug;
  ASSERT_EQ(alloy_debug_create(&lifo, nullptr, &debug), ALLOY_OK);
  alloy_block block;
  ASSERT_EQ(alloy_resource_allocate(alloy_debug_resource(debug), 32, 8, &block), ALLOY_OK);
  ASSERT_EQ(alloy_resource_deallocate(alloy_debug_resource(debug), block, 8), ALLOY_OK);
  alloy_debug_counts counts;
  alloy_debug_get_counts(debug, &counts);
  EXPECT_EQ(counts.quarantined_blocks, 0u) << "the free went straight through, in order";
  alloy_debug_destroy(debug);
}

TEST(DebugShared, ThreadsShareTheDecoratorOverAThreadSafeInner) {
  alloy_debug *debug;
  ASSERT_EQ(alloy_debug_create(alloy_system_resource(), nullptr, &debug), ALLOY_OK);
  alloy_resource *resource = alloy_debug_resource(debug);
  const size_t rounds = alloy_test::Scaled(2000, 100);
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t)
    threads.emplace_back([&, t] {
      std::vector<alloy_block> mine;
      for (size_t i = 0; i < rounds; ++i) {
        alloy_block block;
        ASSERT_EQ(alloy_resource_allocate(resource, 24 + i % 100, 16, &block), ALLOY_OK);
        alloy_test::Fill(block.ptr, block.size, static_cast<uint32_t>(i + t));
        mine.push_back(block);
        if (mine.size() > 8) {
          ASSERT_TRUE(alloy_test::Check(mine.front().ptr, mine.front().size, static_cast<uint32_t>(i - 8 + t)));
          ASSERT_EQ(alloy_resource_deallocate(resource, mine.front(), 16), ALLOY_OK);
          mine.erase(mine.begin());
        }
      }
      for (const alloy_block &block : mine) ASSERT_EQ(alloy_resource_deallocate(resource, block, 16), ALLOY_OK);
    });
  for (std::thread &thread : threads) thread.join();
  alloy_debug_counts counts;
  alloy_debug_get_counts(debug, &counts);
  EXPECT_EQ(counts.live_blocks, 0u);
  EXPECT_EQ(counts.faults, 0u);
  alloy_debug_destroy(debug);
}

// The decorator's own memory from a resource the creator names: a counting
// wrapper of the system resource sees the object, the quarantine ring and
// every growth of the live table, and gets all of it back at destroy; the
// inner sees only the blocks.
struct CountingResource {
  alloy_resource resource;
  size_t live = 0;
  size_t bytes = 0;
  size_t calls = 0;
};

alloy_status CountingAllocate(alloy_resource *self, size_t size, size_t align, alloy_block *out) {
  auto *counting = reinterpret_cast<CountingResource *>(self);
  alloy_status status = alloy_resource_allocate(alloy_system_resource(), size, align, out);
  if (status == ALLOY_OK) {
    counting->live++;
    counting->bytes += size;
    counting->calls++;
  }
  return status;
}

alloy_status CountingDeallocate(alloy_resource *self, alloy_block block, size_t align) {
  auto *counting = reinterpret_cast<CountingResource *>(self);
  counting->live--;
  counting->bytes -= block.size;
  return alloy_resource_deallocate(alloy_system_resource(), block, align);
}

void CountingInfo(const alloy_resource *, alloy_resource_info *info) { info->thread_safety = ALLOY_THREAD_SAFE; }

const alloy_resource_ops kCountingOps = {
    sizeof(alloy_resource_ops), "counting", CountingAllocate, CountingDeallocate, nullptr, nullptr, nullptr,
    nullptr, CountingInfo, nullptr, nullptr, nullptr};

TEST(DebugState, StateComesFromTheNamedResource) {
  CountingResource state;
  state.resource.ops = &kCountingOps;
  CountingResource inner;
  inner.resource.ops = &kCountingOps;
  alloy_debug_config config = alloy_debug_config_default();
  config.quarantine = 8;
  alloy_debug *debug = nullptr;
  ASSERT_EQ(alloy_debug_create_with_state(&inner.resource, &config, &state.resource, &debug), ALLOY_OK);
  EXPECT_EQ(state.live, 2u) << "the object and the quarantine ring";
  EXPECT_EQ(inner.live, 0u);
  alloy_resource *resource = alloy_debug_resource(debug);
  std::vector<alloy_block> blocks;
  for (size_t i = 0; i < 1000; ++i) {
    alloy_block block;
    ASSERT_EQ(alloy_resource_allocate(resource, 8 + i % 50, 16, &block), ALLOY_OK);
    blocks.push_back(block);
  }
  EXPECT_EQ(inner.live, 1000u);
  EXPECT_GT(state.calls, 3u) << "the live table grew in the named resource";
  EXPECT_GE(state.bytes, 1000 * 2 * sizeof(void *)) << "the live table holds 1000 pointers";
  for (const alloy_block &block : blocks) ASSERT_EQ(alloy_resource_deallocate(resource, block, 16), ALLOY_OK);
  alloy_debug_destroy(debug);
  EXPECT_EQ(state.live, 0u);
  EXPECT_EQ(state.bytes, 0u);
  EXPECT_EQ(inner.live, 0u);
}

// A pointer-only free finds what the decorator needs by the pointer: the
// live block's requested size and alignment; a freed or foreign pointer is
// not found, and nothing is read at it.
TEST_F(DebugTest, FindAnswersALiveBlocksSizeAndAlignment) {
  alloy_block small = Allocate(100);
  alloy_block aligned = Allocate(3, 256);
  alloy_block block;
  size_t align = 0;
  ASSERT_TRUE(alloy_debug_find(debug_, small.ptr, &block, &align));
  EXPECT_EQ(block.ptr, small.ptr);
  EXPECT_EQ(block.size, 100u);
  EXPECT_EQ(align, 16u);
  ASSERT_TRUE(alloy_debug_find(debug_, aligned.ptr, &block, &align));
  EXPECT_EQ(block.size, 3u);
  EXPECT_EQ(align, 256u);
  EXPECT_FALSE(alloy_debug_find(debug_, static_cast<char *>(small.ptr) + 1, &block, &align));
  int on_stack = 0;
  EXPECT_FALSE(alloy_debug_find(debug_, &on_stack, &block, &align));
  EXPECT_EQ(alloy_resource_deallocate(resource_, small, 16), ALLOY_OK);
  EXPECT_FALSE(alloy_debug_find(debug_, small.ptr, &block, &align)) << "freed blocks are not live";
  EXPECT_EQ(alloy_resource_deallocate(resource_, aligned, 256), ALLOY_OK);
}

// An address inside a live block's bytes, or in its header and canaries
// before and after them, names that block; an address past its back canary
// or in no block does not.
TEST_F(DebugTest, FindContainingNamesTheBlockAroundAnAddress) {
  alloy_block a = Allocate(64);
  alloy_block b = Allocate(200);
  char *bytes = static_cast<char *>(b.ptr);
  alloy_block block;
  size_t align = 0;
  for (ptrdiff_t offset : {ptrdiff_t{0}, ptrdiff_t{1}, ptrdiff_t{199}, ptrdiff_t{-1},
                           -static_cast<ptrdiff_t>(ALLOY_DEBUG_CANARY_SIZE), ptrdiff_t{200}, ptrdiff_t{215}}) {
    ASSERT_TRUE(alloy_debug_find_containing(debug_, bytes + offset, &block, &align)) << offset;
    EXPECT_EQ(block.ptr, b.ptr) << offset;
    EXPECT_EQ(block.size, 200u);
    EXPECT_EQ(align, 16u);
  }
  ASSERT_TRUE(alloy_debug_find_containing(debug_, static_cast<char *>(a.ptr) + 63, &block, &align));
  EXPECT_EQ(block.ptr, a.ptr);
  int on_stack = 0;
  EXPECT_FALSE(alloy_debug_find_containing(debug_, &on_stack, &block, &align));
  EXPECT_EQ(alloy_resource_deallocate(resource_, b, 16), ALLOY_OK);
  EXPECT_FALSE(alloy_debug_find_containing(debug_, bytes + 10, &block, &align)) << "a freed block holds nothing";
  EXPECT_EQ(alloy_resource_deallocate(resource_, a, 16), ALLOY_OK);
}

}  // namespace
