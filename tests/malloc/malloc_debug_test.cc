// The checked drop-in malloc (//malloc:alloy_malloc_debug, with
// //malloc:alloy_new_debug) linked into the test binary: each misuse it
// promises to catch is reported through the fault handler with the right
// status, the block and a call site in this binary, and the call changes
// nothing (the block stays usable); the handler it installs prints the call
// site and aborts, or goes on with ALLOY_MALLOC_DEBUG=continue; the C
// library's contract holds (zero sizes, every alignment up to 1 MiB, calloc
// overflow, realloc, ENOMEM); threads and fork. Where a tool owns malloc
// every test skips, saying why.
#include <dlfcn.h>
#include <malloc.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "tests/malloc/override_test.h"
#include "tests/support/support.h"

#if !defined(ALLOY_MALLOC_EXCLUDED)
#include "alloy/debug.h"
#include "alloy/malloc_debug.h"
#include "alloy/sized_free.h"
#endif

namespace {

using alloy_test::Aligned;
using alloy_test::Opaque;

#if !defined(ALLOY_MALLOC_EXCLUDED)

const size_t kHuge = SIZE_MAX - 4096;

// Sizes served by each of the release malloc's homes once the decorator's
// header and canaries are added: the small-object heap, the partition, a
// medium arena, a mapping of its own.
const size_t kSizes[] = {24, 5000, 20000, 100000, size_t{2} << 20};

// One reported fault, with what alloy_malloc_debug_call_site() said while
// the handler ran.
struct Report {
  alloy_status kind;
  const void *ptr;
  const void *site;
  std::string function;
  std::string detail;
};

// Records faults instead of aborting, while it lives.
class ReportRecorder {
 public:
  ReportRecorder() { alloy_fault_set_handler(&ReportRecorder::Record, this); }
  ~ReportRecorder() { alloy_fault_set_handler(nullptr, nullptr); }
  const std::vector<Report> &reports() const { return reports_; }
  void clear() { reports_.clear(); }

