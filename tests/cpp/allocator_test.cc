// alloy::allocator<T> in standard containers (std::vector, std::unordered_map,
// std::allocate_shared) on every strategy and a decorator stack, behind the
// leak decorator; rebinding, equality and over-aligned types.
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <new>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include "alloy/align.h"
#include "alloy/allocator.hpp"
#include "alloy/resource.h"
#include "alloy/system.h"
#include "alloy/tlsf.h"
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

template <class T>
using Vector = std::vector<T, alloy::allocator<T>>;
template <class K, class V>
using Map = std::unordered_map<K, V, std::hash<K>, std::equal_to<K>, alloy::allocator<std::pair<const K, V>>>;

static_assert(std::is_same_v<std::allocator_traits<alloy::allocator<int>>::rebind_alloc<double>,
                             alloy::allocator<double>>);
static_assert(std::allocator_traits<alloy::allocator<int>>::propagate_on_container_move_assignment::value);
static_assert(!std::allocator_traits<alloy::allocator<int>>::is_always_equal::value);
static_assert(!std::is_default_constructible_v<alloy::allocator<int>>, "a container names its resource");

class StandardContainers : public ::testing::TestWithParam<StrategyCase> {
 protected:
  void SetUp() override {
    inner_ = GetParam().create();
    ASSERT_NE(inner_, nullptr);
    leak_ = std::make_unique<LeakChecked>(inner_.get());
  }

  void TearDown() override {
    leak_.reset();  // checks that nothing is live
    inner_.reset();
  }

  template <class T>
  alloy::allocator<T> allocator() const {
    return alloy::allocator<T>(leak_->resource());
  }

  size_t max_alignment() const {
    alloy_resource_info info;
    alloy_resource_get_info(inner_.get(), &info);
    return info.max_alignment;
  }

  bool lifo() const { return GetParam().lifo; }

  std::shared_ptr<alloy_resource> inner_;
  std::unique_ptr<LeakChecked> leak_;
};

TEST_P(StandardContainers, Vector) {
  Vector<int> numbers(allocator<int>());
  // A stack takes frees in reverse order only: one block, reserved up front.
  if (lifo()) numbers.reserve(200);
  for (int i = 0; i < 200; ++i) numbers.push_back(i * 7);
  EXPECT_EQ(leak_->LiveBlocks(), 1u);
  for (int i = 0; i < 200; ++i) ASSERT_EQ(numbers[static_cast<size_t>(i)], i * 7);
  EXPECT_EQ(numbers.get_allocator().resource(), leak_->resource());
}

TEST_P(StandardContainers, UnorderedMap) {
  if (lifo()) GTEST_SKIP() << "a hash map frees its nodes in no stack order";
  Map<int, double> values(allocator<std::pair<const int, double>>());
  for (int i = 0; i < 40; ++i) values.emplace(i, i * 0.5);
  EXPECT_GT(leak_->LiveBlocks(), 40u) << "a node per element and a bucket array";
  for (int i = 0; i < 40; ++i) ASSERT_EQ(values.at(i), i * 0.5);
  for (int i = 0; i < 40; i += 3) values.erase(i);
  EXPECT_EQ(values.size(), 26u);
}

TEST_P(StandardContainers, AllocateShared) {
  {
    std::shared_ptr<std::pair<int, double>> shared =
        std::allocate_shared<std::pair<int, double>>(allocator<char>(), 3, 4.5);
    EXPECT_EQ(leak_->LiveBlocks(), 1u) << "the object and its control block in one allocation";
    std::shared_ptr<std::pair<int, double>> copy = shared;
    EXPECT_EQ(copy->first, 3);
    EXPECT_EQ(copy->second, 4.5);
  }
  std::weak_ptr<int> weak;
  {
    std::shared_ptr<int> shared = std::allocate_shared<int>(allocator<int>(), 9);
    weak = shared;
  }
  EXPECT_TRUE(weak.expired());
  EXPECT_EQ(leak_->LiveBlocks(), 1u) << "a weak pointer keeps the control block";
  weak.reset();
}

TEST_P(StandardContainers, CacheLineAlignedElements) {
  if (max_alignment() < alignof(CacheLine)) {
    // Refused, never handed out misaligned.
    EXPECT_THROW((void)allocator<CacheLine>().allocate(1), std::bad_alloc);
    GTEST_SKIP() << "serves alignment " << max_alignment();
  }
  Vector<CacheLine> lines(allocator<CacheLine>());
  lines.reserve(8);
  for (uint64_t i = 0; i < 8; ++i) lines.push_back(CacheLine{{i, 0, 0, 0, 0, 0, 0, i}});
  EXPECT_TRUE(alloy_ptr_is_aligned(lines.data(), 64)) << lines.data();
  std::shared_ptr<CacheLine> shared = std::allocate_shared<CacheLine>(allocator<CacheLine>());
  EXPECT_TRUE(alloy_ptr_is_aligned(shared.get(), 64)) << shared.get();
  shared.reset();  // the stack frees newest first
}

