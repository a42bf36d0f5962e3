// Shared helpers for alloy's GoogleTest suites.
#ifndef ALLOY_TESTS_SUPPORT_H
#define ALLOY_TESTS_SUPPORT_H

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "alloy/fault.h"

namespace alloy_test {

// Installs a fault handler that records instead of aborting, for the lifetime
// of the object, so a test can assert which programming error was reported.
class FaultRecorder {
 public:
  FaultRecorder();
  ~FaultRecorder();
  FaultRecorder(const FaultRecorder &) = delete;
  FaultRecorder &operator=(const FaultRecorder &) = delete;

  const std::vector<alloy_fault> &faults() const { return faults_; }
  size_t count(alloy_status kind) const;
  // The formatted message of the last fault ("" when none).
  const std::string &last_message() const { return last_message_; }
  void clear() {
    faults_.clear();
    last_message_.clear();
  }

 private:
  static void Record(const alloy_fault *fault, void *context);
  std::vector<alloy_fault> faults_;
  std::string last_message_;
};

// Test scale factor: ALLOY_TEST_SCALE (default 1.0), divided by 10 under
// Valgrind so that one suite runs long natively and short under memcheck.
double Scale();
// n scaled, at least `minimum`.
size_t Scaled(size_t n, size_t minimum = 1);

bool UnderValgrind();
constexpr bool kAsan =
#if defined(__SANITIZE_ADDRESS__)
    true;
#else
    false;
#endif
constexpr bool kTsan =
#if defined(__SANITIZE_THREAD__)
    true;
#else
    false;
#endif

// Fills and verifies a byte pattern derived from `seed`, to prove blocks do
// not overlap and keep their contents.
void Fill(void *ptr, size_t size, uint32_t seed);
bool Check(const void *ptr, size_t size, uint32_t seed);

}  // namespace alloy_test

#endif  // ALLOY_TESTS_SUPPORT_H
