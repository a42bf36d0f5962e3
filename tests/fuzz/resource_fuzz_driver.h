// Drives any alloy_resource with a byte string read as a sequence of
// allocate / free / reallocate operations, checking after each step that
// every live block keeps its contents and that bad requests fail cleanly.
// One driver serves every resource; a fuzz target only supplies the factory.
#ifndef ALLOY_TESTS_FUZZ_RESOURCE_FUZZ_DRIVER_H
#define ALLOY_TESTS_FUZZ_RESOURCE_FUZZ_DRIVER_H

#include <cstddef>
#include <cstdint>

#include "alloy/resource.h"

namespace alloy_fuzz {

struct DriverLimits {
  size_t max_size = 4096;      // sizes are drawn in [0, max_size]
  size_t max_alignment = 256;  // alignments are powers of two up to this
  bool lifo_free = false;      // frees must come in reverse allocation order
};

// Runs one input against `resource`; aborts (a fuzzer finding) on a broken
// invariant. Frees every block it allocated before returning.
void RunOperations(alloy_resource *resource, const DriverLimits &limits, const uint8_t *data, size_t size);

}  // namespace alloy_fuzz

#endif  // ALLOY_TESTS_FUZZ_RESOURCE_FUZZ_DRIVER_H
