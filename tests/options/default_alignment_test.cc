// --config=align32 (--define=alloy_default_alignment=32) moves the grain of
// the stack and the huge-page arena and the pool's default block alignment
// from 16 to 32 bytes. Each test states the figures it expects in this build
// and checks them on real blocks, so the align32 run proves the option
// reaches the strategies and the default run proves the 16-byte behaviour.
#include <cstdint>

#include <gtest/gtest.h>

#include "alloy/huge_page.h"
#include "alloy/options.h"
#include "alloy/pool.h"
#include "alloy/resource.h"
#include "alloy/stack.h"

namespace {

constexpr size_t kGrain = ALLOY_DEFAULT_ALIGNMENT == 32 ? 32 : 16;

uintptr_t Address(const alloy_block &block) { return reinterpret_cast<uintptr_t>(block.ptr); }

TEST(DefaultAlignment, StackBlocksAreOneGrainApartAndSizedInGrains) {
  alloy_stack_config config = alloy_stack_config_default(1 << 20);
  alloy_stack *stack;
  ASSERT_EQ(alloy_stack_create(&config, &stack), ALLOY_OK);
  alloy_resource *r = alloy_stack_resource(stack);
  alloy_block a, b, c;
  ASSERT_EQ(alloy_resource_allocate(r, 1, 1, &a), ALLOY_OK);
  ASSERT_EQ(alloy_resource_allocate(r, 1, 1, &b), ALLOY_OK);
  ASSERT_EQ(alloy_resource_allocate(r, kGrain + 1, 1, &c), ALLOY_OK);
  EXPECT_EQ(Address(b) - Address(a), kGrain);
  EXPECT_EQ(Address(c) - Address(b), kGrain);
  EXPECT_EQ(a.size, kGrain) << "a 1-byte block is one grain";
  EXPECT_EQ(c.size, 2 * kGrain);
  EXPECT_EQ(Address(a) % kGrain, 0u);
  EXPECT_EQ(alloy_resource_deallocate(r, c, 1), ALLOY_OK);
  EXPECT_EQ(alloy_resource_deallocate(r, b, 1), ALLOY_OK);
  EXPECT_EQ(alloy_resource_deallocate(r, a, 1), ALLOY_OK);
  alloy_stack_destroy(stack);
}

TEST(DefaultAlignment, HugePageArenaTopMovesInGrains) {
  alloy_huge_page_config config = alloy_huge_page_config_default();
  config.capacity = 4 << 20;
  config.best = ALLOY_PAGES_NORMAL;
  alloy_huge_page_arena *arena;
  ASSERT_EQ(alloy_huge_page_arena_create(&config, &arena), ALLOY_OK);
  alloy_block a, b;
  ASSERT_EQ(alloy_huge_page_arena_allocate(arena, 1, 1, &a), ALLOY_OK);
  ASSERT_EQ(alloy_huge_page_arena_allocate(arena, 1, 1, &b), ALLOY_OK);
  EXPECT_EQ(Address(b) - Address(a), kGrain);
  EXPECT_EQ(alloy_huge_page_arena_used(arena), 2 * kGrain);
  alloy_huge_page_arena_destroy(arena);
}

TEST(DefaultAlignment, PoolBlocksDefaultToTheGrain) {
  alloy_pool_config config = alloy_pool_config_default(40);
  alloy_pool *pool;
  ASSERT_EQ(alloy_pool_create(&config, &pool), ALLOY_OK);
  alloy_resource *r = alloy_pool_resource(pool);
  alloy_block blocks[8];
  for (alloy_block &block : blocks) {
    ASSERT_EQ(alloy_resource_allocate(r, 40, 1, &block), ALLOY_OK);
    EXPECT_EQ(Address(block) % kGrain, 0u);
    EXPECT_GE(block.size, 40u);
  }
  // Blocks are as aligned as the grain, and no more.
  alloy_block aligned;
  EXPECT_EQ(alloy_resource_allocate(r, 40, kGrain, &aligned), ALLOY_OK);
  EXPECT_EQ(alloy_resource_deallocate(r, aligned, kGrain), ALLOY_OK);
  alloy_block over;
  EXPECT_EQ(alloy_resource_allocate(r, 40, 2 * kGrain, &over), ALLOY_E_UNSUPPORTED);
  for (const alloy_block &block : blocks) EXPECT_EQ(alloy_resource_deallocate(r, block, 1), ALLOY_OK);
  alloy_pool_destroy(pool);
}

}  // namespace
