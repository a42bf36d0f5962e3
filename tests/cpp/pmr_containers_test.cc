// std::pmr containers on every strategy and on a decorator stack through
// alloy::memory_resource, each behind the leak decorator: the containers must
// work, their memory must come from the resource, and nothing may stay live.
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <memory_resource>
#include <new>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "alloy/align.h"
#include "alloy/memory_resource.hpp"
#include "alloy/resource.h"
#include "alloy/system.h"
#include "tests/cpp/leak_checked.h"
#include "tests/cpp/strategy_cases.h"

namespace alloy_test {
namespace {

struct alignas(64) CacheLine {
  uint64_t words[8];
};

struct alignas(4096) Page {
  unsigned char bytes[4096];
};

class PmrContainers : public ::testing::TestWithParam<StrategyCase> {
 protected:
  void SetUp() override {
    inner_ = GetParam().create();
    ASSERT_NE(inner_, nullptr);
    leak_ = std::make_unique<LeakChecked>(inner_.get());
    memory_ = std::make_unique<alloy::memory_resource>(leak_->resource());
    // A stack takes frees only in reverse order of allocation, which a
    // growing container does not keep; the standard monotonic buffer takes
    // its chunks from the stack and gives them back newest first.
    if (GetParam().lifo) chunks_ = std::make_unique<std::pmr::monotonic_buffer_resource>(memory_.get());
  }

  void TearDown() override {
    chunks_.reset();
    memory_.reset();
    leak_.reset();  // checks that nothing is live
    inner_.reset();
  }

  // Where containers allocate: the adapter, or the monotonic buffer over it.
  std::pmr::memory_resource *containers() {
    return chunks_ ? static_cast<std::pmr::memory_resource *>(chunks_.get()) : memory_.get();
  }

  size_t max_alignment() const {
    alloy_resource_info info;
    alloy_resource_get_info(inner_.get(), &info);
    return info.max_alignment;
  }

