// bench/support/placement_model.cc — the model heap of the placement floor.
#include "bench/support/placement_model.h"

#include <cstdint>

namespace alloy_bench {
namespace {

constexpr uint64_t kPage = PlacementModel::kPage;

uint64_t PageDown(uint64_t x) { return x & ~(kPage - 1); }
uint64_t PageUp(uint64_t x) { return PageDown(x + kPage - 1); }
uint64_t Rounded(uint64_t size) { return (size + PlacementModel::kAlign - 1) & ~(PlacementModel::kAlign - 1); }

// Bytes of the free range [begin, end) that share a page with live bytes
// (its neighbours are live, or the range is empty).
uint64_t PartialBytes(uint64_t begin, uint64_t end) {
  if (end <= begin) return 0;
  if (PageDown(begin) == PageDown(end - 1)) return end - begin;
  return (PageUp(begin) - begin) + (end - PageDown(end));
}

}  // namespace

uint64_t PlacementModel::Allocate(uint64_t asked) {
  const uint64_t size = Rounded(asked);
  live_ += asked;
  rounded_ += size;
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
      const int64_t change = static_cast<int64_t>(PartialBytes(begin, at) + PartialBytes(at + size, end)) - before;
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

void PlacementModel::Free(uint64_t begin, uint64_t asked) {
  const uint64_t size = Rounded(asked);
  live_ -= asked;
  rounded_ -= size;
  uint64_t end = begin + size;
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

uint64_t PlacementModel::partial() const { return partial_ + (PageUp(top_) - top_); }

uint64_t PlacementModel::Extend(uint64_t size) {
  const uint64_t at = top_;
  top_ += size;
  return at;
}

void PlacementModel::Carve(uint64_t begin, uint64_t end, uint64_t at, uint64_t size) {
  Remove(begin);
  Insert(begin, at);
  Insert(at + size, end);
}

void PlacementModel::Insert(uint64_t begin, uint64_t end) {
  if (end <= begin) return;
  by_address_[begin] = end;
  by_size_.insert({end - begin, begin});
  partial_ += PartialBytes(begin, end);
}

void PlacementModel::Remove(uint64_t begin) {
  auto it = by_address_.find(begin);
  partial_ -= PartialBytes(begin, it->second);
  by_size_.erase({it->second - begin, begin});
  by_address_.erase(it);
}

}  // namespace alloy_bench
