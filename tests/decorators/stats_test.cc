// The stats decorator: exact counts, failures per status, peak, sampling,
// inner figures, dumps.
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "alloy/fault_injection.h"
#include "alloy/memory_config.h"
#include "alloy/stats.h"
#include "alloy/system.h"
#include "bench/support/test_free_list.h"
#include "tests/support/support.h"

namespace {

class StatsTest : public ::testing::Test {
 protected:
  void Create(alloy_resource *inner, const alloy_stats_config *config) {
    ASSERT_EQ(alloy_stats_create(inner, config, &stats_), ALLOY_OK);
    resource_ = alloy_stats_resource(stats_);
  }
  void TearDown() override { alloy_stats_destroy(stats_); }
  alloy_stats_snapshot Snapshot() {
    alloy_stats_snapshot s;
    alloy_stats_snapshot_get(stats_, &s);
    return s;
  }
  alloy_stats *stats_ = nullptr;
  alloy_resource *resource_ = nullptr;
};

TEST_F(StatsTest, CountsOperationsLiveBytesAndPeak) {
  Create(alloy_system_resource(), nullptr);
  std::vector<alloy_block> blocks;
  for (size_t size : {10, 20, 30, 40}) {
    alloy_block block;
    ASSERT_EQ(alloy_resource_allocate(resource_, size, 8, &block), ALLOY_OK);
    EXPECT_EQ(block.size, size) << "blocks come back at the requested size";
    blocks.push_back(block);
  }
  alloy_stats_snapshot s = Snapshot();
  EXPECT_EQ(s.allocations, 4u);
  EXPECT_EQ(s.live_blocks, 4u);
  EXPECT_EQ(s.live_bytes, 100u);
  EXPECT_EQ(s.peak_live_bytes, 100u);
  alloy_block grown;
  ASSERT_EQ(alloy_resource_reallocate(resource_, blocks[0], 110, 8, &grown), ALLOY_OK);
  blocks[0] = grown;
  s = Snapshot();
  EXPECT_EQ(s.reallocations, 1u);
  EXPECT_EQ(s.live_bytes, 200u);
  EXPECT_EQ(s.peak_live_bytes, 200u);
  for (const alloy_block &block : blocks) EXPECT_EQ(alloy_resource_deallocate(resource_, block, 8), ALLOY_OK);
  s = Snapshot();
  EXPECT_EQ(s.deallocations, 4u);
  EXPECT_EQ(s.live_bytes, 0u);
  EXPECT_EQ(s.live_blocks, 0u);
  EXPECT_EQ(s.peak_live_bytes, 200u);
  EXPECT_EQ(s.failures, 0u);
  alloy_stats_reset(stats_);
  s = Snapshot();
  EXPECT_EQ(s.allocations, 0u);
  EXPECT_EQ(s.peak_live_bytes, 0u);
  EXPECT_FALSE(s.has_inner_stats) << "the system heap keeps no stats";
  EXPECT_FALSE(s.has_remote_free_queue);
}

TEST_F(StatsTest, CountsFailuresPerStatus) {
  alloy_resource *inner = alloy_test::CreateFreeList(64 << 10);
  Create(inner, nullptr);
  alloy_block block = {nullptr, 0};
  EXPECT_EQ(alloy_resource_allocate(resource_, 8, 3, &block), ALLOY_E_INVALID_ARGUMENT);
  EXPECT_EQ(alloy_resource_allocate(resource_, 1 << 20, 8, &block), ALLOY_E_UNSUPPORTED);
  EXPECT_EQ(alloy_resource_allocate(resource_, 1 << 20, 8, &block), ALLOY_E_UNSUPPORTED);
  std::vector<alloy_block> blocks;
  while (alloy_resource_allocate(resource_, 4096, 8, &block) == ALLOY_OK) blocks.push_back(block);
  alloy_stats_snapshot s = Snapshot();
  EXPECT_EQ(s.failures, 4u);
  EXPECT_EQ(s.failures_by_status[ALLOY_E_INVALID_ARGUMENT], 1u);
  EXPECT_EQ(s.failures_by_status[ALLOY_E_UNSUPPORTED], 2u);
  EXPECT_EQ(s.failures_by_status[ALLOY_E_CAPACITY], 1u);
  EXPECT_EQ(s.failures_by_status[ALLOY_OK], 0u);
  EXPECT_EQ(s.allocations, blocks.size());
  for (const alloy_block &b : blocks) EXPECT_EQ(alloy_resource_deallocate(resource_, b, 8), ALLOY_OK);
  {
    alloy_test::FaultRecorder faults;  // a foreign free, refused by the inner, is a failure too
    int local = 0;
    EXPECT_EQ(alloy_resource_deallocate(resource_, alloy_block_make(&local, 4), 8), ALLOY_E_NOT_OWNED);
  }
  EXPECT_EQ(Snapshot().failures_by_status[ALLOY_E_NOT_OWNED], 1u);
  EXPECT_EQ(Snapshot().live_bytes, 0u);
  alloy_stats_destroy(stats_);
  stats_ = nullptr;
  alloy_test::DestroyFreeList(inner);
}

TEST_F(StatsTest, OutOfMemoryFromThePlatformIsCounted) {
  Create(alloy_system_resource(), nullptr);
  alloy_block block;
  alloy_platform_fail_next(ALLOY_PLATFORM_HEAP, 0, 1);
  EXPECT_EQ(alloy_resource_allocate(resource_, 64, 8, &block), ALLOY_E_OUT_OF_MEMORY);
  EXPECT_EQ(Snapshot().failures_by_status[ALLOY_E_OUT_OF_MEMORY], 1u);
  EXPECT_EQ(Snapshot().allocations, 0u);
}

TEST_F(StatsTest, ReportsInnerFiguresFragmentationAndSizeClasses) {
  alloy_resource *inner = alloy_test::CreateFreeList(1 << 20);
  alloy_stats_config config = {};
  config.remote_free_pending = [](const alloy_resource *, void *context) -> size_t {
    return *static_cast<size_t *>(context);
  };
  size_t pending = 3;
  config.remote_free_context = &pending;
  Create(inner, &config);
  alloy_block a, b;
  ASSERT_EQ(alloy_resource_allocate(resource_, 1000, 8, &a), ALLOY_OK);  // a 1024 class
  ASSERT_EQ(alloy_resource_allocate(resource_, 3000, 8, &b), ALLOY_OK);  // a 4096 class
  EXPECT_EQ(alloy_resource_deallocate(resource_, b, 8), ALLOY_OK);
  alloy_stats_snapshot s = Snapshot();
  ASSERT_TRUE(s.has_inner_stats);
  EXPECT_EQ(s.inner_live_bytes, 1024u);
  EXPECT_GE(s.inner_committed_bytes, 1024u + 4096u);
  ASSERT_TRUE(s.has_fragmentation);
  EXPECT_NEAR(s.fragmentation, 1.0 - 1024.0 / static_cast<double>(s.inner_committed_bytes), 1e-9);
  EXPECT_TRUE(s.has_remote_free_queue);
  EXPECT_EQ(s.remote_free_pending, 3u);

  alloy_resource_info info;
  alloy_resource_get_info(resource_, &info);
  EXPECT_STREQ(info.name, "stats");
  EXPECT_TRUE(info.has_stats);
  EXPECT_EQ(info.stats.live_bytes, 1000u);
  EXPECT_EQ(info.stats.allocations, 2u);
  EXPECT_EQ(info.stats.deallocations, 1u);
  EXPECT_EQ(info.stats.committed_bytes, s.inner_committed_bytes) << "inner figures pass through";
  ASSERT_EQ(info.size_class_count, 13u);
  EXPECT_EQ(info.size_classes[0], 16u);
  EXPECT_EQ(alloy_resource_deallocate(resource_, a, 8), ALLOY_OK);
  alloy_stats_destroy(stats_);
  stats_ = nullptr;
  alloy_test::DestroyFreeList(inner);
}

TEST_F(StatsTest, SamplingEstimatesTheTotalsAndBalancesExactly) {
  alloy_stats_config config = {};
  config.sample_rate = 4;
  Create(alloy_system_resource(), &config);
  const size_t count = alloy_test::Scaled(4000, 400);
  std::vector<alloy_block> blocks(count);
  for (alloy_block &block : blocks) ASSERT_EQ(alloy_resource_allocate(resource_, 32, 16, &block), ALLOY_OK);
  alloy_stats_snapshot s = Snapshot();
  EXPECT_EQ(s.sample_rate, 4u);
  EXPECT_EQ(s.allocations % 4, 0u) << "counts are scaled by the rate";
  // 1 in 4 of `count` distinct addresses: the estimate lands within 30 %.
  EXPECT_GT(static_cast<double>(s.allocations), 0.7 * static_cast<double>(count));
  EXPECT_LT(static_cast<double>(s.allocations), 1.3 * static_cast<double>(count));
  EXPECT_EQ(s.live_bytes, s.allocations * 32);
  for (const alloy_block &block : blocks) EXPECT_EQ(alloy_resource_deallocate(resource_, block, 16), ALLOY_OK);
  s = Snapshot();
  EXPECT_EQ(s.deallocations, s.allocations) << "a block's free is sampled exactly when its allocation was";
  EXPECT_EQ(s.live_bytes, 0u);
}

TEST_F(StatsTest, DumpsTextAndJson) {
  Create(alloy_system_resource(), nullptr);
  alloy_block block;
  ASSERT_EQ(alloy_resource_allocate(resource_, 64, 8, &block), ALLOY_OK);
  EXPECT_EQ(alloy_resource_allocate(resource_, 64, 5, &block), ALLOY_E_INVALID_ARGUMENT);
  char text[1024];
  size_t length = alloy_stats_dump_text(stats_, text, sizeof text);
  EXPECT_EQ(length, std::strlen(text));
  std::string t(text);
  EXPECT_NE(t.find("stats over 'system'"), std::string::npos) << t;
  EXPECT_NE(t.find("allocations    1"), std::string::npos) << t;
  EXPECT_NE(t.find("live bytes     64"), std::string::npos) << t;
  EXPECT_NE(t.find("ALLOY_E_INVALID_ARGUMENT"), std::string::npos) << t;
  char json[1024];
  length = alloy_stats_dump_json(stats_, json, sizeof json);
  EXPECT_EQ(length, std::strlen(json));
  std::string j(json);
  EXPECT_EQ(j.front(), '{');
  EXPECT_EQ(j.back(), '}');
  EXPECT_NE(j.find("\"allocations\":1,"), std::string::npos) << j;
  EXPECT_NE(j.find("\"live_bytes\":64,"), std::string::npos) << j;
  EXPECT_NE(j.find("\"failures_by_status\":{\"ALLOY_E_INVALID_ARGUMENT\":1}"), std::string::npos) << j;
  // A short buffer is truncated and the full length still reported.
  char small[16];
  EXPECT_EQ(alloy_stats_dump_json(stats_, small, sizeof small), j.size());
  EXPECT_EQ(std::strlen(small), sizeof small - 1);
  EXPECT_EQ(alloy_resource_deallocate(resource_, alloy_block_make(block.ptr, 64), 8), ALLOY_OK);
}

TEST_F(StatsTest, ConfigComesFromTheMemoryConfig) {
  alloy_memory_config memory = alloy_memory_config_defaults();
  char error[128];
  ASSERT_EQ(alloy_memory_config_parse("stats.sample=100", &memory, error, sizeof error), ALLOY_OK) << error;
  alloy_stats_config config = alloy_stats_config_from_memory_config(&memory);
  EXPECT_EQ(config.sample_rate, 100u);
  Create(alloy_system_resource(), &config);
  EXPECT_EQ(Snapshot().sample_rate, 100u);
}

}  // namespace

namespace {

TEST(StatsShared, CountersStayExactAcrossThreads) {
  alloy_stats *stats;
  ASSERT_EQ(alloy_stats_create(alloy_system_resource(), nullptr, &stats), ALLOY_OK);
  alloy_resource *resource = alloy_stats_resource(stats);
  const size_t rounds = alloy_test::Scaled(5000, 200);
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t)
    threads.emplace_back([&] {
      for (size_t i = 0; i < rounds; ++i) {
        alloy_block block;
        ASSERT_EQ(alloy_resource_allocate(resource, 40, 8, &block), ALLOY_OK);
        ASSERT_EQ(alloy_resource_deallocate(resource, block, 8), ALLOY_OK);
      }
    });
  for (std::thread &thread : threads) thread.join();
  alloy_stats_snapshot s;
  alloy_stats_snapshot_get(stats, &s);
  EXPECT_EQ(s.allocations, 3 * rounds);
  EXPECT_EQ(s.deallocations, 3 * rounds);
  EXPECT_EQ(s.live_bytes, 0u);
  EXPECT_GE(s.peak_live_bytes, 40u);
  EXPECT_LE(s.peak_live_bytes, 120u);
  alloy_stats_destroy(stats);
}

}  // namespace
