// TLSF defragmentation (alloy_tlsf_defrag_* and alloy_tlsf_virtual_defrag_*):
// random traces with passes in both modes, every block filled with a pattern
// naming it and verified after every pass, allocate and free between and
// during passes, the heap checked after every pass; held memory with passes
// against without; refusals, cancellations, tight budgets, the per-block
// mark, and every bad input.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "alloy/tlsf.h"
#include "tests/support/support.h"

namespace {

constexpr size_t kKiB = size_t{1} << 10;
constexpr size_t kMiB = size_t{1} << 20;

// Rounds of a trace: scaled (a tenth under Valgrind), a quarter under the
// sanitizers whose every access costs more.
size_t Rounds(size_t n, size_t minimum) {
  const size_t scaled = alloy_test::Scaled(n, minimum);
  return (alloy_test::kTsan || alloy_test::kAsan) ? std::max(minimum, scaled / 4) : scaled;
}

// ---- the two modes behind one face ---------------------------------------------

// The in-band heap: blocks are addresses.
class InBandHeap {
 public:
  // Takes over a heap created by the caller.
  explicit InBandHeap(alloy_tlsf *heap) : heap_(heap) {}
  InBandHeap() {
    alloy_tlsf_config config = alloy_tlsf_config_default();
    config.numa_node = ALLOY_TLSF_NUMA_NONE;
    config.initial_pool_size = 256 * kKiB;
    config.growth_size = 256 * kKiB;
    EXPECT_EQ(alloy_tlsf_create(&config, &heap_), ALLOY_OK);
  }
  ~InBandHeap() { alloy_tlsf_destroy(heap_); }
  static constexpr bool kVirtual = false;
  void *Allocate(size_t size) {
    alloy_block block;
    if (alloy_tlsf_allocate(heap_, size, 16, &block) != ALLOY_OK) return nullptr;
    return block.ptr;
  }
  alloy_status Free(void *ptr, size_t size) { return alloy_tlsf_deallocate(heap_, alloy_block{ptr, size}); }
  alloy_status Begin(alloy_tlsf_pass *pass) { return alloy_tlsf_defrag_begin(heap_, pass); }
  alloy_status End(alloy_tlsf_pass *pass) { return alloy_tlsf_defrag_end(heap_, pass); }
  alloy_status Check() const { return alloy_tlsf_check(heap_); }
  // Memory held: the pools minus the purged pages.
  size_t Held() const {
    alloy_tlsf_stats stats;
    alloy_tlsf_get_stats(heap_, &stats);
    return stats.held_bytes;
  }
  size_t Live() const {
    alloy_tlsf_stats stats;
    alloy_tlsf_get_stats(heap_, &stats);
    return stats.live_bytes;
  }
  alloy_tlsf *get() { return heap_; }

 private:
  alloy_tlsf *heap_ = nullptr;
};

// The virtual mode over a real buffer (so contents can be verified): blocks
// are base + offset.
class VirtualHeap {
 public:
  VirtualHeap() : memory_(new uint64_t[kRange / sizeof(uint64_t)]) {
    alloy_tlsf_virtual_config config = {};
    config.base = reinterpret_cast<uintptr_t>(memory_.get());
    config.range_bytes = kRange;
    EXPECT_EQ(alloy_tlsf_virtual_create(&config, &heap_), ALLOY_OK);
  }
  ~VirtualHeap() { alloy_tlsf_virtual_destroy(heap_); }
  static constexpr bool kVirtual = true;
  static constexpr size_t kRange = 24 * kMiB;
  char *base() const { return reinterpret_cast<char *>(memory_.get()); }
  void *Allocate(size_t size) {
    size_t offset, usable;
    if (alloy_tlsf_virtual_allocate(heap_, size, 16, &offset, &usable) != ALLOY_OK) return nullptr;
    return base() + offset;
  }
  alloy_status Free(void *ptr, size_t size) {
    return alloy_tlsf_virtual_free(heap_, static_cast<size_t>(static_cast<char *>(ptr) - base()), size);
  }
  alloy_status Begin(alloy_tlsf_pass *pass) { return alloy_tlsf_virtual_defrag_begin(heap_, pass); }
  alloy_status End(alloy_tlsf_pass *pass) { return alloy_tlsf_virtual_defrag_end(heap_, pass); }
  alloy_status Check() const { return alloy_tlsf_virtual_check(heap_); }
  // What the range commits: up to the end of its last used block.
  size_t Held() const {
    size_t end = 0;
    alloy_tlsf_virtual_walk(
        heap_,
        [](size_t offset, size_t size, bool used, void *context) {
          if (used) *static_cast<size_t *>(context) = offset + size;
          return true;
        },
        &end);
    return end;
  }
  size_t Live() const {
    alloy_tlsf_virtual_stats stats;
    alloy_tlsf_virtual_get_stats(heap_, &stats);
    return stats.live_bytes;
  }
  alloy_tlsf_virtual *get() { return heap_; }

