// The shadow-model interpreter every strategy fuzz target shares. A target
// describes its resource once (a Subject: how to create it, what checks and
// counters it offers, which operations it supports); RunShadow reads the
// input as a sequence of operations, applies each to the resource and to a
// model that knows every live block (size, alignment, the pattern written
// into it), and aborts with a message on the first disagreement.
#ifndef ALLOY_TESTS_FUZZ_SHADOW_MODEL_H
#define ALLOY_TESTS_FUZZ_SHADOW_MODEL_H

#include <cstddef>
#include <cstdint>

#include "alloy/resource.h"

namespace alloy_fuzz {

// Counters a strategy keeps about its live blocks, as the model can compare them.
struct Observed {
  bool has_blocks = false;
  size_t blocks = 0;
  bool blocks_at_least = false;  // frees still in flight may count as live: blocks >= model
  bool has_requested_bytes = false;
  size_t requested_bytes = 0;    // sum of the sizes asked for
  bool has_block_bytes = false;
  size_t block_bytes = 0;        // sum of block.size as returned
};

enum class FreeOrder {
  kAny,      // any live block may be freed
  kTopOnly,  // only the block at the highest address (a stack)
};

// One strategy or decorator stack under test. `state` is what create returns.
struct Subject {
  const char *name;
  size_t typical_size;         // sizes are mostly drawn in [0, typical_size]
  bool huge_requests = true;   // false when a member serves any size (the system heap)
  FreeOrder free_order = FreeOrder::kAny;
  bool has_markers = false;    // mark / rewind through the resource
  int threads = 1;             // 2-3: the input picks which thread frees each block
  bool any_thread_allocates = false;
  void *(*create)() = nullptr;
  void (*destroy)(void *state) = nullptr;
  alloy_resource *(*resource)(void *state) = nullptr;
  void (*reset)(void *state) = nullptr;          // frees every block at once
  void (*trim)(void *state) = nullptr;
  void (*collect)(void *state) = nullptr;        // owner takes remote frees back
  alloy_status (*check)(void *state) = nullptr;  // ALLOY_OK when the metadata is sound
  void (*observe)(void *state, Observed *out) = nullptr;
  void (*thread_done)(void *state) = nullptr;    // run on every freeing thread before destroy
  // The state once every block is freed (and reset, collect, trim ran):
  // false with a reason when something is still counted.
  bool (*is_initial)(void *state, const char **why) = nullptr;
};

// Runs one input; aborts (a fuzzer finding) on a broken invariant.
void RunShadow(const Subject &subject, const uint8_t *data, size_t size);

}  // namespace alloy_fuzz

// The libFuzzer entry point of a target that runs the subject `make_subject()` returns.
#define ALLOY_SHADOW_FUZZ_TARGET(make_subject)                              \
  extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) { \
    static const alloy_fuzz::Subject subject = (make_subject)();             \
    alloy_fuzz::RunShadow(subject, data, size);                              \
    return 0;                                                                \
  }

#endif  // ALLOY_TESTS_FUZZ_SHADOW_MODEL_H
