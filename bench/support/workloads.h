// bench/support/workloads.h — the allocation patterns every subject is measured on.
//
// Each workload is parameterised only by an Allocator, so peers and alloy
// resources run exactly the same code. Random sizes and indices come from
// tables built before timing starts (a fixed seed: every subject sees the
// same sequence), and nothing here allocates from the process heap while a
// measurement runs.
//
// Adaptive kernels (BatchPairs, SteadyState, ProducerConsumer) are meant to
// sit inside a Google Benchmark loop, which chooses how many times to run
// them; fixed traces (medium, frame, loading) run to completion and return
// their own numbers.
#ifndef ALLOY_BENCH_SUPPORT_WORKLOADS_H
#define ALLOY_BENCH_SUPPORT_WORKLOADS_H

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "bench/support/allocator.h"
#include "bench/support/latency_histogram.h"

namespace alloy_bench {

// `count` (a power of two) sizes in [lo, hi]; log-uniform when `log_uniform`.
std::vector<uint32_t> MakeSizes(size_t count, size_t lo, size_t hi, bool log_uniform, uint64_t seed);
// `count` indices uniform in [0, bound).
std::vector<uint32_t> MakeIndices(size_t count, size_t bound, uint64_t seed);

// What a batch allocates and in which order it frees it.
struct PairShape {
  size_t min_size = 8, max_size = 256;  // bytes, both included
  bool log_uniform = false;             // sizes log-uniform, else uniform
  bool lifo = false;                    // frees in reverse order (a stack's), else in allocation order
  size_t granule = 1;                   // sizes rounded up to a multiple of this (a power of two)
};

// Thread-local batches: kBatch allocations of the shape's sizes, then their
// frees (a typical short-lived burst: small objects freed in the same order,
// one fixed size for pools, nested temporaries freed last-in first-out).
class BatchPairs {
 public:
  static constexpr int kBatch = 16;
  static constexpr size_t kAlign = 8;
  explicit BatchPairs(Allocator& allocator, const PairShape& shape = PairShape{});
  // One batch, untimed: kBatch allocate + kBatch free.
  bool RunBatch();
  // One batch with each allocate and each free timed on the cycle counter
  // (the empty-pair overhead subtracted).
  bool RunTimedBatch(LatencyHistogram& allocate, LatencyHistogram& free);

 private:
  // The i-th free of a batch releases this slot.
  int FreeSlot(int i) const { return lifo_ ? kBatch - 1 - i : i; }
  Allocator& a_;
  std::vector<uint32_t> sizes_;
  bool lifo_;
  size_t cursor_ = 0;
  uint64_t overhead_;
  void* slots_[kBatch];
};

// Steady state: `live` objects of 8–256 B; each step frees a random one and
// allocates a new one of a random size in its place.
class SteadyState {
 public:
  explicit SteadyState(Allocator& allocator, size_t live = 10000);
  ~SteadyState();
  bool ok() const { return ok_; }
  bool Replace(size_t steps);

 private:
  Allocator& a_;
  std::vector<void*> ptrs_;
  std::vector<uint32_t> live_sizes_;
  std::vector<uint32_t> sizes_;
  std::vector<uint32_t> indices_;
  size_t cursor_ = 0;
  bool ok_ = true;
};

// One producer (the calling thread) allocates objects (8–256 B unless told
// otherwise) and hands them through a bounded single-producer/single-consumer
// ring to a consumer thread that frees them: every free is a cross-thread
// free. Both sides work in batches of kBatch and time only the allocator
// calls, so waiting on the ring (or on a busy machine's scheduler) is not
// counted as allocator cost; the median batch on each side gives the cost per
// object. Every kSampleEvery-th consumer batch times each free on its own
// instead, for the remote-free latency histogram. The producer is the
// allocating thread throughout, so a resource whose owner alone allocates
// (a concurrent pool created on that thread) takes part too.
class ProducerConsumer {
 public:
  // Large enough that on an oversubscribed machine each thread works through
  // many objects per time slice instead of waiting on the other.
  static constexpr size_t kRing = 8192;
  static constexpr size_t kBatch = 64;
  static constexpr int kSampleEvery = 8;
  explicit ProducerConsumer(Allocator& allocator, size_t min_size = 8, size_t max_size = 256);
  ~ProducerConsumer();  // stops and joins the consumer
  // Produces `count` objects (rounded up to whole batches).
  bool Produce(size_t count);
  // Waits for the consumer to drain the ring and stops it.
  void Stop();
  // After Stop(): cycles of one malloc plus one remote free (median batches).
  double cycles_per_object() const;
  const LatencyHistogram& free_latency() const { return free_latency_; }

