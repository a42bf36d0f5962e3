// The cost of each decorator over the bare inner resource, as a ratio.
//
// Two workloads per (inner, decorator stack): a 64-byte allocate+free pair
// (the hot path of every decorator), and a batch of 64 mixed-size blocks
// allocated then freed in order (which also exercises side tables and the
// debug quarantine). Inner resources: the system heap (thread-safe, the
// usual production pairing) and a single-threaded free list (cheap enough
// that the decorators' own cost shows). After the runs a table gives each
// stack's time per operation divided by the bare inner's, and a second one
// the stats decorator with profiler events on divided by plain stats.
#include <atomic>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "alloy/system.h"
#include "bench/support/decorator_stack.h"
#include "bench/support/ratio_table.h"
#include "bench/support/test_free_list.h"

namespace {

using alloy_test::Decorator;
using alloy_test::DecoratorStack;
using alloy_test::StackOptions;

struct Inner {
  const char *name;
  std::function<alloy_resource *()> create;
  std::function<void(alloy_resource *)> destroy;
};

struct Variant {
  const char *name;
  std::vector<Decorator> order;
  std::function<void(StackOptions *)> configure;
};

std::vector<Inner> Inners() {
  return {
      {"system", [] { return alloy_system_resource(); }, [](alloy_resource *) {}},
      {"free_list", [] { return alloy_test::CreateFreeList(64 << 20); }, alloy_test::DestroyFreeList},
  };
}

// The profiler-event sink of the stats_events variants: counts, so the
// callback cost is what a real sink that queues the event would pay at least.
std::atomic<uint64_t> g_events{0};
void CountEvent(const alloy_stats_event *event, void *) {
  benchmark::DoNotOptimize(event->snapshot.live_bytes);
  g_events.fetch_add(1, std::memory_order_relaxed);
}

// Production settings: a checkpoint every 4096 operations, a snapshot every
// 100 ms of the coarse clock, both spike thresholds armed.
void ProductionEvents(StackOptions *o) {
  o->stats.on_event = CountEvent;
  o->stats.check_every = ALLOY_STATS_DEFAULT_CHECK_EVERY;
  o->stats.period_ns = 100000000;
  o->stats.live_bytes_threshold = size_t{1} << 30;
  o->stats.allocation_rate_threshold = 100000000;
}

void LeanDebug(StackOptions *o) {
  o->debug.quarantine = 0;
  o->debug.fill = false;
}

std::vector<Variant> Variants() {
  auto none = [](StackOptions *) {};
  return {
      {"bare", {}, none},
      {"locked", {Decorator::kLocked}, none},
      {"stats", {Decorator::kStats}, none},
      {"stats_sampled_1_in_100", {Decorator::kStats}, [](StackOptions *o) { o->stats.sample_rate = 100; }},
      {"stats_events", {Decorator::kStats}, ProductionEvents},
      {"stats_events_check_every_64", {Decorator::kStats},
       [](StackOptions *o) {
         ProductionEvents(o);
         o->stats.check_every = 64;
       }},
      {"stats_events_snapshot_every_64", {Decorator::kStats},
       [](StackOptions *o) {
         ProductionEvents(o);
         o->stats.check_every = 64;
         o->stats.period_ns = 0;  // a snapshot and a callback at every checkpoint
       }},
      {"tagged", {Decorator::kTagged}, none},
      {"tagged_with_budget", {Decorator::kTagged},
       [](StackOptions *o) { o->tagged.budgets[ALLOY_TAG_UNTAGGED] = size_t{1} << 40; }},
      {"debug", {Decorator::kDebug}, none},
      {"debug_no_quarantine_no_fill", {Decorator::kDebug}, LeanDebug},
      {"debug_guard_pages", {Decorator::kDebug}, [](StackOptions *o) { o->debug.guard_pages = true; }},
      {"leak", {Decorator::kLeak}, none},
      {"leak_depth_4", {Decorator::kLeak}, [](StackOptions *o) { o->leak.depth = 4; }},
      {"all_five", alloy_test::AllDecorators(), none},
      // The same concerns without locked: over the thread-unsafe free list,
      // debug serializes everything below it with its one lock.
      {"all_but_locked", {Decorator::kStats, Decorator::kTagged, Decorator::kDebug, Decorator::kLeak}, none},
      // Without leak's backtrace, which costs more than everything else, the
      // lock that debug saves shows.
      {"debug_tagged_stats_locked", {Decorator::kLocked, Decorator::kStats, Decorator::kTagged, Decorator::kDebug},
       none},
      {"debug_tagged_stats", {Decorator::kStats, Decorator::kTagged, Decorator::kDebug}, none},
      // The same two stacks with debug's quarantine and fill off, so that
      // what validating once and locking once save is not lost under them.
      {"lean_debug_tagged_stats_locked", {Decorator::kLocked, Decorator::kStats, Decorator::kTagged, Decorator::kDebug},
       LeanDebug},
      {"lean_debug_tagged_stats", {Decorator::kStats, Decorator::kTagged, Decorator::kDebug}, LeanDebug},
      {"tagged_stats_locked", {Decorator::kLocked, Decorator::kStats, Decorator::kTagged}, none},
  };
}

struct Fixture {
  alloy_resource *inner = nullptr;
  DecoratorStack stack;
  const Inner *inner_factory = nullptr;
  bool Set(const Inner &inner_def, const Variant &variant) {
    inner_factory = &inner_def;
    inner = inner_def.create();
    StackOptions options;
    options.leak.quiet_on_destroy = true;
    variant.configure(&options);
    if (BuildStack(inner, variant.order, options, &stack) != ALLOY_OK) return false;
    return true;
  }
  ~Fixture() {
    DestroyStack(&stack);
    if (inner != nullptr) inner_factory->destroy(inner);
  }
};

void Pair(benchmark::State &state, const Inner *inner, const Variant *variant) {
  Fixture fixture;
  if (!fixture.Set(*inner, *variant)) {
    state.SkipWithError("could not build the stack");
    return;
  }
  alloy_resource *top = fixture.stack.top;
  for (auto _ : state) {
    alloy_block block;
    if (alloy_resource_allocate(top, 64, 16, &block) != ALLOY_OK) {
      state.SkipWithError("allocation failed");
      break;
    }
    benchmark::DoNotOptimize(block.ptr);
    ALLOY_IGNORE_STATUS(alloy_resource_deallocate(top, alloy_block_make(block.ptr, 64), 16));
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}

void Batch(benchmark::State &state, const Inner *inner, const Variant *variant) {
  Fixture fixture;
  if (!fixture.Set(*inner, *variant)) {
    state.SkipWithError("could not build the stack");
    return;
  }
  alloy_resource *top = fixture.stack.top;
  constexpr size_t kBatch = 64;
  size_t sizes[kBatch];
  for (size_t i = 0; i < kBatch; ++i) sizes[i] = 8 + (i * 97) % 1017;
  alloy_block blocks[kBatch];
  for (auto _ : state) {
    for (size_t i = 0; i < kBatch; ++i)
      if (alloy_resource_allocate(top, sizes[i], 16, &blocks[i]) != ALLOY_OK) {
        state.SkipWithError("allocation failed");
        return;
      }
    benchmark::ClobberMemory();
    for (size_t i = 0; i < kBatch; ++i)
      ALLOY_IGNORE_STATUS(alloy_resource_deallocate(top, alloy_block_make(blocks[i].ptr, sizes[i]), 16));
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kBatch));
}

// One ratio table: for each workload and inner, every name in `names` that
// ran against `baseline` (a name too) of the same workload and inner.
void PrintRatios(const alloy_bench::RatioReporter &reporter, const char *title, const char *name_column,
                 const std::vector<Inner> &inners, const char *baseline, const std::vector<std::string> &names) {
  std::printf("\n%s\n", title);
  std::printf("%-8s %-10s %-30s %10s %8s\n", "workload", "inner", name_column, "ns/op", "ratio");
  for (const char *workload : {"pair", "batch"})
    for (const Inner &inner : inners) {
      const std::string prefix = std::string(workload) + "/" + inner.name + "/";
      for (const std::string &name : names) {
        const double ratio = reporter.Ratio(prefix + name, prefix + baseline);
        if (ratio == 0.0) continue;
        std::printf("%-8s %-10s %-30s %10.1f %8.2f\n", workload, inner.name, name.c_str(),
                    reporter.NsPerItem(prefix + name), ratio);
      }
    }
}

}  // namespace

