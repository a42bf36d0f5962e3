// The fault an invariant check reported, for the checkers' self-tests: a
// handler that records the last fault's kind and rule instead of aborting.
#ifndef ALLOY_TESTS_FUZZ_RECORDED_FAULT_H
#define ALLOY_TESTS_FUZZ_RECORDED_FAULT_H

#include <string>

#include "alloy/fault.h"

namespace alloy_fuzz {

struct Recorded {
  int faults = 0;
  alloy_status kind = ALLOY_OK;
  std::string detail;  // the rule the check named
};

// Install with alloy_fault_set_handler(Record, &recorded).
inline void Record(const alloy_fault *fault, void *context) {
  auto *recorded = static_cast<Recorded *>(context);
  ++recorded->faults;
  recorded->kind = fault->kind;
  recorded->detail = fault->detail ? fault->detail : "";
}

}  // namespace alloy_fuzz

#endif  // ALLOY_TESTS_FUZZ_RECORDED_FAULT_H