 private:
  static void Record(const alloy_fault *fault, void *context) {
    // Read before anything here allocates: a nested call has a site of its own.
    const void *site = alloy_malloc_debug_call_site();
    const char *function = alloy_malloc_debug_call_function();
    static_cast<ReportRecorder *>(context)->reports_.push_back(
        {fault->kind, fault->ptr, site, function ? function : "", fault->detail ? fault->detail : ""});
  }
  std::vector<Report> reports_;
};

// The module (executable or library) an address lies in.
const void *ModuleOf(const void *address) {
  Dl_info info;
  return dladdr(address, &info) != 0 ? info.dli_fbase : nullptr;
}

// Exactly one report of `kind` at `ptr`, from `function` called in this
// binary.
void ExpectOneReport(const ReportRecorder &recorder, alloy_status kind, const void *ptr, const char *function,
                     const char *detail = "") {
  ASSERT_EQ(recorder.reports().size(), 1u);
  const Report &report = recorder.reports()[0];
  EXPECT_EQ(report.kind, kind) << report.detail;
  EXPECT_EQ(report.ptr, ptr);
  EXPECT_EQ(report.function, function);
  ASSERT_NE(report.site, nullptr);
  EXPECT_EQ(ModuleOf(report.site), ModuleOf(reinterpret_cast<const void *>(&ModuleOf)))
      << "the call site is the test's code, not the library's";
  EXPECT_NE(report.detail.find(detail), std::string::npos) << report.detail;
}

void *before_main_block = nullptr;
__attribute__((constructor)) void AllocateBeforeMain() { before_main_block = alloy_test::AllocateBeforeMain(); }

TEST(AlloyMallocDebug, ServesCallsBeforeMain) {
  SKIP_WHERE_A_TOOL_OWNS_MALLOC();
  alloy_test::ExpectServedBeforeMain(before_main_block, true);
}

// The checks are on: a new block is the decorator's exact-size block,
// filled with the allocation pattern and followed by its back canary.
TEST(AlloyMallocDebug, BlocksAreTheDecoratorsExactSizeBlocks) {
  SKIP_WHERE_A_TOOL_OWNS_MALLOC();
  for (size_t size : kSizes) {
    auto *bytes = static_cast<unsigned char *>(Opaque(&malloc)(size));
    ASSERT_NE(bytes, nullptr);
    EXPECT_EQ(malloc_usable_size(bytes), size);
    for (size_t i = 0; i < size; i += 97) ASSERT_EQ(bytes[i], ALLOY_DEBUG_ALLOC_BYTE) << size << " " << i;
    for (size_t i = 0; i < ALLOY_DEBUG_CANARY_SIZE; ++i) ASSERT_EQ(bytes[size + i], ALLOY_DEBUG_CANARY_BYTE);
    free(bytes);
  }
}

TEST(AlloyMallocDebug, DoubleFreeIsReportedWithItsCallSite) {
  SKIP_WHERE_A_TOOL_OWNS_MALLOC();
  for (size_t size : kSizes) {
    void *ptr = Opaque(&malloc)(size);
    ASSERT_NE(ptr, nullptr);
    uintptr_t address = reinterpret_cast<uintptr_t>(ptr);  // no use of a freed pointer the compiler sees
    Opaque(&free)(ptr);
    ReportRecorder recorder;
    Opaque(&free)(reinterpret_cast<void *>(Opaque(address)));
    ExpectOneReport(recorder, ALLOY_E_DOUBLE_FREE, reinterpret_cast<void *>(address), "free", "already freed");
  }
}

TEST(AlloyMallocDebug, ForeignPointerIsReported) {
  SKIP_WHERE_A_TOOL_OWNS_MALLOC();
  ReportRecorder recorder;
  int on_stack = 0;
  Opaque(&free)(&on_stack);
  ExpectOneReport(recorder, ALLOY_E_NOT_OWNED, &on_stack, "free");
  recorder.clear();
  EXPECT_EQ(Opaque(&malloc_usable_size)(&on_stack), 0u);
  ExpectOneReport(recorder, ALLOY_E_NOT_OWNED, &on_stack, "malloc_usable_size");
  recorder.clear();
  errno = 0;
  EXPECT_EQ(Opaque(&realloc)(&on_stack, 10), nullptr);
  EXPECT_EQ(errno, EINVAL);
  ExpectOneReport(recorder, ALLOY_E_NOT_OWNED, &on_stack, "realloc");
}

// Inside the block's bytes or in its canary before them: reported, and the
// block (its contents too) stays the caller's.
TEST(AlloyMallocDebug, InteriorPointerFreeIsReportedAndTheBlockStaysUsable) {
  SKIP_WHERE_A_TOOL_OWNS_MALLOC();
  for (size_t size : kSizes) {
    char *ptr = static_cast<char *>(Opaque(&malloc)(size));
    ASSERT_NE(ptr, nullptr);
    alloy_test::Fill(ptr, size, 3);
    for (ptrdiff_t offset : {ptrdiff_t{8}, static_cast<ptrdiff_t>(size / 2), ptrdiff_t{-4}}) {
      ReportRecorder recorder;
      Opaque(&free)(ptr + offset);
      ExpectOneReport(recorder, ALLOY_E_INTERIOR_POINTER, ptr + offset, "free", offset < 0 ? "before" : "into");
    }
    EXPECT_TRUE(alloy_test::Check(ptr, size, 3));
    EXPECT_EQ(malloc_usable_size(ptr), size);
    ReportRecorder recorder;
    free(ptr);
    EXPECT_TRUE(recorder.reports().empty());
  }
}

// An overrun or underrun by one byte is found at the free, which then frees
// nothing: with the canary repaired, the block frees cleanly.
TEST(AlloyMallocDebug, OverwrittenCanariesAreFoundAtTheFree) {
  SKIP_WHERE_A_TOOL_OWNS_MALLOC();
  for (size_t size : kSizes) {
    for (ptrdiff_t offset : {static_cast<ptrdiff_t>(size), ptrdiff_t{-1}}) {
      char *ptr = static_cast<char *>(Opaque(&malloc)(size));
      ASSERT_NE(ptr, nullptr);
      char *canary = Opaque(ptr) + offset;
      *canary = 0;
      {
        ReportRecorder recorder;
        Opaque(&free)(ptr);
        ExpectOneReport(recorder, ALLOY_E_CORRUPTION, ptr, "free", offset < 0 ? "front canary" : "back canary");
      }
      *canary = static_cast<char>(ALLOY_DEBUG_CANARY_BYTE);
      ReportRecorder recorder;
      free(ptr);
      EXPECT_TRUE(recorder.reports().empty()) << size;
    }
  }
}

// A write into a freed block is found when the block leaves the quarantine,
// on a later free: that free is the call site.
TEST(AlloyMallocDebug, WriteAfterFreeIsFoundAtQuarantineEviction) {
  SKIP_WHERE_A_TOOL_OWNS_MALLOC();
  char *ptr = static_cast<char *>(Opaque(&malloc)(40));
  ASSERT_NE(ptr, nullptr);
  uintptr_t address = reinterpret_cast<uintptr_t>(ptr);
  Opaque(&free)(ptr);
  reinterpret_cast<char *>(Opaque(address))[5] = 'x';
  ReportRecorder recorder;
  for (int i = 0; i < 2000 && recorder.reports().empty(); ++i) Opaque(&free)(Opaque(&malloc)(16));
  ExpectOneReport(recorder, ALLOY_E_CORRUPTION, reinterpret_cast<void *>(address), "free",
                  "modified after free (byte 5");
}

// The sized frees and C++'s sized deletes name the allocation's size (and
// alignment); another one is reported and frees nothing.
TEST(AlloyMallocDebug, SizedFreesAreChecked) {
  SKIP_WHERE_A_TOOL_OWNS_MALLOC();
  void *ptr = Opaque(&malloc)(100);
  ASSERT_NE(ptr, nullptr);
  {
    ReportRecorder recorder;
    Opaque(&free_sized)(ptr, 99);
    ExpectOneReport(recorder, ALLOY_E_SIZE_MISMATCH, ptr, "free_sized");
  }
  free_sized(ptr, 100);
  void *aligned = Opaque(&aligned_alloc)(256, 10);
  ASSERT_NE(aligned, nullptr);
  {
    ReportRecorder recorder;
    Opaque(&free_aligned_sized)(aligned, 128, 10);
    ExpectOneReport(recorder, ALLOY_E_ALIGN_MISMATCH, aligned, "free_aligned_sized");
  }
  free_aligned_sized(aligned, 256, 10);
  void *object = ::operator new(48);
  auto sized_delete = Opaque(static_cast<void (*)(void *, std::size_t) noexcept>(&::operator delete));
  {
    ReportRecorder recorder;
    sized_delete(object, size_t{64});
    ASSERT_EQ(recorder.reports().size(), 1u);
    EXPECT_EQ(recorder.reports()[0].kind, ALLOY_E_SIZE_MISMATCH);
    EXPECT_NE(recorder.reports()[0].site, nullptr);
  }
  sized_delete(object, size_t{48});
  ReportRecorder recorder;
  std::vector<std::string> strings(100, std::string(300, 'a'));  // containers pass the right sizes
  strings.clear();
  strings.shrink_to_fit();
  EXPECT_TRUE(recorder.reports().empty());
}

// The handler installed at start: the fault, then where the call came from
// (module and offset), then abort.
TEST(AlloyMallocDebugDeathTest, DefaultHandlerPrintsTheCallSiteAndAborts) {
  SKIP_WHERE_A_TOOL_OWNS_MALLOC();
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        alloy_fault_set_handler(alloy_malloc_debug_fault_handler, nullptr);
        void *ptr = Opaque(&malloc)(32);
        uintptr_t address = reinterpret_cast<uintptr_t>(ptr);
        free(ptr);
        Opaque(&free)(reinterpret_cast<void *>(Opaque(address)));
      },
      "ALLOY_E_DOUBLE_FREE.*already freed\nalloy: in free called from 0x[0-9a-f]+ \\(malloc_debug_test\\+0x[0-9a-f]+"
      ".*\nalloy: aborting");
}