int main(int argc, char **argv) {
  static const std::vector<Inner> inners = Inners();
  static const std::vector<Variant> variants = Variants();
  for (const char *workload : {"pair", "batch"})
    for (const Inner &inner : inners)
      for (const Variant &variant : variants) {
        if (std::string(variant.name) == "debug_guard_pages" && std::string(workload) == "batch" &&
            std::string(inner.name) == "free_list")
          continue;  // guard pages bypass the inner; one batch run of them (over system) is enough
        std::string name = std::string(workload) + "/" + inner.name + "/" + variant.name;
        auto *fn = std::string(workload) == "pair" ? Pair : Batch;
        benchmark::RegisterBenchmark(name.c_str(), fn, &inner, &variant);
      }
  benchmark::Initialize(&argc, argv);
  alloy_bench::RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);

  std::vector<std::string> variant_names;
  for (const Variant &variant : variants) variant_names.push_back(variant.name);
  PrintRatios(reporter, "Cost over the bare inner resource (time per operation, ratio; 1.00 = free):", "decorators",
              inners, "bare", variant_names);
  PrintRatios(reporter, "Profiler events over plain stats (time per operation, ratio):", "stats variant", inners,
              "stats", {"stats_events", "stats_events_check_every_64", "stats_events_snapshot_every_64"});
  std::printf("(%llu events delivered)\n", static_cast<unsigned long long>(g_events.load()));
  benchmark::Shutdown();
  return 0;
}
