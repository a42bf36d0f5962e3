// bench/support/placement_model.h — the placement floor of a trace: how
// little memory beyond the live bytes any allocator that never moves a
// block can hold, when memory is counted in 4 KiB pages.
//
// A model heap replays allocations and frees on one contiguous address
// range with no pools and no headers, where a block takes its size rounded
// up to 16 bytes and nothing else. Every whole page inside a free range is
// taken as given back to the OS at no cost, so what it holds beyond the live
// bytes is only:
//   rounding  the 16-byte rounding of the live blocks;
//   partial   free bytes on pages that also hold live bytes: a page is the
//             smallest unit the OS takes back, so nothing can return these.
// Two placements:
//   best fit        the smallest free range that holds the request, the
//                   block at its start (what TLSF approximates);
//   fewest partial  every free range that holds the request, and in each the
//                   block at its start, at its end, or ending or starting on
//                   a page boundary: whichever lowers the partial bytes most
//                   (ties: the smaller range, then the lower address). A
//                   search over all free ranges per allocation, which no
//                   real allocator can afford: the floor.
#ifndef ALLOY_BENCH_SUPPORT_PLACEMENT_MODEL_H
#define ALLOY_BENCH_SUPPORT_PLACEMENT_MODEL_H

#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <utility>

namespace alloy_bench {

enum class Placement { kBestFit, kFewestPartial };

class PlacementModel {
 public:
  static constexpr uint64_t kPage = 4096;
  static constexpr uint64_t kAlign = 16;

  explicit PlacementModel(Placement placement) : placement_(placement) {}

  // The block's offset in the model's range.
  uint64_t Allocate(uint64_t size);
  // `size` as given to Allocate.
  void Free(uint64_t offset, uint64_t size);

  // Held beyond the live bytes: their rounding plus the partial bytes.
  uint64_t rounding() const { return rounded_ - live_; }
  uint64_t partial() const;  // of the free ranges, and the unused end of the top page
  uint64_t live() const { return live_; }
  size_t free_ranges() const { return by_address_.size(); }

 private:
  uint64_t Extend(uint64_t size);
  void Carve(uint64_t begin, uint64_t end, uint64_t at, uint64_t size);
  void Insert(uint64_t begin, uint64_t end);
  void Remove(uint64_t begin);

  Placement placement_;
  std::map<uint64_t, uint64_t> by_address_;          // begin -> end
  std::set<std::pair<uint64_t, uint64_t>> by_size_;  // (size, begin)
  uint64_t partial_ = 0;
  uint64_t top_ = 0;
  uint64_t live_ = 0;     // sizes as asked
  uint64_t rounded_ = 0;  // sizes as placed
};

}  // namespace alloy_bench

#endif  // ALLOY_BENCH_SUPPORT_PLACEMENT_MODEL_H
