#include <cstdint>
#include <cstring>

#include <gtest/gtest.h>

#include "alloy/align.h"
#include "alloy/fault_injection.h"
#include "alloy/tool_hooks.h"
#include "alloy/vm.h"
#include "alloy/vm_arena.h"

namespace {

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

}  // namespace
