// The interpreter and the model behind RunShadow (see shadow_model.h).
#include "tests/fuzz/shadow_model.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "alloy/align.h"
#include "tests/fuzz/input_reader.h"
#include "tests/fuzz/lockstep_threads.h"

namespace alloy_fuzz {
namespace {

struct Live {
  alloy_block block;
  size_t size;   // requested
  size_t align;
  uint8_t tag;
  uint64_t seq;  // when it was last placed (allocate or a successful reallocate)
};

struct Marker {
  alloy_marker marker;
  uint64_t seq;  // blocks placed at or after this are freed by a rewind to it
};


// A request drawn from the input: most are ordinary, some are zero, huge,
// invalid or over-aligned, which must fail with the documented status.
struct Request {
  size_t size;
  size_t align;
  bool invalid;  // the contract requires ALLOY_E_INVALID_ARGUMENT
};

size_t DrawSize(Reader &in, size_t typical, bool huge_allowed) {
  const uint8_t kind = in.Byte() % 16;
  const size_t word = in.Word();
  if (kind == 0) return 0;
  if (kind < 7) return word % 257;
  if (kind < 13) return word % (typical + 1);
  if (kind < 15) return typical + word % (4 * typical + 1);  // above what the strategy serves
  if (!huge_allowed) return typical + word % (8 * typical + 1);
  return size_t{1} << (28 + word % 20);  // far beyond any reservation
}

Request DrawRequest(Reader &in, size_t typical, bool huge_allowed) {
  Request request{DrawSize(in, typical, huge_allowed), 0, false};
  const uint8_t a = in.Byte();
  if (a < 160) {
    request.align = size_t{1} << (a % 5);  // 1..16
  } else if (a < 220) {
    request.align = size_t{1} << (5 + a % 8);  // 32..4096
  } else if (a < 245) {
    request.align = size_t{1} << (13 + a % 10);  // above a page: 8 KiB..4 MiB
  } else if (a < 252) {
    request.align = 3u * (a - 240);  // never a power of two (0 included)
    request.invalid = true;
  } else {
    request.align = 8;
    request.size = ALLOY_MAX_REQUEST + 1 + a;  // overflows
    request.invalid = true;
  }
  return request;
}

[[noreturn]] void Fail(const Subject &subject, const char *what, const Live *live) {
  std::fprintf(stderr, "%s: shadow model disagrees: %s", subject.name, what);
  if (live)
    std::fprintf(stderr, " (block %p size %zu, requested %zu align %zu)", live->block.ptr, live->block.size,
                 live->size, live->align);
  std::fprintf(stderr, "\n");
  std::abort();
}

uint8_t PatternByte(const Live &live, size_t i) { return static_cast<uint8_t>(live.tag + i * 7); }

void Stamp(const Live &live) {
  auto *bytes = static_cast<uint8_t *>(live.block.ptr);
  for (size_t i = 0; i < live.size; ++i) bytes[i] = PatternByte(live, i);
}

// The whole pattern, or only its first and last bytes (the per-step check).
bool PatternIntact(const Live &live, bool whole) {
  const auto *bytes = static_cast<const uint8_t *>(live.block.ptr);
  const size_t edge = 32;
  for (size_t i = 0; i < live.size; ++i) {
    if (!whole && i == edge && live.size > 2 * edge) i = live.size - edge;
    if (bytes[i] != PatternByte(live, i)) return false;
  }
  return true;
}

// Stack order: by address, and a zero-size block shares its address with
// the block placed after it, which is then above it.
bool PlacedBelow(const Live &a, const Live &b) {
  return a.block.ptr != b.block.ptr ? a.block.ptr < b.block.ptr : a.seq < b.seq;
}

bool IsExpectedRefusal(alloy_status status) {
  return status == ALLOY_E_UNSUPPORTED || status == ALLOY_E_CAPACITY || status == ALLOY_E_OUT_OF_MEMORY ||
         status == ALLOY_E_BUDGET_EXCEEDED;
}

class Interpreter {
 public:
  explicit Interpreter(const Subject &subject) : s_(subject) {
    state_ = s_.create();
    if (state_ == nullptr) Fail(s_, "the subject could not be created", nullptr);
    resource_ = s_.resource(state_);
    can_tell_ = alloy_resource_can_tell_ownership(resource_);
    trace_ = std::getenv("ALLOY_FUZZ_TRACE") != nullptr;  // prints every operation, to read a finding
  }

