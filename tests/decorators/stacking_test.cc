// The decorators stack in any order: every permutation of the five runs the
// same workload over each inner resource in the table below, and each
// decorator present must see exactly what it would see alone.
//
// To cover another strategy, add one line to InnerFactories() in
// inner_factories.cc.
#include <algorithm>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "bench/support/decorator_stack.h"
#include "bench/support/test_free_list.h"
#include "tests/decorators/inner_factories.h"
#include "tests/support/support.h"

namespace alloy_test {
namespace {

std::vector<std::vector<Decorator>> AllOrders() {
  std::vector<Decorator> order = AllDecorators();
  std::sort(order.begin(), order.end());
  std::vector<std::vector<Decorator>> orders;
  do orders.push_back(order);
  while (std::next_permutation(order.begin(), order.end()));
  return orders;
}

bool Contains(const std::vector<Decorator> &order, Decorator d) {
  return std::find(order.begin(), order.end(), d) != order.end();
}

size_t Position(const std::vector<Decorator> &order, Decorator d) {
  return static_cast<size_t>(std::find(order.begin(), order.end(), d) - order.begin());
}

// Whether `outer` is in the stack and wraps `inner`.
bool Outside(const std::vector<Decorator> &order, Decorator outer, Decorator inner) {
  return Contains(order, outer) && Contains(order, inner) && Position(order, outer) > Position(order, inner);
}

class StackingOrder : public ::testing::TestWithParam<InnerFactory> {};

struct Live {
  alloy_block block;
  size_t size;
  size_t align;
  uint32_t seed;
};

// Allocates, fills, reallocates and frees under a tag scope, checking the
// bytes survive and each decorator's own view along the way.
void RunWorkload(const InnerFactory &inner_factory, const DecoratorStack &stack) {
  SCOPED_TRACE(stack.Name());
  FaultRecorder faults;
  alloy_resource *top = stack.top;
  const size_t sizes[] = {0, 1, 24, 100, 1000, 4000, std::min<size_t>(inner_factory.max_size / 2, 32768)};
  const size_t aligns[] = {1, 8, 16, 64, 4096};
  std::vector<Live> live;
  size_t requested = 0;
  uint32_t seed = 1;
  ASSERT_EQ(alloy_tag_push(ALLOY_TAG_PHYSICS), ALLOY_OK);
  for (size_t size : sizes) {
    for (size_t align : aligns) {
      if (align > inner_factory.max_alignment) continue;
      alloy_block block;
      ASSERT_EQ(alloy_resource_allocate(top, size, align, &block), ALLOY_OK) << size << "/" << align;
      ASSERT_TRUE(alloy_ptr_is_aligned(block.ptr, align));
      ASSERT_GE(block.size, size);
      Fill(block.ptr, size, seed);
      live.push_back({block, size, align, seed++});
      requested += size;
    }
  }
  // Grow a few (they keep their bytes; a decorator outside the tagged one
  // that moves blocks allocates anew under the current scope).
  for (size_t i = 0; i < live.size(); i += 5) {
    alloy_block moved;
    size_t new_size = live[i].size + 300;
    ASSERT_EQ(alloy_resource_reallocate(top, live[i].block, new_size, live[i].align, &moved), ALLOY_OK);
    ASSERT_TRUE(Check(moved.ptr, live[i].size, live[i].seed));
    Fill(moved.ptr, new_size, live[i].seed);
    requested += 300;
    live[i].block = moved;
    live[i].size = new_size;
  }
  ASSERT_EQ(alloy_tag_pop(), ALLOY_OK);
  for (const Live &l : live) ASSERT_TRUE(Check(l.block.ptr, l.size, l.seed)) << "block overwritten";

  // A decorator outside another that adds bytes (tagged, debug) or holds
  // freed blocks back (debug's quarantine) makes the inner one see more.
  if (stack.stats != nullptr) {
    alloy_stats_snapshot s;
    alloy_stats_snapshot_get(stack.stats, &s);
    if (Outside(stack.order, Decorator::kDebug, Decorator::kStats) ||
        Outside(stack.order, Decorator::kTagged, Decorator::kStats)) {
      EXPECT_GE(s.live_blocks, live.size());
      EXPECT_GT(s.live_bytes, requested);
    } else {
      EXPECT_EQ(s.live_blocks, live.size());
      EXPECT_EQ(s.live_bytes, requested);
    }
  }
  if (stack.tagged != nullptr) {
    alloy_tag_stats t;
    ASSERT_EQ(alloy_tagged_get_tag_stats(stack.tagged, ALLOY_TAG_PHYSICS, &t), ALLOY_OK);
    if (Outside(stack.order, Decorator::kDebug, Decorator::kTagged)) {
      EXPECT_GT(t.live_bytes, requested);
    } else {
      EXPECT_EQ(t.live_bytes, requested);
    }
  }
  if (stack.leak != nullptr) {
    alloy_leak_summary summary;
    ASSERT_EQ(alloy_leak_get_summary(stack.leak, &summary), ALLOY_OK);
    if (Outside(stack.order, Decorator::kDebug, Decorator::kLeak)) {
      EXPECT_GE(summary.blocks, live.size());
    } else {
      EXPECT_EQ(summary.blocks, live.size());
    }
  }
  if (stack.debug != nullptr) {
    EXPECT_EQ(alloy_debug_check_all(stack.debug), ALLOY_OK);
  }

  for (const Live &l : live)
    ASSERT_EQ(alloy_resource_deallocate(top, alloy_block_make(l.block.ptr, l.size), l.align), ALLOY_OK);
  if (stack.debug != nullptr) {
    EXPECT_EQ(alloy_debug_flush_quarantine(stack.debug), ALLOY_OK);
  }

  if (stack.stats != nullptr) {
    alloy_stats_snapshot s;
    alloy_stats_snapshot_get(stack.stats, &s);
    EXPECT_EQ(s.live_bytes, 0u);
    EXPECT_EQ(s.failures, 0u);
  }
  if (stack.tagged != nullptr) {
    alloy_tag_stats t;
    ASSERT_EQ(alloy_tagged_get_tag_stats(stack.tagged, ALLOY_TAG_PHYSICS, &t), ALLOY_OK);
    EXPECT_EQ(t.live_bytes, 0u);
  }
  if (stack.leak != nullptr) {
    alloy_leak_summary summary;
    ASSERT_EQ(alloy_leak_get_summary(stack.leak, &summary), ALLOY_OK);
    EXPECT_EQ(summary.blocks, 0u);
  }
  EXPECT_EQ(faults.faults().size(), 0u) << faults.last_message();
}

// A double free is caught whatever the order, as long as no decorator that
// reads its own header from the block sits outside the debug decorator
// (that one reads its header from a block already given back, which the
// tools rightly report).
void CheckDoubleFreeIsCaught(const DecoratorStack &stack) {
  SCOPED_TRACE(stack.Name());
  if (!Contains(stack.order, Decorator::kDebug)) return;
  if (Outside(stack.order, Decorator::kTagged, Decorator::kDebug) && (kAsan || kTsan || UnderValgrind())) return;
  FaultRecorder faults;
  alloy_block block;
  ASSERT_EQ(alloy_resource_allocate(stack.top, 40, 8, &block), ALLOY_OK);
  ASSERT_EQ(alloy_resource_deallocate(stack.top, alloy_block_make(block.ptr, 40), 8), ALLOY_OK);
  EXPECT_EQ(alloy_resource_deallocate(stack.top, alloy_block_make(block.ptr, 40), 8), ALLOY_E_DOUBLE_FREE);
  EXPECT_EQ(faults.count(ALLOY_E_DOUBLE_FREE), 1u);
  if (stack.stats != nullptr) {
    alloy_stats_snapshot s;
    alloy_stats_snapshot_get(stack.stats, &s);
    if (!Outside(stack.order, Decorator::kDebug, Decorator::kStats)) {
      EXPECT_EQ(s.live_bytes, 0u) << "the refused free counted nothing";
    }
  }
}

TEST_P(StackingOrder, EveryPermutationBehavesTheSame) {
  const InnerFactory &factory = GetParam();
  const auto orders = AllOrders();
  ASSERT_EQ(orders.size(), 120u);
  // Under Valgrind a sample of the orders keeps the run short.
  const size_t step = UnderValgrind() ? 7 : 1;
  for (size_t i = 0; i < orders.size(); i += step) {
    alloy_resource *inner = factory.create();
    ASSERT_NE(inner, nullptr);
    StackOptions options;
    options.leak.quiet_on_destroy = true;
    DecoratorStack stack;
    ASSERT_EQ(BuildStack(inner, orders[i], options, &stack), ALLOY_OK);
    RunWorkload(factory, stack);
    CheckDoubleFreeIsCaught(stack);
    DestroyStack(&stack);
    factory.destroy(inner);
    if (HasFatalFailure()) return;
  }
}

TEST_P(StackingOrder, BudgetRefusalLeavesEveryLayerUnchanged) {
  const InnerFactory &factory = GetParam();
  const std::vector<Decorator> forward = AllDecorators();
  const std::vector<Decorator> backward(forward.rbegin(), forward.rend());
  for (const auto &order : {forward, backward}) {
    alloy_resource *inner = factory.create();
    StackOptions options;
    options.leak.quiet_on_destroy = true;
    options.tagged.budgets[ALLOY_TAG_AUDIO] = 100;
    DecoratorStack stack;
    ASSERT_EQ(BuildStack(inner, order, options, &stack), ALLOY_OK);
    SCOPED_TRACE(stack.Name());
    ASSERT_EQ(alloy_tag_push(ALLOY_TAG_AUDIO), ALLOY_OK);
    alloy_block block = {nullptr, 0};
    EXPECT_EQ(alloy_resource_allocate(stack.top, 4096, 8, &block), ALLOY_E_BUDGET_EXCEEDED);
    ASSERT_EQ(alloy_tag_pop(), ALLOY_OK);
    EXPECT_EQ(block.ptr, nullptr);
    alloy_stats_snapshot s;
    alloy_stats_snapshot_get(stack.stats, &s);
    EXPECT_EQ(s.live_blocks, 0u);
    EXPECT_EQ(s.failures_by_status[ALLOY_E_BUDGET_EXCEEDED],
              Outside(order, Decorator::kStats, Decorator::kTagged) ? 1u : 0u)
        << "counted where the refusal passes through stats";
    alloy_leak_summary summary;
    ASSERT_EQ(alloy_leak_get_summary(stack.leak, &summary), ALLOY_OK);
    EXPECT_EQ(summary.blocks, 0u);
    alloy_debug_counts counts;
    alloy_debug_get_counts(stack.debug, &counts);
    EXPECT_EQ(counts.live_blocks, 0u);
    DestroyStack(&stack);
    factory.destroy(inner);
  }
}

INSTANTIATE_TEST_SUITE_P(Inner, StackingOrder, ::testing::ValuesIn(InnerFactories()),
                         [](const ::testing::TestParamInfo<InnerFactory> &info) { return info.param.name; });

}  // namespace
}  // namespace alloy_test

