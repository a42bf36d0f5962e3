// bench/support/cycle_clock.h — the cycle counter and its conversion to nanoseconds.
//
// Per-operation latency is read with rdtsc before and rdtscp after the
// operation (fenced so neither moves across it). A pair of reads costs about
// 20 ns on a virtual machine and ticks in steps of several ns, so the measured
// overhead of an empty pair is reported next to every histogram and subtracted
// from each sample; throughput is measured separately in batches.
#ifndef ALLOY_BENCH_SUPPORT_CYCLE_CLOCK_H
#define ALLOY_BENCH_SUPPORT_CYCLE_CLOCK_H

#include <cstdint>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#endif

namespace alloy_bench {

// Start of a timed region: waits for earlier instructions, then reads the TSC.
inline uint64_t CyclesBegin() {
#if defined(__x86_64__) || defined(__i386__)
  _mm_lfence();
  uint64_t t = __rdtsc();
  _mm_lfence();
  return t;
#else
  uint64_t t;
  asm volatile("isb; mrs %0, cntvct_el0" : "=r"(t));
  return t;
#endif
}

// End of a timed region: rdtscp waits for the region's instructions to finish.
inline uint64_t CyclesEnd() {
#if defined(__x86_64__) || defined(__i386__)
  unsigned aux;
  uint64_t t = __rdtscp(&aux);
  _mm_lfence();
  return t;
#else
  uint64_t t;
  asm volatile("isb; mrs %0, cntvct_el0" : "=r"(t));
  return t;
#endif
}

// The calibration, measured once per process.
struct CycleClock {
  double ns_per_cycle = 1.0;
  double overhead_cycles = 0.0;    // median cost of an empty Begin/End pair
  double resolution_cycles = 1.0;  // smallest step the counter moves by
  double overhead_ns() const { return overhead_cycles * ns_per_cycle; }
  double resolution_ns() const { return resolution_cycles * ns_per_cycle; }
  double ToNs(double cycles) const { return cycles * ns_per_cycle; }
};

// Calibrates against CLOCK_MONOTONIC over about `window_ms` on first use.
const CycleClock& GetCycleClock(int window_ms = 50);

}  // namespace alloy_bench

#endif  // ALLOY_BENCH_SUPPORT_CYCLE_CLOCK_H