// With ALLOY_MALLOC_DEBUG=continue at start, the same report and the
// program goes on (the test binary runs again with it set).
TEST(AlloyMallocDebugDeathTest, ContinueOptionReportsAndGoesOn) {
  SKIP_WHERE_A_TOOL_OWNS_MALLOC();
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  ASSERT_EQ(setenv("ALLOY_MALLOC_DEBUG", "quarantine=4,continue", 1), 0);
  EXPECT_EXIT(
      {
        alloy_fault_set_handler(alloy_malloc_debug_fault_handler, nullptr);
        void *ptr = Opaque(&malloc)(32);
        uintptr_t address = reinterpret_cast<uintptr_t>(ptr);
        free(ptr);
        Opaque(&free)(reinterpret_cast<void *>(Opaque(address)));
        void *other = malloc(10);
        free(other);
        _exit(other != nullptr ? 7 : 1);
      },
      testing::ExitedWithCode(7), "ALLOY_E_DOUBLE_FREE.*\nalloy: in free called from .*\nalloy: the call did nothing");
  unsetenv("ALLOY_MALLOC_DEBUG");
}

// ---- The C library's contract -------------------------------------------

TEST(AlloyMallocDebug, ZeroSizesAndSmallSizes) {
  SKIP_WHERE_A_TOOL_OWNS_MALLOC();
  ReportRecorder recorder;
  auto do_malloc = Opaque(&malloc);
  void *zero = do_malloc(0);
  void *zero2 = do_malloc(0);
  ASSERT_NE(zero, nullptr);
  ASSERT_NE(zero2, nullptr);
  EXPECT_NE(zero, zero2);
  EXPECT_EQ(malloc_usable_size(zero), 0u);
  free(zero);
  free(zero2);
  for (size_t size = 1; size <= 70000; size = size < 64 ? size + 1 : size * 5 / 4) {
    auto *ptr = static_cast<unsigned char *>(do_malloc(size));
    ASSERT_NE(ptr, nullptr) << size;
    EXPECT_TRUE(Aligned(ptr, size > 8 ? 16 : 8)) << size;
    EXPECT_EQ(malloc_usable_size(ptr), size);
    memset(ptr, 0xab, size);
    free(ptr);
  }
  free(nullptr);
  EXPECT_EQ(malloc_usable_size(nullptr), 0u);
  EXPECT_TRUE(recorder.reports().empty());
}