  void Run(Reader &in) {
    while (!in.empty() && live_.size() < 256) {
      Step(in);
      CheckAll(false);
    }
    Finish();
  }

 private:
  void Step(Reader &in) {
    const uint8_t op = in.Byte() % 16;
    if (op < 6) return Allocate(in);
    if (op < 9) return Free(in);
    if (op < 11) return Reshape(in, false);
    if (op == 11) return Reshape(in, true);
    if (op == 12) return MarkOrRewind(in);
    if (op == 13) return Reset();
    if (op == 14) {
      if (s_.trim) s_.trim(state_);
      return;
    }
    if (s_.collect) s_.collect(state_);
  }

  void Allocate(Reader &in) {
    const Request request = DrawRequest(in, s_.typical_size, s_.huge_requests);
    const int thread = s_.any_thread_allocates ? in.Byte() % s_.threads : 0;
    const alloy_block sentinel = {reinterpret_cast<void *>(uintptr_t{0x5a5a}), 0x5a5a};
    alloy_block block = sentinel;
    alloy_status status = ALLOY_OK;
    RunOnThread(thread, [&] { status = alloy_resource_allocate(resource_, request.size, request.align, &block); });
    Live entry = {block, request.size, request.align, next_tag_++, seq_++};
    Trace("allocate", block, request.size, request.align, status);
    if (status != ALLOY_OK) {
      if (block.ptr != sentinel.ptr || block.size != sentinel.size)
        Fail(s_, "a failed allocate wrote its output", &entry);
      if (request.invalid && status != ALLOY_E_INVALID_ARGUMENT)
        Fail(s_, "an invalid request did not fail with ALLOY_E_INVALID_ARGUMENT", &entry);
      if (!request.invalid && !IsExpectedRefusal(status))
        Fail(s_, "a valid request failed with a status the contract does not allow", &entry);
      return;
    }
    if (request.invalid) Fail(s_, "an invalid request succeeded", &entry);
    if (block.size < request.size) Fail(s_, "block.size below the requested size", &entry);
    if (!alloy_ptr_is_aligned(block.ptr, request.align)) Fail(s_, "block misaligned", &entry);
    if (block.ptr == nullptr) Fail(s_, "a successful allocate returned NULL", &entry);
    Stamp(entry);
    live_.push_back(entry);
  }

  // The index of the block an operation acts on, or -1 when none is live.
  ptrdiff_t Pick(Reader &in) {
    if (live_.empty()) return -1;
    if (s_.free_order == FreeOrder::kTopOnly) {
      auto top = std::max_element(live_.begin(), live_.end(), PlacedBelow);
      return top - live_.begin();
    }
    return in.Byte() % live_.size();
  }

  void Free(Reader &in) {
    const ptrdiff_t index = Pick(in);
    if (index < 0) return;
    const int thread = s_.threads > 1 ? in.Byte() % s_.threads : 0;
    Live entry = live_[static_cast<size_t>(index)];
    if (!PatternIntact(entry, true)) Fail(s_, "block contents changed before its free", &entry);
    // Free with the returned size or the requested one: the contract accepts both.
    alloy_block freed = entry.block;
    if (entry.tag & 1) freed.size = entry.size;
    alloy_status status = ALLOY_OK;
    RunOnThread(thread, [&] { status = alloy_resource_deallocate(resource_, freed, entry.align); });
    Trace("free", freed, freed.size, entry.align, status);
    if (status != ALLOY_OK) Fail(s_, "free of a live block refused", &entry);
    live_.erase(live_.begin() + index);
    ForgetMarkersAfter(entry.seq);
  }

  // Freeing or shrinking a block may drop the top below every marker taken
  // after it was placed; those markers' scopes are over, rewinding to them
  // is a caller error.
  void ForgetMarkersAfter(uint64_t seq) {
    while (!markers_.empty() && markers_.back().seq > seq) markers_.pop_back();
  }

