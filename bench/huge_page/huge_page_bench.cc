// Huge-page arena: what pre-warm does to the first use.
//
// The arena maps (commits) everything at creation, but the OS still backs
// each page on first touch: a 4 KiB fault per page on normal pages, a 2 MiB
// fault (with the kernel zeroing 2 MiB) per transparent huge page. A
// game-like first frame (20k records of 32-256 B, each written) on a fresh
// arena, with and without prewarm_bytes covering it: first-frame latency
// (manual time, the frame only), minor faults in the frame, and the creation
// time that pre-warm moves the faults into. The arena kind is in the label.
#include <sys/resource.h>
#include <time.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include <benchmark/benchmark.h>

#include "alloy/huge_page.h"
#include "alloy/huge_pages.h"

namespace {

constexpr int kRecordsPerFrame = 20000;
constexpr size_t kFrameBytes = size_t{4} << 20; // covers 20k records of up to 256 B

// CPU time of this thread, page-fault handling in the kernel included: on a
// loaded machine it shows the frame's own cost where wall time shows the load.
double ThreadCpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

long MinorFaults() {
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_minflt;
}

void GameFrame(alloy_huge_page_arena *arena) {
  uint32_t seed = 0x9E3779B9u;
  for (int i = 0; i < kRecordsPerFrame; ++i) {
    seed = seed * 1664525u + 1013904223u;
    const size_t size = 32 + (seed >> 8) % 225;
    alloy_block block;
    if (alloy_huge_page_arena_allocate(arena, size, 16, &block) != ALLOY_OK) std::abort();
    std::memset(block.ptr, static_cast<int>(i), size);
    benchmark::DoNotOptimize(block.ptr);
  }
}

// range(0): the best page kind (0 normal, 1 transparent huge); range(1): pre-warm.
void BM_HugePageFirstFrame(benchmark::State &state) {
  alloy_huge_page_config config = alloy_huge_page_config_default();
  config.capacity = size_t{16} << 20;
  config.best = static_cast<alloy_page_kind>(state.range(0));
  config.prewarm_bytes = state.range(1) != 0 ? kFrameBytes : 0;
  long faults = 0;
  double create_seconds = 0;
  double frame_cpu_seconds = 0;
  alloy_page_kind kind = ALLOY_PAGES_NORMAL;
  for (auto _ : state) {
    const auto create_start = std::chrono::steady_clock::now();
    alloy_huge_page_arena *arena = nullptr;
    if (alloy_huge_page_arena_create(&config, &arena) != ALLOY_OK) std::abort();
    create_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - create_start).count();
    kind = alloy_huge_page_arena_kind(arena);
    const long before = MinorFaults();
    const double cpu_start = ThreadCpuSeconds();
    const auto start = std::chrono::steady_clock::now();
    GameFrame(arena);
    const auto stop = std::chrono::steady_clock::now();
    frame_cpu_seconds += ThreadCpuSeconds() - cpu_start;
    faults += MinorFaults() - before;
    state.SetIterationTime(std::chrono::duration<double>(stop - start).count());
    alloy_huge_page_arena_destroy(arena);
  }
  const double n = static_cast<double>(state.iterations());
  state.counters["faults_per_frame"] = static_cast<double>(faults) / n;
  state.counters["create_us"] = create_seconds * 1e6 / n;
  state.counters["frame_cpu_us"] = frame_cpu_seconds * 1e6 / n;
  state.SetLabel(alloy_page_kind_name(kind));
}
BENCHMARK(BM_HugePageFirstFrame)
    ->ArgNames({"kind", "prewarm"})
    ->Args({ALLOY_PAGES_NORMAL, 0})
    ->Args({ALLOY_PAGES_NORMAL, 1})
    ->Args({ALLOY_PAGES_TRANSPARENT_HUGE, 0})
    ->Args({ALLOY_PAGES_TRANSPARENT_HUGE, 1})
    ->UseManualTime()
    ->Iterations(50)
    ->Unit(benchmark::kMicrosecond);

}  // namespace
