// The tagged decorator: tag scopes, explicit tags, per-tag counters and
// budgets that refuse (and alert) without allocating.
#include <atomic>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "alloy/memory_config.h"
#include "alloy/stats.h"
#include "alloy/system.h"
#include "alloy/tagged.h"
#include "alloy/tlsf.h"
#include "bench/support/test_free_list.h"
#include "tests/support/support.h"

namespace {

struct Alert {
  int calls = 0;
  alloy_tag tag = 0;
  std::string name;
  size_t requested = 0, live = 0, budget = 0;
};

void RecordAlert(void *context, alloy_tag tag, const char *name, size_t requested, size_t live, size_t budget) {
  auto *alert = static_cast<Alert *>(context);
  ++alert->calls;
  alert->tag = tag;
  alert->name = name;
  alert->requested = requested;
  alert->live = live;
  alert->budget = budget;
}

class TaggedTest : public ::testing::Test {
 protected:
  void Create(alloy_resource *inner, const alloy_tagged_config *config) {
    ASSERT_EQ(alloy_tagged_create(inner, config, &tagged_), ALLOY_OK);
    resource_ = alloy_tagged_resource(tagged_);
  }
  void TearDown() override { alloy_tagged_destroy(tagged_); }
  alloy_tag_stats TagStats(alloy_tag tag) {
    alloy_tag_stats s;
    EXPECT_EQ(alloy_tagged_get_tag_stats(tagged_, tag, &s), ALLOY_OK);
    return s;
  }
  alloy_tagged *tagged_ = nullptr;
  alloy_resource *resource_ = nullptr;
};

TEST_F(TaggedTest, PlainAllocateUsesTheCurrentTagScope) {
  Create(alloy_system_resource(), nullptr);
  EXPECT_EQ(alloy_tag_current(), static_cast<alloy_tag>(ALLOY_TAG_UNTAGGED));
  alloy_block untagged, graphics, audio;
  ASSERT_EQ(alloy_resource_allocate(resource_, 10, 8, &untagged), ALLOY_OK);
  ASSERT_EQ(alloy_tag_push(ALLOY_TAG_GRAPHICS), ALLOY_OK);
  ASSERT_EQ(alloy_resource_allocate(resource_, 100, 64, &graphics), ALLOY_OK);
  ASSERT_EQ(alloy_tag_push(ALLOY_TAG_AUDIO), ALLOY_OK);
  ASSERT_EQ(alloy_resource_allocate(resource_, 30, 8, &audio), ALLOY_OK);
  ASSERT_EQ(alloy_tag_pop(), ALLOY_OK);
  EXPECT_EQ(alloy_tag_current(), static_cast<alloy_tag>(ALLOY_TAG_GRAPHICS));
  ASSERT_EQ(alloy_tag_pop(), ALLOY_OK);
  EXPECT_EQ(alloy_tag_pop(), ALLOY_E_INVALID_ARGUMENT) << "the stack is empty";

  EXPECT_TRUE(alloy_ptr_is_aligned(graphics.ptr, 64));
  alloy_tag tag;
  ASSERT_EQ(alloy_tagged_tag_of(tagged_, graphics, &tag), ALLOY_OK);
  EXPECT_EQ(tag, static_cast<alloy_tag>(ALLOY_TAG_GRAPHICS));
  ASSERT_EQ(alloy_tagged_tag_of(tagged_, audio, &tag), ALLOY_OK);
  EXPECT_EQ(tag, static_cast<alloy_tag>(ALLOY_TAG_AUDIO));
  EXPECT_EQ(TagStats(ALLOY_TAG_UNTAGGED).live_bytes, 10u);
  EXPECT_EQ(TagStats(ALLOY_TAG_GRAPHICS).live_bytes, 100u);
  EXPECT_STREQ(TagStats(ALLOY_TAG_GRAPHICS).name, "graphics");
  EXPECT_EQ(TagStats(ALLOY_TAG_AUDIO).live_bytes, 30u);

  EXPECT_EQ(alloy_resource_deallocate(resource_, graphics, 64), ALLOY_OK);  // freed outside its scope
  EXPECT_EQ(alloy_resource_deallocate(resource_, audio, 8), ALLOY_OK);
  EXPECT_EQ(alloy_resource_deallocate(resource_, untagged, 8), ALLOY_OK);
  alloy_tag_stats g = TagStats(ALLOY_TAG_GRAPHICS);
  EXPECT_EQ(g.live_bytes, 0u);
  EXPECT_EQ(g.peak_live_bytes, 100u);
  EXPECT_EQ(g.allocations, 1u);
  EXPECT_EQ(g.deallocations, 1u);
}

TEST_F(TaggedTest, ExplicitTagsAndUserDefinedTags) {
  Create(alloy_system_resource(), nullptr);
  const alloy_tag terrain = ALLOY_TAG_USER_FIRST + 2;
  ASSERT_EQ(alloy_tagged_set_tag_name(tagged_, terrain, "terrain"), ALLOY_OK);
  alloy_block block;
  ASSERT_EQ(alloy_tagged_allocate(tagged_, terrain, 500, 16, &block), ALLOY_OK);
  EXPECT_EQ(TagStats(terrain).live_bytes, 500u);
  EXPECT_STREQ(TagStats(terrain).name, "terrain");
  EXPECT_EQ(alloy_tagged_allocate(tagged_, ALLOY_TAG_CAPACITY, 8, 8, &block), ALLOY_E_INVALID_ARGUMENT);
  EXPECT_EQ(alloy_tag_push(ALLOY_TAG_CAPACITY), ALLOY_E_INVALID_ARGUMENT);
  EXPECT_EQ(alloy_resource_deallocate(resource_, block, 16), ALLOY_OK);
  EXPECT_EQ(TagStats(terrain).live_bytes, 0u);
}

TEST_F(TaggedTest, BudgetRefusesAlertsAndAllocatesNothing) {
  alloy_resource *inner = alloy_test::CreateFreeList(1 << 20);
  Alert alert;
  alloy_tagged_config config = {};
  config.budgets[ALLOY_TAG_PHYSICS] = 1000;
  config.on_budget_exceeded = RecordAlert;
  config.alert_context = &alert;
  Create(inner, &config);
  alloy_block a, b;
  ASSERT_EQ(alloy_tagged_allocate(tagged_, ALLOY_TAG_PHYSICS, 600, 8, &a), ALLOY_OK);
  ASSERT_EQ(alloy_tagged_allocate(tagged_, ALLOY_TAG_PHYSICS, 400, 8, &b), ALLOY_OK) << "exactly at the budget";
  const size_t inner_blocks = alloy_test::FreeListLiveBlocks(inner);
  alloy_block refused = {nullptr, 0};
  EXPECT_EQ(alloy_tagged_allocate(tagged_, ALLOY_TAG_PHYSICS, 1, 8, &refused), ALLOY_E_BUDGET_EXCEEDED);
  EXPECT_EQ(refused.ptr, nullptr);
  EXPECT_EQ(alloy_test::FreeListLiveBlocks(inner), inner_blocks) << "nothing was allocated";
  EXPECT_EQ(alert.calls, 1);
  EXPECT_EQ(alert.tag, static_cast<alloy_tag>(ALLOY_TAG_PHYSICS));
  EXPECT_EQ(alert.name, "physics");
  EXPECT_EQ(alert.requested, 1u);
  EXPECT_EQ(alert.live, 1000u);
  EXPECT_EQ(alert.budget, 1000u);
  // Through the scope too, and other tags are unaffected.
  ASSERT_EQ(alloy_tag_push(ALLOY_TAG_PHYSICS), ALLOY_OK);
  EXPECT_EQ(alloy_resource_allocate(resource_, 8, 8, &refused), ALLOY_E_BUDGET_EXCEEDED);
  ASSERT_EQ(alloy_tag_pop(), ALLOY_OK);
  alloy_block ui;
  ASSERT_EQ(alloy_tagged_allocate(tagged_, ALLOY_TAG_UI, 5000, 8, &ui), ALLOY_OK);
  EXPECT_EQ(TagStats(ALLOY_TAG_PHYSICS).budget_refusals, 2u);
  // Growing past the budget is refused and keeps the block; freeing makes room.
  alloy_block grown = {nullptr, 0};
  EXPECT_EQ(alloy_resource_reallocate(resource_, b, 500, 8, &grown), ALLOY_E_BUDGET_EXCEEDED);
  EXPECT_EQ(grown.ptr, nullptr);
  EXPECT_EQ(TagStats(ALLOY_TAG_PHYSICS).live_bytes, 1000u);
  EXPECT_EQ(alloy_resource_deallocate(resource_, a, 8), ALLOY_OK);
  ASSERT_EQ(alloy_resource_reallocate(resource_, b, 900, 8, &grown), ALLOY_OK);
  EXPECT_EQ(TagStats(ALLOY_TAG_PHYSICS).live_bytes, 900u);
  alloy_tag tag;
  ASSERT_EQ(alloy_tagged_tag_of(tagged_, grown, &tag), ALLOY_OK);
  EXPECT_EQ(tag, static_cast<alloy_tag>(ALLOY_TAG_PHYSICS)) << "the tag moved with the block";
  // Budgets change at run time.
  ASSERT_EQ(alloy_tagged_set_budget(tagged_, ALLOY_TAG_PHYSICS, 0), ALLOY_OK);
  alloy_block unlimited;
  ASSERT_EQ(alloy_tagged_allocate(tagged_, ALLOY_TAG_PHYSICS, 5000, 8, &unlimited), ALLOY_OK);
  EXPECT_EQ(alloy_resource_deallocate(resource_, unlimited, 8), ALLOY_OK);
  EXPECT_EQ(alloy_resource_deallocate(resource_, grown, 8), ALLOY_OK);
  EXPECT_EQ(alloy_resource_deallocate(resource_, ui, 8), ALLOY_OK);
  EXPECT_EQ(alloy_test::FreeListLiveBlocks(inner), 0u);
  alloy_tagged_destroy(tagged_);
  tagged_ = nullptr;
  alloy_test::DestroyFreeList(inner);
}

TEST_F(TaggedTest, DumpsOneLinePerActiveTag) {
  alloy_tagged_config config = {};
  config.budgets[ALLOY_TAG_AUDIO] = 4096;
  Create(alloy_system_resource(), &config);
  alloy_block block;
  ASSERT_EQ(alloy_tagged_allocate(tagged_, ALLOY_TAG_UI, 300, 8, &block), ALLOY_OK);
  char text[2048];
  size_t length = alloy_tagged_dump_text(tagged_, text, sizeof text);
  EXPECT_EQ(length, std::strlen(text));
  std::string t(text);
  EXPECT_NE(t.find("ui                    300          300            -          1          0        0"),
            std::string::npos)
      << t;
  EXPECT_NE(t.find("audio                   0            0         4096"), std::string::npos) << t;
  EXPECT_EQ(t.find("graphics"), std::string::npos) << "idle tags are left out";
  EXPECT_EQ(alloy_resource_deallocate(resource_, block, 8), ALLOY_OK);
}

TEST_F(TaggedTest, BudgetsComeFromTheMemoryConfig) {
  alloy_memory_config memory = alloy_memory_config_defaults();
  char error[256];
  ASSERT_EQ(alloy_memory_config_parse("budget.graphics=1K;budget.user1=2K", &memory, error, sizeof error), ALLOY_OK)
      << error;
  alloy_tagged_config config = alloy_tagged_config_from_memory_config(&memory);
  Create(alloy_system_resource(), &config);
  EXPECT_EQ(TagStats(ALLOY_TAG_GRAPHICS).budget, 1024u);
  EXPECT_EQ(TagStats(ALLOY_TAG_USER_FIRST + 1).budget, 2048u);
  alloy_block block;
  EXPECT_EQ(alloy_tagged_allocate(tagged_, ALLOY_TAG_GRAPHICS, 1025, 8, &block), ALLOY_E_BUDGET_EXCEEDED);
}

TEST_F(TaggedTest, ForeignAndDoubleFreesAreReportedNotFollowed) {
  Create(alloy_system_resource(), nullptr);
  alloy_test::FaultRecorder faults;
  alloy_block block;
  ASSERT_EQ(alloy_tagged_allocate(tagged_, ALLOY_TAG_UI, 40, 8, &block), ALLOY_OK);
  alignas(16) static char foreign[64] = {};
  EXPECT_EQ(alloy_resource_deallocate(resource_, alloy_block_make(foreign + 32, 16), 8), ALLOY_E_NOT_OWNED);
  EXPECT_EQ(faults.count(ALLOY_E_NOT_OWNED), 1u);
  EXPECT_EQ(TagStats(ALLOY_TAG_UI).live_bytes, 40u);
  EXPECT_EQ(alloy_resource_deallocate(resource_, block, 8), ALLOY_OK);
}

// Regression: a double free through tagged was reported as a foreign block
// ("no tag header in front of the block"): the inner's free had reused the
// header's bytes. Over an inner that knows its blocks, that inner names the
// misuse; a live block whose header was overwritten is reported as such.
TEST_F(TaggedTest, Regression_DoubleFreeIsNamedByAnInnerThatKnowsItsBlocks) {
  alloy_tlsf_config tlsf_config = alloy_tlsf_config_default();
  tlsf_config.initial_pool_size = 1 << 20;
  alloy_tlsf *tlsf = nullptr;
  ASSERT_EQ(alloy_tlsf_create(&tlsf_config, &tlsf), ALLOY_OK);
  Create(alloy_tlsf_resource(tlsf), nullptr);
  alloy_test::FaultRecorder faults;
  alloy_block a, b;
  ASSERT_EQ(alloy_tagged_allocate(tagged_, ALLOY_TAG_UI, 40, 8, &a), ALLOY_OK);
  ASSERT_EQ(alloy_tagged_allocate(tagged_, ALLOY_TAG_UI, 40, 8, &b), ALLOY_OK);
  ASSERT_EQ(alloy_resource_deallocate(resource_, a, 8), ALLOY_OK);
  ASSERT_EQ(alloy_resource_deallocate(resource_, b, 8), ALLOY_OK);
  if (!alloy_test::kAsan && !alloy_test::UnderValgrind()) {  // the header of a freed block is poisoned there
    EXPECT_EQ(alloy_resource_deallocate(resource_, a, 8), ALLOY_E_DOUBLE_FREE);
    EXPECT_EQ(faults.count(ALLOY_E_DOUBLE_FREE), 1u) << faults.last_message();
    EXPECT_EQ(faults.count(ALLOY_E_NOT_OWNED), 0u) << faults.last_message();
  }
  // A block that was never handed out is foreign.
  alignas(16) static char foreign[64] = {};
  EXPECT_EQ(alloy_resource_deallocate(resource_, alloy_block_make(foreign + 32, 16), 8), ALLOY_E_NOT_OWNED);
  // A live block whose header an underrun overwrote: freed, and reported.
  alloy_block c;
  ASSERT_EQ(alloy_tagged_allocate(tagged_, ALLOY_TAG_UI, 40, 8, &c), ALLOY_OK);
  std::memset(static_cast<char *>(c.ptr) - 16, 0x5A, 16);
  EXPECT_EQ(alloy_resource_deallocate(resource_, c, 8), ALLOY_E_CORRUPTION);
  EXPECT_EQ(faults.count(ALLOY_E_CORRUPTION), 1u);
  // The stack goes on working.
  alloy_block d;
  ASSERT_EQ(alloy_tagged_allocate(tagged_, ALLOY_TAG_AUDIO, 100, 16, &d), ALLOY_OK);
  EXPECT_EQ(alloy_resource_deallocate(resource_, d, 16), ALLOY_OK);
  EXPECT_EQ(TagStats(ALLOY_TAG_AUDIO).live_bytes, 0u);
  alloy_tagged_destroy(tagged_);
  tagged_ = nullptr;
  alloy_tlsf_destroy(tlsf);
}

TEST_F(TaggedTest, BudgetHoldsUnderConcurrentAllocation) {
  alloy_tagged_config config = {};
  config.budgets[ALLOY_TAG_GRAPHICS] = 64 * 100;
  Create(alloy_system_resource(), &config);
  std::atomic<size_t> granted{0};
  std::vector<std::thread> threads;
  std::vector<std::vector<alloy_block>> held(4);
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      ASSERT_EQ(alloy_tag_push(ALLOY_TAG_GRAPHICS), ALLOY_OK);  // scopes are per thread
      for (int i = 0; i < 100; ++i) {
        alloy_block block;
        if (alloy_resource_allocate(resource_, 64, 8, &block) == ALLOY_OK) {
          held[t].push_back(block);
          granted.fetch_add(1);
        }
      }
      ASSERT_EQ(alloy_tag_pop(), ALLOY_OK);
    });
  for (std::thread &thread : threads) thread.join();
  EXPECT_EQ(granted.load(), 100u) << "exactly the budget's worth, never more";
  EXPECT_EQ(TagStats(ALLOY_TAG_GRAPHICS).live_bytes, 6400u);
  EXPECT_EQ(TagStats(ALLOY_TAG_GRAPHICS).budget_refusals, 300u);
  for (auto &blocks : held)
    for (const alloy_block &block : blocks) EXPECT_EQ(alloy_resource_deallocate(resource_, block, 8), ALLOY_OK);
}

TEST(TagNames, DefaultNamesAndLookups) {
  EXPECT_STREQ(alloy_tag_default_name(ALLOY_TAG_TOOLING), "tooling");
  EXPECT_STREQ(alloy_tag_default_name(ALLOY_TAG_USER_FIRST + 55), "user55");
  EXPECT_EQ(alloy_tag_default_name(ALLOY_TAG_CAPACITY), nullptr);
  alloy_tag tag;
  EXPECT_TRUE(alloy_tag_from_name("audio", 5, &tag));
  EXPECT_EQ(tag, static_cast<alloy_tag>(ALLOY_TAG_AUDIO));
  EXPECT_TRUE(alloy_tag_from_name("12", 2, &tag));
  EXPECT_EQ(tag, 12u);
  EXPECT_FALSE(alloy_tag_from_name("64", 2, &tag));
  EXPECT_FALSE(alloy_tag_from_name("sound", 5, &tag));
}

}  // namespace
