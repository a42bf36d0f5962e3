// bench/support/workloads.cc — the shared workloads.
#include "bench/support/workloads.h"

#include <algorithm>
#include <cstring>
#include <random>

#include "absl/random/distributions.h"
#include "absl/random/random.h"
#include "bench/support/cycle_clock.h"
#include "bench/support/percentile.h"
#include "bench/support/placement_model.h"
#include "bench/support/process_clocks.h"

namespace alloy_bench {
namespace {

constexpr size_t kPage = 4096;
constexpr size_t kTableSize = 1 << 16;  // random tables wrap with a mask

// What reading ThreadCpuSeconds twice costs (the median of a few pairs). The
// fixed traces run once and are timed in the thread's CPU time: on a shared
// machine the wall clock would mostly measure the other work's time slices.
double ThreadCpuSecondsOverhead() {
  std::vector<double> pairs;
  for (int i = 0; i < 64; ++i) {
    double t0 = ThreadCpuSeconds();
    pairs.push_back(ThreadCpuSeconds() - t0);
  }
  return Median(pairs);
}

uint64_t Overhead() { return static_cast<uint64_t>(GetCycleClock().overhead_cycles); }

// Cycles of one timed operation, with the empty-pair cost taken off.
inline uint64_t Net(uint64_t t0, uint64_t t1, uint64_t overhead) {
  uint64_t d = t1 - t0;
  return d > overhead ? d - overhead : 0;
}

// Touches one byte per page so that memory the OS must back is really backed.
inline void TouchPages(void* p, size_t size) {
  volatile char* c = static_cast<char*>(p);
  for (size_t off = 0; off < size; off += kPage) c[off] = 1;
  if (size != 0) c[size - 1] = 1;
}

}  // namespace

std::vector<uint32_t> MakeSizes(size_t count, size_t lo, size_t hi, bool log_uniform, uint64_t seed) {
  std::seed_seq seq{seed};
  absl::BitGen gen(seq);
  std::vector<uint32_t> sizes(count);
  for (auto& s : sizes) {
    s = static_cast<uint32_t>(log_uniform ? absl::LogUniform<size_t>(gen, lo, hi) : absl::Uniform<size_t>(absl::IntervalClosed, gen, lo, hi));
  }
  return sizes;
}

std::vector<uint32_t> MakeIndices(size_t count, size_t bound, uint64_t seed) {
  std::seed_seq seq{seed};
  absl::BitGen gen(seq);
  std::vector<uint32_t> indices(count);
  for (auto& i : indices) i = static_cast<uint32_t>(absl::Uniform<size_t>(gen, 0, bound));
  return indices;
}

// ---- batch pairs ------------------------------------------------------------

BatchPairs::BatchPairs(Allocator& allocator, const PairShape& shape)
    : a_(allocator),
      sizes_(MakeSizes(kTableSize, shape.min_size, shape.max_size, shape.log_uniform, 1)),
      lifo_(shape.lifo),
      overhead_(Overhead()) {
  const uint32_t mask = static_cast<uint32_t>(shape.granule - 1);
  for (uint32_t& size : sizes_) size = (size + mask) & ~mask;
}

bool BatchPairs::RunBatch() {
  const uint32_t* sizes = sizes_.data() + cursor_;
  for (int i = 0; i < kBatch; ++i) {
    slots_[i] = a_.Allocate(sizes[i], kAlign);
    if (slots_[i] == nullptr) return false;
    *static_cast<char*>(slots_[i]) = static_cast<char>(i);
  }
  for (int i = 0; i < kBatch; ++i) {
    const int slot = FreeSlot(i);
    a_.Free(slots_[slot], sizes[slot], kAlign);
  }
  cursor_ = (cursor_ + kBatch) & (kTableSize - 1);
  return true;
}

bool BatchPairs::RunTimedBatch(LatencyHistogram& allocate, LatencyHistogram& free) {
  const uint32_t* sizes = sizes_.data() + cursor_;
  for (int i = 0; i < kBatch; ++i) {
    uint64_t t0 = CyclesBegin();
    void* p = a_.Allocate(sizes[i], kAlign);
    uint64_t t1 = CyclesEnd();
    if (p == nullptr) return false;
    *static_cast<char*>(p) = static_cast<char>(i);
    slots_[i] = p;
    allocate.Add(Net(t0, t1, overhead_));
  }
  for (int i = 0; i < kBatch; ++i) {
    const int slot = FreeSlot(i);
    uint64_t t0 = CyclesBegin();
    a_.Free(slots_[slot], sizes[slot], kAlign);
    uint64_t t1 = CyclesEnd();
    free.Add(Net(t0, t1, overhead_));
  }
  cursor_ = (cursor_ + kBatch) & (kTableSize - 1);
  return true;
}

// ---- steady state ------------------------------------------------------------

SteadyState::SteadyState(Allocator& allocator, size_t live)
    : a_(allocator),
      ptrs_(live, nullptr),
      live_sizes_(live, 0),
      sizes_(MakeSizes(kTableSize, 8, 256, false, 2)),
      indices_(MakeIndices(kTableSize, live, 3)) {
  for (size_t i = 0; i < live; ++i) {
    live_sizes_[i] = sizes_[i & (kTableSize - 1)];
    ptrs_[i] = a_.Allocate(live_sizes_[i], 8);
    if (ptrs_[i] == nullptr) {
      ok_ = false;
      return;
    }
  }
}

SteadyState::~SteadyState() {
  for (size_t i = 0; i < ptrs_.size(); ++i)
    if (ptrs_[i] != nullptr) a_.Free(ptrs_[i], live_sizes_[i], 8);
}

bool SteadyState::Replace(size_t steps) {
  for (size_t s = 0; s < steps; ++s) {
    size_t slot = indices_[cursor_];
    uint32_t size = sizes_[cursor_];
    cursor_ = (cursor_ + 1) & (kTableSize - 1);
    a_.Free(ptrs_[slot], live_sizes_[slot], 8);
    void* p = a_.Allocate(size, 8);
    ptrs_[slot] = p;
    live_sizes_[slot] = size;
    if (p == nullptr) return false;
    *static_cast<char*>(p) = 1;
  }
  return true;
}

// ---- producer / consumer -------------------------------------------------------

ProducerConsumer::ProducerConsumer(Allocator& allocator, size_t min_size, size_t max_size)
    : a_(allocator), sizes_(MakeSizes(kTableSize, min_size, max_size, false, 4)) {
  consumer_ = std::thread([this] { Consume(); });
}

ProducerConsumer::~ProducerConsumer() { Stop(); }

bool ProducerConsumer::Produce(size_t count) {
  size_t head = head_.load(std::memory_order_relaxed);
  for (size_t done = 0; done < count; done += kBatch) {
    uint64_t t0 = CyclesBegin();
    for (size_t i = 0; i < kBatch; ++i) {
      uint32_t size = sizes_[cursor_];
      cursor_ = (cursor_ + 1) & (kTableSize - 1);
      void* p = a_.Allocate(size, 8);
      if (p == nullptr) return false;
      *static_cast<char*>(p) = 1;
      produce_batch_[i] = Item{p, size};
    }
    uint64_t t1 = CyclesEnd();
    produce_batches_.Add(t1 - t0);
    for (size_t i = 0; i < kBatch; ++i) {
      while (head - cached_tail_ >= kRing) {
        cached_tail_ = tail_.load(std::memory_order_acquire);
        if (head - cached_tail_ >= kRing) std::this_thread::yield();
      }
      ring_[head & (kRing - 1)] = produce_batch_[i];
      head_.store(++head, std::memory_order_release);
    }
  }
  return true;
}

void ProducerConsumer::Consume() {
  const uint64_t overhead = Overhead();
  size_t tail = tail_.load(std::memory_order_relaxed);
  int batch_number = 0;
  for (;;) {
    // Take up to a batch from the ring; a partial one only when stopping.
    size_t head = head_.load(std::memory_order_acquire);
    size_t available = head - tail;
    if (available < kBatch) {
      if (!stop_.load(std::memory_order_acquire)) {
        std::this_thread::yield();
        continue;
      }
      head = head_.load(std::memory_order_acquire);
      available = head - tail;
      if (available == 0) return;
    }
    size_t n = available < kBatch ? available : kBatch;
    for (size_t i = 0; i < n; ++i) consume_batch_[i] = ring_[(tail + i) & (kRing - 1)];
    tail += n;
    tail_.store(tail, std::memory_order_release);
    if (++batch_number % kSampleEvery == 0) {
      for (size_t i = 0; i < n; ++i) {
        uint64_t t0 = CyclesBegin();
        a_.Free(consume_batch_[i].ptr, consume_batch_[i].size, 8);
        uint64_t t1 = CyclesEnd();
        free_latency_.Add(Net(t0, t1, overhead));
      }
    } else {
      uint64_t t0 = CyclesBegin();
      for (size_t i = 0; i < n; ++i) a_.Free(consume_batch_[i].ptr, consume_batch_[i].size, 8);
      uint64_t t1 = CyclesEnd();
      if (n == kBatch) free_batches_.Add(t1 - t0);
    }
  }
}

double ProducerConsumer::cycles_per_object() const {
  if (produce_batches_.total() == 0 || free_batches_.total() == 0) return 0;
  return (produce_batches_.Quantile(0.5) + free_batches_.Quantile(0.5)) / static_cast<double>(kBatch);
}

void ProducerConsumer::Stop() {
  if (!consumer_.joinable()) return;
  stop_.store(true, std::memory_order_release);
  consumer_.join();
}

// ---- remote-free batch reclaim ------------------------------------------------

RemoteReclaim::RemoteReclaim(Allocator& allocator) : a_(allocator), overhead_(Overhead()) {
  remote_ = std::thread([this] { Free(); });
}

RemoteReclaim::~RemoteReclaim() {
  phase_.store(-1, std::memory_order_release);
  remote_.join();
}

void RemoteReclaim::Free() {
  for (;;) {
    int phase = phase_.load(std::memory_order_acquire);
    if (phase == -1) return;
    if (phase != 1) {
      std::this_thread::yield();
      continue;
    }
    for (size_t i = 0; i < kBatch; ++i) a_.Free(blocks_[i], kSize, 8);
    phase_.store(2, std::memory_order_release);
  }
}

bool RemoteReclaim::RunRound(bool record) {
  for (size_t i = 0; i < kBatch; ++i) {
    blocks_[i] = a_.Allocate(kSize, 8);
    if (blocks_[i] == nullptr) return false;
    *static_cast<char*>(blocks_[i]) = 1;
  }
  phase_.store(1, std::memory_order_release);
  while (phase_.load(std::memory_order_acquire) != 2) std::this_thread::yield();
  phase_.store(0, std::memory_order_relaxed);
  uint64_t worst = 0;
  bool ok = true;
  // A round in which the owner was preempted measures the scheduler, not the
  // reclaim: it is counted and left out of the histogram.
  const long switches = InvoluntarySwitches();
  for (size_t i = 0; i < kBatch; ++i) {
    uint64_t t0 = CyclesBegin();
    void* p = a_.Allocate(kSize, 8);
    uint64_t t1 = CyclesEnd();
    blocks_[i] = p;
    ok = ok && p != nullptr;
    uint64_t d = Net(t0, t1, overhead_);
    if (d > worst) worst = d;
  }
  const bool preempted = InvoluntarySwitches() != switches;
  for (size_t i = 0; i < kBatch; ++i)
    if (blocks_[i] != nullptr) a_.Free(blocks_[i], kSize, 8);
  if (!record) return ok;
  if (preempted) {
    ++preempted_rounds_;
  } else {
    worst_.Add(worst);
  }
  return ok;
}

// ---- medium trace --------------------------------------------------------------

namespace {

// The step after which sample `k` of the medium trace is taken, for a
// steady state of `steps` steps sampled `samples` times over its second half.
struct MediumSamples {
  size_t first, every, count;
  MediumSamples(size_t steps, int samples)
      : first(steps / 2),
        every(std::max<size_t>(1, steps / 2 / static_cast<size_t>(std::max(1, samples)))),
        count(static_cast<size_t>(std::max(1, samples))) {}
  bool At(size_t step, size_t taken) const {
    return step >= first && (step - first) % every == every - 1 && taken < count;
  }
};

// The medium trace replayed on the placement model: its mean held beyond
// live at the samples.
double MediumFloor(Placement placement, const std::vector<uint32_t>& sizes, const std::vector<uint32_t>& indices,
                   const MediumTraceOptions& o) {
  const size_t table = sizes.size();
  PlacementModel model(placement);
  std::vector<uint64_t> at(o.live);
  std::vector<uint32_t> live_sizes(o.live);
  size_t cursor = 0;
  auto allocate = [&](size_t slot) {
    live_sizes[slot] = sizes[cursor];
    cursor = (cursor + 1) & (table - 1);
    at[slot] = model.Allocate(live_sizes[slot]);
  };
  for (size_t i = 0; i < o.live; ++i) allocate(i);
  const MediumSamples samples(o.steps, o.samples);
  double sum = 0;
  size_t taken = 0;
  for (size_t s = 0; s < o.steps; ++s) {
    const size_t slot = indices[s & (table - 1)];
    model.Free(at[slot], live_sizes[slot]);
    allocate(slot);
    if (samples.At(s, taken)) {
      sum += static_cast<double>(model.rounding() + model.partial()) / static_cast<double>(model.live());
      ++taken;
    }
  }
  return taken != 0 ? sum / static_cast<double>(taken) : 0;
}

}  // namespace

MediumTraceResult RunMediumTrace(Allocator& a, const MediumTraceOptions& o) {
  MediumTraceResult r;
  if (a.max_size() < o.max_size) return r;
  // Everything the harness needs is allocated before the baseline.
  const size_t table = kTableSize;
  std::vector<uint32_t> sizes = MakeSizes(table, o.min_size, o.max_size, true, 5);
  std::vector<uint32_t> indices = MakeIndices(table, o.live, 6);
  std::vector<void*> ptrs(o.live, nullptr);
  std::vector<uint32_t> live_sizes(o.live, 0);
  const uint64_t overhead = Overhead();
  a.Trim();
  HeldMemory base = a.Held();
  r.held_method = base.method;
  size_t live_bytes = 0;
  size_t cursor = 0;
  auto allocate = [&](size_t slot) {
    uint32_t size = sizes[cursor];
    cursor = (cursor + 1) & (table - 1);
    uint64_t t0 = CyclesBegin();
    void* p = a.Allocate(size, 16);
    uint64_t t1 = CyclesEnd();
    r.allocate.Add(Net(t0, t1, overhead));
    if (p == nullptr) return false;
    TouchPages(p, size);
    ptrs[slot] = p;
    live_sizes[slot] = size;
    live_bytes += size;
    return true;
  };
  double start = MonotonicSeconds();
  bool ok = true;
  for (size_t i = 0; i < o.live && ok; ++i) ok = allocate(i);
  std::vector<double> frags, held_samples, live_samples, internal_samples;
  const MediumSamples samples(o.steps, o.samples);
  std::vector<BlockMove> moves;
  size_t moved_bytes = 0;
  // Repoints the blocks a subject moved (few per pass: sorted, then one scan).
  auto repoint = [&] {
    std::sort(moves.begin(), moves.end(), [](const BlockMove& x, const BlockMove& y) { return x.from < y.from; });
    for (size_t i = 0; i < o.live; ++i) {
      auto it = std::lower_bound(moves.begin(), moves.end(), ptrs[i],
                                 [](const BlockMove& m, void* p) { return m.from < p; });
      if (it != moves.end() && it->from == ptrs[i]) {
        ptrs[i] = it->to;
        moved_bytes += live_sizes[i];
        ++r.moves;
      }
    }
    moves.clear();
  };
  for (size_t s = 0; s < o.steps && ok; ++s) {
    size_t slot = indices[s & (table - 1)];
    a.Free(ptrs[slot], live_sizes[slot], 16);
    live_bytes -= live_sizes[slot];
    ptrs[slot] = nullptr;
    ok = allocate(slot);
    ok = ok && a.Defragment(&moves);
    if (!moves.empty()) repoint();
    if (samples.At(s, frags.size())) {
      HeldMemory now = a.Held();
      const double live = static_cast<double>(live_bytes);
      double held = static_cast<double>(now.bytes) - static_cast<double>(base.bytes);
      held_samples.push_back(held);
      live_samples.push_back(live);
      frags.push_back((held - live) / live);
      size_t block_bytes;
      if (a.BlockBytes(&block_bytes)) internal_samples.push_back((static_cast<double>(block_bytes) - live) / live);
    }
  }
  r.seconds = MonotonicSeconds() - start;
  r.moved_bytes = static_cast<double>(moved_bytes);
  for (size_t i = 0; i < o.live; ++i)
    if (ptrs[i] != nullptr) a.Free(ptrs[i], live_sizes[i], 16);
  if (!ok || frags.empty() || !base.known) return r;
  for (size_t i = 0; i < frags.size(); ++i) {
    r.fragmentation += frags[i] / static_cast<double>(frags.size());
    r.held_bytes += held_samples[i] / static_cast<double>(frags.size());
    r.live_bytes += live_samples[i] / static_cast<double>(frags.size());
  }
  r.fragmentation_max = *std::max_element(frags.begin(), frags.end());
  if (internal_samples.size() == frags.size()) {
    r.internal_overhead = 0;
    for (double v : internal_samples) r.internal_overhead += v / static_cast<double>(internal_samples.size());
  }
  r.floor_best_fit = MediumFloor(Placement::kBestFit, sizes, indices, o);
  r.floor_fewest_partial = MediumFloor(Placement::kFewestPartial, sizes, indices, o);
  r.ok = true;
  return r;
}

// ---- frame build ------------------------------------------------------------------

FrameResult RunFrames(Allocator& a, size_t records, int frames) {
  FrameResult r;
  std::vector<void*> ptrs(records);
  std::vector<uint32_t> sizes = MakeSizes(kTableSize, 16, 128, false, 7);
  for (auto& s : sizes) s &= ~7u;  // records are multiples of 8 B
  r.true_reset = a.can_reset();
  std::vector<double> build, reset;
  const double clock_pair = ThreadCpuSecondsOverhead();
  const uint64_t overhead = Overhead();
  for (int f = 0; f < frames; ++f) {
    if (r.true_reset && !a.Mark()) return r;
    double t0 = ThreadCpuSeconds();
    for (size_t i = 0; i < records; ++i) {
      uint32_t size = sizes[i & (kTableSize - 1)];
      void* p = a.Allocate(size, 8);
      if (p == nullptr) return r;
      uint64_t* rec = static_cast<uint64_t*>(p);
      rec[0] = i;
      rec[1] = size;
      ptrs[i] = p;
    }
    double t1 = ThreadCpuSeconds();
    build.push_back(std::max(0.0, t1 - t0 - clock_pair) * 1e9 / static_cast<double>(records));
    if (r.true_reset) {
      // One call: the cycle counter resolves it (a clock read costs more).
      uint64_t c0 = CyclesBegin();
      bool reset_ok = a.Reset();
      uint64_t c1 = CyclesEnd();
      if (!reset_ok) return r;
      reset.push_back(GetCycleClock().ToNs(static_cast<double>(Net(c0, c1, overhead))) / 1e3);
    } else {
      for (size_t i = 0; i < records; ++i) a.Free(ptrs[i], sizes[i & (kTableSize - 1)], 8);
      reset.push_back(std::max(0.0, ThreadCpuSeconds() - t1 - clock_pair) * 1e6);
    }
  }
  r.build_ns_per_record = Median(build);
  r.reset_us = Median(reset);
  r.frame_us = r.build_ns_per_record * static_cast<double>(records) / 1e3 + r.reset_us;
  r.frames = frames;
  r.ok = true;
  return r;
}

// ---- resource loading ---------------------------------------------------------------

LoadingResult RunResourceLoading(Allocator& a, const LoadingOptions& o) {
  LoadingResult r;
  if (a.max_size() < o.max_size) return r;
  std::vector<uint32_t> sizes = MakeSizes(kTableSize, o.min_size, o.max_size, true, 8);
  std::vector<uint32_t> picks = MakeIndices(kTableSize, 1u << 30, 9);
  const size_t max_assets = o.budget_bytes / o.min_size + 1;
  std::vector<void*> ptrs;
  std::vector<uint32_t> live_sizes;
  ptrs.reserve(max_assets);
  live_sizes.reserve(max_assets);
  const uint64_t overhead = Overhead();
  size_t live = 0;
  size_t pick = 0;
  bool ok = true;
  bool timed = false;  // after the warm-up (see workloads.h)
  size_t warmup_left = o.warmup_loads;
  bool evicting = false;
  double start = 0;
  size_t timed_loads = 0;
  for (size_t i = 0; timed_loads < o.loads && ok; ++i) {
    uint32_t size = sizes[i & (kTableSize - 1)];
    if (!evicting) evicting = live + size > o.budget_bytes;
    if (evicting && !timed && warmup_left-- == 0) {
      timed = true;
      start = ThreadCpuSeconds();
    }
    while (live + size > o.budget_bytes && !ptrs.empty()) {
      size_t victim = picks[pick++ & (kTableSize - 1)] % ptrs.size();
      a.Free(ptrs[victim], live_sizes[victim], 16);
      live -= live_sizes[victim];
      ptrs[victim] = ptrs.back();
      live_sizes[victim] = live_sizes.back();
      ptrs.pop_back();
      live_sizes.pop_back();
    }
    uint64_t t0 = CyclesBegin();
    void* p = a.Allocate(size, 16);
    uint64_t t1 = CyclesEnd();
    if (timed) r.allocate.Add(Net(t0, t1, overhead));
    if (p == nullptr) {
      ok = false;
      break;
    }
    memset(p, 0x42, std::min<size_t>(size, 64));
    TouchPages(p, size);
    ptrs.push_back(p);
    live_sizes.push_back(size);
    live += size;
    if (timed) ++timed_loads;
  }
  double seconds = ThreadCpuSeconds() - start;
  for (size_t i = 0; i < ptrs.size(); ++i) a.Free(ptrs[i], live_sizes[i], 16);
  if (!ok) return r;
  r.loads_per_second = static_cast<double>(o.loads) / seconds;
  r.ok = true;
  return r;
}

}  // namespace alloy_bench
