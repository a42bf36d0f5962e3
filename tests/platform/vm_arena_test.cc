#include <cstddef>
#include <cstdint>
#include <cstring>

#include <gtest/gtest.h>
#include <sys/resource.h>

#include "alloy/align.h"
#include "alloy/huge_pages.h"
#include "alloy/fault_injection.h"
#include "alloy/tool_hooks.h"
#include "alloy/vm.h"
#include "alloy/vm_arena.h"
#include "tests/support/page_faults.h"
#include "tests/support/support.h"

namespace {

using alloy_test::FaultCountsAreReliable;
using alloy_test::MinorFaults;

const size_t kPage = alloy_vm_page_size();

// The arena leaves a new block's tool state to its owner, as strategies do.
void *Use(void *ptr, size_t size) {
  ALLOY_MEM_UNDEFINED(ptr, size);
  return ptr;
}

// For reading back what the OS guarantees (fresh pages are zero).
void *Defined(void *ptr, size_t size) {
  ALLOY_MEM_DEFINED(ptr, size);
  return ptr;
}

alloy_vm_arena_config Config(size_t capacity, size_t chunk = 0, size_t header = 100) {
  alloy_vm_arena_config config;
  config.header_size = header;
  config.capacity = capacity;
  config.commit_chunk = chunk;
  config.numa_node = -1;
  return config;
}

// An owner that lives in the header of its own arena, as the frame and the stack do.
struct Owner {
  uint64_t tag;
  alloy_vm_arena arena;
};

TEST(VmArena, CreateOwnerStoresTheArenaInItsOwnHeader) {
  alloy_vm_arena_config config = Config(16 * kPage, 0, sizeof(Owner));
  void *memory = nullptr;
  ASSERT_EQ(alloy_vm_arena_create_owner(&config, nullptr, offsetof(Owner, arena), &memory), ALLOY_OK);
  Owner *owner = static_cast<Owner *>(memory);
  EXPECT_EQ(owner->arena.reservation, static_cast<char *>(memory)) << "the owner is the header";
  EXPECT_GE(owner->arena.base, static_cast<char *>(memory) + sizeof(Owner)) << "blocks start after the owner";
  owner->tag = 42;  // the header is the owner's to write
  void *ptr = alloy_vm_arena_bump(&owner->arena, 64, 16);
  ASSERT_NE(ptr, nullptr);
  std::memset(Use(ptr, 64), 1, 64);
  EXPECT_EQ(alloy_vm_arena_used(&owner->arena), 64u);
  alloy_vm_arena_destroy(&owner->arena);  // releases the memory the arena itself lives in

  config.capacity = 0;
  memory = nullptr;
  EXPECT_EQ(alloy_vm_arena_create_owner(&config, nullptr, offsetof(Owner, arena), &memory),
            ALLOY_E_INVALID_ARGUMENT);
  EXPECT_EQ(memory, nullptr) << "*owner is written only on success";
  config.capacity = 16 * kPage;
  EXPECT_EQ(alloy_vm_arena_create_owner(&config, nullptr, offsetof(Owner, arena), nullptr), ALLOY_E_INVALID_ARGUMENT);
}

TEST(VmArena, BumpsAlignedBlocksAndCommitsInChunks) {
  alloy_vm_arena_config config = Config(64 * kPage, 4 * kPage);
  alloy_vm_arena arena;
  ASSERT_EQ(alloy_vm_arena_create(&config, &arena), ALLOY_OK);
  EXPECT_GE(alloy_vm_arena_capacity(&arena), 64 * kPage);
  EXPECT_GE(arena.base - arena.reservation, 100);
  EXPECT_EQ(alloy_vm_arena_used(&arena), 0u);
  EXPECT_EQ(alloy_vm_arena_committed(&arena), kPage) << "only the header is committed up front";
  std::memset(arena.reservation, 0x5A, 100);  // the header is the owner's

  void *ptr = alloy_vm_arena_bump(&arena, 16, 16);
  if (ptr == nullptr) {
    ASSERT_EQ(alloy_vm_arena_grow(&arena, 16, 16, &ptr), ALLOY_OK);
  }
  EXPECT_TRUE(alloy_ptr_is_aligned(ptr, 16));
  EXPECT_EQ(alloy_vm_arena_bump(&arena, 5 * kPage, 8), nullptr) << "beyond the committed end";
  void *big = nullptr;
  ASSERT_EQ(alloy_vm_arena_grow(&arena, 5 * kPage, 8, &big), ALLOY_OK);
  std::memset(Use(big, 5 * kPage), 1, 5 * kPage);
  EXPECT_EQ(alloy_vm_arena_committed(&arena) % (4 * kPage), 0u) << "commits whole chunks";
  EXPECT_TRUE(alloy_vm_arena_holds(&arena, big, 5 * kPage));
  EXPECT_FALSE(alloy_vm_arena_holds(&arena, big, 5 * kPage + 1));
  int local = 0;
  EXPECT_FALSE(alloy_vm_arena_holds(&arena, &local, sizeof local));

  void *aligned = nullptr;
  ASSERT_EQ(alloy_vm_arena_grow(&arena, 1, 4096, &aligned), ALLOY_OK);
  EXPECT_TRUE(alloy_ptr_is_aligned(aligned, 4096));
  alloy_vm_arena_destroy(&arena);
}

TEST(VmArena, NeverGrowsPastTheReservation) {
  alloy_vm_arena_config config = Config(8 * kPage, kPage);
  alloy_vm_arena arena;
  ASSERT_EQ(alloy_vm_arena_create(&config, &arena), ALLOY_OK);
  const size_t capacity = alloy_vm_arena_capacity(&arena);
  void *ptr = nullptr;
  EXPECT_EQ(alloy_vm_arena_grow(&arena, capacity + 1, 1, &ptr), ALLOY_E_CAPACITY);
  EXPECT_EQ(alloy_vm_arena_grow(&arena, 1, size_t{1} << 40, &ptr), ALLOY_E_CAPACITY);
  EXPECT_EQ(alloy_vm_arena_grow(&arena, PTRDIFF_MAX, 1, &ptr), ALLOY_E_CAPACITY);
  EXPECT_EQ(ptr, nullptr);
  ASSERT_EQ(alloy_vm_arena_grow(&arena, capacity, 1, &ptr), ALLOY_OK) << "exactly full fits";
  std::memset(Use(ptr, capacity), 2, capacity);
  EXPECT_EQ(arena.committed_end, arena.limit);
  EXPECT_EQ(alloy_vm_arena_grow(&arena, 0, 1, &ptr), ALLOY_OK) << "an empty block still fits";
  EXPECT_EQ(alloy_vm_arena_grow(&arena, 1, 1, &ptr), ALLOY_E_CAPACITY);
  alloy_vm_arena_destroy(&arena);
}

TEST(VmArena, TheGuardPageFaults) {
  alloy_vm_arena_config config = Config(4 * kPage, kPage);
  alloy_vm_arena arena;
  ASSERT_EQ(alloy_vm_arena_create(&config, &arena), ALLOY_OK);
  void *ptr = nullptr;
  ASSERT_EQ(alloy_vm_arena_grow(&arena, alloy_vm_arena_capacity(&arena), 1, &ptr), ALLOY_OK);
  volatile char *past_the_end = arena.limit;
  EXPECT_DEATH(*past_the_end = 1, "");
  alloy_vm_arena_destroy(&arena);
}

TEST(VmArena, RewindAndDecommitAbove) {
  alloy_vm_arena_config config = Config(256 * kPage, 4 * kPage);
  alloy_vm_arena arena;
  ASSERT_EQ(alloy_vm_arena_create(&config, &arena), ALLOY_OK);
  void *ptr = nullptr;
  ASSERT_EQ(alloy_vm_arena_grow(&arena, 100 * kPage, 8, &ptr), ALLOY_OK);
  std::memset(Use(ptr, 100 * kPage), 3, 100 * kPage);
  char *mid = static_cast<char *>(ptr) + 10 * kPage;
  alloy_vm_arena_rewind(&arena, mid);
  EXPECT_EQ(arena.top, mid);
  const size_t committed = alloy_vm_arena_committed(&arena);
  alloy_vm_arena_decommit_above(&arena, arena.base);
  EXPECT_LT(alloy_vm_arena_committed(&arena), committed);
  EXPECT_GE(arena.committed_end, arena.top) << "never decommits below the top";
  alloy_vm_arena_rewind(&arena, arena.base);
  alloy_vm_arena_decommit_above(&arena, arena.base);
  EXPECT_EQ(alloy_vm_arena_committed(&arena), 4 * kPage) << "one chunk (holding the header) stays";
  ASSERT_EQ(alloy_vm_arena_grow(&arena, 20 * kPage, 8, &ptr), ALLOY_OK);
  EXPECT_EQ(ptr, arena.base);
  for (size_t i = 4 * kPage; i < 20 * kPage; i += kPage)
    ASSERT_EQ(static_cast<char *>(Defined(arena.reservation + i, 1))[0], 0) << "decommitted pages come back zeroed";
  alloy_vm_arena_destroy(&arena);
}

TEST(VmArena, CommitFailureLeavesTheArenaAsItWas) {
  alloy_vm_arena_config config = Config(64 * kPage, kPage);
  alloy_vm_arena arena;
  ASSERT_EQ(alloy_vm_arena_create(&config, &arena), ALLOY_OK);
  char *top = arena.top;
  void *ptr = nullptr;
  alloy_platform_fail_next(ALLOY_PLATFORM_COMMIT, 0, 1);
  EXPECT_EQ(alloy_vm_arena_grow(&arena, 8 * kPage, 8, &ptr), ALLOY_E_OUT_OF_MEMORY);
  EXPECT_EQ(arena.top, top);
  EXPECT_EQ(ptr, nullptr);
  EXPECT_EQ(alloy_vm_arena_grow(&arena, 8 * kPage, 8, &ptr), ALLOY_OK);
  alloy_vm_arena_destroy(&arena);
}

TEST(VmArena, BadConfigsAndRefusedReservations) {
  alloy_vm_arena arena;
  std::memset(&arena, 0x77, sizeof arena);
  alloy_vm_arena_config config = Config(0);
  EXPECT_EQ(alloy_vm_arena_create(&config, &arena), ALLOY_E_INVALID_ARGUMENT);
  config = Config(SIZE_MAX);
  EXPECT_EQ(alloy_vm_arena_create(&config, &arena), ALLOY_E_INVALID_ARGUMENT);
  config = Config(PTRDIFF_MAX - 10);
  EXPECT_EQ(alloy_vm_arena_create(&config, &arena), ALLOY_E_INVALID_ARGUMENT);
  config = Config(kPage, SIZE_MAX);
  EXPECT_EQ(alloy_vm_arena_create(&config, &arena), ALLOY_E_INVALID_ARGUMENT);
  config = Config(kPage);
  config.numa_node = -2;
  EXPECT_EQ(alloy_vm_arena_create(&config, &arena), ALLOY_E_INVALID_ARGUMENT);
  config.numa_node = 4096;
  EXPECT_EQ(alloy_vm_arena_create(&config, &arena), ALLOY_E_UNAVAILABLE);
  EXPECT_EQ(alloy_vm_arena_create(nullptr, &arena), ALLOY_E_INVALID_ARGUMENT);
  config = Config(kPage);
  alloy_platform_fail_next(ALLOY_PLATFORM_RESERVE, 0, 1);
  EXPECT_EQ(alloy_vm_arena_create(&config, &arena), ALLOY_E_OUT_OF_MEMORY);
  alloy_platform_fail_next(ALLOY_PLATFORM_COMMIT, 0, 1);
  EXPECT_EQ(alloy_vm_arena_create(&config, &arena), ALLOY_E_OUT_OF_MEMORY);
  unsigned char untouched[sizeof arena];
  std::memset(untouched, 0x77, sizeof untouched);
  EXPECT_EQ(std::memcmp(&arena, untouched, sizeof arena), 0) << "failed creates write nothing";
  config.numa_node = 0;
  ASSERT_EQ(alloy_vm_arena_create(&config, &arena), ALLOY_OK) << "node 0 always exists";
  alloy_vm_arena_destroy(&arena);
}

// ---- commit policy and pre-warm ---------------------------------------------

alloy_vm_commit_policy Policy(alloy_commit_mode mode, size_t batch = 0, size_t prewarm = 0, size_t ahead = 0) {
  alloy_vm_commit_policy policy;
  policy.mode = mode;
  policy.commit_batch = batch;
  policy.prewarm_bytes = prewarm;
  policy.prewarm_ahead = ahead;
  return policy;
}

// Writes one byte in every page of [ptr, ptr + size) and returns the minor
// faults that took.
long FaultsToTouch(void *ptr, size_t size) {
  Use(ptr, size);
  volatile char *bytes = static_cast<char *>(ptr);
  const long before = MinorFaults();
  for (size_t offset = 0; offset < size; offset += kPage) bytes[offset] = 1;
  return MinorFaults() - before;
}

TEST(VmPopulate, BacksEveryPageAndKeepsContents) {
  const size_t size = 256 * kPage;
  void *base = nullptr;
  ASSERT_EQ(alloy_vm_map(size, kPage, &base), ALLOY_OK);
  static_cast<char *>(base)[0] = 42;
  alloy_vm_populate(base, size);
  EXPECT_EQ(static_cast<char *>(base)[0], 42) << "populate must not change contents";
  if (FaultCountsAreReliable()) {
    EXPECT_LE(FaultsToTouch(base, size), static_cast<long>(size / kPage / 16));
  }
  ASSERT_EQ(alloy_vm_release(base, size), ALLOY_OK);
}

TEST(VmArenaPolicy, LazyCommitsChunkByChunk) {
  alloy_vm_arena_config config = Config(64 * kPage, 4 * kPage);
  alloy_vm_commit_policy policy = Policy(ALLOY_COMMIT_LAZY);
  alloy_vm_arena arena;
  ASSERT_EQ(alloy_vm_arena_create_with_policy(&config, &policy, &arena), ALLOY_OK);
  EXPECT_EQ(alloy_vm_arena_committed(&arena), kPage) << "only the header";
  void *ptr = nullptr;
  ASSERT_EQ(alloy_vm_arena_grow(&arena, 5 * kPage, 8, &ptr), ALLOY_OK);
  EXPECT_EQ(alloy_vm_arena_committed(&arena), 8 * kPage) << "up to the next chunk boundary";
  alloy_vm_arena_destroy(&arena);
}

TEST(VmArenaPolicy, BatchedCommitsWholeBatches) {
  alloy_vm_arena_config config = Config(256 * kPage, 4 * kPage);
  alloy_vm_commit_policy policy = Policy(ALLOY_COMMIT_BATCHED, 32 * kPage - 1);
  alloy_vm_arena arena;
  ASSERT_EQ(alloy_vm_arena_create_with_policy(&config, &policy, &arena), ALLOY_OK);
  EXPECT_EQ(alloy_vm_arena_committed(&arena), kPage) << "a batch is committed on demand";
  void *ptr = nullptr;
  ASSERT_EQ(alloy_vm_arena_grow(&arena, 5 * kPage, 8, &ptr), ALLOY_OK);
  EXPECT_EQ(alloy_vm_arena_committed(&arena), 32 * kPage) << "the batch (rounded to pages), not the chunk";
  ASSERT_EQ(alloy_vm_arena_grow(&arena, 40 * kPage, 8, &ptr), ALLOY_OK);
  EXPECT_EQ(alloy_vm_arena_committed(&arena), 64 * kPage);
  std::memset(Use(ptr, 40 * kPage), 4, 40 * kPage);
  alloy_vm_arena_destroy(&arena);
}

TEST(VmArenaPolicy, OddSizedStepsRoundToMultiples) {
  alloy_vm_arena_config config = Config(64 * kPage, 3 * kPage);
  alloy_vm_arena arena;
  ASSERT_EQ(alloy_vm_arena_create(&config, &arena), ALLOY_OK);
  void *ptr = nullptr;
  ASSERT_EQ(alloy_vm_arena_grow(&arena, 4 * kPage, 8, &ptr), ALLOY_OK);
  EXPECT_EQ(alloy_vm_arena_committed(&arena), 6 * kPage) << "two 3-page chunks, not a power-of-two mask";
  std::memset(Use(ptr, 4 * kPage), 4, 4 * kPage);
  alloy_vm_arena_destroy(&arena);
}

TEST(VmArenaPolicy, BatchedWithoutABatchSizeCommitsEverythingAtCreation) {
  alloy_vm_arena_config config = Config(64 * kPage, 4 * kPage);
  alloy_vm_commit_policy policy = Policy(ALLOY_COMMIT_BATCHED);
  alloy_vm_arena arena;
  ASSERT_EQ(alloy_vm_arena_create_with_policy(&config, &policy, &arena), ALLOY_OK);
  EXPECT_EQ(arena.committed_end, arena.limit);
  const size_t capacity = alloy_vm_arena_capacity(&arena);
  EXPECT_NE(alloy_vm_arena_bump(&arena, capacity, 1), nullptr) << "the fast path serves all of it";
  std::memset(Use(arena.base, capacity), 5, capacity);
  alloy_vm_arena_rewind(&arena, arena.base + kPage);
  alloy_vm_arena_decommit_above(&arena, arena.base + 8 * kPage);
  EXPECT_LT(alloy_vm_arena_committed(&arena), 16 * kPage) << "gives back page by page, not all or nothing";
  EXPECT_GE(arena.committed_end, arena.base + 8 * kPage);
  void *ptr = nullptr;
  ASSERT_EQ(alloy_vm_arena_grow(&arena, 20 * kPage, 1, &ptr), ALLOY_OK);
  EXPECT_EQ(arena.committed_end, arena.limit) << "and takes the rest back in one batch";
  alloy_vm_arena_destroy(&arena);
}

TEST(VmArenaPolicy, PrewarmCommitsAtCreation) {
  alloy_vm_arena_config config = Config(256 * kPage, 4 * kPage);
  alloy_vm_commit_policy policy = Policy(ALLOY_COMMIT_LAZY, 0, 50 * kPage);
  alloy_vm_arena arena;
  ASSERT_EQ(alloy_vm_arena_create_with_policy(&config, &policy, &arena), ALLOY_OK);
  EXPECT_GE(arena.committed_end, arena.base + 50 * kPage);
  EXPECT_LE(arena.committed_end, arena.base + 51 * kPage) << "the pre-warmed prefix, rounded to pages only";
  EXPECT_NE(alloy_vm_arena_bump(&arena, 50 * kPage, 1), nullptr);
  alloy_vm_arena_destroy(&arena);
}

TEST(VmArenaPolicy, PrewarmedPagesTakeNoFaults) {
  if (!FaultCountsAreReliable()) GTEST_SKIP() << "minor fault counts are not one per page here (THP on every mapping, or tsan or "
                                                  "memcheck shadow memory)";
  const size_t pages = 512;
  alloy_vm_arena_config config = Config(2 * pages * kPage);
  alloy_vm_commit_policy warm = Policy(ALLOY_COMMIT_LAZY, 0, pages * kPage);
  alloy_vm_arena prewarmed, lazy;
  ASSERT_EQ(alloy_vm_arena_create_with_policy(&config, &warm, &prewarmed), ALLOY_OK);
  ASSERT_EQ(alloy_vm_arena_create(&config, &lazy), ALLOY_OK);
  void *warm_ptr = nullptr, *lazy_ptr = nullptr;
  ASSERT_EQ(alloy_vm_arena_grow(&prewarmed, pages * kPage, 1, &warm_ptr), ALLOY_OK);
  ASSERT_EQ(alloy_vm_arena_grow(&lazy, pages * kPage, 1, &lazy_ptr), ALLOY_OK);
  const long warm_faults = FaultsToTouch(warm_ptr, pages * kPage);
  const long lazy_faults = FaultsToTouch(lazy_ptr, pages * kPage);
  EXPECT_LE(warm_faults, static_cast<long>(pages / 16)) << "pre-warmed pages are already backed";
  EXPECT_GE(lazy_faults, static_cast<long>(pages * 3 / 4)) << "lazy pages fault on first touch";
  alloy_vm_arena_destroy(&prewarmed);
  alloy_vm_arena_destroy(&lazy);
}

TEST(VmArenaPolicy, PrewarmAheadKeepsPagesPastTheTopWarm) {
  const size_t ahead = 64 * kPage;
  alloy_vm_arena_config config = Config(1024 * kPage, 4 * kPage);
  alloy_vm_commit_policy policy = Policy(ALLOY_COMMIT_LAZY, 0, 0, ahead);
  alloy_vm_arena arena;
  ASSERT_EQ(alloy_vm_arena_create_with_policy(&config, &policy, &arena), ALLOY_OK);
  EXPECT_GE(arena.committed_end, arena.top + ahead) << "the first window is warm from creation";
  void *ptr = nullptr;
  ASSERT_EQ(alloy_vm_arena_grow(&arena, 100 * kPage, 1, &ptr), ALLOY_OK);
  EXPECT_GE(arena.committed_end, arena.top + ahead) << "the slow path commits the window past the new top";
  EXPECT_LE(arena.committed_end, arena.top + ahead + 4 * kPage) << "and no more than a chunk beyond it";
  if (FaultCountsAreReliable()) {
    const size_t window = static_cast<size_t>(arena.committed_end - arena.top);
    void *next = alloy_vm_arena_bump(&arena, window, 1);
    ASSERT_NE(next, nullptr) << "the window is served by the fast path";
    EXPECT_LE(FaultsToTouch(next, window), static_cast<long>(window / kPage / 16)) << "and already faulted in";
  }
  // Decommit keeps the window past the top.
  alloy_vm_arena_rewind(&arena, arena.base + kPage);
  alloy_vm_arena_decommit_above(&arena, arena.base);
  EXPECT_GE(arena.committed_end, arena.top + ahead);
  EXPECT_LE(arena.committed_end, arena.top + ahead + 4 * kPage);
  alloy_vm_arena_destroy(&arena);
}

TEST(VmArenaPolicy, DecommitKeepsThePrewarmedPrefixWarm) {
  const size_t warm = 64 * kPage;
  alloy_vm_arena_config config = Config(512 * kPage, 4 * kPage);
  alloy_vm_commit_policy policy = Policy(ALLOY_COMMIT_LAZY, 0, warm);
  alloy_vm_arena arena;
  ASSERT_EQ(alloy_vm_arena_create_with_policy(&config, &policy, &arena), ALLOY_OK);
  void *ptr = nullptr;
  ASSERT_EQ(alloy_vm_arena_grow(&arena, 300 * kPage, 1, &ptr), ALLOY_OK);
  std::memset(Use(ptr, 300 * kPage), 6, 300 * kPage);
  alloy_vm_arena_rewind(&arena, arena.base);
  alloy_vm_arena_decommit_above(&arena, arena.base + kPage);
  EXPECT_GE(arena.committed_end, arena.base + warm) << "never below the pre-warmed prefix";
  EXPECT_LE(arena.committed_end, arena.base + warm + 4 * kPage) << "but the spike's pages went back";
  ASSERT_EQ(alloy_vm_arena_grow(&arena, warm, 1, &ptr), ALLOY_OK);
  if (FaultCountsAreReliable()) {
    EXPECT_LE(FaultsToTouch(ptr, warm), static_cast<long>(warm / kPage / 16)) << "still warm after the reset";
  }
  alloy_vm_arena_destroy(&arena);
}

TEST(VmArenaPolicy, InvalidPoliciesAreRejected) {
  alloy_vm_arena arena;
  std::memset(&arena, 0x77, sizeof arena);
  alloy_vm_arena_config config = Config(64 * kPage);
  const size_t capacity = 64 * kPage;
  alloy_vm_commit_policy policy = Policy(ALLOY_COMMIT_LAZY, 0, capacity + 1);
  EXPECT_EQ(alloy_vm_arena_create_with_policy(&config, &policy, &arena), ALLOY_E_INVALID_ARGUMENT)
      << "pre-warm beyond the reservation";
  policy = Policy(ALLOY_COMMIT_LAZY, 0, 0, capacity + 1);
  EXPECT_EQ(alloy_vm_arena_create_with_policy(&config, &policy, &arena), ALLOY_E_INVALID_ARGUMENT);
  policy = Policy(ALLOY_COMMIT_LAZY, kPage);
  EXPECT_EQ(alloy_vm_arena_create_with_policy(&config, &policy, &arena), ALLOY_E_INVALID_ARGUMENT)
      << "a batch size under lazy commit";
  policy = Policy(static_cast<alloy_commit_mode>(7));
  EXPECT_EQ(alloy_vm_arena_create_with_policy(&config, &policy, &arena), ALLOY_E_INVALID_ARGUMENT);
  policy = Policy(ALLOY_COMMIT_BATCHED, SIZE_MAX);
  EXPECT_EQ(alloy_vm_arena_create_with_policy(&config, &policy, &arena), ALLOY_E_INVALID_ARGUMENT);
  policy = Policy(ALLOY_COMMIT_LAZY, 0, capacity, capacity);
  EXPECT_EQ(alloy_vm_arena_create_with_policy(nullptr, &policy, &arena), ALLOY_E_INVALID_ARGUMENT);
  unsigned char untouched[sizeof arena];
  std::memset(untouched, 0x77, sizeof untouched);
  EXPECT_EQ(std::memcmp(&arena, untouched, sizeof arena), 0) << "failed creates write nothing";
  ASSERT_EQ(alloy_vm_arena_create_with_policy(&config, &policy, &arena), ALLOY_OK) << "exactly the capacity is fine";
  EXPECT_EQ(arena.committed_end, arena.limit);
  alloy_vm_arena_destroy(&arena);
  policy = Policy(ALLOY_COMMIT_BATCHED, SIZE_MAX / 2);
  ASSERT_EQ(alloy_vm_arena_create_with_policy(&config, &policy, &arena), ALLOY_OK) << "a huge batch is capped";
  void *ptr = nullptr;
  ASSERT_EQ(alloy_vm_arena_grow(&arena, 2 * kPage, 1, &ptr), ALLOY_OK);
  EXPECT_EQ(arena.committed_end, arena.limit);
  alloy_vm_arena_destroy(&arena);
}

TEST(VmArenaPolicy, CommitFailuresAtCreationAndOnTheSlowPath) {
  alloy_vm_arena arena;
  std::memset(&arena, 0x77, sizeof arena);
  alloy_vm_arena_config config = Config(256 * kPage, 4 * kPage);
  alloy_vm_commit_policy policy = Policy(ALLOY_COMMIT_LAZY, 0, 16 * kPage);
  alloy_platform_fail_next(ALLOY_PLATFORM_COMMIT, 0, 1);
  EXPECT_EQ(alloy_vm_arena_create_with_policy(&config, &policy, &arena), ALLOY_E_OUT_OF_MEMORY) << "pre-warm";
  policy = Policy(ALLOY_COMMIT_BATCHED, 0, 16 * kPage);
  alloy_platform_fail_next(ALLOY_PLATFORM_COMMIT, 1, 1);
  EXPECT_EQ(alloy_vm_arena_create_with_policy(&config, &policy, &arena), ALLOY_E_OUT_OF_MEMORY)
      << "the batch after the pre-warm";
  unsigned char untouched[sizeof arena];
  std::memset(untouched, 0x77, sizeof untouched);
  EXPECT_EQ(std::memcmp(&arena, untouched, sizeof arena), 0);
  alloy_platform_fail_reset();

  policy = Policy(ALLOY_COMMIT_LAZY, 0, 0, 16 * kPage);
  ASSERT_EQ(alloy_vm_arena_create_with_policy(&config, &policy, &arena), ALLOY_OK);
  void *first = nullptr;
  ASSERT_EQ(alloy_vm_arena_grow(&arena, 8 * kPage, 8, &first), ALLOY_OK);
  alloy_test::Fill(Use(first, 8 * kPage), 8 * kPage, 9);
  char *top = arena.top;
  char *committed = arena.committed_end;
  void *ptr = nullptr;
  alloy_platform_fail_next(ALLOY_PLATFORM_COMMIT, 0, 1);
  EXPECT_EQ(alloy_vm_arena_grow(&arena, 20 * kPage, 8, &ptr), ALLOY_E_OUT_OF_MEMORY);
  EXPECT_EQ(ptr, nullptr);
  EXPECT_EQ(arena.top, top);
  EXPECT_EQ(arena.committed_end, committed);
  EXPECT_TRUE(alloy_test::Check(first, 8 * kPage, 9)) << "nothing lost";
  ASSERT_EQ(alloy_vm_arena_grow(&arena, 20 * kPage, 8, &ptr), ALLOY_OK);
  EXPECT_GE(arena.committed_end, arena.top + 16 * kPage);
  alloy_vm_arena_destroy(&arena);
}

}  // namespace
