// Shared by the tests that link a drop-in malloc (release or checked) into
// the test binary: where a tool owns malloc (asan, tsan, valgrind, fuzz)
// the override is left out (ALLOY_MALLOC_EXCLUDED) or cannot run, and every
// test skips saying why; and small helpers the optimiser cannot see through.
#ifndef ALLOY_TESTS_MALLOC_OVERRIDE_TEST_H
#define ALLOY_TESTS_MALLOC_OVERRIDE_TEST_H

#include <cstddef>
#include <cstdint>

#include <gtest/gtest.h>

#include "tests/support/support.h"

namespace alloy_test {

// Why the override cannot be tested in this build, or nullptr.
inline const char *OverrideSkipReason() {
#if defined(ALLOY_MALLOC_EXCLUDED)
  return "the sanitizer or valgrind owns malloc in this config: the drop-in malloc is not linked";
#else
  if (kAsan) return "AddressSanitizer owns malloc";
  if (kTsan) return "ThreadSanitizer owns malloc";
  if (UnderValgrind()) return "valgrind's memcheck replaces malloc";
  return nullptr;
#endif
}

// Opaque to the optimiser: calls through it are never folded or dropped.
template <typename F>
F Opaque(F f) {
  asm volatile("" : "+r"(f));
  return f;
}

inline bool Aligned(const void *ptr, size_t align) { return reinterpret_cast<uintptr_t>(ptr) % align == 0; }

}  // namespace alloy_test

#define SKIP_WHERE_A_TOOL_OWNS_MALLOC()                                                  \
  do {                                                                                  \
    if (const char *reason = alloy_test::OverrideSkipReason()) GTEST_SKIP() << reason;  \
  } while (0)

#endif  // ALLOY_TESTS_MALLOC_OVERRIDE_TEST_H
