// Lua 5.4 on alloy: the workload scripts give the results they give on the
// C library's allocator, on the adapter's own heap and under the debug and
// leak decorators (no fault, nothing outstanding after lua_close); Lua's
// allocator conventions; budgets that make Lua raise a clean memory error.
#include "alloy/lua_alloc.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "alloy/debug.h"
#include "alloy/fallback.h"
#include "alloy/leak.h"
#include "alloy/lua_workload.h"
#include "alloy/small_object.h"
#include "alloy/system.h"
#include "alloy/tagged.h"
#include "lauxlib.h"
#include "lualib.h"
#include "tests/support/checked_heap.h"
#include "tests/support/support.h"

namespace {

using alloy_test::FaultRecorder;

constexpr size_t kOutputCapacity = 16 * 1024;

// The allocator lauxlib's luaL_newstate uses: the C library's realloc and free.
void *StockAlloc(void *, void *ptr, size_t, size_t nsize) {
  if (nsize == 0) {
    free(ptr);
    return nullptr;
  }
  return realloc(ptr, nsize);
}

struct Outcome {
  int status;
  std::string output;
};

Outcome RunWorkload(lua_Alloc alloc, void *ud, const alloy_lua_workload &workload, double scale) {
  std::string buffer(kOutputCapacity, '\0');
  int status = alloy_lua_workload_run(alloc, ud, &workload, scale, &buffer[0], buffer.size());
  return {status, std::string(buffer.c_str())};
}

double WorkloadScale() { return alloy_test::Scale(); }

// The binary-trees total, from the tree sizes alone (2^(d+1) - 1 nodes).
long long BinaryTreesTotal(int max_depth) {
  auto nodes = [](int depth) { return (1LL << (depth + 1)) - 1; };
  long long total = nodes(max_depth + 1) + nodes(max_depth);
  for (int depth = 4; depth <= max_depth; depth += 2) total += (1LL << (max_depth - depth + 4)) * nodes(depth);
  return total;
}

int BinaryTreesDepth(double scale) { return std::max(6, static_cast<int>(std::floor(12 + std::log2(scale)))); }

// leak(debug(small_object, then system)): the own heap's layout, every
// block checked (canaries, size and alignment on free, quarantine) and
// recorded until freed.
using Decorated = alloy_test::CheckedHeap;

class Adapter {
 public:
  explicit Adapter(const alloy_lua_alloc_config *config = nullptr) {
    EXPECT_EQ(alloy_lua_alloc_create(config, &adapter_), ALLOY_OK);
  }
  ~Adapter() { alloy_lua_alloc_destroy(adapter_); }
  alloy_lua_alloc *get() { return adapter_; }