TEST(AlloyMallocDebug, ExhaustionIsNullWithEnomem) {
  SKIP_WHERE_A_TOOL_OWNS_MALLOC();
  errno = 0;
  EXPECT_EQ(Opaque(&malloc)(kHuge), nullptr);
  EXPECT_EQ(errno, ENOMEM);
  errno = 0;
  EXPECT_EQ(Opaque(&malloc)(static_cast<size_t>(1) << 62), nullptr);  // the OS refuses
  EXPECT_EQ(errno, ENOMEM);
  errno = 0;
  EXPECT_EQ(Opaque(&aligned_alloc)(1 << 20, kHuge), nullptr);
  EXPECT_EQ(errno, ENOMEM);
  void *p = nullptr;
  EXPECT_EQ(Opaque(&posix_memalign)(&p, 64, kHuge), ENOMEM);
  EXPECT_EQ(p, nullptr);
  errno = 0;
  EXPECT_EQ(Opaque(&pvalloc)(SIZE_MAX), nullptr);
  EXPECT_EQ(errno, ENOMEM);
}

TEST(AlloyMallocDebug, CallocZeroesAndRefusesOverflow) {
  SKIP_WHERE_A_TOOL_OWNS_MALLOC();
  auto do_calloc = Opaque(&calloc);
  for (size_t size : {size_t{1}, size_t{100}, size_t{5000}, size_t{1} << 21}) {
    auto *ptr = static_cast<unsigned char *>(do_calloc(1, size));
    ASSERT_NE(ptr, nullptr);
    for (size_t i = 0; i < size; ++i) ASSERT_EQ(ptr[i], 0) << size << " " << i;
    free(ptr);
  }
  alloy_test::ExpectCallocEdgesOf(do_calloc);
}

// Every power of two from 1 to 1 MiB, sizes below, at and above it, through
// each aligned entry point and freed by free and by free_aligned_sized.
TEST(AlloyMallocDebug, EveryAlignmentUpToOneMebibyte) {
  SKIP_WHERE_A_TOOL_OWNS_MALLOC();
  ReportRecorder recorder;
  for (size_t align = 1; align <= (1u << 20); align *= 2) {
    for (size_t size : {size_t{0}, size_t{1}, align / 2 + 1, align, align + 1, size_t{3000}}) {
      void *a = Opaque(&aligned_alloc)(align, size);
      ASSERT_NE(a, nullptr) << align << " " << size;
      EXPECT_TRUE(Aligned(a, align)) << align << " " << size;
      EXPECT_EQ(malloc_usable_size(a), size);
      memset(a, 1, size);
      free_aligned_sized(a, align, size);
      void *m = Opaque(&memalign)(align, size);
      ASSERT_NE(m, nullptr);
      EXPECT_TRUE(Aligned(m, align));
      memset(m, 2, size);
      free(m);
      if (align >= sizeof(void *)) {
        void *p = nullptr;
        ASSERT_EQ(Opaque(&posix_memalign)(&p, align, size), 0) << align << " " << size;
        EXPECT_TRUE(Aligned(p, align));
        memset(p, 3, size);
        free(p);
      }
    }
  }
  size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  void *v = Opaque(&valloc)(100);
  ASSERT_NE(v, nullptr);
  EXPECT_TRUE(Aligned(v, page));
  free(v);
  void *pv = Opaque(&pvalloc)(page + 1);
  ASSERT_NE(pv, nullptr);
  EXPECT_TRUE(Aligned(pv, page));
  EXPECT_EQ(malloc_usable_size(pv), 2 * page);
  free(pv);
  void *bad = reinterpret_cast<void *>(0x1234);
  EXPECT_EQ(Opaque(&posix_memalign)(&bad, 24, 10), EINVAL);
  EXPECT_EQ(bad, reinterpret_cast<void *>(0x1234));
  errno = 0;
  EXPECT_EQ(Opaque(&aligned_alloc)(24, 48), nullptr);
  EXPECT_EQ(errno, EINVAL);
  void *rounded = Opaque(&memalign)(48, 100);  // rounded up to 64
  ASSERT_NE(rounded, nullptr);
  EXPECT_TRUE(Aligned(rounded, 64));
  free(rounded);
  EXPECT_TRUE(recorder.reports().empty());
}

