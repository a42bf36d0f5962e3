// The loops most strategy benchmarks time: allocate/free pairs, and steady
// state over a live set with the sizes drawn from a fixed xorshift sequence
// (the same in every run and every binary, so alloy and its peers see the
// same requests). They take the allocator as lambdas, inside a Google
// Benchmark loop; the report's workloads, which take any subject through the
// Allocator interface, are in workloads.h.
#ifndef ALLOY_BENCH_SUPPORT_LOOPS_H
#define ALLOY_BENCH_SUPPORT_LOOPS_H

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include <benchmark/benchmark.h>

#include "alloy/block.h"
#include "alloy/status.h"

namespace alloy_bench {

// One allocation and its free per iteration; items are pairs.
// allocate(alloy_block *) returns an alloy_status (a failure aborts: the
// figures would be meaningless); release(alloy_block) frees the block.
template <class Allocate, class Release>
void RunPairs(benchmark::State &state, Allocate allocate, Release release) {
  for (auto _ : state) {
    alloy_block block;
    if (allocate(&block) != ALLOY_OK) std::abort();
    benchmark::DoNotOptimize(block.ptr);
    release(block);
  }
  state.SetItemsProcessed(state.iterations());
}

// RunPairs for malloc and free of `size` bytes: the peer of every pair.
inline void RunMallocPairs(benchmark::State &state, size_t size) {
  for (auto _ : state) {
    void *ptr = std::malloc(size);
    benchmark::DoNotOptimize(ptr);
    std::free(ptr);
  }
  state.SetItemsProcessed(state.iterations());
}

// Marsaglia's xorshift64 from a fixed seed.
class Xorshift64 {
 public:
  uint64_t Next() {
    state_ ^= state_ << 13;
    state_ ^= state_ >> 7;
    state_ ^= state_ << 17;
    return state_;
  }

 private:
  uint64_t state_ = 88172645463325252ull;
};

// n sizes uniform in [min, max].
inline std::vector<uint32_t> UniformSizes(size_t n, uint32_t min, uint32_t max) {
  std::vector<uint32_t> sizes(n);
  Xorshift64 random;
  for (auto &size : sizes) size = static_cast<uint32_t>(min + random.Next() % (uint64_t{max} - min + 1));
  return sizes;
}

// n sizes log-uniform in [min, max): as many between 256 B and 512 B as
// between 32 KiB and 64 KiB.
inline std::vector<uint32_t> LogUniformSizes(size_t n, uint32_t min, uint32_t max) {
  std::vector<uint32_t> sizes(n);
  Xorshift64 random;
  const double octaves = std::log2(static_cast<double>(max) / static_cast<double>(min));
  for (auto &size : sizes) {
    const double unit = static_cast<double>(random.Next() >> 11) / 9007199254740992.0;  // [0, 1), 53 bits
    size = static_cast<uint32_t>(static_cast<double>(min) * std::exp2(octaves * unit));
  }
  return sizes;
}

// The steady state over `live` slots: each iteration replaces the object in
// one slot (replace(slot, step) frees it and allocates another). Knuth's
// multiplicative hash of the step picks the slot, so frees land all over the
// live set instead of in allocation order. Items are replacements.
template <class Replace>
void RunSteadyReplacements(benchmark::State &state, size_t live, Replace replace) {
  size_t step = 0;
  for (auto _ : state) {
    replace((step * 2654435761u) % live, step);
    ++step;
  }
  state.SetItemsProcessed(state.iterations());
}

}  // namespace alloy_bench

#endif  // ALLOY_BENCH_SUPPORT_LOOPS_H