 private:
  std::unique_ptr<uint64_t[]> memory_;
  alloy_tlsf_virtual *heap_ = nullptr;
};

// ---- a trace of named blocks ------------------------------------------------------

struct Slot {
  void *ptr = nullptr;
  size_t size = 0;
  uint32_t name = 0;  // the pattern's seed: which block this is
};

template <class Heap>
class Trace {
 public:
  Trace(Heap &heap, size_t slots, size_t min_size, size_t max_size, uint32_t seed)
      : heap_(heap), slots_(slots), rng_(seed), min_(min_size), max_(max_size) {}

  // Replaces `n` random slots (frees the old block, allocates a new one).
  void Churn(size_t n) {
    for (size_t i = 0; i < n; ++i) Replace(Pick());
  }
  void Fill() {
    for (size_t i = 0; i < slots_.size(); ++i)
      if (slots_[i].ptr == nullptr) Replace(i);
  }
  // Frees a fraction of the live blocks (the heap gets holes).
  void Thin(double fraction) {
    std::bernoulli_distribution drop(fraction);
    for (size_t i = 0; i < slots_.size(); ++i)
      if (slots_[i].ptr != nullptr && drop(rng_)) Release(i);
  }

  void Replace(size_t i) {
    if (slots_[i].ptr != nullptr) Release(i);
    std::uniform_real_distribution<double> log_size(std::log(static_cast<double>(min_)),
                                                    std::log(static_cast<double>(max_)));
    const size_t size = static_cast<size_t>(std::exp(log_size(rng_)));
    void *ptr = heap_.Allocate(size);
    ASSERT_NE(ptr, nullptr) << size;
    slots_[i] = Slot{ptr, size, ++names_};
    alloy_test::Fill(ptr, size, names_);
  }
  void Release(size_t i) {
    ASSERT_EQ(heap_.Free(slots_[i].ptr, slots_[i].size), ALLOY_OK);
    slots_[i] = Slot{};
  }
  size_t Pick() { return std::uniform_int_distribution<size_t>(0, slots_.size() - 1)(rng_); }

  // Every live block still holds its pattern.
  void Verify() const {
    for (const Slot &slot : slots_) {
      if (slot.ptr != nullptr) {
        ASSERT_TRUE(alloy_test::Check(slot.ptr, slot.size, slot.name)) << slot.name;
      }
    }
  }
  // The slot whose block is at `ptr`, or slots().size().
  size_t SlotOf(const void *ptr) const {
    for (size_t i = 0; i < slots_.size(); ++i)
      if (slots_[i].ptr == ptr) return i;
    return slots_.size();
  }
  // The live blocks by address, to find overlaps and slots quickly.
  std::map<const char *, size_t> ByAddress() const {
    std::map<const char *, size_t> live;
    for (size_t i = 0; i < slots_.size(); ++i)
      if (slots_[i].ptr != nullptr) live[static_cast<const char *>(slots_[i].ptr)] = i;
    return live;
  }
  // Whether [ptr, ptr + size) overlaps a live block of `live` (ByAddress).
  bool OverlapsLive(const std::map<const char *, size_t> &live, const void *ptr, size_t size) const {
    const char *begin = static_cast<const char *>(ptr);
    auto next = live.lower_bound(begin);
    if (next != live.end() && next->first < begin + size) return true;
    if (next == live.begin()) return false;
    --next;
    return next->first + slots_[next->second].size > begin;
  }
  std::vector<Slot> &slots() { return slots_; }
  std::mt19937 &rng() { return rng_; }