  // Reallocate (may move) or resize (in place only) a live block.
  void Reshape(Reader &in, bool in_place) {
    const ptrdiff_t index = Pick(in);
    if (index < 0) return;
    Live &entry = live_[static_cast<size_t>(index)];
    const size_t new_size = DrawSize(in, s_.typical_size, s_.huge_requests);
    const alloy_block before = entry.block;
    alloy_block out = {nullptr, 0};
    const alloy_status status = in_place
                                    ? alloy_resource_resize(resource_, entry.block, new_size, entry.align, &out)
                                    : alloy_resource_reallocate(resource_, entry.block, new_size, entry.align, &out);
    Trace(in_place ? "resize" : "realloc", entry.block, new_size, entry.align, status);
    Trace("  to", out, new_size, entry.align, status);
    if (status != ALLOY_OK) {
      if (!IsExpectedRefusal(status))
        Fail(s_, "reallocate or resize failed with a status the contract does not allow", &entry);
      if (!PatternIntact(entry, true)) Fail(s_, "a failed reallocate or resize changed the block", &entry);
      if (can_tell_ && entry.block.size > 0 && !alloy_resource_owns(resource_, entry.block))
        Fail(s_, "a failed reallocate or resize gave the block away", &entry);
      return;
    }
    if (in_place && out.ptr != before.ptr) Fail(s_, "resize moved the block", &entry);
    ForgetMarkersAfter(entry.seq);
    Placed(entry, out, new_size, before);
  }

  // A successful reallocate or resize: the kept prefix must have survived.
  void Placed(Live &entry, alloy_block block, size_t new_size, alloy_block before) {
    Live kept = entry;
    kept.block = block;
    kept.size = std::min(entry.size, new_size);
    if (!PatternIntact(kept, true)) Fail(s_, "reallocate lost the block's contents", &kept);
    entry.block = block;
    entry.size = new_size;
    if (block.size < new_size) Fail(s_, "reallocated block.size below the new size", &entry);
    if (!alloy_ptr_is_aligned(block.ptr, entry.align)) Fail(s_, "reallocated block misaligned", &entry);
    if (block.ptr != before.ptr || block.size != before.size) entry.seq = seq_++;
    Stamp(entry);
  }

  void MarkOrRewind(Reader &in) {
    if (!s_.has_markers) return;
    const uint8_t choice = in.Byte();
    if (markers_.empty() || choice < 128) {
      Marker marker = {{0}, seq_};
      if (alloy_resource_mark(resource_, &marker.marker) != ALLOY_OK) Fail(s_, "mark refused", nullptr);
      Trace("mark", alloy_block{nullptr, 0}, marker.marker.position, 0, ALLOY_OK);
      markers_.push_back(marker);
      return;
    }
    const size_t index = choice % markers_.size();
    const Marker marker = markers_[index];
    const alloy_status status = alloy_resource_rewind(resource_, marker.marker);
    Trace("rewind", alloy_block{nullptr, 0}, marker.marker.position, 0, status);
    // A marker above the top (the blocks after it were freed since) is refused; nothing changes then.
    if (status == ALLOY_E_INVALID_ARGUMENT) return;
    if (status != ALLOY_OK) Fail(s_, "rewind failed with an unexpected status", nullptr);
    live_.erase(std::remove_if(live_.begin(), live_.end(), [&](const Live &l) { return l.seq >= marker.seq; }),
                live_.end());
    markers_.resize(index + 1);
  }

  void Reset() {
    if (!s_.reset) return;
    s_.reset(state_);
    Trace("reset", alloy_block{nullptr, 0}, 0, 0, ALLOY_OK);
    live_.clear();
    markers_.clear();
  }

