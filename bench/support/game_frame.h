// A game-like frame (20k records of 32-256 B, each written once) and the
// measurement of the first such frame on a fresh arena, where the page
// faults are: the frame and huge page benchmarks compare commit and pre-warm
// policies with it.
#ifndef ALLOY_BENCH_SUPPORT_GAME_FRAME_H
#define ALLOY_BENCH_SUPPORT_GAME_FRAME_H

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include <benchmark/benchmark.h>

#include "alloy/block.h"
#include "alloy/status.h"
#include "bench/support/process_clocks.h"

namespace alloy_bench {

constexpr int kGameFrameRecords = 20000;
constexpr size_t kGameFrameBytes = size_t{4} << 20;  // covers 20k records of up to 256 B

// One frame through allocate(size, alloy_block *) -> alloy_status, at 16-byte
// alignment; the sizes are the same every frame.
template <class Allocate>
void GameFrame(Allocate allocate) {
  uint32_t seed = 0x9E3779B9u;
  for (int i = 0; i < kGameFrameRecords; ++i) {
    seed = seed * 1664525u + 1013904223u;
    const size_t size = 32 + (seed >> 8) % 225;
    alloy_block block;
    if (allocate(size, &block) != ALLOY_OK) std::abort();
    std::memset(block.ptr, static_cast<int>(i), size);
    benchmark::DoNotOptimize(block.ptr);
  }
}

// Per iteration: create() a fresh arena, run frame(arena) timed alone (manual
// time), destroy(arena). Counters: faults_per_frame (minor faults in the
// frame), create_us (the creation, pre-warm included: the time pre-warm moves
// the faults into) and frame_cpu_us (the frame's thread CPU time, which a
// loaded machine does not inflate as it does wall time).
template <class Create, class Frame, class Destroy>
void MeasureFirstFrames(benchmark::State &state, Create create, Frame frame, Destroy destroy) {
  using Clock = std::chrono::steady_clock;
  long faults = 0;
  double create_seconds = 0;
  double frame_cpu_seconds = 0;
  for (auto _ : state) {
    const auto create_start = Clock::now();
    auto *arena = create();
    create_seconds += std::chrono::duration<double>(Clock::now() - create_start).count();
    const long before = MinorFaults();
    const double cpu_start = ThreadCpuSeconds();
    const auto start = Clock::now();
    frame(arena);
    const auto stop = Clock::now();
    frame_cpu_seconds += ThreadCpuSeconds() - cpu_start;
    faults += MinorFaults() - before;
    state.SetIterationTime(std::chrono::duration<double>(stop - start).count());
    destroy(arena);
  }
  const double n = static_cast<double>(state.iterations());
  state.counters["faults_per_frame"] = static_cast<double>(faults) / n;
  state.counters["create_us"] = create_seconds * 1e6 / n;
  state.counters["frame_cpu_us"] = frame_cpu_seconds * 1e6 / n;
}

}  // namespace alloy_bench

#endif  // ALLOY_BENCH_SUPPORT_GAME_FRAME_H