 private:
  struct Item {
    void* ptr;
    uint32_t size;
  };
  void Consume();
  Allocator& a_;
  std::vector<uint32_t> sizes_;
  size_t cursor_ = 0;
  alignas(64) std::atomic<size_t> head_{0};  // next slot the producer writes
  alignas(64) std::atomic<size_t> tail_{0};  // next slot the consumer reads
  alignas(64) std::atomic<bool> stop_{false};
  size_t cached_tail_ = 0;
  // Cycles per full batch, each side. The median batch is the cost: a batch
  // that a preemption landed in does not move it.
  LatencyHistogram produce_batches_;  // producer thread only
  LatencyHistogram free_batches_;     // consumer thread only
  Item produce_batch_[kBatch];
  Item consume_batch_[kBatch];
  Item ring_[kRing];
  LatencyHistogram free_latency_;
  std::thread consumer_;
};

// Remote-free batch reclaim: the owner allocates a batch of blocks, another
// thread frees the whole batch, then the owner allocates a batch again with
// every allocation timed. An allocator that queues remote frees reclaims
// them on one of those allocations; the slowest allocation of the round is
// the stall the owner sees (recorded once per round).
class RemoteReclaim {
 public:
  static constexpr size_t kBatch = 256, kSize = 64;
  explicit RemoteReclaim(Allocator& allocator);
  ~RemoteReclaim();
  // One round; `record` false for warm-up rounds (first page commits, thread
  // caches), which are run but not measured.
  bool RunRound(bool record = true);
  // Rounds without an involuntary context switch of the owner only.
  const LatencyHistogram& worst_allocation() const { return worst_; }
  size_t preempted_rounds() const { return preempted_rounds_; }

 private:
  void Free();
  size_t preempted_rounds_ = 0;
  Allocator& a_;
  void* blocks_[kBatch];
  alignas(64) std::atomic<int> phase_{0};  // 1: batch handed over, 2: freed, -1: stop
  LatencyHistogram worst_;
  uint64_t overhead_;
  std::thread remote_;
};

// Medium sizes (256 B–64 KiB, log-uniform) in a long steady-state trace:
// `live` objects, `steps` random replacements, one byte written per page of
// every block. Held memory is sampled `samples` times over the second half.
// After the timed run the same trace is replayed on the placement model
// (placement_model.h), sampled at the same steps: the floor of what a heap
// that never moves a block holds beyond the live bytes on this very trace.
struct MediumTraceOptions {
  size_t live = 2048;
  size_t steps = 100000;
  int samples = 8;
  size_t min_size = 256, max_size = 64 * 1024;
};
struct MediumTraceResult {
  bool ok = false;
  std::string held_method;
  double live_bytes = 0;        // mean over the samples
  double held_bytes = 0;        // mean held - baseline over the samples
  double fragmentation = 0;     // mean of (held - live) / live over the samples
  double fragmentation_max = 0;
  // Mean over the samples of (BlockBytes - live) / live: headers and
  // rounding; negative when the subject does not say.
  double internal_overhead = -1;
  // The placement floor of the same trace: best fit and fewest partial.
  double floor_best_fit = 0;
  double floor_fewest_partial = 0;
  double seconds = 0;  // the whole trace, page touches included
  LatencyHistogram allocate;    // cycles
  // Bytes the subject moved (Allocator::Defragment; the blocks' requested
  // sizes) over the whole trace, and the moves.
  double moved_bytes = 0;
  size_t moves = 0;
};
MediumTraceResult RunMediumTrace(Allocator& allocator, const MediumTraceOptions& options);

// A frame build: `records` small records (16–128 B, each written) built one
// after another, then the frame is reset — Reset() where the subject has it,
// otherwise every record freed in order (what a malloc user must do). Build
// and frees are timed in the thread's CPU time (page faults count,
// preemption does not); a one-call reset on the cycle counter.
struct FrameResult {
  bool ok = false;
  bool true_reset = false;
  double build_ns_per_record = 0;  // median over frames
  double reset_us = 0;             // median over frames
  double frame_us = 0;             // median build + reset
  int frames = 0;
};
FrameResult RunFrames(Allocator& allocator, size_t records, int frames);

// Resource loading: assets of 1 KiB–1 MiB (log-uniform) loaded into a
// 64 MiB budget, evicting random assets when it is full; each load writes the
// header and touches every page (the cost of fresh or returned memory shows).
// Untimed until the budget is first full and `warmup_loads` more loads have
// evicted their way in: every subject has then grown its heap to the
// footprint this eviction pattern settles at, so the timed loads compare
// steady-state reuse (and the page faults each heap's returns of memory
// cost there), not how each first got its memory. Loads per second of the
// thread's CPU time (page faults count, preemption does not).
struct LoadingOptions {
  size_t loads = 20000;
  size_t warmup_loads = 20000;
  size_t budget_bytes = 64u << 20;
  size_t min_size = 1024, max_size = 1u << 20;
};
struct LoadingResult {
  bool ok = false;
  double loads_per_second = 0;
  LatencyHistogram allocate;  // cycles
};
LoadingResult RunResourceLoading(Allocator& allocator, const LoadingOptions& options);

}  // namespace alloy_bench

#endif  // ALLOY_BENCH_SUPPORT_WORKLOADS_H