  void CheckAll(bool whole) {
    std::vector<const Live *> by_address;
    by_address.reserve(live_.size());
    for (const Live &entry : live_) {
      if (!PatternIntact(entry, whole)) Fail(s_, "block contents changed", &entry);
      // A zero-size block covers no byte: whether an arena still counts its address as its own is not asked.
      if (can_tell_ && entry.block.size > 0 && !alloy_resource_owns(resource_, entry.block))
        Fail(s_, "owns() denies a live block", &entry);
      by_address.push_back(&entry);
    }
    std::sort(by_address.begin(), by_address.end(),
              [](const Live *a, const Live *b) { return a->block.ptr < b->block.ptr; });
    for (size_t i = 1; i < by_address.size(); ++i) {
      const Live &low = *by_address[i - 1];
      const Live &high = *by_address[i];
      const auto *low_end = static_cast<const char *>(low.block.ptr) + low.size;
      if (high.size > 0 && low_end > static_cast<const char *>(high.block.ptr))
        Fail(s_, "two live blocks overlap", &high);
    }
    if (can_tell_) {
      int local = 0;
      if (alloy_resource_owns(resource_, alloy_block_make(&local, sizeof local)))
        Fail(s_, "owns() claims a block on the caller's stack", nullptr);
    }
    if (s_.check && s_.check(state_) != ALLOY_OK) Fail(s_, "the strategy's check reports corruption", nullptr);
    CompareCounters();
  }

  void CompareCounters() {
    if (!s_.observe) return;
    Observed seen;
    s_.observe(state_, &seen);
    size_t requested = 0, block_bytes = 0;
    for (const Live &entry : live_) requested += entry.size, block_bytes += entry.block.size;
    if (seen.has_blocks) {
      const bool ok = seen.blocks_at_least ? seen.blocks >= live_.size() : seen.blocks == live_.size();
      if (!ok) {
        std::fprintf(stderr, "live blocks: strategy %zu, model %zu\n", seen.blocks, live_.size());
        Fail(s_, "live block count differs from the model", nullptr);
      }
    }
    if (seen.has_requested_bytes && seen.requested_bytes != requested) {
      std::fprintf(stderr, "live bytes: strategy %zu, model %zu\n", seen.requested_bytes, requested);
      Fail(s_, "live requested bytes differ from the model", nullptr);
    }
    if (seen.has_block_bytes && seen.block_bytes != block_bytes) {
      std::fprintf(stderr, "live bytes: strategy %zu, model %zu\n", seen.block_bytes, block_bytes);
      Fail(s_, "live block bytes differ from the model", nullptr);
    }
  }

  void Finish() {
    CheckAll(true);
    // Free in reverse order of placement, so LIFO strategies reclaim everything.
    std::sort(live_.begin(), live_.end(), [](const Live &a, const Live &b) { return a.seq < b.seq; });
    if (s_.free_order == FreeOrder::kTopOnly)
      std::sort(live_.begin(), live_.end(), PlacedBelow);
    while (!live_.empty()) {
      const Live entry = live_.back();
      if (alloy_resource_deallocate(resource_, entry.block, entry.align) != ALLOY_OK)
        Fail(s_, "final free refused", &entry);
      live_.pop_back();
    }
    if (s_.collect) s_.collect(state_);
    if (s_.reset) s_.reset(state_);
    if (s_.trim) s_.trim(state_);
    for (int thread = 1; thread < s_.threads; ++thread)
      if (s_.thread_done) RunOnThread(thread, [&] { s_.thread_done(state_); });
    markers_.clear();
    CheckAll(true);
    const char *why = nullptr;
    if (s_.is_initial && !s_.is_initial(state_, &why)) {
      std::fprintf(stderr, "%s: after freeing everything: %s\n", s_.name, why);
      Fail(s_, "freeing every block did not return the strategy to its initial state", nullptr);
    }
    s_.destroy(state_);
  }

  void Trace(const char *op, const alloy_block &block, size_t size, size_t align, alloy_status status) const {
    if (trace_)
      std::fprintf(stderr, "%-10s %p/%zu size %zu align %zu -> %s\n", op, block.ptr, block.size, size, align,
                   alloy_status_name(status));
  }

  const Subject &s_;
  bool trace_ = false;
  void *state_ = nullptr;
  alloy_resource *resource_ = nullptr;
  bool can_tell_ = false;
  std::vector<Live> live_;
  std::vector<Marker> markers_;
  uint8_t next_tag_ = 1;
  uint64_t seq_ = 0;
};

}  // namespace

void RunShadow(const Subject &subject, const uint8_t *data, size_t size) {
  Reader in(data, size);
  Interpreter interpreter(subject);
  interpreter.Run(in);
}

}  // namespace alloy_fuzz