namespace alloy_test {
namespace {

// An inner that counts which of its two allocation slots each request
// reached: the checking one, or the one for requests already validated.
struct SlotCounter {
  alloy_resource resource;
  int checked = 0;
  int trusted = 0;
  static alloy_status Checked(alloy_resource *self, size_t size, size_t align, alloy_block *out) {
    reinterpret_cast<SlotCounter *>(self)->checked++;
    ALLOY_TRY(alloy_request_check(size, align));
    return Serve(size, align, out);
  }
  static alloy_status Trusted(alloy_resource *self, size_t size, size_t align, alloy_block *out) {
    reinterpret_cast<SlotCounter *>(self)->trusted++;
    return Serve(size, align, out);
  }
  static alloy_status Serve(size_t size, size_t align, alloy_block *out) {
    void *ptr = aligned_alloc(align < 16 ? 16 : align, alloy_align_up(size == 0 ? 1 : size, align < 16 ? 16 : align));
    if (ptr == nullptr) return ALLOY_E_OUT_OF_MEMORY;
    *out = alloy_block_make(ptr, size);
    return ALLOY_OK;
  }
  static alloy_status Free(alloy_resource *, alloy_block block, size_t) {
    free(block.ptr);
    return ALLOY_OK;
  }
  static const alloy_resource_ops kOps;
  SlotCounter() { resource.ops = &kOps; }
};
const alloy_resource_ops SlotCounter::kOps = {
    sizeof(alloy_resource_ops), "slot_counter", Checked, Free, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr,
    nullptr, Trusted};

// A request is validated once, where it enters the stack: a decorator that
// checks it (debug, tagged) hands it on as trusted, pass-through decorators
// (stats, locked, leak) forward it as it came, and the inner's checking slot
// serves only stacks in which nothing above checked.
TEST(Validation, OnceWhereTheRequestEntersTheStack) {
  struct Case {
    std::vector<Decorator> order;
    int checked, trusted;
  };
  const std::vector<Case> cases = {
      {{}, 1, 0},
      {{Decorator::kLocked, Decorator::kStats}, 1, 0},
      {{Decorator::kLocked, Decorator::kStats, Decorator::kLeak}, 1, 0},
      {{Decorator::kLocked, Decorator::kStats, Decorator::kTagged}, 0, 1},
      {AllDecorators(), 0, 1},
      {{Decorator::kStats, Decorator::kTagged, Decorator::kDebug, Decorator::kLeak}, 0, 1},
  };
  for (const Case &c : cases) {
    SlotCounter inner;
    StackOptions options;
    options.leak.quiet_on_destroy = true;
    options.debug.quarantine = 0;
    DecoratorStack stack;
    ASSERT_EQ(BuildStack(&inner.resource, c.order, options, &stack), ALLOY_OK);
    alloy_block block;
    ASSERT_EQ(alloy_resource_allocate(stack.top, 100, 16, &block), ALLOY_OK) << stack.Name();
    EXPECT_EQ(inner.checked, c.checked) << stack.Name();
    EXPECT_EQ(inner.trusted, c.trusted) << stack.Name();
    EXPECT_EQ(alloy_resource_deallocate(stack.top, alloy_block_make(block.ptr, 100), 16), ALLOY_OK) << stack.Name();
    // A bad request is refused where it enters, whichever layer that is.
    EXPECT_EQ(alloy_resource_allocate(stack.top, 100, 24, &block), ALLOY_E_INVALID_ARGUMENT) << stack.Name();
    EXPECT_EQ(alloy_resource_allocate(stack.top, ALLOY_MAX_REQUEST + 1, 16, &block), ALLOY_E_INVALID_ARGUMENT)
        << stack.Name();
    EXPECT_EQ(inner.trusted, c.trusted) << stack.Name() << ": no invalid request reached the trusted slot";
    DestroyStack(&stack);
  }
}

// Shares `order` over a single-threaded free list between three threads and
// checks every decorator's books afterwards.
void ShareBetweenThreads(const std::vector<Decorator> &order) {
  alloy_resource *inner = CreateFreeList(16 << 20);
  ASSERT_NE(inner, nullptr);
  StackOptions options;
  options.leak.quiet_on_destroy = true;
  DecoratorStack stack;
  ASSERT_EQ(BuildStack(inner, order, options, &stack), ALLOY_OK);
  alloy_resource_info info;
  alloy_resource_get_info(stack.top, &info);
  EXPECT_EQ(info.thread_safety, ALLOY_THREAD_SAFE) << stack.Name();
  const size_t rounds = Scaled(1500, 60);
  std::vector<std::thread> threads;
  std::vector<int> errors(3, 0);
  for (int t = 0; t < 3; ++t)
    threads.emplace_back([&, t] {
      if (alloy_tag_push(ALLOY_TAG_USER_FIRST + static_cast<alloy_tag>(t)) != ALLOY_OK) ++errors[t];
      std::vector<alloy_block> mine;
      for (size_t i = 0; i < rounds; ++i) {
        alloy_block block;
        size_t size = 8 + (i * 13 + static_cast<size_t>(t)) % 300;
        if (alloy_resource_allocate(stack.top, size, 16, &block) != ALLOY_OK) {
          ++errors[t];
          continue;
        }
        Fill(block.ptr, size, static_cast<uint32_t>(i * 4 + t));
        mine.push_back(alloy_block_make(block.ptr, size));
        if (mine.size() > 16) {
          alloy_block old = mine.front();
          mine.erase(mine.begin());
          if (alloy_resource_deallocate(stack.top, old, 16) != ALLOY_OK) ++errors[t];
        }
      }
      for (const alloy_block &block : mine)
        if (alloy_resource_deallocate(stack.top, block, 16) != ALLOY_OK) ++errors[t];
      if (alloy_tag_pop() != ALLOY_OK) ++errors[t];
    });
  for (std::thread &thread : threads) thread.join();
  for (int t = 0; t < 3; ++t) {
    EXPECT_EQ(errors[t], 0) << "thread " << t;
    alloy_tag_stats tag;
    ASSERT_EQ(alloy_tagged_get_tag_stats(stack.tagged, ALLOY_TAG_USER_FIRST + static_cast<alloy_tag>(t), &tag),
              ALLOY_OK);
    EXPECT_EQ(tag.allocations, rounds) << "each thread's scope tagged its own blocks";
  }
  ASSERT_EQ(alloy_debug_flush_quarantine(stack.debug), ALLOY_OK);
  alloy_leak_summary summary;
  ASSERT_EQ(alloy_leak_get_summary(stack.leak, &summary), ALLOY_OK);
  EXPECT_EQ(summary.blocks, 0u);
  alloy_stats_snapshot snapshot;
  alloy_stats_snapshot_get(stack.stats, &snapshot);
  EXPECT_EQ(snapshot.live_bytes, 0u);
  EXPECT_EQ(snapshot.allocations, 3 * rounds);
  DestroyStack(&stack);
  EXPECT_EQ(FreeListLiveBlocks(inner), 0u);
  DestroyFreeList(inner);
}

// The stack the issue names, shared between threads: locked makes the
// single-threaded free list safe, and every decorator above keeps its books
// with atomics or its own lock.
TEST(SharedStack, LockedAtTheBottomMakesTheWholeStackShareable) {
  ShareBetweenThreads(AllDecorators());  // leak(debug(tagged(stats(locked))))
}

// Without locked: debug sees a thread-unsafe inner and holds its one lock
// around each whole call, so it serializes tagged, stats and the free list
// below it, and leak above it guards only its own records.
TEST(SharedStack, DebugSerializesAThreadUnsafeInner) {
  ShareBetweenThreads({Decorator::kStats, Decorator::kTagged, Decorator::kDebug, Decorator::kLeak});
}

// leak alone over a thread-unsafe inner serializes it the same way.
TEST(SharedStack, LeakSerializesAThreadUnsafeInner) {
  alloy_resource *inner = CreateFreeList(4 << 20);
  ASSERT_NE(inner, nullptr);
  alloy_leak_config config = {};
  config.quiet_on_destroy = true;
  alloy_leak *leak;
  ASSERT_EQ(alloy_leak_create(inner, &config, &leak), ALLOY_OK);
  alloy_resource *top = alloy_leak_resource(leak);
  alloy_resource_info info;
  alloy_resource_get_info(top, &info);
  EXPECT_EQ(info.thread_safety, ALLOY_THREAD_SAFE);
  const size_t rounds = Scaled(2000, 100);
  std::vector<std::thread> threads;
  std::vector<int> errors(3, 0);
  for (int t = 0; t < 3; ++t)
    threads.emplace_back([&, t] {
      for (size_t i = 0; i < rounds; ++i) {
        alloy_block block;
        if (alloy_resource_allocate(top, 24 + (i % 7) * 8, 8, &block) != ALLOY_OK) {
          ++errors[t];
          continue;
        }
        if (alloy_resource_deallocate(top, block, 8) != ALLOY_OK) ++errors[t];
      }
    });
  for (std::thread &thread : threads) thread.join();
  for (int t = 0; t < 3; ++t) EXPECT_EQ(errors[t], 0) << "thread " << t;
  alloy_leak_summary summary;
  ASSERT_EQ(alloy_leak_get_summary(leak, &summary), ALLOY_OK);
  EXPECT_EQ(summary.blocks, 0u);
  alloy_leak_destroy(leak);
  EXPECT_EQ(FreeListLiveBlocks(inner), 0u);
  DestroyFreeList(inner);
}

}  // namespace
}  // namespace alloy_test
