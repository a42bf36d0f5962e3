// Shared by the tests that link a drop-in malloc (release or checked) into
// the test binary: where a tool owns malloc (asan, tsan, valgrind, fuzz)
// the override is left out (ALLOY_MALLOC_EXCLUDED) or cannot run, and every
// test skips saying why; and small helpers the optimiser cannot see through.
#ifndef ALLOY_TESTS_MALLOC_OVERRIDE_TEST_H
#define ALLOY_TESTS_MALLOC_OVERRIDE_TEST_H

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <malloc.h>
#include <random>
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

// calloc(0, 0) gives a freeable block; a product that overflows, or one too
// large to map, is NULL with ENOMEM.
inline void ExpectCallocEdgesOf(void *(*do_calloc)(size_t, size_t)) {
  void *zero = do_calloc(0, 0);
  EXPECT_NE(zero, nullptr);
  free(zero);
  errno = 0;
  EXPECT_EQ(do_calloc(SIZE_MAX / 2, 3), nullptr);
  EXPECT_EQ(errno, ENOMEM);
  errno = 0;
  EXPECT_EQ(do_calloc(static_cast<size_t>(1) << 33, static_cast<size_t>(1) << 33), nullptr);
  EXPECT_EQ(errno, ENOMEM);
}

// For a test file's constructor, which runs before main: the heap is then
// created on whatever call comes first. 100 bytes of 0x5a, or nullptr.
inline void *AllocateBeforeMain() {
  void *block = Opaque(&malloc)(100);
  if (block != nullptr) memset(block, 0x5a, 100);
  return block;
}

// That block was served and kept its bytes; `exact_size` when the library
// gives the size asked for and no more. Frees it.
inline void ExpectServedBeforeMain(void *block, bool exact_size) {
  ASSERT_NE(block, nullptr);
  if (exact_size) {
    EXPECT_EQ(malloc_usable_size(block), 100u);
  } else {
    EXPECT_GE(malloc_usable_size(block), 100u);
  }
  for (size_t i = 0; i < 100; ++i) ASSERT_EQ(static_cast<unsigned char *>(block)[i], 0x5a);
  free(block);
}

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
        // Mostly small blocks, every sixteenth a medium one (8 - 72 KiB:
        // the partition's and the arenas'), so a fork finds their locks busy too.
        size_t size = i % 16 == 0 ? 8192 + (i * 4099u) % 65536 : (i * 37 + static_cast<uint32_t>(t)) % 3000;
        live.push_back(malloc(size));
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

// Patterns written into every block and checked before its free, blocks
// freed by the thread that made them and by others (remote frees), threads
// created and joined in a loop, blocks grown with realloc. Returns how many
// blocks failed their check or were refused.
inline int ThreadedIntegrityStressFailures(int rounds, int per_thread) {
  constexpr int kThreads = 4;
  struct Block {
    void *ptr;
    size_t size;
    uint32_t seed;
  };
  std::atomic<int> failures{0};
  std::vector<std::vector<Block>> handed(kThreads);  // blocks each thread leaves for the next round
  for (int round = 0; round < rounds; ++round) {
    std::vector<std::thread> threads;
    std::vector<std::vector<Block>> next(kThreads);
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t, round] {
        std::mt19937 random(static_cast<uint32_t>(round * 131 + t));
        // Another thread's blocks from the previous round: checked and freed here.
        for (const Block &block : handed[(t + 1) % kThreads]) {
          if (!Check(block.ptr, block.size, block.seed)) failures++;
          free(block.ptr);
        }
        std::vector<Block> live;
        for (int i = 0; i < per_thread; ++i) {
          uint32_t pick = random();
          size_t size = pick % 512 == 0  ? 1 + random() % (size_t{2} << 20)
                        : pick % 16 == 0 ? 1 + random() % 32768
                                         : 1 + random() % 1100;
          void *ptr = pick % 5 == 0 ? aligned_alloc(size_t{1} << (random() % 13), size)
                                    : (pick % 7 == 0 ? calloc(1, size) : malloc(size));
          if (ptr == nullptr) {
            failures++;
            continue;
          }
          uint32_t seed = random();
          Fill(ptr, size, seed);
          live.push_back({ptr, size, seed});
          if (random() % 3 == 0) {  // free a random live block, checked first
            size_t victim = random() % live.size();
            if (!Check(live[victim].ptr, live[victim].size, live[victim].seed)) failures++;
            free(live[victim].ptr);
            live[victim] = live.back();
            live.pop_back();
          }
          if (random() % 11 == 0 && !live.empty()) {  // grow one, keeping its contents
            Block &b = live[random() % live.size()];
            if (!Check(b.ptr, b.size, b.seed)) failures++;
            size_t bigger = b.size * 2 + 1;
            void *moved = realloc(b.ptr, bigger);
            if (moved == nullptr) {
              failures++;
              continue;
            }
            b.ptr = moved;
            b.size = bigger;
            Fill(b.ptr, b.size, b.seed);
          }
        }
        for (size_t i = 0; i < live.size(); ++i) {
          if (i % 4 == 0) {
            next[t].push_back(live[i]);  // the next round's neighbour frees it
            continue;
          }
          if (!Check(live[i].ptr, live[i].size, live[i].seed)) failures++;
          free(live[i].ptr);
        }
      });
    }
    for (std::thread &thread : threads) thread.join();
    handed = std::move(next);
  }
  for (const std::vector<Block> &blocks : handed) {
    for (const Block &block : blocks) {
      if (!Check(block.ptr, block.size, block.seed)) failures++;
      free(block.ptr);
    }
  }
  return failures.load();
}

}  // namespace alloy_test

#define SKIP_WHERE_A_TOOL_OWNS_MALLOC()                                                  \
  do {                                                                                  \
    if (const char *reason = alloy_test::OverrideSkipReason()) GTEST_SKIP() << reason;  \
  } while (0)

#endif  // ALLOY_TESTS_MALLOC_OVERRIDE_TEST_H
