// How low an allocator that never moves a block can hold the fragmentation
// of bench/tlsf:fragmentation's trace with 4 KiB pages, even when it
// returns every free page at no cost and searches every free range.
//
// The trace (medium_trace.h) is replayed on the model heap of
// bench/support/placement_model.h with both of its placements.
// The fragmentation is defined as in bench/tlsf:fragmentation ((held - live)
// / live, live = requested bytes, sampled 300 times over the steady state).
//
// Usage: placement_floor [live_mib=64] [steady_ops=3000000] [seed=42]
#include <algorithm>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "bench/support/placement_model.h"
#include "bench/tlsf/medium_trace.h"

namespace {

using alloy_bench::Placement;
using alloy_bench::PlacementModel;

struct Result {
  double fragmentation = 0, worst = 0, rounding = 0, partial = 0, free_ranges = 0;
};

Result Replay(Placement placement, const alloy_bench::MediumTrace &trace) {
  PlacementModel heap(placement);
  uint64_t *at = alloy_bench::MapArray<uint64_t>(trace.slots);
  uint32_t *sizes = alloy_bench::MapArray<uint32_t>(trace.slots);
  const size_t steady = trace.count - trace.ramp;
  const size_t sample_every = steady / 300 ? steady / 300 : 1;
  Result sum;
  size_t samples = 0;
  for (size_t i = 0; i < trace.count; ++i) {
    const alloy_bench::TraceOp op = trace.ops[i];
    if (op.size != 0) {
      at[op.slot] = heap.Allocate(op.size);
      sizes[op.slot] = op.size;
    } else {
      heap.Free(at[op.slot], sizes[op.slot]);
    }
    if (i >= trace.ramp && (i - trace.ramp) % sample_every == sample_every - 1) {
      const double l = static_cast<double>(heap.live());
      const double rounding = static_cast<double>(heap.rounding()) / l;
      const double partial = static_cast<double>(heap.partial()) / l;
      sum.fragmentation += rounding + partial;
      sum.worst = std::max(sum.worst, rounding + partial);
      sum.rounding += rounding;
      sum.partial += partial;
      sum.free_ranges += static_cast<double>(heap.free_ranges());
      ++samples;
    }
  }
  const double n = static_cast<double>(samples);
  return {sum.fragmentation / n, sum.worst, sum.rounding / n, sum.partial / n, sum.free_ranges / n};
}

}  // namespace

int main(int argc, char **argv) {
  const size_t live_mib = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 64;
  const size_t steady_ops = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 3000000;
  const uint64_t seed = argc > 3 ? std::strtoull(argv[3], nullptr, 10) : 42;
  const alloy_bench::MediumTrace trace = alloy_bench::MakeMediumTrace(live_mib << 20, steady_ops, seed);
  std::printf("placement floor: bench/tlsf:fragmentation's trace (target live %zu MiB, %zu steady-state ops, "
              "seed %" PRIu64 ")\n"
              "on a model heap: no headers, no pools, every whole free page given back at no cost;\n"
              "held beyond live = 16-byte rounding + free bytes on pages shared with live bytes.\n\n",
              live_mib, trace.count - trace.ramp, seed);
  std::printf("%-16s %9s %9s %9s %9s %12s\n", "placement", "steady", "worst", "rounding", "partial", "free ranges");
  const struct {
    const char *name;
    Placement placement;
  } kPlacements[] = {{"best fit", Placement::kBestFit}, {"fewest partial", Placement::kFewestPartial}};
  double floor = 0;
  for (const auto &p : kPlacements) {
    const Result r = Replay(p.placement, trace);
    std::printf("%-16s %8.2f%% %8.2f%% %8.2f%% %8.2f%% %12.0f\n", p.name, 100 * r.fragmentation, 100 * r.worst,
                100 * r.rounding, 100 * r.partial, r.free_ranges);
    floor = r.fragmentation;
  }
  std::printf("\nspec target: steady fragmentation < 1.5%% -> %s even by the model's fewest-partial placement\n",
              floor < 0.015 ? "met" : "NOT met");
  return 0;
}
