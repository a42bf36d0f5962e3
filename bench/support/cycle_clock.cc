// bench/support/cycle_clock.cc — calibrates the cycle counter against the monotonic clock.
#include "bench/support/cycle_clock.h"

#include <algorithm>
#include <vector>

#include "bench/support/percentile.h"
#include "bench/support/process_clocks.h"

namespace alloy_bench {
namespace {

CycleClock Calibrate(int window_ms) {
  CycleClock clock;
  // Ratio of TSC ticks to wall nanoseconds over the window; a few rounds and
  // the median guard against a preemption in one of them.
  std::vector<double> ratios;
  const int rounds = 5;
  const double round_seconds = static_cast<double>(window_ms) * 1e-3 / rounds;
  for (int r = 0; r < rounds; ++r) {
    double s0 = MonotonicSeconds();
    uint64_t c0 = CyclesBegin();
    double s1;
    do {
      s1 = MonotonicSeconds();
    } while (s1 - s0 < round_seconds);
    uint64_t c1 = CyclesEnd();
    ratios.push_back((s1 - s0) * 1e9 / static_cast<double>(c1 - c0));
  }
  clock.ns_per_cycle = Median(ratios);

  std::vector<uint64_t> empty(20001);
  for (auto& e : empty) {
    uint64_t t0 = CyclesBegin();
    uint64_t t1 = CyclesEnd();
    e = t1 - t0;
  }
  clock.overhead_cycles = Median(empty);

  // Virtual machines often advance the counter in coarse steps: the smallest
  // gap between two distinct empty-pair readings is the step.
  std::sort(empty.begin(), empty.end());
  uint64_t step = ~uint64_t{0};
  for (size_t i = 1; i < empty.size(); ++i) {
    if (empty[i] != empty[i - 1] && empty[i] - empty[i - 1] < step) step = empty[i] - empty[i - 1];
  }
  if (step == ~uint64_t{0}) step = 1;
  clock.resolution_cycles = static_cast<double>(step);
  return clock;
}

}  // namespace

const CycleClock& GetCycleClock(int window_ms) {
  static const CycleClock clock = Calibrate(window_ms);
  return clock;
}

}  // namespace alloy_bench
