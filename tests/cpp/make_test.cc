// The non-throwing path of the C++ face: alloy::result, alloy::try_allocate,
// and typed alloy::make / alloy::destroy, each test behind the leak decorator.
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

#include "alloy/align.h"
#include "alloy/allocator.h"
#include "alloy/frame.h"
#include "alloy/make.hpp"
#include "alloy/result.hpp"
#include "alloy/tlsf.h"
#include "tests/cpp/leak_checked.h"
#include "tests/support/support.h"

namespace alloy_test {
namespace {

// Counts constructions and destructions of the objects a test makes.
struct Counted {
  static int constructed;
  static int destroyed;
  Counted(int a, std::string b) : number(a), text(std::move(b)) { ++constructed; }
  ~Counted() { ++destroyed; }
  int number;
  std::string text;
};
int Counted::constructed = 0;
int Counted::destroyed = 0;

struct ThrowsOnConstruction {
  explicit ThrowsOnConstruction(int value) {
    if (value < 0) throw std::invalid_argument("negative");
  }
};

struct Aggregate {
  int x;
  double y;
};

struct alignas(64) CacheLine {
  uint64_t words[8];
};

struct alignas(4096) Page {
  unsigned char bytes[4096];
};

struct Huge {
  unsigned char bytes[1 << 20];
};

static_assert(noexcept(alloy::try_allocate(alloy_allocator{}, 1)));
static_assert(noexcept(alloy::make<int>(alloy_allocator{}, 1)));
static_assert(noexcept(alloy::make<Aggregate>(alloy_allocator{}, 1, 2.0)));
static_assert(!noexcept(alloy::make<ThrowsOnConstruction>(alloy_allocator{}, 1)));
static_assert(noexcept(alloy::destroy(alloy_allocator{}, static_cast<Counted *>(nullptr))));

class MakeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    alloy_tlsf_config config = alloy_tlsf_config_default();
    ASSERT_EQ(alloy_tlsf_create(&config, &tlsf_), ALLOY_OK);
    leak_ = std::make_unique<LeakChecked>(alloy_tlsf_resource(tlsf_));
    a_ = alloy_allocator_of(leak_->resource());
    Counted::constructed = 0;
    Counted::destroyed = 0;
  }

  void TearDown() override {
    leak_.reset();  // checks that nothing is live
    alloy_tlsf_destroy(tlsf_);
  }

  alloy_tlsf *tlsf_ = nullptr;
  std::unique_ptr<LeakChecked> leak_;
  alloy_allocator a_ = {};
};

TEST_F(MakeTest, TryAllocateGivesABlockOrAStatus) {
  alloy::result<alloy_block> block = alloy::try_allocate(a_, 100, 64);
  ASSERT_TRUE(block.has_value());
  EXPECT_EQ(block.status(), ALLOY_OK);
  EXPECT_GE(block->size, 100u);
  EXPECT_TRUE(alloy_ptr_is_aligned(block->ptr, 64));
  Fill(block->ptr, block->size, 7);
  EXPECT_TRUE(Check(block->ptr, block->size, 7));
  EXPECT_EQ(leak_->LiveBlocks(), 1u);
  EXPECT_EQ(alloy_free(a_, *block, 64), ALLOY_OK);
}

TEST_F(MakeTest, TryAllocateZeroBytes) {
  alloy::result<alloy_block> block = alloy::try_allocate(a_, 0);
  ASSERT_TRUE(block) << alloy_status_name(block.status());
  EXPECT_EQ(leak_->LiveBlocks(), 1u);
  EXPECT_EQ(alloy_free(a_, *block, ALLOY_DEFAULT_ALIGNMENT), ALLOY_OK);
}

TEST_F(MakeTest, BadRequestsReturnTheirStatus) {
  alloy::result<alloy_block> too_large = alloy::try_allocate(a_, ALLOY_MAX_REQUEST + 1);
  EXPECT_FALSE(too_large);
  EXPECT_EQ(too_large.status(), ALLOY_E_INVALID_ARGUMENT);
  EXPECT_THROW((void)too_large.value(), std::bad_variant_access);

  EXPECT_EQ(alloy::try_allocate(a_, 64, 3).status(), ALLOY_E_INVALID_ARGUMENT);
  EXPECT_EQ(alloy::try_allocate(a_, 64, 0).status(), ALLOY_E_INVALID_ARGUMENT);
  EXPECT_EQ(alloy::try_allocate(a_, 64, 96).status(), ALLOY_E_INVALID_ARGUMENT);

  alloy::result<alloy_block> unserved = alloy::try_allocate(a_, size_t{1} << 46);
  EXPECT_FALSE(unserved);
  EXPECT_NE(unserved.status(), ALLOY_OK);
  EXPECT_EQ(unserved.value_or(alloy_block_null()).ptr, nullptr);
  EXPECT_EQ(leak_->LiveBlocks(), 0u);
}

