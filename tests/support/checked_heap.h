// A general-purpose heap for the integration suites, every block checked:
// leak(debug(small_object, then the system heap)). The debug decorator
// checks canaries, size and alignment on every free; the leak decorator
// records every block until it is freed, so a test can end by asking that
// nothing is outstanding and nothing was reported.
#ifndef ALLOY_TESTS_SUPPORT_CHECKED_HEAP_H
#define ALLOY_TESTS_SUPPORT_CHECKED_HEAP_H

#include <cstdint>

#include "alloy/debug.h"
#include "alloy/fallback.h"
#include "alloy/leak.h"
#include "alloy/small_object.h"

namespace alloy_test {

class CheckedHeap {
 public:
  CheckedHeap();
  ~CheckedHeap();
  CheckedHeap(const CheckedHeap &) = delete;
  CheckedHeap &operator=(const CheckedHeap &) = delete;

  alloy_resource *resource() { return alloy_leak_resource(leak_); }
  // What the leak decorator still holds.
  alloy_leak_summary Outstanding();
  // Faults the debug decorator found, after a check of every live block.
  uint64_t DebugFaults();

 private:
  alloy_small_object *small_ = nullptr;
  alloy_fallback chain_;
  alloy_debug *debug_ = nullptr;
  alloy_leak *leak_ = nullptr;
};

}  // namespace alloy_test

#endif  // ALLOY_TESTS_SUPPORT_CHECKED_HEAP_H