// realloc moves every time (a stale pointer then lands in the quarantine),
// keeps the contents and at least the default alignment of the new size;
// a failed one leaves the block as it was; size 0 frees.
TEST(AlloyMallocDebug, ReallocKeepsContentsAndFailsCleanly) {
  SKIP_WHERE_A_TOOL_OWNS_MALLOC();
  ReportRecorder recorder;
  auto do_realloc = Opaque(&realloc);
  auto *ptr = static_cast<unsigned char *>(do_realloc(nullptr, 4));
  ASSERT_NE(ptr, nullptr);
  size_t size = 4;
  for (size_t i = 0; i < size; ++i) ptr[i] = static_cast<unsigned char>(i * 7);
  std::vector<size_t> sizes;
  for (size_t s = 16; s <= (4u << 20); s *= 3) sizes.push_back(s);
  for (size_t i = sizes.size(); i-- > 0;) sizes.push_back(sizes[i] / 2 + 1);
  for (size_t next : sizes) {
    auto *moved = static_cast<unsigned char *>(do_realloc(ptr, next));
    ASSERT_NE(moved, nullptr) << next;
    EXPECT_NE(moved, ptr);
    EXPECT_TRUE(Aligned(moved, 16));
    EXPECT_EQ(malloc_usable_size(moved), next);
    size_t kept = next < size ? next : size;
    for (size_t i = 0; i < kept; ++i) ASSERT_EQ(moved[i], static_cast<unsigned char>(i * 7)) << next << " " << i;
    for (size_t i = kept; i < next; ++i) moved[i] = static_cast<unsigned char>(i * 7);
    ptr = moved;
    size = next;
  }
  errno = 0;
  EXPECT_EQ(do_realloc(ptr, kHuge), nullptr);
  EXPECT_EQ(errno, ENOMEM);
  for (size_t i = 0; i < size; ++i) ASSERT_EQ(ptr[i], static_cast<unsigned char>(i * 7));
  EXPECT_EQ(malloc_usable_size(ptr), size);
  errno = 0;
  EXPECT_EQ(Opaque(&reallocarray)(ptr, SIZE_MAX / 2, 4), nullptr);
  EXPECT_EQ(errno, ENOMEM);
  void *aligned = Opaque(&aligned_alloc)(4096, 10);
  ASSERT_NE(aligned, nullptr);
  void *grown = do_realloc(aligned, 20000);
  ASSERT_NE(grown, nullptr);
  EXPECT_TRUE(Aligned(grown, 4096)) << "the block keeps its alignment";
  free(grown);
  EXPECT_EQ(do_realloc(ptr, 0), nullptr);
  EXPECT_TRUE(recorder.reports().empty());
}

// fork() while other threads allocate and free: the child allocates and
// frees blocks of every home.
TEST(AlloyMallocDebug, ForkWhileThreadsAllocate) {
  SKIP_WHERE_A_TOOL_OWNS_MALLOC();
  alloy_test::ExpectForksWhileThreadsAllocate(alloy_test::AllocateEverySizeInChild<7>);
}

// Patterns written into every block and checked before its free; blocks
// freed by the thread that made them and by others, grown with realloc;
// threads created and joined in a loop. No fault is reported.
TEST(AlloyMallocDebug, ThreadedStress) {
  SKIP_WHERE_A_TOOL_OWNS_MALLOC();
  ReportRecorder recorder;
  EXPECT_EQ(alloy_test::ThreadedIntegrityStressFailures(static_cast<int>(alloy_test::Scaled(8, 2)),
                                                        static_cast<int>(alloy_test::Scaled(3000, 300))),
            0);
  EXPECT_TRUE(recorder.reports().empty());
}

#else  // ALLOY_MALLOC_EXCLUDED

TEST(AlloyMallocDebug, SkippedWhereAToolOwnsMalloc) { GTEST_SKIP() << alloy_test::OverrideSkipReason(); }

#endif

}  // namespace
