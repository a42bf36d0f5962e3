// The medium-size steady-state trace (medium_trace.h).
#include "bench/tlsf/medium_trace.h"

#include <sys/mman.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace alloy_bench {
namespace {

struct Rng {
  uint64_t state;
  uint64_t Next() {  // xorshift64*
    state ^= state >> 12;
    state ^= state << 25;
    state ^= state >> 27;
    return state * 2685821657736338717ull;
  }
  double Unit() { return static_cast<double>(Next() >> 11) * (1.0 / 9007199254740992.0); }
};

uint32_t MediumSize(Rng &rng) { return static_cast<uint32_t>(256.0 * std::exp2(8.0 * rng.Unit())); }

}  // namespace

void *MapZeroed(size_t bytes) {
  void *p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) {
    std::perror("mmap");
    std::exit(1);
  }
  return p;
}

MediumTrace MakeMediumTrace(size_t target_live, size_t steady_ops, uint64_t seed) {
  Rng rng{seed * 0x9E3779B97F4A7C15ull + 1};
  const size_t max_ops = steady_ops + target_live / 256 + 16;
  const size_t max_slots = target_live / 256 * 2 + 16;
  MediumTrace trace;
  trace.ops = MapArray<TraceOp>(max_ops);
  uint32_t *live = MapArray<uint32_t>(max_slots);   // slots in use
  uint32_t *sizes = MapArray<uint32_t>(max_slots);  // size per slot
  uint32_t *free_slots = MapArray<uint32_t>(max_slots);
  size_t live_count = 0, free_count = 0, next_slot = 0, live_bytes = 0;
  auto allocate = [&] {
    uint32_t slot = free_count ? free_slots[--free_count] : static_cast<uint32_t>(next_slot++);
    uint32_t size = MediumSize(rng);
    sizes[slot] = size;
    live[live_count++] = slot;
    live_bytes += size;
    trace.ops[trace.count++] = {slot, size};
  };
  auto release = [&] {
    size_t i = rng.Next() % live_count;
    uint32_t slot = live[i];
    live[i] = live[--live_count];
    live_bytes -= sizes[slot];
    free_slots[free_count++] = slot;
    trace.ops[trace.count++] = {slot, 0};
  };
  while (live_bytes < target_live) allocate();
  trace.ramp = trace.count;
  const size_t low = target_live - target_live / 20, high = target_live + target_live / 20;
  for (size_t i = 0; i < steady_ops; ++i) {
    if (live_bytes < low) allocate();
    else if (live_bytes > high) release();
    else if (rng.Next() & 1) allocate();
    else release();
  }
  trace.slots = next_slot;
  munmap(live, max_slots * sizeof *live);
  munmap(sizes, max_slots * sizeof *sizes);
  munmap(free_slots, max_slots * sizeof *free_slots);
  return trace;
}

}  // namespace alloy_bench
