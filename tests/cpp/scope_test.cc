// alloy::frame_scope and alloy::stack_scope: the top goes back to the marker
// taken at construction, whatever the scope allocated, and what was
// allocated before the scope is untouched. Rolled-back blocks are never
// freed one by one, so the check is the strategy's own count of used bytes.
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <memory_resource>
#include <vector>

#include "alloy/frame.h"
#include "alloy/frame_scope.hpp"
#include "alloy/make.hpp"
#include "alloy/memory_resource.hpp"
#include "alloy/stack.h"
#include "alloy/stack_scope.hpp"
#include "tests/support/support.h"

namespace alloy_test {
namespace {

class FrameScopeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    alloy_frame_config config = alloy_frame_config_default(size_t{16} << 20);
    ASSERT_EQ(alloy_frame_create(&config, &frame_), ALLOY_OK);
    a_ = alloy_allocator_of(alloy_frame_resource(frame_));
  }
  void TearDown() override { alloy_frame_destroy(frame_); }

  size_t used() const {
    alloy_frame_stats stats;
    alloy_frame_get_stats(frame_, &stats);
    return stats.used;
  }

  alloy_frame *frame_ = nullptr;
  alloy_allocator a_ = {};
};

TEST_F(FrameScopeTest, RollsBackOnDestruction) {
  alloy::result<alloy_block> before = alloy::try_allocate(a_, 1000);
  ASSERT_TRUE(before);
  Fill(before->ptr, before->size, 1);
  const size_t used_before = used();
  {
    alloy::frame_scope scope(frame_);
    EXPECT_EQ(scope.marker().position, used_before);
    for (int i = 0; i < 100; ++i) ASSERT_TRUE(alloy::try_allocate(a_, 512, 64));
    alloy::memory_resource memory(alloy_frame_resource(frame_));
    std::pmr::vector<uint64_t> numbers(&memory);  // declared after the scope: gone before it ends
    for (uint64_t i = 0; i < 10000; ++i) numbers.push_back(i);
    EXPECT_GT(used(), used_before + 100 * 512 + 10000 * sizeof(uint64_t));
  }
  EXPECT_EQ(used(), used_before);
  EXPECT_TRUE(Check(before->ptr, before->size, 1)) << "memory from before the scope is kept";
}

TEST_F(FrameScopeTest, NestedScopesAndAnEarlyRewind) {
  {
    alloy::frame_scope outer(frame_);
    ASSERT_TRUE(alloy::try_allocate(a_, 4096));
    const size_t after_outer_block = used();
    {
      alloy::frame_scope inner(frame_);
      ASSERT_TRUE(alloy::try_allocate(a_, 8192));
      inner.rewind();
      EXPECT_EQ(used(), after_outer_block);
      ASSERT_TRUE(alloy::try_allocate(a_, 100));
    }
    EXPECT_EQ(used(), after_outer_block);
  }
  EXPECT_EQ(used(), 0u);
}

TEST_F(FrameScopeTest, AResetInsideTheScopeLeavesNothingToRewind) {
  ASSERT_TRUE(alloy::try_allocate(a_, 256));
  {
    alloy::frame_scope scope(frame_);
    ASSERT_TRUE(alloy::try_allocate(a_, 256));
    alloy_frame_reset(frame_);
  }
  EXPECT_EQ(used(), 0u);
  ASSERT_TRUE(alloy::try_allocate(a_, 64));
}

class StackScopeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    alloy_stack_config config = alloy_stack_config_default(size_t{16} << 20);
    ASSERT_EQ(alloy_stack_create(&config, &stack_), ALLOY_OK);
    a_ = alloy_allocator_of(alloy_stack_resource(stack_));
  }
  void TearDown() override {
    EXPECT_EQ(faults_.faults().size(), 0u) << faults_.last_message();
    alloy_stack_destroy(stack_);
  }

  size_t used() const {
    alloy_stack_stats stats;
    alloy_stack_get_stats(stack_, &stats);
    return stats.used;
  }

  FaultRecorder faults_;  // a free out of order would be reported here
  alloy_stack *stack_ = nullptr;
  alloy_allocator a_ = {};
};

struct Point {
  double x, y, z;
};

TEST_F(StackScopeTest, RollsBackEverythingAtOnce) {
  alloy::result<Point *> kept = alloy::make<Point>(a_, 1.0, 2.0, 3.0);
  ASSERT_TRUE(kept);
  const size_t used_before = used();
  {
    alloy::stack_scope scope(stack_);
    std::vector<Point *> points;
    for (int i = 0; i < 1000; ++i) {
      alloy::result<Point *> point = alloy::make<Point>(a_, i * 1.0, 0.0, 0.0);
      ASSERT_TRUE(point);
      points.push_back(*point);
    }
    ASSERT_TRUE(alloy::try_allocate(a_, 4096, 4096));  // over-aligned: padding rolls back too
    EXPECT_EQ(points[999]->x, 999.0);
    EXPECT_GE(used(), used_before + 1000 * sizeof(Point) + 4096);
  }
  EXPECT_EQ(used(), used_before);
  EXPECT_EQ((*kept)->z, 3.0);
  EXPECT_EQ(alloy::destroy(a_, *kept), ALLOY_OK) << "the block below the scope is the top again";
  EXPECT_EQ(used(), 0u);
}

TEST_F(StackScopeTest, NestedScopesUnwindInOrder) {
  std::vector<size_t> levels;
  {
    alloy::stack_scope outer(stack_);
    levels.push_back(used());
    ASSERT_TRUE(alloy::try_allocate(a_, 1000));
    {
      alloy::stack_scope middle(stack_);
      levels.push_back(used());
      ASSERT_TRUE(alloy::try_allocate(a_, 2000));
      {
        alloy::stack_scope inner(stack_);
        levels.push_back(used());
        ASSERT_TRUE(alloy::try_allocate(a_, 3000));
      }
      EXPECT_EQ(used(), levels[2]);
    }
    EXPECT_EQ(used(), levels[1]);
  }
  EXPECT_EQ(used(), levels[0]);
  EXPECT_EQ(used(), 0u);
}

}  // namespace
}  // namespace alloy_test
