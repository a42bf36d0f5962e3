// Huge-page arena: what pre-warm does to the first use.
//
// The arena maps (commits) everything at creation, but the OS still backs
// each page on first touch: a 4 KiB fault per page on normal pages, a 2 MiB
// fault (with the kernel zeroing 2 MiB) per transparent huge page. A
// game-like first frame (20k records of 32-256 B, each written) on a fresh
// arena, with and without prewarm_bytes covering it: first-frame latency
// (manual time, the frame only), minor faults in the frame, and the creation
// time that pre-warm moves the faults into. The arena kind is in the label.
#include <cstdlib>

#include <benchmark/benchmark.h>

#include "alloy/huge_page.h"
#include "alloy/huge_pages.h"
#include "bench/support/game_frame.h"

namespace {

using alloy_bench::kGameFrameBytes;

// range(0): the best page kind (0 normal, 1 transparent huge); range(1): pre-warm.
void BM_HugePageFirstFrame(benchmark::State &state) {
  alloy_huge_page_config config = alloy_huge_page_config_default();
  config.capacity = size_t{16} << 20;
  config.best = static_cast<alloy_page_kind>(state.range(0));
  config.prewarm_bytes = state.range(1) != 0 ? kGameFrameBytes : 0;
  alloy_page_kind kind = ALLOY_PAGES_NORMAL;
  alloy_bench::MeasureFirstFrames(
      state,
      [&] {
        alloy_huge_page_arena *arena = nullptr;
        if (alloy_huge_page_arena_create(&config, &arena) != ALLOY_OK) std::abort();
        kind = alloy_huge_page_arena_kind(arena);
        return arena;
      },
      [](alloy_huge_page_arena *arena) {
        alloy_bench::GameFrame([&](size_t size, alloy_block *block) {
          return alloy_huge_page_arena_allocate(arena, size, 16, block);
        });
      },
      alloy_huge_page_arena_destroy);
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
