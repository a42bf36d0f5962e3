// bench/common/cycle_clock.cc — calibrates the cycle counter against clock_gettime.
#include "bench/common/cycle_clock.h"

#include <time.h>

#include <algorithm>
#include <vector>

namespace alloy_bench {
namespace {

uint64_t MonotonicNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000u + static_cast<uint64_t>(ts.tv_nsec);
}

CycleClock Calibrate(int window_ms) {
  CycleClock clock;
  // Ratio of TSC ticks to wall nanoseconds over the window; a few rounds and
  // the median guard against a preemption in one of them.
  std::vector<double> ratios;
  const int rounds = 5;
  const uint64_t round_ns = static_cast<uint64_t>(window_ms) * 1000000u / rounds;
  for (int r = 0; r < rounds; ++r) {
    uint64_t ns0 = MonotonicNs();
    uint64_t c0 = CyclesBegin();
    uint64_t ns1;
    do {
      ns1 = MonotonicNs();
    } while (ns1 - ns0 < round_ns);
    uint64_t c1 = CyclesEnd();
    ratios.push_back(static_cast<double>(ns1 - ns0) / static_cast<double>(c1 - c0));
  }
  std::sort(ratios.begin(), ratios.end());
  clock.ns_per_cycle = ratios[ratios.size() / 2];

  std::vector<uint64_t> empty(20001);
  for (auto& e : empty) {
    uint64_t t0 = CyclesBegin();
    uint64_t t1 = CyclesEnd();
    e = t1 - t0;
  }
  std::sort(empty.begin(), empty.end());
  clock.overhead_cycles = static_cast<double>(empty[empty.size() / 2]);

  // Virtual machines often advance the counter in coarse steps: the smallest
  // gap between two distinct empty-pair readings is the step.
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