TEST_P(StandardContainers, PageAlignedElements) {
  if (max_alignment() < alignof(Page) || GetParam().max_request < 4 * sizeof(Page)) {
    GTEST_SKIP() << "serves alignment " << max_alignment() << ", " << GetParam().max_request << " B";
  }
  Vector<Page> pages(allocator<Page>());
  pages.reserve(3);
  pages.resize(3);
  EXPECT_TRUE(alloy_ptr_is_aligned(pages.data(), 4096)) << pages.data();
  pages[2].bytes[4095] = 7;
  EXPECT_EQ(pages[2].bytes[4095], 7);
}

TEST_P(StandardContainers, RefusedRequestsThrow) {
  alloy::allocator<int> ints = allocator<int>();
  EXPECT_THROW((void)ints.allocate(std::numeric_limits<size_t>::max() / 2), std::bad_array_new_length);
  EXPECT_THROW((void)ints.allocate(size_t{1} << 44), std::bad_alloc);
  Vector<int> numbers(ints);
  EXPECT_THROW(numbers.reserve(size_t{1} << 44), std::bad_alloc);
  EXPECT_TRUE(numbers.empty());
  EXPECT_EQ(leak_->LiveBlocks(), 0u);
}

INSTANTIATE_TEST_SUITE_P(EveryStrategy, StandardContainers, ::testing::ValuesIn(StrategyCases()),
                         [](const ::testing::TestParamInfo<StrategyCase> &info) { return info.param.name; });

// Rebinding keeps the handle; equality follows the resource, whatever T.
TEST(Allocator, RebindAndEquality) {
  alloy_tlsf_config config = alloy_tlsf_config_default();
  alloy_tlsf *tlsf = nullptr;
  ASSERT_EQ(alloy_tlsf_create(&config, &tlsf), ALLOY_OK);
  alloy::allocator<int> on_tlsf(alloy_allocator_of(alloy_tlsf_resource(tlsf)));
  alloy::allocator<double> rebound(on_tlsf);
  alloy::allocator<int> on_system(alloy_system_resource());

  EXPECT_EQ(rebound.resource(), on_tlsf.resource());
  EXPECT_TRUE(on_tlsf == rebound);
  EXPECT_TRUE(on_tlsf == alloy::allocator<char>(alloy_tlsf_resource(tlsf)));
  EXPECT_TRUE(on_tlsf != on_system);
  EXPECT_FALSE(on_tlsf == on_system);

  // Memory from one allocator goes back through an equal one of another type.
  std::allocator_traits<alloy::allocator<int>>::rebind_alloc<long> longs(on_tlsf);
  long *values = longs.allocate(16);
  alloy::allocator<long>(rebound).deallocate(values, 16);

  alloy_tlsf_stats stats;
  alloy_tlsf_get_stats(tlsf, &stats);
  EXPECT_EQ(stats.used_blocks, 0u);
  alloy_tlsf_destroy(tlsf);
}

// Containers swap and move their allocators with them.
TEST(Allocator, PropagatesOnMoveAndSwap) {
  alloy_tlsf_config config = alloy_tlsf_config_default();
  alloy_tlsf *tlsf = nullptr;
  ASSERT_EQ(alloy_tlsf_create(&config, &tlsf), ALLOY_OK);
  {
    LeakChecked on_tlsf(alloy_tlsf_resource(tlsf));
    LeakChecked on_system(alloy_system_resource());
    Vector<int> a(alloy::allocator<int>(on_tlsf.resource()));
    Vector<int> b(alloy::allocator<int>(on_system.resource()));
    a.assign(100, 1);
    b.assign(50, 2);
    a.swap(b);
    EXPECT_EQ(a.get_allocator().resource(), on_system.resource());
    EXPECT_EQ(a.size(), 50u);
    EXPECT_EQ(b.get_allocator().resource(), on_tlsf.resource());
    b = std::move(a);
    EXPECT_EQ(b.get_allocator().resource(), on_system.resource());
    EXPECT_EQ(on_tlsf.LiveBlocks(), 0u) << "the moved-over vector gave its old block back";
    EXPECT_EQ(on_system.LiveBlocks(), 1u);
  }
  alloy_tlsf_destroy(tlsf);
}

}  // namespace
}  // namespace alloy_test
