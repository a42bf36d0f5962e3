// The L2 contract's dispatch, defaults and the alloy_allocator handle, driven
// through a small bump resource defined here.
#include <cstddef>
#include <cstdint>
#include <cstring>

#include <gtest/gtest.h>

#include "alloy/allocator.h"
#include "alloy/resource.h"
#include "tests/support/support.h"

namespace {

// A bounded bump arena with markers and nothing else: no reallocate, no
// resize, so the generic paths are what is exercised.
struct TestArena {
  alloy_resource base;
  alignas(64) unsigned char bytes[1 << 14];
  size_t top;
  int frees;
};

alloy_status ArenaAllocate(alloy_resource *self, size_t size, size_t align, alloy_block *out) {
  auto *arena = reinterpret_cast<TestArena *>(self);
  ALLOY_TRY(alloy_request_check(size, align));
  if (align > 64) return ALLOY_E_UNSUPPORTED;
  size_t start = alloy_align_up(arena->top, align);
  if (size > sizeof arena->bytes || start > sizeof arena->bytes - size) return ALLOY_E_CAPACITY;
  arena->top = start + size;
  *out = alloy_block_make(arena->bytes + start, size);
  return ALLOY_OK;
}

alloy_status ArenaDeallocate(alloy_resource *self, alloy_block, size_t) {
  reinterpret_cast<TestArena *>(self)->frees++;
  return ALLOY_OK;
}

alloy_status ArenaMark(alloy_resource *self, alloy_marker *out) {
  out->position = reinterpret_cast<TestArena *>(self)->top;
  return ALLOY_OK;
}

alloy_status ArenaRewind(alloy_resource *self, alloy_marker marker) {
  reinterpret_cast<TestArena *>(self)->top = marker.position;
  return ALLOY_OK;
}

const alloy_resource_ops kArenaOps = {
    sizeof(alloy_resource_ops), "test_arena", ArenaAllocate, ArenaDeallocate, nullptr, nullptr,
    nullptr, nullptr, nullptr, ArenaMark, ArenaRewind, nullptr,
};

class Handle : public ::testing::Test {
 protected:
  void SetUp() override {
    arena_ = new TestArena();
    arena_->base.ops = &kArenaOps;
    a_ = alloy_allocator_of(&arena_->base);
  }
  void TearDown() override { delete arena_; }
  TestArena *arena_ = nullptr;
  alloy_allocator a_;
};

TEST_F(Handle, DefaultsForMissingSlots) {
  alloy_resource_info info;
  alloy_resource_get_info(&arena_->base, &info);
  EXPECT_STREQ(info.name, "test_arena");
  EXPECT_EQ(info.thread_safety, ALLOY_THREAD_UNSAFE);
  EXPECT_FALSE(info.has_stats);
  EXPECT_FALSE(alloy_resource_can_tell_ownership(&arena_->base));
  alloy_block block;
  ASSERT_EQ(alloy_alloc(a_, 8, 8, &block), ALLOY_OK);
  EXPECT_FALSE(alloy_resource_owns(&arena_->base, block));
  EXPECT_TRUE(alloy_resource_is_equal(&arena_->base, &arena_->base));
  TestArena other{};
  other.base.ops = &kArenaOps;
  EXPECT_FALSE(alloy_resource_is_equal(&arena_->base, &other.base));
  EXPECT_FALSE(alloy_resource_is_equal(&arena_->base, nullptr));
}

TEST_F(Handle, ReallocateMovesWhenTheResourceCannotResize) {
  alloy_block block;
  ASSERT_EQ(alloy_alloc(a_, 16, 8, &block), ALLOY_OK);
  alloy_test::Fill(block.ptr, 16, 9);
  void *old = block.ptr;
  EXPECT_EQ(alloy_try_reallocate(a_, &block, 64, 8), ALLOY_E_UNSUPPORTED);
  EXPECT_EQ(block.ptr, old);
  EXPECT_EQ(alloy_try_reallocate(a_, &block, 8, 8), ALLOY_E_UNSUPPORTED)
      << "a resource without a resize slot could not accept the smaller size at the free";
  EXPECT_EQ(alloy_try_reallocate(a_, &block, 16, 8), ALLOY_OK) << "the block's own size needs no telling";
  EXPECT_EQ(block.ptr, old);
  ASSERT_EQ(alloy_reallocate(a_, &block, 64, 8), ALLOY_OK);
  EXPECT_NE(block.ptr, old);
  EXPECT_TRUE(alloy_test::Check(block.ptr, 16, 9));
  EXPECT_EQ(arena_->frees, 1) << "the old block was given back";
}

TEST_F(Handle, FailedReallocateKeepsTheBlock) {
  alloy_block block;
  ASSERT_EQ(alloy_alloc(a_, 16, 8, &block), ALLOY_OK);
  alloy_block before = block;
  EXPECT_EQ(alloy_reallocate(a_, &block, 1 << 20, 8), ALLOY_E_CAPACITY);
  EXPECT_EQ(alloy_reallocate(a_, &block, 64, 3), ALLOY_E_INVALID_ARGUMENT);
  EXPECT_EQ(alloy_try_reallocate(a_, &block, SIZE_MAX, 8), ALLOY_E_INVALID_ARGUMENT);
  EXPECT_EQ(block.ptr, before.ptr);
  EXPECT_EQ(block.size, before.size);
  EXPECT_EQ(arena_->frees, 0);
}

struct Particle {
  double position[3];
  float mass;
};

TEST_F(Handle, TypedNewAndDelete) {
  Particle *p = nullptr;
  ASSERT_EQ(ALLOY_NEW(a_, Particle, &p), ALLOY_OK);
  EXPECT_TRUE(alloy_ptr_is_aligned(p, alignof(Particle)));
  EXPECT_EQ(p->mass, 0.0f) << "objects are zero-initialised";
  Particle *many = nullptr;
  ASSERT_EQ(ALLOY_NEW_ARRAY(a_, Particle, 10, &many), ALLOY_OK);
  EXPECT_EQ(many[9].position[2], 0.0);
  Particle *overflow = nullptr;
  EXPECT_EQ(ALLOY_NEW_ARRAY(a_, Particle, SIZE_MAX / 2, &overflow), ALLOY_E_INVALID_ARGUMENT);
  EXPECT_EQ(overflow, nullptr);
  EXPECT_EQ(ALLOY_DELETE_ARRAY(a_, Particle, 10, many), ALLOY_OK);
  EXPECT_EQ(ALLOY_DELETE(a_, Particle, p), ALLOY_OK);
  EXPECT_EQ(ALLOY_DELETE(a_, Particle, static_cast<Particle *>(nullptr)), ALLOY_OK);
  EXPECT_EQ(arena_->frees, 2);
}

TEST_F(Handle, ScopeRewindsAtScopeEnd) {
  alloy_block first;
  ASSERT_EQ(alloy_alloc(a_, 32, 8, &first), ALLOY_OK);
  size_t top = arena_->top;
  {
    ALLOY_SCOPE(a_);
    alloy_block scratch;
    ASSERT_EQ(alloy_alloc(a_, 1000, 8, &scratch), ALLOY_OK);
    EXPECT_GT(arena_->top, top);
  }
  EXPECT_EQ(arena_->top, top);
  alloy_marker marker;
  ASSERT_EQ(alloy_scope_marker(a_, &marker), ALLOY_OK);
  alloy_block more;
  ASSERT_EQ(alloy_alloc(a_, 100, 8, &more), ALLOY_OK);
  EXPECT_EQ(alloy_rewind(a_, marker), ALLOY_OK);
  EXPECT_EQ(arena_->top, top);
}

void TakeOwnership(alloy_owned_block *sink, alloy_owned_block *source) { *sink = alloy_owned_block_move(source); }

TEST_F(Handle, OwnedBlockFreesItselfOnceAndMoves) {
  alloy_owned_block outer = alloy_owned_block_empty();
  {
    ALLOY_OWNED_BLOCK owned = alloy_owned_block_empty();
    ASSERT_EQ(alloy_owned_allocate(a_, 40, 8, &owned), ALLOY_OK);
    EXPECT_NE(owned.block.ptr, nullptr);
    {
      ALLOY_OWNED_BLOCK temporary = alloy_owned_block_empty();
      ASSERT_EQ(alloy_owned_allocate(a_, 8, 8, &temporary), ALLOY_OK);
    }
    EXPECT_EQ(arena_->frees, 1) << "released at scope end";
    TakeOwnership(&outer, &owned);
    EXPECT_EQ(owned.block.ptr, nullptr) << "a moved-from block is empty";
  }
  EXPECT_EQ(arena_->frees, 1) << "the moved-from block did not free";
  alloy_owned_block_release(&outer);
  EXPECT_EQ(arena_->frees, 2);
  alloy_owned_block_release(&outer);
  EXPECT_EQ(arena_->frees, 2) << "release is idempotent";
}

// A table built against an older, shorter header: the slots past its size
// must be treated as absent even if memory after it is not NULL.
TEST(OpsTable, SlotsBeyondTheTablesOwnSizeAreAbsent) {
  struct {
    alloy_resource_ops ops;
  } old_table;
  std::memset(&old_table, 0xFF, sizeof old_table);  // garbage where newer slots would be
  old_table.ops.struct_size = offsetof(alloy_resource_ops, reallocate);
  old_table.ops.name = "old";
  old_table.ops.allocate = ArenaAllocate;
  old_table.ops.deallocate = ArenaDeallocate;
  TestArena arena{};
  arena.base.ops = &old_table.ops;
  alloy_resource_info info;
  alloy_resource_get_info(&arena.base, &info);  // must not call the garbage get_info
  EXPECT_STREQ(info.name, "old");
  alloy_marker marker;
  EXPECT_EQ(alloy_resource_mark(&arena.base, &marker), ALLOY_E_UNSUPPORTED);
  EXPECT_FALSE(alloy_resource_can_tell_ownership(&arena.base));
  alloy_block block;
  ASSERT_EQ(alloy_resource_allocate(&arena.base, 8, 8, &block), ALLOY_OK);
  alloy_block moved;
  ASSERT_EQ(alloy_resource_reallocate(&arena.base, block, 32, 8, &moved), ALLOY_OK);
  EXPECT_NE(moved.ptr, block.ptr);
}

}  // namespace