 private:
  alloy_lua_alloc *adapter_ = nullptr;
};

class Workloads : public ::testing::TestWithParam<size_t> {
 protected:
  const alloy_lua_workload &workload() const { return alloy_lua_workloads[GetParam()]; }
};

TEST_P(Workloads, OwnHeapGivesTheStockAllocatorsResults) {
  const double scale = WorkloadScale();
  Outcome stock = RunWorkload(StockAlloc, nullptr, workload(), scale);
  ASSERT_EQ(stock.status, LUA_OK) << stock.output;
  Adapter adapter;
  Outcome ours = RunWorkload(alloy_lua_alloc_fn, adapter.get(), workload(), scale);
  ASSERT_EQ(ours.status, LUA_OK) << ours.output;
  EXPECT_EQ(ours.output, stock.output);
  EXPECT_NE(ours.output.find(std::string(workload().name) + " "), std::string::npos) << ours.output;
}

TEST_P(Workloads, UnderDebugAndLeakNoFaultAndNothingOutstanding) {
  const double scale = WorkloadScale() / 4;
  Outcome stock = RunWorkload(StockAlloc, nullptr, workload(), scale);
  ASSERT_EQ(stock.status, LUA_OK) << stock.output;
  FaultRecorder faults;
  Decorated decorated;
  alloy_lua_alloc_config config = {};
  config.resource = decorated.resource();
  Adapter adapter(&config);
  Outcome ours = RunWorkload(alloy_lua_alloc_fn, adapter.get(), workload(), scale);
  ASSERT_EQ(ours.status, LUA_OK) << ours.output;
  EXPECT_EQ(ours.output, stock.output);
  alloy_leak_summary outstanding = decorated.Outstanding();
  EXPECT_EQ(outstanding.blocks, 0u);
  EXPECT_EQ(outstanding.bytes, 0u);
  EXPECT_EQ(decorated.DebugFaults(), 0u);
  EXPECT_TRUE(faults.faults().empty()) << faults.last_message();
}

INSTANTIATE_TEST_SUITE_P(Scripts, Workloads, ::testing::Range<size_t>(0, alloy_lua_workload_count),
                         [](const ::testing::TestParamInfo<size_t> &info) {
                           return std::string(alloy_lua_workloads[info.param].name);
                         });

TEST(LuaWorkloads, TheFourScriptsAreThere) {
  for (const char *name : {"binary_trees", "table_churn", "string_build", "closures"})
    EXPECT_NE(alloy_lua_workload_find(name), nullptr) << name;
  EXPECT_EQ(alloy_lua_workload_find("missing"), nullptr);
}

TEST(LuaWorkloads, BinaryTreesCountsEveryNode) {
  const double scale = WorkloadScale();
  Adapter adapter;
  Outcome run = RunWorkload(alloy_lua_alloc_fn, adapter.get(), *alloy_lua_workload_find("binary_trees"), scale);
  ASSERT_EQ(run.status, LUA_OK) << run.output;
  const int depth = BinaryTreesDepth(scale);
  char expected[128];
  std::snprintf(expected, sizeof expected, "binary_trees depth %d total %lld\n", depth, BinaryTreesTotal(depth));
  EXPECT_NE(run.output.find(expected), std::string::npos) << run.output << "\nexpected: " << expected;
}

// ---- Lua's allocator conventions, on the hook directly -------------------

void HookConventions(alloy_lua_alloc *adapter) {
  // ptr == NULL: osize is the object's type, not a size.
  void *block = alloy_lua_alloc_fn(adapter, nullptr, LUA_TTABLE, 40);
  ASSERT_NE(block, nullptr);
  alloy_test::Fill(block, 40, 1);
  // Grows from the small-object heap into the system heap and back, keeping the bytes.
  block = alloy_lua_alloc_fn(adapter, block, 40, 5000);
  ASSERT_NE(block, nullptr);
  EXPECT_TRUE(alloy_test::Check(block, 40, 1));
  alloy_test::Fill(block, 5000, 2);
  block = alloy_lua_alloc_fn(adapter, block, 5000, 9000);
  ASSERT_NE(block, nullptr);
  EXPECT_TRUE(alloy_test::Check(block, 5000, 2));
  block = alloy_lua_alloc_fn(adapter, block, 9000, 24);
  ASSERT_NE(block, nullptr);
  EXPECT_TRUE(alloy_test::Check(block, 24, 2));
  // Within one size class, and across classes.
  block = alloy_lua_alloc_fn(adapter, block, 24, 20);
  ASSERT_NE(block, nullptr);
  EXPECT_TRUE(alloy_test::Check(block, 20, 2));
  block = alloy_lua_alloc_fn(adapter, block, 20, 200);
  ASSERT_NE(block, nullptr);
  EXPECT_TRUE(alloy_test::Check(block, 20, 2));
  EXPECT_EQ(reinterpret_cast<uintptr_t>(block) % 8, 0u);
  // nsize == 0 frees and returns NULL; freeing NULL is a no-op.
  EXPECT_EQ(alloy_lua_alloc_fn(adapter, block, 200, 0), nullptr);
  EXPECT_EQ(alloy_lua_alloc_fn(adapter, nullptr, LUA_TSTRING, 0), nullptr);
  EXPECT_EQ(alloy_lua_alloc_fn(adapter, nullptr, 0, 0), nullptr);
}

TEST(LuaAllocHook, FollowsLuasConventionsOnTheOwnHeap) {
  Adapter adapter;
  HookConventions(adapter.get());
}

// Every small-object range the adapter accepts, on both sides of the page
// size it picks (16 KiB pages up to 2 KiB, 64 KiB above): blocks cross
// between the heaps and between classes with their bytes.
TEST(LuaAllocHook, FollowsLuasConventionsForEverySmallObjectRange) {
  for (size_t small_max : {size_t{8}, size_t{1024}, size_t{2048}, size_t{2049}, size_t{4096},
                           size_t{ALLOY_SMALL_OBJECT_MAX_CLASS_SIZE}}) {
    SCOPED_TRACE(small_max);
    alloy_lua_alloc_config config = {};
    config.small_max = small_max;
    Adapter adapter(&config);
    HookConventions(adapter.get());
  }
}

TEST(LuaAllocHook, FollowsLuasConventionsUnderDebugAndLeak) {
  FaultRecorder faults;
  Decorated decorated;
  alloy_lua_alloc_config config = {};
  config.resource = decorated.resource();
  Adapter adapter(&config);
  HookConventions(adapter.get());
  EXPECT_EQ(decorated.Outstanding().blocks, 0u);
  EXPECT_EQ(decorated.DebugFaults(), 0u);
  EXPECT_TRUE(faults.faults().empty()) << faults.last_message();
}

TEST(LuaAllocHook, AFailedGrowthLeavesTheOldBlockIntact) {
  alloy_lua_alloc_config config = {};
  config.budget = 4096;
  Adapter adapter(&config);
  void *block = alloy_lua_alloc_fn(adapter.get(), nullptr, LUA_TUSERDATA, 1000);
  ASSERT_NE(block, nullptr);
  alloy_test::Fill(block, 1000, 3);
  EXPECT_EQ(alloy_lua_alloc_fn(adapter.get(), block, 1000, 8192), nullptr);
  EXPECT_TRUE(alloy_test::Check(block, 1000, 3));
  EXPECT_EQ(alloy_lua_alloc_fn(adapter.get(), nullptr, LUA_TUSERDATA, 8192), nullptr);
  alloy_tag_stats stats = {};
  ASSERT_EQ(alloy_lua_alloc_budget_stats(adapter.get(), &stats), ALLOY_OK);
  EXPECT_EQ(stats.budget_refusals, 2u);
  EXPECT_EQ(stats.live_bytes, 1000u);
  EXPECT_EQ(alloy_lua_alloc_fn(adapter.get(), block, 1000, 0), nullptr);
  ASSERT_EQ(alloy_lua_alloc_budget_stats(adapter.get(), &stats), ALLOY_OK);
  EXPECT_EQ(stats.live_bytes, 0u);
}

TEST(LuaAllocConfig, RejectsWhatCannotWork) {
  alloy_lua_alloc *adapter = nullptr;
  alloy_lua_alloc_config config = {};
  config.small_max = ALLOY_SMALL_OBJECT_MAX_CLASS_SIZE + 1;
  EXPECT_EQ(alloy_lua_alloc_create(&config, &adapter), ALLOY_E_INVALID_ARGUMENT);
  config = {};
  config.resource = alloy_system_resource();
  config.small_max = 512;
  EXPECT_EQ(alloy_lua_alloc_create(&config, &adapter), ALLOY_E_INVALID_ARGUMENT);
  config = {};
  config.budget = 1024;
  config.tag = ALLOY_TAG_CAPACITY;
  EXPECT_EQ(alloy_lua_alloc_create(&config, &adapter), ALLOY_E_INVALID_ARGUMENT);
  EXPECT_EQ(alloy_lua_alloc_create(nullptr, nullptr), ALLOY_E_INVALID_ARGUMENT);
  EXPECT_EQ(adapter, nullptr);
  alloy_tag_stats stats;
  Adapter unbudgeted;
  EXPECT_EQ(alloy_lua_alloc_budget_stats(unbudgeted.get(), &stats), ALLOY_E_UNSUPPORTED);
}

TEST(LuaAllocConfig, ALargerSmallObjectRangeGivesTheSameResults) {
  // 2 KiB: the largest range on 16 KiB pages; 8 KiB: the largest accepted.
  for (size_t small_max : {size_t{2048}, size_t{ALLOY_SMALL_OBJECT_MAX_CLASS_SIZE}}) {
    SCOPED_TRACE(small_max);
    alloy_lua_alloc_config config = {};
    config.small_max = small_max;
    Adapter adapter(&config);
    for (const char *name : {"string_build", "table_churn"}) {
      const alloy_lua_workload &workload = *alloy_lua_workload_find(name);
      Outcome stock = RunWorkload(StockAlloc, nullptr, workload, WorkloadScale());
      Outcome ours = RunWorkload(alloy_lua_alloc_fn, adapter.get(), workload, WorkloadScale());
      ASSERT_EQ(ours.status, LUA_OK) << ours.output;
      EXPECT_EQ(ours.output, stock.output);
    }
  }
}

// ---- Budgets: Lua gets NULL and raises a memory error cleanly -------------

// Runs a chunk in `state` under a protected call; its status and message.
Outcome DoString(lua_State *state, const char *chunk) {
  int status = luaL_loadstring(state, chunk);
  if (status == LUA_OK) status = lua_pcall(state, 0, 0, 0);
  std::string message = status != LUA_OK && lua_isstring(state, -1) ? lua_tostring(state, -1) : "";
  lua_settop(state, 0);
  return {status, message};
}

void BudgetedStateRaisesAMemoryErrorAndRecovers(alloy_lua_alloc *adapter) {
  lua_State *state = alloy_lua_newstate(adapter);
  ASSERT_NE(state, nullptr);
  luaL_openlibs(state);
  Outcome grown = DoString(state, "local t = {} for i = 1, 1e7 do t[i] = tostring(i) end");
  EXPECT_EQ(grown.status, LUA_ERRMEM);
  EXPECT_EQ(grown.output, "not enough memory");
  // The garbage of the failed chunk is collectable and the state works on.
  Outcome after = DoString(state, "collectgarbage() local s = 0 for i = 1, 100 do s = s + i end assert(s == 5050)");
  EXPECT_EQ(after.status, LUA_OK) << after.output;
  lua_close(state);
  alloy_tag_stats stats = {};
  ASSERT_EQ(alloy_lua_alloc_budget_stats(adapter, &stats), ALLOY_OK);
  EXPECT_GT(stats.budget_refusals, 0u);
  EXPECT_LE(stats.peak_live_bytes, stats.budget);
  EXPECT_EQ(stats.live_bytes, 0u);
}

TEST(LuaBudget, ASmallBudgetMakesLuaRaiseAMemoryError) {
  alloy_lua_alloc_config config = {};
  config.budget = 256 * 1024;
  config.tag = ALLOY_TAG_USER_FIRST;
  Adapter adapter(&config);
  BudgetedStateRaisesAMemoryErrorAndRecovers(adapter.get());
}

TEST(LuaBudget, TheMemoryErrorPathLeaksNothingUnderDebugAndLeak) {
  FaultRecorder faults;
  Decorated decorated;
  alloy_lua_alloc_config config = {};
  config.resource = decorated.resource();
  config.budget = 256 * 1024;
  Adapter adapter(&config);
  BudgetedStateRaisesAMemoryErrorAndRecovers(adapter.get());
  EXPECT_EQ(decorated.Outstanding().blocks, 0u);
  EXPECT_EQ(decorated.DebugFaults(), 0u);
  EXPECT_TRUE(faults.faults().empty()) << faults.last_message();
}

TEST(LuaBudget, AWorkloadOverItsBudgetFailsWithLuaErrmem) {
  alloy_lua_alloc_config config = {};
  config.budget = 64 * 1024;
  Adapter adapter(&config);
  Outcome run = RunWorkload(alloy_lua_alloc_fn, adapter.get(), *alloy_lua_workload_find("binary_trees"), 1.0);
  EXPECT_EQ(run.status, LUA_ERRMEM);
  EXPECT_EQ(run.output, "not enough memory");
  alloy_tag_stats stats = {};
  ASSERT_EQ(alloy_lua_alloc_budget_stats(adapter.get(), &stats), ALLOY_OK);
  EXPECT_EQ(stats.live_bytes, 0u);
  EXPECT_GT(stats.budget_refusals, 0u);
}

TEST(LuaBudget, ABudgetTooSmallForTheStateItselfGivesNoState) {
  alloy_lua_alloc_config config = {};
  config.budget = 64;
  Adapter adapter(&config);
  EXPECT_EQ(alloy_lua_newstate(adapter.get()), nullptr);
  alloy_tag_stats stats = {};
  ASSERT_EQ(alloy_lua_alloc_budget_stats(adapter.get(), &stats), ALLOY_OK);
  EXPECT_EQ(stats.live_bytes, 0u);
}

}  // namespace
