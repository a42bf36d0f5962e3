// Shared by the tests that link a drop-in malloc (release or checked) into
// the test binary: where a tool owns malloc (asan, tsan, valgrind, fuzz)
// the override is left out (ALLOY_MALLOC_EXCLUDED) or cannot run, and every
// test skips saying why; and small helpers the optimiser cannot see through.
#ifndef ALLOY_TESTS_MALLOC_OVERRIDE_TEST_H
#define ALLOY_TESTS_MALLOC_OVERRIDE_TEST_H

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "tests/support/fork_child.h"
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

// In a forked child: blocks of every size up to 1100 bytes in steps of
// `step`, then doubling to 1 MiB (every home: small classes, medium, large)
// allocated, written and freed. Exit status 0 when all were served.
template <size_t step>
int AllocateEverySizeInChild(void *) {
  std::vector<void *> blocks;
  for (size_t size = 0; size <= (size_t{1} << 20); size = size < 1100 ? size + step : size * 2) {
    void *ptr = malloc(size);
    if (ptr == nullptr) return 1;
    memset(ptr, 7, size);
    blocks.push_back(ptr);
  }
  for (void *ptr : blocks) free(ptr);
  return 0;
}

// fork() while two threads allocate and free: every child runs `child`
// and must exit 0 (no lock the threads held is left taken in it).
inline void ExpectForksWhileThreadsAllocate(int (*child)(void *)) {
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&stop, t] {
      std::vector<void *> live;
      for (uint32_t i = 0; !stop.load(std::memory_order_relaxed); ++i) {
        live.push_back(malloc((i * 37 + static_cast<uint32_t>(t)) % 3000));
        if (live.size() > 64) {
          for (void *ptr : live) free(ptr);
          live.clear();
        }
      }
      for (void *ptr : live) free(ptr);
    });
  }
  for (size_t round = 0; round < Scaled(10, 3); ++round) {
    ChildOutcome outcome = RunInChild(child, nullptr, ChildTimeoutMs());
    EXPECT_TRUE(outcome.ok()) << outcome.describe();
  }
  stop = true;
  for (std::thread &thread : threads) thread.join();
}

}  // namespace alloy_test

#define SKIP_WHERE_A_TOOL_OWNS_MALLOC()                                                  \
  do {                                                                                  \
    if (const char *reason = alloy_test::OverrideSkipReason()) GTEST_SKIP() << reason;  \
  } while (0)

#endif  // ALLOY_TESTS_MALLOC_OVERRIDE_TEST_H
