// The drop-in malloc linked into the test binary (static override): every
// exported function against the C library's contract (zero sizes, NULL,
// huge sizes, every power-of-two alignment up to 1 MiB, errno values,
// realloc keeping contents), and a threaded stress that writes a pattern
// into every block and checks it before the free, with threads created and
// joined in a loop. Where a tool owns malloc (asan, tsan, valgrind) the
// override is not linked and every test skips, saying why.
#include <malloc.h>
#include <pthread.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "tests/malloc/override_test.h"
#include "tests/support/support.h"

#if !defined(ALLOY_MALLOC_EXCLUDED)
#include "alloy/sized_free.h"
#endif

namespace {

using alloy_test::Aligned;
using alloy_test::Opaque;

#if !defined(ALLOY_MALLOC_EXCLUDED)

const size_t kHuge = SIZE_MAX - 4096;

// Allocated by a constructor, before main: the heap is created on whatever
// call comes first.
void *before_main_block = nullptr;
__attribute__((constructor)) void AllocateBeforeMain() { before_main_block = alloy_test::AllocateBeforeMain(); }

TEST(AlloyMalloc, ServesCallsBeforeMain) {
  SKIP_WHERE_A_TOOL_OWNS_MALLOC();
  alloy_test::ExpectServedBeforeMain(before_main_block, false);
}

// fork() while other threads allocate and free: the child allocates and
// frees every size class and large blocks.
TEST(AlloyMalloc, ForkWhileThreadsAllocate) {
  SKIP_WHERE_A_TOOL_OWNS_MALLOC();
  alloy_test::ExpectForksWhileThreadsAllocate(alloy_test::AllocateEverySizeInChild<1>);
}

// The override is the malloc this binary runs on. A medium block of the
// partition has no header but the usable size of its size class (20000
// bytes take the 20 KiB class; the C library's usable size is the request
// plus a few bytes). A medium block of a TLSF arena and a large one (a
// mapping of its own) carry alloy's block header, whose tag starts with the
// magic 0xa11 (the C library keeps a chunk size there), and a large block
// ends on a page boundary.
TEST(AlloyMalloc, IsTheProcessMalloc) {
  SKIP_WHERE_A_TOOL_OWNS_MALLOC();
  for (size_t size : {size_t{20000}, size_t{64} << 10}) {
    void *ptr = Opaque(&malloc)(size);
    ASSERT_NE(ptr, nullptr);
    EXPECT_EQ(malloc_usable_size(ptr), size == 20000 ? size_t{20480} : size) << size;
    free(ptr);
  }
  size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  for (size_t size : {size_t{100000}, size_t{2} << 20}) {
    void *ptr = Opaque(&malloc)(size);
    ASSERT_NE(ptr, nullptr);
    uint64_t tag;
    std::memcpy(&tag, static_cast<char *>(ptr) - sizeof(tag), sizeof(tag));
    EXPECT_EQ(tag >> 52, 0xa11u) << size;
    if (size > (size_t{1} << 20)) {
      EXPECT_EQ((reinterpret_cast<uintptr_t>(ptr) + malloc_usable_size(ptr)) % page, 0u);
    }
    free(ptr);
  }
}

TEST(AlloyMalloc, MallocZeroAndSmallSizes) {
  SKIP_WHERE_A_TOOL_OWNS_MALLOC();
  auto do_malloc = Opaque(&malloc);
  void *zero = do_malloc(0);
  ASSERT_NE(zero, nullptr);
  void *zero2 = do_malloc(0);
  ASSERT_NE(zero2, nullptr);
  EXPECT_NE(zero, zero2);
  free(zero);
  free(zero2);
  for (size_t size = 1; size <= 70000; size = size < 64 ? size + 1 : size * 5 / 4) {
    auto *ptr = static_cast<unsigned char *>(do_malloc(size));
    ASSERT_NE(ptr, nullptr) << size;
    EXPECT_TRUE(Aligned(ptr, size > 8 ? 16 : 8)) << size;
    size_t usable = malloc_usable_size(ptr);
    EXPECT_GE(usable, size);
    memset(ptr, 0xab, usable);  // all of the usable size is the caller's
    free(ptr);
  }
  free(nullptr);
  EXPECT_EQ(malloc_usable_size(nullptr), 0u);
}

TEST(AlloyMalloc, HugeSizesFailWithEnomem) {
  SKIP_WHERE_A_TOOL_OWNS_MALLOC();
  errno = 0;
  EXPECT_EQ(Opaque(&malloc)(kHuge), nullptr);
  EXPECT_EQ(errno, ENOMEM);
  errno = 0;
  EXPECT_EQ(Opaque(&malloc)(SIZE_MAX), nullptr);
  EXPECT_EQ(errno, ENOMEM);
  errno = 0;
  EXPECT_EQ(Opaque(&malloc)(static_cast<size_t>(1) << 62), nullptr);  // page rounding fits, the OS refuses
  EXPECT_EQ(errno, ENOMEM);
  errno = 0;
  EXPECT_EQ(Opaque(&aligned_alloc)(1 << 20, kHuge), nullptr);
  EXPECT_EQ(errno, ENOMEM);
}

TEST(AlloyMalloc, CallocZeroesAndRefusesOverflow) {
  SKIP_WHERE_A_TOOL_OWNS_MALLOC();
  auto do_calloc = Opaque(&calloc);
  // Dirty small blocks first, so calloc's blocks are reused ones.
  for (int round = 0; round < 2; ++round) {
    std::vector<void *> dirty;
    for (size_t size = 1; size <= 2048; size += 13) {
      void *ptr = malloc(size);
      ASSERT_NE(ptr, nullptr);
      memset(ptr, 0xff, size);
      dirty.push_back(ptr);
    }
    for (void *ptr : dirty) free(ptr);
    for (size_t size = 1; size <= 2048; size += 13) {
      auto *ptr = static_cast<unsigned char *>(do_calloc(1, size));
      ASSERT_NE(ptr, nullptr);
      for (size_t i = 0; i < size; ++i) ASSERT_EQ(ptr[i], 0) << size << " " << i;
      free(ptr);
    }
  }
  auto *big = static_cast<unsigned char *>(do_calloc(1000, 1000));
  ASSERT_NE(big, nullptr);
  for (size_t i = 0; i < 1000000; i += 997) ASSERT_EQ(big[i], 0);
  free(big);
  alloy_test::ExpectCallocEdgesOf(do_calloc);
}

TEST(AlloyMalloc, ReallocKeepsContentsGrowingAndShrinking) {
  SKIP_WHERE_A_TOOL_OWNS_MALLOC();
  auto do_realloc = Opaque(&realloc);
  auto *ptr = static_cast<unsigned char *>(do_realloc(nullptr, 10));  // NULL: malloc
  ASSERT_NE(ptr, nullptr);
  size_t size = 10;
  for (size_t i = 0; i < size; ++i) ptr[i] = static_cast<unsigned char>(i * 7);
  // Grow through the small classes and into page mappings, then shrink back.
  std::vector<size_t> sizes;
  for (size_t s = 16; s <= (4u << 20); s *= 3) sizes.push_back(s);
  for (size_t i = sizes.size(); i-- > 0;) sizes.push_back(sizes[i] / 2 + 1);
  for (size_t next : sizes) {
    auto *moved = static_cast<unsigned char *>(do_realloc(ptr, next));
    ASSERT_NE(moved, nullptr) << next;
    size_t kept = next < size ? next : size;
    for (size_t i = 0; i < kept; ++i) ASSERT_EQ(moved[i], static_cast<unsigned char>(i * 7)) << next << " " << i;
    for (size_t i = kept; i < next; ++i) moved[i] = static_cast<unsigned char>(i * 7);
    EXPECT_GE(malloc_usable_size(moved), next);
    ptr = moved;
    size = next;
  }
  // A failed realloc leaves the block and its contents as they were.
  errno = 0;
  EXPECT_EQ(do_realloc(ptr, kHuge), nullptr);
  EXPECT_EQ(errno, ENOMEM);
  for (size_t i = 0; i < size; ++i) ASSERT_EQ(ptr[i], static_cast<unsigned char>(i * 7));
  // Size 0 frees and returns NULL, as glibc does.
  EXPECT_EQ(do_realloc(ptr, 0), nullptr);
}

TEST(AlloyMalloc, ReallocarrayChecksTheProduct) {
  SKIP_WHERE_A_TOOL_OWNS_MALLOC();
  auto do_reallocarray = Opaque(&reallocarray);
  auto *ptr = static_cast<int *>(do_reallocarray(nullptr, 10, sizeof(int)));
  ASSERT_NE(ptr, nullptr);
  for (int i = 0; i < 10; ++i) ptr[i] = i;
  errno = 0;
  EXPECT_EQ(do_reallocarray(ptr, SIZE_MAX / 2, 4), nullptr);
  EXPECT_EQ(errno, ENOMEM);
  auto *grown = static_cast<int *>(do_reallocarray(ptr, 1000, sizeof(int)));
  ASSERT_NE(grown, nullptr);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(grown[i], i);
  free(grown);
}

// Every power of two from 1 to 1 MiB, with sizes below, at and above it,
// through each aligned entry point.
TEST(AlloyMalloc, EveryAlignmentUpToOneMebibyte) {
  SKIP_WHERE_A_TOOL_OWNS_MALLOC();
  auto do_aligned_alloc = Opaque(&aligned_alloc);
  auto do_memalign = Opaque(&memalign);
  auto do_posix_memalign = Opaque(&posix_memalign);
  for (size_t align = 1; align <= (1u << 20); align *= 2) {
    for (size_t size : {size_t{0}, size_t{1}, align / 2 + 1, align, align + 1, size_t{3000}}) {
      void *a = do_aligned_alloc(align, size);
      ASSERT_NE(a, nullptr) << align << " " << size;
      EXPECT_TRUE(Aligned(a, align)) << align << " " << size;
      EXPECT_GE(malloc_usable_size(a), size);
      memset(a, 1, size);
      free(a);
      void *m = do_memalign(align, size);
      ASSERT_NE(m, nullptr);
      EXPECT_TRUE(Aligned(m, align));
      memset(m, 2, size);
      free(m);
      if (align >= sizeof(void *)) {
        void *p = nullptr;
        ASSERT_EQ(do_posix_memalign(&p, align, size), 0) << align << " " << size;
        EXPECT_TRUE(Aligned(p, align));
        EXPECT_GE(malloc_usable_size(p), size);
        memset(p, 3, size);
        free_aligned_sized(p, align, size);
      }
    }
  }
}

TEST(AlloyMalloc, BadAlignments) {
  SKIP_WHERE_A_TOOL_OWNS_MALLOC();
  void *untouched = reinterpret_cast<void *>(0x1234);
  void *p = untouched;
  EXPECT_EQ(Opaque(&posix_memalign)(&p, 24, 10), EINVAL);  // not a power of two
  EXPECT_EQ(p, untouched);
  EXPECT_EQ(Opaque(&posix_memalign)(&p, 4, 10), EINVAL);  // below sizeof(void *)
  EXPECT_EQ(Opaque(&posix_memalign)(&p, 0, 10), EINVAL);
  EXPECT_EQ(p, untouched);
  EXPECT_EQ(Opaque(&posix_memalign)(&p, 64, kHuge), ENOMEM);
  EXPECT_EQ(p, untouched);
  errno = 0;
  EXPECT_EQ(Opaque(&aligned_alloc)(24, 48), nullptr);
  EXPECT_EQ(errno, EINVAL);
  // memalign rounds an alignment that is not a power of two up to one.
  void *m = Opaque(&memalign)(48, 100);
  ASSERT_NE(m, nullptr);
  EXPECT_TRUE(Aligned(m, 64));
  free(m);
  errno = 0;
  EXPECT_EQ(Opaque(&memalign)(SIZE_MAX, 16), nullptr);
  EXPECT_EQ(errno, EINVAL);
}

TEST(AlloyMalloc, PageAlignedEntryPoints) {
  SKIP_WHERE_A_TOOL_OWNS_MALLOC();
  size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  void *v = Opaque(&valloc)(100);
  ASSERT_NE(v, nullptr);
  EXPECT_TRUE(Aligned(v, page));
  free(v);
  void *pv = Opaque(&pvalloc)(page + 1);
  ASSERT_NE(pv, nullptr);
  EXPECT_TRUE(Aligned(pv, page));
  EXPECT_GE(malloc_usable_size(pv), 2 * page);  // rounded up to whole pages
  memset(pv, 4, 2 * page);
  free(pv);
  void *pv0 = Opaque(&pvalloc)(0);
  ASSERT_NE(pv0, nullptr);
  EXPECT_GE(malloc_usable_size(pv0), page);
  free(pv0);
  errno = 0;
  EXPECT_EQ(Opaque(&pvalloc)(SIZE_MAX), nullptr);
  EXPECT_EQ(errno, ENOMEM);
}

TEST(AlloyMalloc, SizedFrees) {
  SKIP_WHERE_A_TOOL_OWNS_MALLOC();
  for (size_t size : {size_t{1}, size_t{100}, size_t{1024}, size_t{1025}, size_t{8192}, size_t{8193}, size_t{100000}}) {
    void *ptr = Opaque(&malloc)(size);
    ASSERT_NE(ptr, nullptr);
    memset(ptr, 5, size);
    free_sized(ptr, size);
  }
  free_sized(nullptr, 10);
  free_aligned_sized(nullptr, 64, 10);
  void *a = Opaque(&aligned_alloc)(4096, 10);
  ASSERT_NE(a, nullptr);
  free_aligned_sized(a, 4096, 10);
}

// Medium blocks (above 8 KiB, up to 1 MiB) grow where they lie while they
// fit their class (the partition's, up to 64 KiB) or the arena's next block
// is free (above), and keep their contents whether or not they move; past
// 1 MiB a block becomes a mapping of its own.
TEST(AlloyMalloc, ReallocOfMediumBlocksGrowsInPlace) {
  SKIP_WHERE_A_TOOL_OWNS_MALLOC();
  size_t size = 10000;
  char *ptr = static_cast<char *>(Opaque(&malloc)(size));
  ASSERT_NE(ptr, nullptr);
  alloy_test::Fill(ptr, size, 7);
  int in_place = 0;
  while (size < (size_t{3} << 20)) {
    size_t bigger = size + size / 2;
    char *grown = static_cast<char *>(realloc(ptr, bigger));
    ASSERT_NE(grown, nullptr);
    ASSERT_TRUE(alloy_test::Check(grown, size, 7)) << size << " -> " << bigger;
    if (grown == ptr) in_place++;
    ptr = grown;
    size = bigger;
    alloy_test::Fill(ptr, size, 7);
    EXPECT_GE(malloc_usable_size(ptr), size);
  }
  EXPECT_GT(in_place, 0);
  size_t smaller = 9000;
  char *shrunk = static_cast<char *>(realloc(ptr, smaller));
  ASSERT_NE(shrunk, nullptr);
  EXPECT_TRUE(alloy_test::Check(shrunk, smaller, 7));
  free(shrunk);
}

// Medium blocks up to 64 KiB come from the partition, rounded up to a
// quarter of their power of two (10, 12, 14, 16, 20 ... 64 KiB), which the
// usable size shows; realloc keeps a block where it is while the new size
// fits it and takes more than half of it, and moves it otherwise.
TEST(AlloyMalloc, PartitionBlocksTakeQuarterClasses) {
  SKIP_WHERE_A_TOOL_OWNS_MALLOC();
  struct Case {
    size_t size, usable;
  };
  for (Case c : {Case{8193, 10240}, Case{10240, 10240}, Case{10241, 12288}, Case{16385, 20480},
                 Case{40000, 40960}, Case{65536, 65536}}) {
    char *ptr = static_cast<char *>(Opaque(&malloc)(c.size));
    ASSERT_NE(ptr, nullptr) << c.size;
    EXPECT_EQ(malloc_usable_size(ptr), c.usable) << c.size;
    alloy_test::Fill(ptr, c.size, 5);
    free(ptr);
  }
  char *ptr = static_cast<char *>(Opaque(&malloc)(20000));
  ASSERT_NE(ptr, nullptr);
  alloy_test::Fill(ptr, 20000, 9);
  // Kept as an address, so the compiler sees no use of a pointer realloc took.
  const uintptr_t address = reinterpret_cast<uintptr_t>(ptr);
  ptr = static_cast<char *>(realloc(ptr, 20480));  // fits its class
  EXPECT_EQ(reinterpret_cast<uintptr_t>(ptr), address);
  ptr = static_cast<char *>(realloc(ptr, 10300));  // still more than half of it
  EXPECT_EQ(reinterpret_cast<uintptr_t>(ptr), address);
  ptr = static_cast<char *>(realloc(ptr, 9000));  // less than half: a smaller class
  ASSERT_NE(ptr, nullptr);
  EXPECT_NE(reinterpret_cast<uintptr_t>(ptr), address);
  EXPECT_TRUE(alloy_test::Check(ptr, 9000, 9));
  EXPECT_EQ(malloc_usable_size(ptr), 10240u);
  free(ptr);
}

// A free of a pointer this malloc never returned is reported through the
// fault handler and frees nothing; the blocks stay usable. Inside a medium
// block it is an interior pointer; inside a large mapping (not tracked) it
// is foreign; a medium block freed twice is a double free.
TEST(AlloyMalloc, BadFreesAreReportedAndIgnored) {
  SKIP_WHERE_A_TOOL_OWNS_MALLOC();
  alloy_test::FaultRecorder faults;
  struct Case {
    size_t size;
    alloy_status reported;
  };
  for (Case c : {Case{20000, ALLOY_E_INTERIOR_POINTER}, Case{size_t{2} << 20, ALLOY_E_NOT_OWNED}}) {
    char *ptr = static_cast<char *>(Opaque(&malloc)(c.size));
    ASSERT_NE(ptr, nullptr);
    alloy_test::Fill(ptr, c.size, 3);
    Opaque(&free)(ptr + 64);
    EXPECT_EQ(faults.count(c.reported), 1u) << c.size;
    EXPECT_EQ(faults.faults().size(), 1u) << c.size;
    EXPECT_TRUE(alloy_test::Check(ptr, c.size, 3));
    free(ptr);
    faults.clear();
  }
  int on_stack = 0;
  Opaque(&free)(&on_stack);
  EXPECT_EQ(faults.count(ALLOY_E_NOT_OWNED), 1u);
  faults.clear();
  void *medium = Opaque(&malloc)(20000);
  ASSERT_NE(medium, nullptr);
  void *neighbour = Opaque(&malloc)(20000);  // keeps the block from merging away
  // Kept as an address, so the compiler sees no use of a freed pointer.
  uintptr_t address = reinterpret_cast<uintptr_t>(medium);
  free(medium);
  Opaque(&free)(reinterpret_cast<void *>(Opaque(address)));
  EXPECT_EQ(faults.count(ALLOY_E_DOUBLE_FREE), 1u);
  EXPECT_EQ(faults.faults().size(), 1u);
  free(neighbour);
}

// Medium blocks made by one thread and freed by others while it keeps
// allocating from the same arena: a free that finds the arena busy leaves
// the block pending for the next holder, and no block is lost or shared.
TEST(AlloyMalloc, MediumBlocksFreedByOtherThreads) {
  SKIP_WHERE_A_TOOL_OWNS_MALLOC();
  constexpr int kFreers = 3;
  const int blocks = static_cast<int>(alloy_test::Scaled(20000, 2000));
  struct Block {
    void *ptr;
    size_t size;
  };
  std::mutex mutex;
  std::vector<Block> queue;
  std::atomic<bool> done{false};
  std::atomic<int> failures{0};
  std::vector<std::thread> freers;
  for (int t = 0; t < kFreers; ++t) {
    freers.emplace_back([&] {
      for (;;) {
        std::vector<Block> taken;
        {
          std::lock_guard<std::mutex> lock(mutex);
          taken.swap(queue);
        }
        for (const Block &block : taken) {
          if (!alloy_test::Check(block.ptr, block.size, static_cast<uint32_t>(block.size))) failures++;
          free(block.ptr);
        }
        if (taken.empty()) {
          if (done.load()) return;
          std::this_thread::yield();
        }
      }
    });
  }
  std::mt19937 random(11);
  std::vector<Block> own;
  for (int i = 0; i < blocks; ++i) {
    size_t size = 8193 + random() % 60000;
    void *ptr = malloc(size);
    if (ptr == nullptr) {
      failures++;
      continue;
    }
    alloy_test::Fill(ptr, size, static_cast<uint32_t>(size));
    if (i % 4 == 0) {  // some stay with their maker, freed later by it
      own.push_back({ptr, size});
      continue;
    }
    std::lock_guard<std::mutex> lock(mutex);
    queue.push_back({ptr, size});
  }
  done = true;
  for (std::thread &freer : freers) freer.join();
  for (const Block &block : own) {
    if (!alloy_test::Check(block.ptr, block.size, static_cast<uint32_t>(block.size))) failures++;
    free(block.ptr);
  }
  EXPECT_EQ(failures.load(), 0);
}

// Resident bytes of this process (/proc/self/statm), 0 when unreadable.
size_t ResidentBytes() {
  FILE *statm = fopen("/proc/self/statm", "r");
  if (statm == nullptr) return 0;
  unsigned long pages_total = 0, pages_resident = 0;
  int fields = fscanf(statm, "%lu %lu", &pages_total, &pages_resident);
  fclose(statm);
  return fields == 2 ? pages_resident * static_cast<size_t>(sysconf(_SC_PAGESIZE)) : 0;
}

constexpr size_t kMiB = size_t{1} << 20;

// 96 MiB of `size`-byte blocks, written, then freed, by a thread that then exits.
void MakeAndFreeInAThread(size_t size) {
  std::thread([size] {
    std::vector<void *> blocks;
    for (size_t made = 0; made < 96 * kMiB; made += size) {
      void *ptr = malloc(size);
      if (ptr == nullptr) break;
      memset(ptr, 1, size);
      blocks.push_back(ptr);
    }
    for (void *ptr : blocks) free(ptr);
  }).join();
}

// What the decay left resident is within 24 MiB of where the test started.
void ExpectDecayedTo(size_t baseline) {
  size_t after = ResidentBytes();
  EXPECT_LT(after, baseline + 24 * kMiB) << "resident at the start " << baseline / kMiB << " MiB, after the decay "
                                         << after / kMiB << " MiB";
}

// Freed memory goes back to the OS on its own: 96 MiB of small blocks made
// and freed by a thread that then exits, and 48 MiB of medium blocks (the
// partition's) freed,
// are given back within a second or so, on the malloc's own slow-path
// calls, without any explicit trim.
TEST(AlloyMalloc, FreedMemoryDecaysToTheOs) {
  SKIP_WHERE_A_TOOL_OWNS_MALLOC();
  size_t baseline = ResidentBytes();
  ASSERT_GT(baseline, 0u);
  MakeAndFreeInAThread(512);
  std::vector<void *> medium;
  for (size_t made = 0; made < 48 * kMiB; made += 48 * 1024) {
    void *ptr = malloc(48 * 1024);
    ASSERT_NE(ptr, nullptr);
    memset(ptr, 2, 48 * 1024);
    medium.push_back(ptr);
  }
  for (void *ptr : medium) free(ptr);
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  for (int i = 0; i < 2000; ++i) free(Opaque(&malloc)(20000));  // slow-path events: the decay runs on them
  ExpectDecayedTo(baseline);
}

// A program that allocates only small blocks decays too: the pages its
// threads take afterwards are events that read the clock.
TEST(AlloyMalloc, SmallOnlyProgramsDecayToo) {
  SKIP_WHERE_A_TOOL_OWNS_MALLOC();
  size_t baseline = ResidentBytes();
  ASSERT_GT(baseline, 0u);
  MakeAndFreeInAThread(256);
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  std::vector<void *> small;
  for (int i = 0; i < 2000; ++i) small.push_back(Opaque(&malloc)(4000));  // 125 pages' worth
  for (void *ptr : small) free(ptr);
  ExpectDecayedTo(baseline);
}

// Threads created and joined in a loop leave nothing behind: each thread's
// cache is handed on when it exits, so after a warm-up the process stops
// growing however many threads come and go.
TEST(AlloyMalloc, ThreadChurnLeaksNothing) {
  SKIP_WHERE_A_TOOL_OWNS_MALLOC();
  const int rounds = static_cast<int>(alloy_test::Scaled(3000, 300));
  std::vector<void *> handed;
  auto one_thread = [&handed](int round) {
    std::thread([&handed, round] {
      std::vector<void *> blocks;
      for (int i = 0; i < 300; ++i) blocks.push_back(malloc(static_cast<size_t>(16 + (i * 37 + round) % 1000)));
      for (int i = 0; i < 4; ++i) blocks.push_back(malloc(static_cast<size_t>(2000 + i * 5000)));
      for (size_t i = 0; i < blocks.size(); ++i) {
        if (i % 50 == 0) {
          handed.push_back(blocks[i]);  // freed by the main thread: a remote free into an exited cache
        } else {
          free(blocks[i]);
        }
      }
    }).join();
    for (void *ptr : handed) free(ptr);
    handed.clear();
  };
  for (int round = 0; round < rounds / 10; ++round) one_thread(round);
  size_t warm = ResidentBytes();
  for (int round = rounds / 10; round < rounds; ++round) one_thread(round);
  size_t after = ResidentBytes();
  ASSERT_GT(warm, 0u);
  EXPECT_LT(after, warm + 8 * kMiB) << rounds << " threads: " << warm / kMiB << " MiB after the first tenth, "
                                    << after / kMiB << " MiB at the end";
}

// More threads alive at once than the small-object heap's default cache
// limit (1,024): every one of them allocates.
TEST(AlloyMalloc, ThousandsOfLiveThreadsAllAllocate) {
  SKIP_WHERE_A_TOOL_OWNS_MALLOC();
  constexpr int kThreads = 1500;
  struct Shared {
    pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
    pthread_cond_t go = PTHREAD_COND_INITIALIZER;
    int arrived = 0;
    bool release = false;
    std::atomic<int> failures{0};
  } shared;
  auto body = [](void *arg) -> void * {
    Shared *s = static_cast<Shared *>(arg);
    void *small = malloc(48);
    void *medium = malloc(20000);
    if (small == nullptr || medium == nullptr) s->failures++;
    pthread_mutex_lock(&s->mutex);
    s->arrived++;
    pthread_cond_broadcast(&s->go);
    while (!s->release) pthread_cond_wait(&s->go, &s->mutex);  // all alive at once
    pthread_mutex_unlock(&s->mutex);
    free(small);
    free(medium);
    return nullptr;
  };
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, 64 * 1024);
  std::vector<pthread_t> threads;
  for (int i = 0; i < kThreads; ++i) {
    pthread_t thread;
    if (pthread_create(&thread, &attr, body, &shared) != 0) break;
    threads.push_back(thread);
  }
  pthread_attr_destroy(&attr);
  pthread_mutex_lock(&shared.mutex);
  while (shared.arrived < static_cast<int>(threads.size())) pthread_cond_wait(&shared.go, &shared.mutex);
  shared.release = true;
  pthread_cond_broadcast(&shared.go);
  pthread_mutex_unlock(&shared.mutex);
  for (pthread_t thread : threads) pthread_join(thread, nullptr);
  EXPECT_EQ(threads.size(), static_cast<size_t>(kThreads)) << "the system refused threads";
  EXPECT_EQ(shared.failures.load(), 0);
}

// Patterns written into every block and checked before its free, blocks
// freed by the thread that made them and by others (remote frees), threads
// created and joined in a loop.
TEST(AlloyMalloc, ThreadedIntegrityStress) {
  SKIP_WHERE_A_TOOL_OWNS_MALLOC();
  EXPECT_EQ(alloy_test::ThreadedIntegrityStressFailures(static_cast<int>(alloy_test::Scaled(20, 4)),
                                                        static_cast<int>(alloy_test::Scaled(3000, 300))),
            0);
}

#else  // ALLOY_MALLOC_EXCLUDED

TEST(AlloyMalloc, SkippedWhereAToolOwnsMalloc) { GTEST_SKIP() << alloy_test::OverrideSkipReason(); }

#endif

}  // namespace