TEST_F(MakeTest, MakeConstructsAndDestroyDestructs) {
  alloy::result<Counted *> made = alloy::make<Counted>(a_, 42, std::string(40, 'x'));
  ASSERT_TRUE(made);
  Counted *object = *made;
  EXPECT_EQ(object->number, 42);
  EXPECT_EQ(object->text, std::string(40, 'x'));
  EXPECT_TRUE(alloy_ptr_is_aligned(object, alignof(Counted)));
  EXPECT_EQ(Counted::constructed, 1);
  EXPECT_EQ(leak_->LiveBlocks(), 1u);

  EXPECT_EQ(alloy::destroy(a_, object), ALLOY_OK);
  EXPECT_EQ(Counted::destroyed, 1);
  EXPECT_EQ(alloy::destroy(a_, static_cast<Counted *>(nullptr)), ALLOY_OK);
}

TEST_F(MakeTest, MakeBuildsAggregatesWithBraces) {
  alloy::result<Aggregate *> made = alloy::make<Aggregate>(a_, 3, 1.5);
  ASSERT_TRUE(made);
  EXPECT_EQ((*made)->x, 3);
  EXPECT_EQ((*made)->y, 1.5);
  alloy::result<const Aggregate *> constant = alloy::make<const Aggregate>(a_, 4, 2.5);
  ASSERT_TRUE(constant);
  EXPECT_EQ((*constant)->x, 4);
  EXPECT_EQ(alloy::destroy(a_, *constant), ALLOY_OK);
  EXPECT_EQ(alloy::destroy(a_, *made), ALLOY_OK);
}

TEST_F(MakeTest, MakeHonoursOverAlignedTypes) {
  alloy::result<CacheLine *> line = alloy::make<CacheLine>(a_);
  alloy::result<Page *> page = alloy::make<Page>(a_);
  ASSERT_TRUE(line);
  ASSERT_TRUE(page);
  EXPECT_TRUE(alloy_ptr_is_aligned(*line, 64)) << *line;
  EXPECT_TRUE(alloy_ptr_is_aligned(*page, 4096)) << *page;
  EXPECT_EQ((*page)->bytes[4095], 0) << "value-initialised";
  EXPECT_EQ(alloy::destroy(a_, *page), ALLOY_OK);
  EXPECT_EQ(alloy::destroy(a_, *line), ALLOY_OK);
}

TEST_F(MakeTest, AThrowingConstructorGivesTheMemoryBack) {
  EXPECT_THROW((void)alloy::make<ThrowsOnConstruction>(a_, -1), std::invalid_argument);
  EXPECT_EQ(leak_->LiveBlocks(), 0u);
  alloy::result<ThrowsOnConstruction *> made = alloy::make<ThrowsOnConstruction>(a_, 1);
  ASSERT_TRUE(made);
  EXPECT_EQ(alloy::destroy(a_, *made), ALLOY_OK);
}

// A resource that refuses: the status comes back and nothing is constructed.
TEST(Make, ARefusedRequestConstructsNothing) {
  alloy_frame_config config = alloy_frame_config_default(size_t{64} << 10);
  alloy_frame *frame = nullptr;
  ASSERT_EQ(alloy_frame_create(&config, &frame), ALLOY_OK);
  {
    LeakChecked leak(alloy_frame_resource(frame));
    alloy_allocator a = alloy_allocator_of(leak.resource());
    Counted::constructed = 0;
    alloy::result<Huge *> huge = alloy::make<Huge>(a);
    EXPECT_FALSE(huge);
    EXPECT_EQ(huge.status(), ALLOY_E_CAPACITY);
    alloy::result<Counted *> counted = alloy::make<Counted>(a, 1, std::string(70000, 'y'));
    ASSERT_TRUE(counted) << "the frame holds the object; its string lives on the C++ heap";
    EXPECT_EQ(Counted::constructed, 1);
    EXPECT_EQ(alloy::destroy(a, *counted), ALLOY_OK);
  }
  alloy_frame_destroy(frame);
}

TEST(Result, HoldsAValueOrAStatus) {
  alloy::result<int> value = 5;
  alloy::result<int> failed = alloy::failure{ALLOY_E_BUDGET_EXCEEDED};
  EXPECT_TRUE(value);
  EXPECT_EQ(*value, 5);
  EXPECT_EQ(value.value(), 5);
  EXPECT_EQ(value.status(), ALLOY_OK);
  EXPECT_FALSE(failed);
  EXPECT_EQ(failed.status(), ALLOY_E_BUDGET_EXCEEDED);
  EXPECT_EQ(failed.value_or(-1), -1);
  EXPECT_EQ(value.value_or(-1), 5);
  EXPECT_THROW((void)failed.value(), std::bad_variant_access);

  alloy::result<std::unique_ptr<int>> move_only = std::make_unique<int>(8);
  ASSERT_TRUE(move_only);
  std::unique_ptr<int> taken = std::move(move_only).value();
  EXPECT_EQ(*taken, 8);
}

}  // namespace
}  // namespace alloy_test