 private:
  Heap &heap_;
  std::vector<Slot> slots_;
  std::mt19937 rng_;
  size_t min_, max_;
  uint32_t names_ = 0;
};

alloy_tlsf_pass MakePass(std::vector<alloy_tlsf_move> &moves, size_t max_bytes, size_t max_moves) {
  alloy_tlsf_pass pass = {};
  pass.moves = moves.data();
  pass.capacity = moves.size();
  pass.max_bytes = max_bytes;
  pass.max_moves = max_moves;
  pass.all_movable = true;
  return pass;
}

// One pass as a user runs it: begin; checks the plan (destinations over
// nothing live, inside the budget, in a virtual range never past the used
// prefix); optionally frees a source and allocates
// other blocks during the pass; copies (unless the heap copies) what it
// does not refuse; updates its references at end; verifies every block.
template <class Heap>
void RunPass(Heap &heap, Trace<Heap> &trace, alloy_tlsf_pass &pass, bool refuse_some, bool churn_during) {
  const size_t held_before = heap.Held();
  ASSERT_EQ(heap.Begin(&pass), ALLOY_OK);
  ASSERT_EQ(heap.Check(), ALLOY_OK) << "during the pass";
  ASSERT_LE(pass.count, std::min(pass.capacity, pass.max_moves));
  ASSERT_LE(pass.planned_bytes, pass.max_bytes);
  size_t planned = 0;
  const std::map<const char *, size_t> live = trace.ByAddress();
  std::vector<size_t> source(pass.count);
  std::vector<uint32_t> name(pass.count);
  for (size_t i = 0; i < pass.count; ++i) {
    const alloy_tlsf_move &move = pass.moves[i];
    ASSERT_EQ(move.result, ALLOY_TLSF_MOVE_PLANNED);
    auto found = live.find(static_cast<const char *>(move.from));
    ASSERT_NE(found, live.end()) << "a move's source is not a live block";
    source[i] = found->second;
    name[i] = trace.slots()[source[i]].name;
    ASSERT_GE(move.size, trace.slots()[source[i]].size);
    ASSERT_FALSE(trace.OverlapsLive(live, move.to, move.size)) << "a destination overlaps a live block";
    // A block moves down, except a block of a run between two free blocks
    // that finds no place below (alloy/tlsf.h): then it may go up, but in a
    // virtual range never into the free end (the used prefix never grows).
    if (Heap::kVirtual) {
      ASSERT_LE(move.to_offset + move.size, held_before) << "a move lengthens the used prefix";
    }
    if (Heap::kVirtual) {
      ASSERT_EQ(static_cast<char *>(move.to) - static_cast<char *>(move.from),
                static_cast<ptrdiff_t>(move.to_offset - move.from_offset));
    }
    planned += move.size;
  }
  ASSERT_EQ(planned, pass.planned_bytes);
  // Frees and allocations of other blocks during the pass; freeing a source cancels its move.
  std::vector<bool> cancelled(pass.count, false);
  if (churn_during && pass.count > 0) {
    trace.Release(source[0]);
    trace.Churn(8);
    for (size_t i = 0; i < pass.count; ++i) cancelled[i] = trace.slots()[source[i]].name != name[i];
    ASSERT_EQ(heap.Check(), ALLOY_OK) << "after churn during the pass";
  }
  std::vector<bool> refused(pass.count, false);
  for (size_t i = 0; i < pass.count; ++i) {
    alloy_tlsf_move &move = pass.moves[i];
    if (cancelled[i]) continue;
    if (refuse_some && (i % 3) == 1) {
      move.refuse = true;
      refused[i] = true;
      continue;
    }
    if (!pass.copy) std::memcpy(move.to, move.from, move.size);
  }
  ASSERT_EQ(heap.End(&pass), ALLOY_OK);
  size_t moved_bytes = 0;
  for (size_t i = 0; i < pass.count; ++i) {
    alloy_tlsf_move &move = pass.moves[i];
    if (cancelled[i]) {
      ASSERT_EQ(move.result, ALLOY_TLSF_MOVE_CANCELLED) << i;
    } else if (refused[i]) {
      ASSERT_EQ(move.result, ALLOY_TLSF_MOVE_REFUSED) << i;
    } else {
      ASSERT_EQ(move.result, ALLOY_TLSF_MOVE_DONE) << i;
      trace.slots()[source[i]].ptr = move.to;
      moved_bytes += move.size;
    }
  }
  ASSERT_EQ(pass.moved_bytes, moved_bytes);
  ASSERT_EQ(heap.Check(), ALLOY_OK) << "after the pass";
  trace.Verify();
}

template <class Heap>
void RandomTraceWithPasses(uint32_t seed) {
  Heap heap;
  Trace<Heap> trace(heap, 600, 16, 32 * kKiB, seed);
  trace.Fill();
  const size_t rounds = Rounds(60, 6);
  size_t moved = 0, cancelled = 0, refused = 0;
  for (size_t round = 0; round < rounds; ++round) {
    trace.Churn(100);
    if (round % 4 == 0) trace.Thin(0.2);
    trace.Fill();
    std::vector<alloy_tlsf_move> moves(48);
    alloy_tlsf_pass pass = MakePass(moves, (round % 3 == 0) ? 256 * kKiB : SIZE_MAX, SIZE_MAX);
    pass.copy = !Heap::kVirtual && (round % 2 == 0);
    RunPass(heap, trace, pass, round % 5 == 2, round % 4 == 1);
    if (testing::Test::HasFatalFailure()) return;
    moved += pass.moved;
    cancelled += pass.cancelled;
    refused += pass.refused;
  }
  EXPECT_GT(moved, rounds);
  EXPECT_GT(cancelled, 0u);
  EXPECT_GT(refused, 0u);
}

TEST(TlsfDefrag, RandomTraceInBand) {
  for (uint32_t seed : {1u, 2u, 3u}) RandomTraceWithPasses<InBandHeap>(seed);
}

TEST(TlsfDefrag, RandomTraceVirtual) {
  for (uint32_t seed : {1u, 2u, 3u}) RandomTraceWithPasses<VirtualHeap>(seed);
}

// The same trace twice, once with a pass after every few hundred operations:
// the heap with passes holds less beyond its live bytes.
template <class Heap>
void HeldFallsWithPasses(size_t max_size) {
  Heap plain, defragmented;
  Trace<Heap> a(plain, 1500, 256, max_size, 7), b(defragmented, 1500, 256, max_size, 7);
  a.Fill();
  b.Fill();
  const size_t rounds = Rounds(24, 4);
  for (size_t round = 0; round < rounds; ++round) {
    a.Churn(300);
    b.Churn(300);
    if (round == rounds / 2) {
      // The heap shrinks: what a non-moving heap keeps in holes stays held.
      a.Thin(0.5);
      b.Thin(0.5);
    }
    for (int p = 0; p < 4; ++p) {
      std::vector<alloy_tlsf_move> moves(256);
      alloy_tlsf_pass pass = MakePass(moves, 2 * kMiB, SIZE_MAX);
      pass.copy = !Heap::kVirtual;
      RunPass(defragmented, b, pass, false, false);
      if (testing::Test::HasFatalFailure()) return;
    }
  }
  const double plain_beyond = static_cast<double>(plain.Held()) - static_cast<double>(plain.Live());
  const double defrag_beyond = static_cast<double>(defragmented.Held()) - static_cast<double>(defragmented.Live());
  testing::Test::RecordProperty("plain_beyond_live", std::to_string(plain_beyond));
  testing::Test::RecordProperty("defragmented_beyond_live", std::to_string(defrag_beyond));
  std::printf("held beyond live: %.0f B without passes, %.0f B with (live %zu / %zu B)\n", plain_beyond,
              defrag_beyond, plain.Live(), defragmented.Live());
  EXPECT_LT(defrag_beyond, plain_beyond / 2);
}

TEST(TlsfDefrag, HeldFallsInBand) { HeldFallsWithPasses<InBandHeap>(64 * kKiB); }
TEST(TlsfDefrag, HeldFallsVirtual) { HeldFallsWithPasses<VirtualHeap>(64 * kKiB); }

// The short runs of used blocks between two free ones move first: passes on
// a thinned heap leave fewer free blocks than it had (each run moved merges
// two free blocks with its space), every block keeping its contents.
template <class Heap>
size_t FreeBlocks(Heap &heap);
template <>
size_t FreeBlocks(InBandHeap &heap) {
  alloy_tlsf_stats stats;
  alloy_tlsf_get_stats(heap.get(), &stats);
  return stats.free_blocks;
}
template <>
size_t FreeBlocks(VirtualHeap &heap) {
  alloy_tlsf_virtual_stats stats;
  alloy_tlsf_virtual_get_stats(heap.get(), &stats);
  return stats.free_blocks;
}

template <class Heap>
void RunsMergeFreeBlocks() {
  Heap heap;
  Trace<Heap> trace(heap, 800, 64, 8 * kKiB, 21);
  trace.Fill();
  trace.Thin(0.4);
  const size_t before = FreeBlocks(heap);
  size_t moved = 0;
  for (int p = 0; p < 8; ++p) {
    std::vector<alloy_tlsf_move> moves(64);
    alloy_tlsf_pass pass = MakePass(moves, SIZE_MAX, SIZE_MAX);
    pass.copy = !Heap::kVirtual;
    RunPass(heap, trace, pass, false, false);
    if (testing::Test::HasFatalFailure()) return;
    moved += pass.moved;
  }
  const size_t after = FreeBlocks(heap);
  std::printf("free blocks: %zu before the passes, %zu after (%zu moves)\n", before, after, moved);
  EXPECT_GT(moved, 0u);
  EXPECT_LT(after, before - before / 4) << "moving the runs between free blocks merges them";
}

TEST(TlsfDefrag, RunsMergeFreeBlocksInBand) { RunsMergeFreeBlocks<InBandHeap>(); }
TEST(TlsfDefrag, RunsMergeFreeBlocksVirtual) { RunsMergeFreeBlocks<VirtualHeap>(); }

// pass.purge_free (in-band): end purges the whole pages of every free block
// still resident, so a trim right after finds none left; without it the
// free pages the trace left stay resident.
TEST(TlsfDefrag, PurgeFreeLeavesNoResidentFreePages) {
  for (bool purge_free : {false, true}) {
    alloy_tlsf_config config = alloy_tlsf_config_default();
    config.numa_node = ALLOY_TLSF_NUMA_NONE;
    config.initial_pool_size = 1 * kMiB;
    config.spare_bytes = 0;  // trim would count the spares given back
    alloy_tlsf *raw = nullptr;
    ASSERT_EQ(alloy_tlsf_create(&config, &raw), ALLOY_OK);
    InBandHeap heap(raw);
    Trace<InBandHeap> trace(heap, 300, 4 * kKiB, 32 * kKiB, 17);
    trace.Fill();
    trace.Thin(0.5);
    std::vector<alloy_tlsf_move> moves(16);
    alloy_tlsf_pass pass = MakePass(moves, 64 * kKiB, SIZE_MAX);
    pass.copy = true;
    pass.purge_free = purge_free;
    RunPass(heap, trace, pass, false, false);
    if (testing::Test::HasFatalFailure()) return;
    const size_t trimmed = alloy_tlsf_trim(heap.get());
    if (purge_free) {
      EXPECT_GT(pass.released_bytes, 0u);
      EXPECT_EQ(trimmed, 0u) << "no resident free page is left after the pass";
    } else {
      EXPECT_GT(trimmed, 0u) << "the trace's free pages are still resident";
    }
    EXPECT_EQ(heap.Check(), ALLOY_OK);
    trace.Verify();
  }
}

// Budgets: a pass never plans more bytes or moves than allowed, says which
// blocks the byte budget left, and many tight passes still verify.
template <class Heap>
void TightBudgets() {
  Heap heap;
  Trace<Heap> trace(heap, 400, 64, 16 * kKiB, 11);
  trace.Fill();
  trace.Thin(0.5);
  size_t left_budget = 0, moves = 0;
  for (size_t round = 0; round < Rounds(50, 10); ++round) {
    std::vector<alloy_tlsf_move> room(8);
    alloy_tlsf_pass pass = MakePass(room, round % 2 == 0 ? 1 * kKiB : SIZE_MAX, round % 2 == 0 ? SIZE_MAX : 1);
    RunPass(heap, trace, pass, false, false);
    if (testing::Test::HasFatalFailure()) return;
    if (round % 2 == 0) {
      EXPECT_LE(pass.planned_bytes, 1 * kKiB);
    } else {
      EXPECT_LE(pass.count, 1u);
    }
    left_budget += pass.left_budget;
    moves += pass.moved;
    trace.Churn(20);
  }
  EXPECT_GT(left_budget, 0u);
  EXPECT_GT(moves, 0u);
}

TEST(TlsfDefrag, TightBudgetsInBand) { TightBudgets<InBandHeap>(); }
TEST(TlsfDefrag, TightBudgetsVirtual) { TightBudgets<VirtualHeap>(); }

// The refusal path: every refused block stays where it was with its
// contents, its destination goes back, the live bytes are as before.
template <class Heap>
void RefuseAll() {
  Heap heap;
  Trace<Heap> trace(heap, 300, 64, 8 * kKiB, 5);
  trace.Fill();
  trace.Thin(0.5);
  const size_t live = heap.Live();
  std::vector<alloy_tlsf_move> room(32);
  alloy_tlsf_pass pass = MakePass(room, SIZE_MAX, SIZE_MAX);
  ASSERT_EQ(heap.Begin(&pass), ALLOY_OK);
  ASSERT_GT(pass.count, 0u);
  EXPECT_GE(heap.Live(), live + pass.planned_bytes) << "destinations count as live during the pass";
  for (size_t i = 0; i < pass.count; ++i) room[i].refuse = true;
  ASSERT_EQ(heap.End(&pass), ALLOY_OK);
  EXPECT_EQ(pass.refused, pass.count);
  EXPECT_EQ(pass.moved, 0u);
  for (size_t i = 0; i < pass.count; ++i) EXPECT_EQ(room[i].result, ALLOY_TLSF_MOVE_REFUSED);
  EXPECT_EQ(heap.Live(), live);
  EXPECT_EQ(heap.Check(), ALLOY_OK);
  trace.Verify();
}

TEST(TlsfDefrag, RefuseAllInBand) { RefuseAll<InBandHeap>(); }
TEST(TlsfDefrag, RefuseAllVirtual) { RefuseAll<VirtualHeap>(); }

// The per-block mark: only blocks the callback allows move; the others are
// left as not movable, each told to `left` once.
struct MarkContext {
  std::map<const void *, bool> movable;
  size_t asked = 0, told[3] = {0, 0, 0};
};

template <class Heap>
void PerBlockMark() {
  Heap heap;
  Trace<Heap> trace(heap, 300, 64, 8 * kKiB, 9);
  trace.Fill();
  trace.Thin(0.5);
  MarkContext mark;
  for (size_t i = 0; i < trace.slots().size(); ++i)
    if (trace.slots()[i].ptr != nullptr) mark.movable[trace.slots()[i].ptr] = (i % 2) == 0;
  std::vector<alloy_tlsf_move> room(64);
  alloy_tlsf_pass pass = MakePass(room, SIZE_MAX, SIZE_MAX);
  pass.all_movable = false;
  pass.context = &mark;
  pass.movable = [](void *ptr, size_t, size_t, void *context) {
    auto *m = static_cast<MarkContext *>(context);
    ++m->asked;
    return m->movable.at(ptr);
  };
  pass.left = [](void *, size_t, size_t, alloy_tlsf_left_reason why, void *context) {
    ++static_cast<MarkContext *>(context)->told[why];
  };
  ASSERT_EQ(heap.Begin(&pass), ALLOY_OK);
  for (size_t i = 0; i < pass.count; ++i) EXPECT_TRUE(mark.movable.at(room[i].from)) << "an unmarked block moves";
  EXPECT_GT(pass.count, 0u);
  EXPECT_GT(pass.left_not_movable, 0u);
  EXPECT_EQ(mark.told[ALLOY_TLSF_LEFT_NOT_MOVABLE], pass.left_not_movable);
  EXPECT_EQ(mark.told[ALLOY_TLSF_LEFT_NO_BETTER_PLACE], pass.left_no_better_place);
  EXPECT_EQ(mark.told[ALLOY_TLSF_LEFT_BUDGET], pass.left_budget);
  EXPECT_EQ(mark.asked, pass.count + pass.left_not_movable + pass.left_no_better_place + pass.left_budget);
  for (size_t i = 0; i < pass.count; ++i) std::memcpy(room[i].to, room[i].from, room[i].size);
  ASSERT_EQ(heap.End(&pass), ALLOY_OK);
  for (size_t i = 0; i < pass.count; ++i) trace.slots()[trace.SlotOf(room[i].from)].ptr = room[i].to;
  trace.Verify();
  EXPECT_EQ(heap.Check(), ALLOY_OK);
}

TEST(TlsfDefrag, PerBlockMarkInBand) { PerBlockMark<InBandHeap>(); }
TEST(TlsfDefrag, PerBlockMarkVirtual) { PerBlockMark<VirtualHeap>(); }

// A compact heap has nothing to move: the pass plans nothing and says why.
TEST(TlsfDefrag, CompactHeapPlansNothing) {
  VirtualHeap heap;
  std::vector<void *> blocks;
  for (int i = 0; i < 50; ++i) blocks.push_back(heap.Allocate(1000));
  std::vector<alloy_tlsf_move> room(8);
  alloy_tlsf_pass pass = MakePass(room, SIZE_MAX, SIZE_MAX);
  ASSERT_EQ(heap.Begin(&pass), ALLOY_OK);
  EXPECT_EQ(pass.count, 0u);
  EXPECT_GT(pass.left_no_better_place, 0u);
  EXPECT_EQ(heap.End(&pass), ALLOY_OK);
  EXPECT_EQ(heap.Check(), ALLOY_OK);
}

// Every bad input gets its status; nothing changes on any of them.
template <class Heap>
void BadInputs() {
  Heap heap, other;
  Trace<Heap> trace(heap, 100, 64, 4 * kKiB, 3);
  trace.Fill();
  trace.Thin(0.5);
  std::vector<alloy_tlsf_move> room(16);
  alloy_tlsf_pass pass = MakePass(room, SIZE_MAX, SIZE_MAX);

  EXPECT_EQ(heap.Begin(nullptr), ALLOY_E_INVALID_ARGUMENT) << "NULL pass";
  EXPECT_EQ(heap.End(nullptr), ALLOY_E_INVALID_ARGUMENT) << "NULL pass";
  EXPECT_EQ(heap.End(&pass), ALLOY_E_OUT_OF_ORDER) << "end without begin";
  for (int field = 0; field < 4; ++field) {
    alloy_tlsf_pass bad = pass;
    if (field == 0) bad.max_bytes = 0;
    if (field == 1) bad.max_moves = 0;
    if (field == 2) bad.capacity = 0;
    if (field == 3) bad.moves = nullptr;
    EXPECT_EQ(heap.Begin(&bad), ALLOY_E_INVALID_ARGUMENT) << "a zero budget or no room, field " << field;
  }
  alloy_tlsf_pass unmarked = pass;
  unmarked.all_movable = false;
  EXPECT_EQ(heap.Begin(&unmarked), ALLOY_E_INVALID_ARGUMENT) << "no block may move";
  if (Heap::kVirtual) {
    alloy_tlsf_pass copying = pass;
    copying.copy = true;
    EXPECT_EQ(heap.Begin(&copying), ALLOY_E_UNSUPPORTED) << "the virtual mode never touches the range";
    alloy_tlsf_pass purging = pass;
    purging.purge_free = true;
    EXPECT_EQ(heap.Begin(&purging), ALLOY_E_UNSUPPORTED) << "the range's pages are the caller's";
  }
  EXPECT_EQ(heap.Check(), ALLOY_OK);

  ASSERT_EQ(heap.Begin(&pass), ALLOY_OK);
  ASSERT_GT(pass.count, 1u);
  alloy_tlsf_pass second = MakePass(room, SIZE_MAX, SIZE_MAX);
  EXPECT_EQ(heap.Begin(&second), ALLOY_E_OUT_OF_ORDER) << "begin twice";
  EXPECT_EQ(heap.Begin(&pass), ALLOY_E_OUT_OF_ORDER) << "begin twice, same pass";
  {
    alloy_test::FaultRecorder faults;
    // Another heap's pass, and a copy of the open pass: foreign.
    EXPECT_EQ(other.End(&pass), ALLOY_E_OUT_OF_ORDER) << "the other heap has no pass open";
    ASSERT_EQ(other.Begin(&second), ALLOY_OK);
    EXPECT_EQ(heap.End(&second), ALLOY_E_NOT_OWNED) << "another heap's pass";
    EXPECT_EQ(other.End(&pass), ALLOY_E_NOT_OWNED) << "this heap's pass on the other heap";
    alloy_tlsf_pass copy = pass;
    EXPECT_EQ(heap.End(&copy), ALLOY_E_NOT_OWNED) << "a copy of the pass";
    // A destination changed by the caller to a foreign pointer: end refuses, the pass stays open.
    void *to = room[0].to;
    alignas(16) char foreign[64] = {};
    room[0].to = foreign;
    EXPECT_EQ(heap.End(&pass), ALLOY_E_NOT_OWNED) << "a foreign destination";
    room[0].to = to;
    // Freeing a destination: not the caller's yet.
    EXPECT_EQ(heap.Free(room[1].to, room[1].size), ALLOY_E_NOT_OWNED);
    EXPECT_EQ(faults.count(ALLOY_E_NOT_OWNED), 5u);
    EXPECT_EQ(other.End(&second), ALLOY_OK);
  }
  // Freeing a source during the pass: allowed, its move is cancelled.
  const size_t victim = trace.SlotOf(room[1].from);
  ASSERT_LT(victim, trace.slots().size());
  trace.Release(victim);
  EXPECT_EQ(heap.Check(), ALLOY_OK);
  for (size_t i = 0; i < pass.count; ++i)
    if (i != 1) std::memcpy(room[i].to, room[i].from, room[i].size);
  ASSERT_EQ(heap.End(&pass), ALLOY_OK);
  EXPECT_EQ(room[1].result, ALLOY_TLSF_MOVE_CANCELLED);
  EXPECT_EQ(pass.cancelled, 1u);
  EXPECT_EQ(heap.End(&pass), ALLOY_E_OUT_OF_ORDER) << "end twice";
  for (size_t i = 0; i < pass.count; ++i) {
    if (room[i].result != ALLOY_TLSF_MOVE_DONE) continue;
    const size_t slot = trace.SlotOf(room[i].from);
    ASSERT_LT(slot, trace.slots().size());
    trace.slots()[slot].ptr = room[i].to;
  }
  trace.Verify();
  EXPECT_EQ(heap.Check(), ALLOY_OK);
  EXPECT_EQ(other.Check(), ALLOY_OK);
}

TEST(TlsfDefrag, BadInputsInBand) { BadInputs<InBandHeap>(); }
TEST(TlsfDefrag, BadInputsVirtual) { BadInputs<VirtualHeap>(); }

}  // namespace
