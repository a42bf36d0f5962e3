// Frame arena: allocation latency and reset cost against the number of objects.
//
// Reset is timed alone (manual timing) after filling the frame with 1k, 100k
// and 1M objects: the figures should be flat, since reset touches nothing.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include <benchmark/benchmark.h>

#include "alloy/allocator.h"
#include "alloy/frame.h"

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

void BM_FrameAllocate_Resource(benchmark::State &state) {
  alloy_frame *frame = NewFrame();
  alloy_allocator a = alloy_allocator_of(alloy_frame_resource(frame));
  const size_t size = static_cast<size_t>(state.range(0));
  int n = 0;
  for (auto _ : state) {
    alloy_block block;
    if (alloy_alloc(a, size, 8, &block) != ALLOY_OK) std::abort();
    benchmark::DoNotOptimize(block.ptr);
    if (++n == kPerFrame) {
      alloy_frame_reset(frame);
      n = 0;
    }
  }
  state.SetItemsProcessed(state.iterations());
  alloy_frame_destroy(frame);
}
BENCHMARK(BM_FrameAllocate_Resource)->Arg(16)->Arg(64);

void BM_FrameAllocate_Direct(benchmark::State &state) {
  alloy_frame *frame = NewFrame();
  const size_t size = static_cast<size_t>(state.range(0));
  int n = 0;
  for (auto _ : state) {
    alloy_block block;
    if (alloy_frame_allocate(frame, size, 8, &block) != ALLOY_OK) std::abort();
    benchmark::DoNotOptimize(block.ptr);
    if (++n == kPerFrame) {
      alloy_frame_reset(frame);
      n = 0;
    }
  }
  state.SetItemsProcessed(state.iterations());
  alloy_frame_destroy(frame);
}
BENCHMARK(BM_FrameAllocate_Direct)->Arg(16)->Arg(64);

void BM_FrameAllocate_Inline(benchmark::State &state) {
  alloy_frame *frame = NewFrame();
  const size_t size = static_cast<size_t>(state.range(0));
  int n = 0;
  for (auto _ : state) {
    alloy_block block;
    if (alloy_frame_allocate_fast(frame, size, 8, &block) != ALLOY_OK) std::abort();
    benchmark::DoNotOptimize(block.ptr);
    if (++n == kPerFrame) {
      alloy_frame_reset(frame);
      n = 0;
    }
  }
  state.SetItemsProcessed(state.iterations());
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

void BM_Malloc_Free(benchmark::State &state) {
  const size_t size = static_cast<size_t>(state.range(0));
  for (auto _ : state) {
    void *ptr = std::malloc(size);
    benchmark::DoNotOptimize(ptr);
    std::free(ptr);
  }
  state.SetItemsProcessed(state.iterations());
}
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
  // The mean is at the mercy of one preemption on a loaded machine; the median and minimum are not.
  std::sort(samples.begin(), samples.end());
  state.counters["median_ns"] = samples[samples.size() / 2];
  state.counters["min_ns"] = samples.front();
  alloy_frame_destroy(frame);
}

void BM_FrameReset(benchmark::State &state) { ResetAfter(state, 0); }
// Manual time counts only the reset, so the iteration count is fixed: the
// untimed filling would otherwise run for ever.
BENCHMARK(BM_FrameReset)
    ->Arg(1000)
    ->Arg(100000)
    ->Arg(1000000)
    ->UseManualTime()
    ->Iterations(200)
    ->Unit(benchmark::kNanosecond);

// Every iteration fills for 5 ms: the reset figures for 1k, 100k and 1M objects side by side.
void BM_FrameReset_EqualFillTime(benchmark::State &state) { ResetAfter(state, 0, std::chrono::microseconds(5000)); }
BENCHMARK(BM_FrameReset_EqualFillTime)
    ->Arg(1000)
    ->Arg(100000)
    ->Arg(1000000)
    ->UseManualTime()
    ->Iterations(200)
    ->Unit(benchmark::kNanosecond);

// Same with a decommit mark below the frame's size: every reset returns pages (a worst case).
void BM_FrameReset_Decommitting(benchmark::State &state) { ResetAfter(state, 64 << 10); }
BENCHMARK(BM_FrameReset_Decommitting)
    ->Arg(1000)
    ->Arg(100000)
    ->Arg(1000000)
    ->UseManualTime()
    ->Iterations(200)
    ->Unit(benchmark::kMicrosecond);

}  // namespace
