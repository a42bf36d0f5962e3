// The steady-state trace of medium sizes that bench/tlsf's fragmentation
// figures are measured on: sizes log-uniform in [256 B, 64 KiB];
// allocations until the live bytes reach the target, then a steady state in
// which each step frees a random live block or allocates a new one, keeping
// the live bytes within +-5 % of the target. Deterministic for a seed, and
// kept in memory mapped outside every allocator under test.
#ifndef ALLOY_BENCH_TLSF_MEDIUM_TRACE_H_
#define ALLOY_BENCH_TLSF_MEDIUM_TRACE_H_

#include <cstddef>
#include <cstdint>

namespace alloy_bench {

struct TraceOp {
  uint32_t slot;
  uint32_t size;  // 0: free the slot
};

struct MediumTrace {
  TraceOp *ops = nullptr;
  size_t count = 0;
  size_t ramp = 0;  // ops before the steady state begins
  size_t slots = 0;
};

MediumTrace MakeMediumTrace(size_t target_live, size_t steady_ops, uint64_t seed);

// `n` zeroed elements from mmap, outside every allocator; exits on failure.
void *MapZeroed(size_t bytes);
template <typename T>
T *MapArray(size_t n) {
  return static_cast<T *>(MapZeroed(n * sizeof(T)));
}

}  // namespace alloy_bench

#endif  // ALLOY_BENCH_TLSF_MEDIUM_TRACE_H_
