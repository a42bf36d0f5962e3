// Frame arena: allocation latency and reset cost against the number of objects,
// and what the commit policy does to page faults.
//
// Reset is timed alone (manual timing) after filling the frame with 1k, 100k
// and 1M objects: the figures should be flat, since reset touches nothing.
//
// Commit policy: a game-like frame (20k records of 32-256 B, each written)
// on a fresh frame, with and without pre-warm: first-frame latency and minor
// page faults per frame (getrusage). Then commit throughput: commit and touch
// N MiB lazily (64 KiB chunks as the top advances), batched (all at
// creation), and pre-warmed (commit and touch at creation).
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include <benchmark/benchmark.h>

#include "alloy/allocator.h"
#include "alloy/frame.h"
#include "bench/support/game_frame.h"
#include "bench/support/loops.h"
#include "bench/support/percentile.h"
#include "bench/support/process_clocks.h"

namespace {

constexpr size_t kReserve = size_t{256} << 20;

alloy_frame *NewFrame(size_t decommit_above = 0) {
  alloy_frame_config config = alloy_frame_config_default(kReserve);
  config.decommit_above = decommit_above;
  alloy_frame *frame = nullptr;
  if (alloy_frame_create(&config, &frame) != ALLOY_OK) std::abort();
  return frame;
}

// Allocations per frame before the loop resets (the reset is amortised away).
constexpr int kPerFrame = 1 << 16;

// range(0)-byte allocations, the frame reset every kPerFrame of them.
// allocate(size, alloy_block *) returns an alloy_status.
template <class Allocate>
void AllocateInFrames(benchmark::State &state, alloy_frame *frame, Allocate allocate) {
  const size_t size = static_cast<size_t>(state.range(0));
  int n = 0;
  for (auto _ : state) {
    alloy_block block;
    if (allocate(size, &block) != ALLOY_OK) std::abort();
    benchmark::DoNotOptimize(block.ptr);
    if (++n == kPerFrame) {
      alloy_frame_reset(frame);
      n = 0;
    }
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_FrameAllocate_Resource(benchmark::State &state) {
  alloy_frame *frame = NewFrame();
  alloy_allocator a = alloy_allocator_of(alloy_frame_resource(frame));
  AllocateInFrames(state, frame, [&](size_t size, alloy_block *block) { return alloy_alloc(a, size, 8, block); });
  alloy_frame_destroy(frame);
}
BENCHMARK(BM_FrameAllocate_Resource)->Arg(16)->Arg(64);

void BM_FrameAllocate_Direct(benchmark::State &state) {
  alloy_frame *frame = NewFrame();
  AllocateInFrames(state, frame,
                   [&](size_t size, alloy_block *block) { return alloy_frame_allocate(frame, size, 8, block); });
  alloy_frame_destroy(frame);
}
BENCHMARK(BM_FrameAllocate_Direct)->Arg(16)->Arg(64);

void BM_FrameAllocate_Inline(benchmark::State &state) {
  alloy_frame *frame = NewFrame();
  AllocateInFrames(state, frame,
                   [&](size_t size, alloy_block *block) { return alloy_frame_allocate_fast(frame, size, 8, block); });
  alloy_frame_destroy(frame);
}
BENCHMARK(BM_FrameAllocate_Inline)->Arg(16)->Arg(64);

// The limit: an inline pointer bump with the same alignment and bounds check.
void BM_PointerBump_Baseline(benchmark::State &state) {
  static char arena[kPerFrame * 64 + 64];
  const size_t size = static_cast<size_t>(state.range(0));
  uintptr_t top = reinterpret_cast<uintptr_t>(arena);
  const uintptr_t end = top + sizeof arena;
  int n = 0;
  for (auto _ : state) {
    uintptr_t ptr = (top + 7) & ~uintptr_t{7};
    if (ptr + size > end) std::abort();
    top = ptr + size;
    benchmark::DoNotOptimize(ptr);
    if (++n == kPerFrame) {
      top = reinterpret_cast<uintptr_t>(arena);
      n = 0;
    }
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_PointerBump_Baseline)->Arg(16)->Arg(64);

void BM_Malloc_Free(benchmark::State &state) { alloy_bench::RunMallocPairs(state, static_cast<size_t>(state.range(0))); }
BENCHMARK(BM_Malloc_Free)->Arg(16)->Arg(64);

// Reset after N 16-byte objects; only the reset is timed. With `fill_for`
// set, every iteration lasts that long before the reset whatever N is, so
// the time the fill takes (and what the machine does meanwhile to caches and
// TLBs) is the same for every N and only N differs.
void ResetAfter(benchmark::State &state, size_t decommit_above,
                std::chrono::microseconds fill_for = std::chrono::microseconds(0)) {
  alloy_frame *frame = NewFrame(decommit_above);
  const int64_t objects = state.range(0);
  std::vector<double> samples;
  for (auto _ : state) {
    const auto fill_start = std::chrono::steady_clock::now();
    for (int64_t i = 0; i < objects; ++i) {
      alloy_block block;
      if (alloy_frame_allocate_fast(frame, 16, 8, &block) != ALLOY_OK) std::abort();
      benchmark::DoNotOptimize(block.ptr);
    }
    while (std::chrono::steady_clock::now() - fill_start < fill_for) {
    }
    auto start = std::chrono::steady_clock::now();
    alloy_frame_reset(frame);
    auto stop = std::chrono::steady_clock::now();
    const double seconds = std::chrono::duration<double>(stop - start).count();
    samples.push_back(seconds * 1e9);
    state.SetIterationTime(seconds);
  }
  state.counters["median_ns"] = alloy_bench::Percentile(samples, 0.5);
  state.counters["min_ns"] = alloy_bench::Percentile(samples, 0.0);
  alloy_frame_destroy(frame);
}

// Manual time counts only the reset, so the iteration count is fixed: the
// untimed filling would otherwise run for ever.
void ResetCases(benchmark::internal::Benchmark *bench) {
  bench->Arg(1000)->Arg(100000)->Arg(1000000)->UseManualTime()->Iterations(200);
}

void BM_FrameReset(benchmark::State &state) { ResetAfter(state, 0); }
BENCHMARK(BM_FrameReset)->Apply(ResetCases)->Unit(benchmark::kNanosecond);

// Every iteration fills for 5 ms: the reset figures for 1k, 100k and 1M objects side by side.
void BM_FrameReset_EqualFillTime(benchmark::State &state) { ResetAfter(state, 0, std::chrono::microseconds(5000)); }
BENCHMARK(BM_FrameReset_EqualFillTime)->Apply(ResetCases)->Unit(benchmark::kNanosecond);

// Same with a decommit mark below the frame's size: every reset returns pages (a worst case).
void BM_FrameReset_Decommitting(benchmark::State &state) { ResetAfter(state, 64 << 10); }
BENCHMARK(BM_FrameReset_Decommitting)->Apply(ResetCases)->Unit(benchmark::kMicrosecond);

// ---- commit policy: page faults and first-frame latency ----------------------

using alloy_bench::kGameFrameBytes;
using alloy_bench::MinorFaults;

// One game-like frame (alloy_bench::GameFrame) on `frame`.
void GameFrame(alloy_frame *frame) {
  alloy_bench::GameFrame(
      [&](size_t size, alloy_block *block) { return alloy_frame_allocate_fast(frame, size, 16, block); });
}

alloy_frame *NewPolicyFrame(alloy_commit_mode mode, size_t prewarm) {
  alloy_frame_config config = alloy_frame_config_default(kReserve);
  config.commit.mode = mode;
  config.commit.commit_batch = mode == ALLOY_COMMIT_BATCHED ? kGameFrameBytes : 0;
  config.commit.prewarm_bytes = prewarm;
  alloy_frame *frame = nullptr;
  if (alloy_frame_create(&config, &frame) != ALLOY_OK) std::abort();
  return frame;
}

// The first frame on a fresh frame arena: range(0) 1 pre-warms a frame's worth
// at creation (untimed: it happens at load time). Faults are counted in the
// frame only; create_us is the creation, pre-warm included.
void BM_FirstFrame(benchmark::State &state) {
  const bool prewarm = state.range(0) != 0;
  const auto mode = static_cast<alloy_commit_mode>(state.range(1));
  alloy_bench::MeasureFirstFrames(
      state, [&] { return NewPolicyFrame(mode, prewarm ? kGameFrameBytes : 0); },
      [](alloy_frame *frame) { GameFrame(frame); }, alloy_frame_destroy);
}
BENCHMARK(BM_FirstFrame)
    ->ArgNames({"prewarm", "batched"})
    ->Args({0, ALLOY_COMMIT_LAZY})
    ->Args({0, ALLOY_COMMIT_BATCHED})
    ->Args({1, ALLOY_COMMIT_LAZY})
    ->UseManualTime()
    ->Iterations(50)
    ->Unit(benchmark::kMicrosecond);

// The steady state: the same frame again and again on one arena, reset in
// between (pages stay committed and warm whatever the policy).
void BM_SteadyFrame(benchmark::State &state) {
  alloy_frame *frame = NewPolicyFrame(ALLOY_COMMIT_LAZY, 0);
  GameFrame(frame);
  alloy_frame_reset(frame);
  const long before = MinorFaults();
  for (auto _ : state) {
    GameFrame(frame);
    alloy_frame_reset(frame);
  }
  state.counters["faults_per_frame"] =
      static_cast<double>(MinorFaults() - before) / static_cast<double>(state.iterations());
  alloy_frame_destroy(frame);
}
BENCHMARK(BM_SteadyFrame)->Unit(benchmark::kMicrosecond);

// ---- commit throughput --------------------------------------------------------

// Commits and touches range(0) MiB through a fresh frame: 64 KiB blocks, one
// byte written per page. range(1): 0 lazy (64 KiB chunks), 1 batched (all at
// creation), 2 pre-warmed (committed and touched at creation), 3 lazy with
// prewarm_ahead (the slow path touches 1 MiB ahead). Creation is timed.
void BM_CommitThroughput(benchmark::State &state) {
  const size_t bytes = static_cast<size_t>(state.range(0)) << 20;
  const int policy = static_cast<int>(state.range(1));
  constexpr size_t kBlock = size_t{64} << 10;
  const size_t page = 4096;
  long faults = 0;
  for (auto _ : state) {
    alloy_frame_config config = alloy_frame_config_default(bytes);
    if (policy == 1) config.commit.mode = ALLOY_COMMIT_BATCHED;
    if (policy == 2) config.commit.prewarm_bytes = bytes;
    if (policy == 3) config.commit.prewarm_ahead = size_t{1} << 20;
    const long before = MinorFaults();
    alloy_frame *frame = nullptr;
    if (alloy_frame_create(&config, &frame) != ALLOY_OK) std::abort();
    for (size_t done = 0; done < bytes; done += kBlock) {
      alloy_block block;
      if (alloy_frame_allocate_fast(frame, kBlock, 64, &block) != ALLOY_OK) std::abort();
      volatile char *p = static_cast<char *>(block.ptr);
      for (size_t offset = 0; offset < kBlock; offset += page) p[offset] = 1;
    }
    faults += MinorFaults() - before;
    state.PauseTiming();
    alloy_frame_destroy(frame);
    state.ResumeTiming();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(bytes));
  state.counters["faults"] = static_cast<double>(faults) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_CommitThroughput)
    ->ArgNames({"MiB", "policy"})
    ->Args({64, 0})
    ->Args({64, 1})
    ->Args({64, 2})
    ->Args({64, 3})
    ->Unit(benchmark::kMillisecond);

}  // namespace