  std::shared_ptr<alloy_resource> inner_;
  std::unique_ptr<LeakChecked> leak_;
  std::unique_ptr<alloy::memory_resource> memory_;
  std::unique_ptr<std::pmr::monotonic_buffer_resource> chunks_;
};

// Sizes every strategy serves (the pool's and small-object heap's 1 KiB
// blocks included): at most 256 ints, bucket arrays and strings well below.
constexpr int kVectorElements = 200;
constexpr int kMapElements = 40;

TEST_P(PmrContainers, VectorGrowsAndKeepsItsElements) {
  {
    std::pmr::vector<int> numbers(containers());
    for (int i = 0; i < kVectorElements; ++i) numbers.push_back(i * 3);
    EXPECT_GT(leak_->LiveBlocks(), 0u) << "the vector's memory did not come from the resource";
    for (int i = 0; i < kVectorElements; ++i) ASSERT_EQ(numbers[static_cast<size_t>(i)], i * 3);
    numbers.shrink_to_fit();
    EXPECT_EQ(numbers.back(), (kVectorElements - 1) * 3);
  }
  if (chunks_) chunks_->release();
}

TEST_P(PmrContainers, UnorderedMapOfStrings) {
  {
    std::pmr::unordered_map<int, std::pmr::string> names(containers());
    for (int i = 0; i < kMapElements; ++i) {
      names.emplace(i, std::pmr::string("a name long enough to leave the small buffer #" + std::to_string(i)));
    }
    EXPECT_GT(leak_->LiveBlocks(), 0u);
    ASSERT_EQ(names.size(), static_cast<size_t>(kMapElements));
    for (int i = 0; i < kMapElements; ++i) {
      ASSERT_EQ(std::string_view(names.at(i)), "a name long enough to leave the small buffer #" + std::to_string(i));
      EXPECT_EQ(names.at(i).get_allocator().resource(), containers()) << "the element did not inherit the resource";
    }
    for (int i = 0; i < kMapElements; i += 2) names.erase(i);
    EXPECT_EQ(names.size(), static_cast<size_t>(kMapElements / 2));
  }
  if (chunks_) chunks_->release();
}

TEST_P(PmrContainers, StringGrows) {
  {
    std::pmr::string text(containers());
    for (int i = 0; i < 40; ++i) text += "0123456789";
    EXPECT_GT(leak_->LiveBlocks(), 0u);
    ASSERT_EQ(text.size(), 400u);
    for (size_t i = 0; i < text.size(); ++i) ASSERT_EQ(text[i], static_cast<char>('0' + i % 10));
  }
  if (chunks_) chunks_->release();
}

// Large containers where the strategy serves large blocks.
TEST_P(PmrContainers, LargeVector) {
  if (GetParam().max_request < (size_t{1} << 20)) GTEST_SKIP() << "serves at most " << GetParam().max_request << " B";
  {
    std::pmr::vector<uint32_t> numbers(containers());
    for (uint32_t i = 0; i < 100000; ++i) numbers.push_back(i ^ 0x5a5a5a5au);
    for (uint32_t i = 0; i < 100000; ++i) ASSERT_EQ(numbers[i], i ^ 0x5a5a5a5au);
  }
  if (chunks_) chunks_->release();
}

TEST_P(PmrContainers, VectorOfCacheLineAlignedElements) {
  if (max_alignment() < alignof(CacheLine)) {
    // Refused, never handed out misaligned.
    EXPECT_THROW((void)memory_->allocate(sizeof(CacheLine), alignof(CacheLine)), std::bad_alloc);
    GTEST_SKIP() << "serves alignment " << max_alignment();
  }
  {
    std::pmr::vector<CacheLine> lines(containers());
    for (uint64_t i = 0; i < 12; ++i) {
      lines.push_back(CacheLine{{i, i, i, i, i, i, i, i}});
      ASSERT_TRUE(alloy_ptr_is_aligned(lines.data(), 64)) << lines.data();
    }
    EXPECT_EQ(lines[11].words[7], 11u);
  }
  if (chunks_) chunks_->release();
}

TEST_P(PmrContainers, VectorOfPageAlignedElements) {
  if (max_alignment() < alignof(Page) || GetParam().max_request < 4 * sizeof(Page)) {
    GTEST_SKIP() << "serves alignment " << max_alignment() << ", " << GetParam().max_request << " B";
  }
  {
    std::pmr::vector<Page> pages(containers());
    for (int i = 0; i < 3; ++i) {
      pages.emplace_back();
      pages.back().bytes[4095] = static_cast<unsigned char>(i);
      ASSERT_TRUE(alloy_ptr_is_aligned(pages.data(), 4096)) << pages.data();
    }
    EXPECT_EQ(pages[2].bytes[4095], 2);
  }
  if (chunks_) chunks_->release();
}

// The adapter itself, no container in between.
TEST_P(PmrContainers, ZeroBytesGiveAFreeableBlock) {
  void *ptr = memory_->allocate(0, 16);
  EXPECT_EQ(leak_->LiveBlocks(), 1u);
  memory_->deallocate(ptr, 0, 16);
}

TEST_P(PmrContainers, RefusedRequestsThrowBadAlloc) {
  EXPECT_THROW((void)memory_->allocate(ALLOY_MAX_REQUEST + 1, 16), std::bad_alloc);
  EXPECT_THROW((void)memory_->allocate(size_t{1} << 46, 16), std::bad_alloc);
  EXPECT_THROW((void)memory_->allocate(64, 3), std::bad_alloc) << "alignment not a power of two";
  EXPECT_THROW((void)memory_->allocate(64, 48), std::bad_alloc) << "alignment not a power of two";
  EXPECT_EQ(leak_->LiveBlocks(), 0u);
}

TEST_P(PmrContainers, EqualityFollowsTheResource) {
  alloy::memory_resource same(leak_->resource());
  alloy::memory_resource other(alloy_system_resource());
  EXPECT_TRUE(memory_->is_equal(same));
  EXPECT_TRUE(*memory_ == same);
  EXPECT_EQ(same.resource(), memory_->resource());
  EXPECT_FALSE(memory_->is_equal(*std::pmr::new_delete_resource()));
  EXPECT_FALSE(memory_->is_equal(other)) << "the leak decorator is not the resource under it";
  // Memory from one adapter goes back through an equal one.
  void *ptr = memory_->allocate(48, 16);
  same.deallocate(ptr, 48, 16);
}

INSTANTIATE_TEST_SUITE_P(EveryStrategy, PmrContainers, ::testing::ValuesIn(StrategyCases()),
                         [](const ::testing::TestParamInfo<StrategyCase> &info) { return info.param.name; });

}  // namespace
}  // namespace alloy_test
