// How low an allocator that never moves a block can hold the fragmentation
// of bench/tlsf:fragmentation's trace with 4 KiB pages, even when it
// returns every free page at no cost and searches every free range.
//
// The trace (medium_trace.h) is replayed on a model heap, one contiguous
// address range with no pools and no headers, where a block takes its size
// rounded up to 16 bytes (the default alignment) and nothing else. Every
// whole page inside a free range is taken as given back to the OS at no
// cost, so the memory held beyond the live bytes is only:
//   rounding  the 16-byte rounding of the live blocks
//   partial   free bytes on pages that also hold live bytes: a page is the
//             smallest unit the OS takes back, so nothing can return these
// Two placements are replayed:
//   best fit        the smallest free range that holds the request, the
//                   block at its start (what TLSF approximates)
//   fewest partial  every free range that holds the request, and in each the
//                   block at its start, at its end, or ending or starting on
//                   a page boundary: whichever lowers the partial bytes
//                   most (ties: the smaller range, then the lower address).
//                   A search over all free ranges per allocation, which no
//                   real allocator can afford: a greedy placement far better
//                   informed than any O(1) one.
// The fragmentation is defined as in bench/tlsf:fragmentation ((held - live)
// / live, live = requested bytes, sampled 300 times over the steady state).
//
// Usage: placement_floor [live_mib=64] [steady_ops=3000000] [seed=42]
#include <algorithm>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <set>
#include <utility>

#include "bench/tlsf/medium_trace.h"

namespace {

constexpr uint64_t kPage = 4096;
constexpr uint64_t kAlign = 16;

uint64_t PageDown(uint64_t x) { return x & ~(kPage - 1); }
uint64_t PageUp(uint64_t x) { return PageDown(x + kPage - 1); }

// Bytes of the free range [begin, end) that share a page with live bytes
// (its neighbours are live, or the range is empty).
uint64_t PartialBytes(uint64_t begin, uint64_t end) {
  if (end <= begin) return 0;
  if (PageDown(begin) == PageDown(end - 1)) return end - begin;
  return (PageUp(begin) - begin) + (end - PageDown(end));
}

enum class Placement { kBestFit, kFewestPartial };

// Free ranges of the model heap, by address and by size, with the running
// sum of their partial bytes. Memory above `top` was never used.
class ModelHeap {
 public:
  explicit ModelHeap(Placement placement) : placement_(placement) {}

  uint64_t Allocate(uint64_t size) {
    size = (size + kAlign - 1) & ~(kAlign - 1);
    auto fit = by_size_.lower_bound({size, 0});
    if (fit == by_size_.end()) return Extend(size);
    if (placement_ == Placement::kBestFit) {
      const uint64_t begin = fit->second, end = begin + fit->first;
      Carve(begin, end, begin, size);
      return begin;
    }
    // The change in partial bytes: filling a range also ends the partial
    // bytes it had.
    int64_t best_change = INT64_MAX;
    uint64_t best_begin = 0, best_end = 0, best_at = 0;
    for (; fit != by_size_.end(); ++fit) {
      const uint64_t begin = fit->second, end = begin + fit->first;
      const int64_t before = static_cast<int64_t>(PartialBytes(begin, end));
      const uint64_t candidates[] = {begin, end - size, PageUp(begin + size) - size, PageUp(begin)};
      for (uint64_t at : candidates) {
        if (at < begin || at + size > end) continue;
        const int64_t change =
            static_cast<int64_t>(PartialBytes(begin, at) + PartialBytes(at + size, end)) - before;
        if (change < best_change) {  // ranges come smallest first, then lowest address
          best_change = change;
          best_begin = begin;
          best_end = end;
          best_at = at;
        }
      }
    }
    Carve(best_begin, best_end, best_at, size);
    return best_at;
  }

  void Free(uint64_t begin, uint64_t size) {
    uint64_t end = begin + ((size + kAlign - 1) & ~(kAlign - 1));
    auto next = by_address_.find(end);
    if (next != by_address_.end()) {
      end = next->second;
      Remove(next->first);
    }
    auto prev = by_address_.lower_bound(begin);
    if (prev != by_address_.begin() && (--prev)->second == begin) {
      begin = prev->first;
      Remove(begin);
    }
    if (end == top_) {
      top_ = begin;
      return;
    }
    Insert(begin, end);
  }

  // Partial bytes of the free ranges plus the unused end of the top page.
  uint64_t partial() const { return partial_ + (PageUp(top_) - top_); }
  size_t free_ranges() const { return by_address_.size(); }

 private:
  uint64_t Extend(uint64_t size) {
    const uint64_t at = top_;
    top_ += size;
    return at;
  }
  void Carve(uint64_t begin, uint64_t end, uint64_t at, uint64_t size) {
    Remove(begin);
    Insert(begin, at);
    Insert(at + size, end);
  }
  void Insert(uint64_t begin, uint64_t end) {
    if (end <= begin) return;
    by_address_[begin] = end;
    by_size_.insert({end - begin, begin});
    partial_ += PartialBytes(begin, end);
  }
  void Remove(uint64_t begin) {
    auto it = by_address_.find(begin);
    partial_ -= PartialBytes(begin, it->second);
    by_size_.erase({it->second - begin, begin});
    by_address_.erase(it);
  }

  Placement placement_;
  std::map<uint64_t, uint64_t> by_address_;         // begin -> end
  std::set<std::pair<uint64_t, uint64_t>> by_size_;  // (size, begin)
  uint64_t partial_ = 0;
  uint64_t top_ = 0;
};

struct Result {
  double fragmentation = 0, worst = 0, rounding = 0, partial = 0, free_ranges = 0;
};

Result Replay(Placement placement, const alloy_bench::MediumTrace &trace) {
  ModelHeap heap(placement);
  uint64_t *at = alloy_bench::MapArray<uint64_t>(trace.slots);
  uint32_t *sizes = alloy_bench::MapArray<uint32_t>(trace.slots);
  const size_t steady = trace.count - trace.ramp;
  const size_t sample_every = steady / 300 ? steady / 300 : 1;
  uint64_t live = 0, rounded = 0;
  Result sum;
  size_t samples = 0;
  for (size_t i = 0; i < trace.count; ++i) {
    const alloy_bench::TraceOp op = trace.ops[i];
    if (op.size != 0) {
      at[op.slot] = heap.Allocate(op.size);
      sizes[op.slot] = op.size;
      live += op.size;
      rounded += (op.size + kAlign - 1) & ~(kAlign - 1);
    } else {
      heap.Free(at[op.slot], sizes[op.slot]);
      live -= sizes[op.slot];
      rounded -= (sizes[op.slot] + kAlign - 1) & ~(kAlign - 1);
    }
    if (i >= trace.ramp && (i - trace.ramp) % sample_every == sample_every - 1) {
      const double l = static_cast<double>(live);
      const double rounding = static_cast<double>(rounded - live) / l;
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
