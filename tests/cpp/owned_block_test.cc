// alloy::owned_block: one owner at a time, freed exactly once, behind the
// leak decorator (a lost block stays live) and a fault recorder (a block
// freed twice is reported).
#include <gtest/gtest.h>

#include <cstddef>
#include <memory>
#include <type_traits>
#include <utility>
#include <vector>

#include "alloy/align.h"
#include "alloy/allocator.h"
#include "alloy/debug.h"
#include "alloy/owned_block.hpp"
#include "alloy/tlsf.h"
#include "tests/cpp/leak_checked.h"
#include "tests/support/support.h"

namespace alloy_test {
namespace {

static_assert(!std::is_copy_constructible_v<alloy::owned_block>);
static_assert(!std::is_copy_assignable_v<alloy::owned_block>);
static_assert(std::is_nothrow_move_constructible_v<alloy::owned_block>);
static_assert(std::is_nothrow_move_assignable_v<alloy::owned_block>);
static_assert(noexcept(alloy::allocate_owned(alloy_allocator{}, 1)));

// leak(debug(tlsf)): the debug decorator names a block freed twice.
class OwnedBlockTest : public ::testing::Test {
 protected:
  void SetUp() override {
    alloy_tlsf_config config = alloy_tlsf_config_default();
    ASSERT_EQ(alloy_tlsf_create(&config, &tlsf_), ALLOY_OK);
    ASSERT_EQ(alloy_debug_create(alloy_tlsf_resource(tlsf_), nullptr, &debug_), ALLOY_OK);
    leak_ = std::make_unique<LeakChecked>(alloy_debug_resource(debug_));
    a_ = alloy_allocator_of(leak_->resource());
  }

  void TearDown() override {
    EXPECT_EQ(faults_.faults().size(), 0u) << faults_.last_message();
    leak_.reset();  // checks that nothing is live
    alloy_debug_destroy(debug_);
    alloy_tlsf_destroy(tlsf_);
  }

  alloy::owned_block Allocate(size_t size, size_t alignment = 16) {
    alloy::result<alloy::owned_block> owned = alloy::allocate_owned(a_, size, alignment);
    EXPECT_TRUE(owned) << alloy_status_name(owned.status());
    return owned ? std::move(*owned) : alloy::owned_block();
  }

  FaultRecorder faults_;
  alloy_tlsf *tlsf_ = nullptr;
  alloy_debug *debug_ = nullptr;
  std::unique_ptr<LeakChecked> leak_;
  alloy_allocator a_ = {};
};

TEST_F(OwnedBlockTest, FreesItselfAtScopeEnd) {
  {
    alloy::owned_block owned = Allocate(300, 64);
    ASSERT_FALSE(owned.empty());
    EXPECT_GE(owned.size(), 300u);
    EXPECT_EQ(owned.alignment(), 64u);
    EXPECT_EQ(owned.resource(), leak_->resource());
    EXPECT_TRUE(alloy_ptr_is_aligned(owned.data(), 64));
    Fill(owned.data(), owned.size(), 3);
    EXPECT_EQ(leak_->LiveBlocks(), 1u);
  }
  EXPECT_EQ(leak_->LiveBlocks(), 0u);
}

TEST_F(OwnedBlockTest, MoveConstructionHandsTheBlockOver) {
  alloy::owned_block first = Allocate(128);
  void *const ptr = first.data();
  Fill(ptr, 128, 9);
  alloy::owned_block second(std::move(first));
  EXPECT_TRUE(first.empty());  // NOLINT(bugprone-use-after-move): moved-from is empty by contract
  EXPECT_FALSE(static_cast<bool>(first));
  EXPECT_EQ(first.data(), nullptr);
  EXPECT_EQ(second.data(), ptr);
  EXPECT_TRUE(Check(second.data(), 128, 9));
  EXPECT_EQ(leak_->LiveBlocks(), 1u);
}

TEST_F(OwnedBlockTest, MoveAssignmentFreesWhatTheTargetHeld) {
  alloy::owned_block target = Allocate(64);
  alloy::owned_block source = Allocate(256);
  void *const source_ptr = source.data();
  EXPECT_EQ(leak_->LiveBlocks(), 2u);
  target = std::move(source);
  EXPECT_EQ(leak_->LiveBlocks(), 1u) << "the target's old block went back";
  EXPECT_EQ(target.data(), source_ptr);
  EXPECT_TRUE(source.empty());  // NOLINT(bugprone-use-after-move)

  alloy::owned_block &alias = target;
  target = std::move(alias);
  EXPECT_EQ(target.data(), source_ptr) << "self-move keeps the block";
  EXPECT_EQ(leak_->LiveBlocks(), 1u);

  target = alloy::owned_block();
  EXPECT_TRUE(target.empty());
  EXPECT_EQ(leak_->LiveBlocks(), 0u);
}

TEST_F(OwnedBlockTest, ResetAndRelease) {
  alloy::owned_block owned = Allocate(48);
  owned.reset();
  EXPECT_TRUE(owned.empty());
  EXPECT_EQ(leak_->LiveBlocks(), 0u);
  owned.reset();  // an empty owner frees nothing

  alloy::owned_block other = Allocate(48, 32);
  alloy_resource *resource = other.resource();
  size_t alignment = other.alignment();
  alloy_block block = other.release();
  EXPECT_TRUE(other.empty());
  EXPECT_EQ(leak_->LiveBlocks(), 1u) << "released, not freed";
  // The C side adopts it back, or frees it itself.
  alloy::owned_block adopted(resource, block, alignment);
  EXPECT_EQ(adopted.block().ptr, block.ptr);
}

TEST_F(OwnedBlockTest, OwnersInAContainer) {
  std::vector<alloy::owned_block> owners;
  for (size_t i = 0; i < 20; ++i) owners.push_back(Allocate(16 + i * 8));  // moves on every growth
  EXPECT_EQ(leak_->LiveBlocks(), 20u);
  owners.erase(owners.begin(), owners.begin() + 5);
  EXPECT_EQ(leak_->LiveBlocks(), 15u);
}

TEST_F(OwnedBlockTest, ARefusedRequestReturnsItsStatus) {
  EXPECT_EQ(alloy::allocate_owned(a_, 64, 24).status(), ALLOY_E_INVALID_ARGUMENT);
  EXPECT_EQ(alloy::allocate_owned(a_, ALLOY_MAX_REQUEST + 1).status(), ALLOY_E_INVALID_ARGUMENT);
  alloy::result<alloy::owned_block> zero = alloy::allocate_owned(a_, 0);
  ASSERT_TRUE(zero);
  EXPECT_FALSE(zero->empty()) << "size 0 is a freeable block, owned like any other";
}

}  // namespace
}  // namespace alloy_test
