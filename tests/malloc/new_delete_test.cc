// The drop-in malloc's C++ operators (//malloc:alloy_new linked into the
// test binary): every replaceable operator new and delete of C++17 with a
// pattern written and checked in each block; sized deletes of small and
// large blocks (and, under an address-space limit in a child, proof that
// they give the memory back); every power-of-two alignment up to 1 MiB;
// huge sizes (nullptr from the nothrow forms, std::bad_alloc from the
// others); the new_handler loop; new(0); and standard containers churned by
// four threads. Where a tool owns malloc (asan, tsan, valgrind) the
// operators are not linked and every test skips, saying why.
#include <malloc.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <new>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "tests/support/address_space.h"
#include "tests/support/fork_child.h"
#include "tests/support/support.h"

namespace {

// Why the operators cannot be tested in this build, or nullptr.
const char *SkipReason() {
#if defined(ALLOY_MALLOC_EXCLUDED)
  return "the sanitizer or valgrind owns malloc and operator new in this config: //malloc:alloy_new is not linked";
#else
  if (alloy_test::kAsan) return "AddressSanitizer owns malloc and operator new";
  if (alloy_test::kTsan) return "ThreadSanitizer owns malloc and operator new";
  if (alloy_test::UnderValgrind()) return "valgrind's memcheck replaces malloc and operator new";
  return nullptr;
#endif
}

#define SKIP_WHERE_A_TOOL_OWNS_MALLOC()                             \
  do {                                                              \
    if (const char *reason = SkipReason()) GTEST_SKIP() << reason;  \
  } while (0)

#if !defined(ALLOY_MALLOC_EXCLUDED)

const size_t kHuge = SIZE_MAX - 4096;
constexpr size_t kMiB = size_t{1} << 20;

bool Aligned(const void *ptr, size_t align) { return reinterpret_cast<uintptr_t>(ptr) % align == 0; }

// The optimiser may not assume where a pointer came from or drop a call
// whose result is only passed here.
template <typename T>
T *Opaque(T *ptr) {
  asm volatile("" : "+r"(ptr) : : "memory");
  return ptr;
}

// A size the optimiser cannot see (so it neither warns about nor folds a
// request it knows must fail).
size_t Unknown(size_t size) {
  asm volatile("" : "+r"(size));
  return size;
}

// Every byte of the block is the caller's: a pattern written and read back.
bool Writable(void *ptr, size_t size, uint32_t seed) {
  alloy_test::Fill(Opaque(ptr), size, seed);
  return alloy_test::Check(Opaque(ptr), size, seed);
}

// ---- Every form ------------------------------------------------------------

// One allocation function with one deallocation function that may release
// its blocks; `align` is ignored by the forms without std::align_val_t.
struct Form {
  const char *name;
  void *(*allocate)(size_t size, std::align_val_t align);
  void (*release)(void *ptr, size_t size, std::align_val_t align);
};

const Form kForms[] = {
    {"new / delete", [](size_t s, std::align_val_t) { return ::operator new(s); },
     [](void *p, size_t, std::align_val_t) { ::operator delete(p); }},
    {"new / sized delete", [](size_t s, std::align_val_t) { return ::operator new(s); },
     [](void *p, size_t s, std::align_val_t) { ::operator delete(p, s); }},
    {"new / nothrow delete", [](size_t s, std::align_val_t) { return ::operator new(s); },
     [](void *p, size_t, std::align_val_t) { ::operator delete(p, std::nothrow); }},
    {"new[] / delete[]", [](size_t s, std::align_val_t) { return ::operator new[](s); },
     [](void *p, size_t, std::align_val_t) { ::operator delete[](p); }},
    {"new[] / sized delete[]", [](size_t s, std::align_val_t) { return ::operator new[](s); },
     [](void *p, size_t s, std::align_val_t) { ::operator delete[](p, s); }},
    {"new[] / nothrow delete[]", [](size_t s, std::align_val_t) { return ::operator new[](s); },
     [](void *p, size_t, std::align_val_t) { ::operator delete[](p, std::nothrow); }},
    {"nothrow new / sized delete", [](size_t s, std::align_val_t) { return ::operator new(s, std::nothrow); },
     [](void *p, size_t s, std::align_val_t) { ::operator delete(p, s); }},
    {"nothrow new[] / delete[]", [](size_t s, std::align_val_t) { return ::operator new[](s, std::nothrow); },
     [](void *p, size_t, std::align_val_t) { ::operator delete[](p); }},
    {"aligned new / aligned delete", [](size_t s, std::align_val_t a) { return ::operator new(s, a); },
     [](void *p, size_t, std::align_val_t a) { ::operator delete(p, a); }},
    {"aligned new / sized aligned delete", [](size_t s, std::align_val_t a) { return ::operator new(s, a); },
     [](void *p, size_t s, std::align_val_t a) { ::operator delete(p, s, a); }},
    {"aligned new / nothrow aligned delete", [](size_t s, std::align_val_t a) { return ::operator new(s, a); },
     [](void *p, size_t, std::align_val_t a) { ::operator delete(p, a, std::nothrow); }},
    {"aligned new[] / aligned delete[]", [](size_t s, std::align_val_t a) { return ::operator new[](s, a); },
     [](void *p, size_t, std::align_val_t a) { ::operator delete[](p, a); }},
    {"aligned new[] / sized aligned delete[]", [](size_t s, std::align_val_t a) { return ::operator new[](s, a); },
     [](void *p, size_t s, std::align_val_t a) { ::operator delete[](p, s, a); }},
    {"aligned new[] / nothrow aligned delete[]", [](size_t s, std::align_val_t a) { return ::operator new[](s, a); },
     [](void *p, size_t, std::align_val_t a) { ::operator delete[](p, a, std::nothrow); }},
    {"nothrow aligned new / sized aligned delete",
     [](size_t s, std::align_val_t a) { return ::operator new(s, a, std::nothrow); },
     [](void *p, size_t s, std::align_val_t a) { ::operator delete(p, s, a); }},
    {"nothrow aligned new[] / aligned delete[]",
     [](size_t s, std::align_val_t a) { return ::operator new[](s, a, std::nothrow); },
     [](void *p, size_t, std::align_val_t a) { ::operator delete[](p, a); }},
};

// The operators are the drop-in malloc's: a 20000-byte block is one of its
// medium blocks, whose usable size is its size class's, 20 KiB (the C
// library's is the request plus a few bytes), and a 100000-byte one comes
// from a medium arena, whose header tag starts with alloy's magic 0xa11
// (the C library keeps a chunk size there).
TEST(AlloyNewDelete, OperatorsAreTheDropInMalloc) {
  SKIP_WHERE_A_TOOL_OWNS_MALLOC();
  for (const Form &form : kForms) {
    void *ptr = form.allocate(20000, std::align_val_t{64});
    ASSERT_NE(ptr, nullptr) << form.name;
    EXPECT_EQ(malloc_usable_size(ptr), 20480u) << form.name;
    form.release(ptr, 20000, std::align_val_t{64});
    ptr = form.allocate(100000, std::align_val_t{64});
    ASSERT_NE(ptr, nullptr) << form.name;
    uint64_t tag;
    std::memcpy(&tag, static_cast<char *>(ptr) - sizeof(tag), sizeof(tag));
    EXPECT_EQ(tag >> 52, 0xa11u) << form.name;
    EXPECT_GE(malloc_usable_size(ptr), 100000u) << form.name;
    form.release(ptr, 100000, std::align_val_t{64});
  }
}

// Each pair over sizes from zero through the small classes into page
// mappings, many blocks live at once, released in a shuffled order.
TEST(AlloyNewDelete, EveryFormAllocatesAndFrees) {
  SKIP_WHERE_A_TOOL_OWNS_MALLOC();
  const size_t sizes[] = {0, 1, 7, 8, 9, 16, 100, 255, 1000, 1024, 1025, 4096, 5000, 70000, 2 * kMiB + 1};
  struct Live {
    void *ptr;
    size_t size;
    uint32_t seed;
  };
  std::mt19937 random(7);
  for (const Form &form : kForms) {
    for (std::align_val_t align : {std::align_val_t{16}, std::align_val_t{64}, std::align_val_t{8192}}) {
      std::vector<Live> live;
      for (int copy = 0; copy < 4; ++copy) {
        for (size_t size : sizes) {
          void *ptr = form.allocate(size, align);
          ASSERT_NE(ptr, nullptr) << form.name << " " << size;
          EXPECT_GE(malloc_usable_size(ptr), size) << form.name << " " << size;
          uint32_t seed = random();
          alloy_test::Fill(ptr, size, seed);
          live.push_back({ptr, size, seed});
        }
      }
      std::shuffle(live.begin(), live.end(), random);
      for (const Live &block : live) {
        ASSERT_TRUE(alloy_test::Check(block.ptr, block.size, block.seed)) << form.name << " " << block.size;
        form.release(block.ptr, block.size, align);
      }
    }
  }
  ::operator delete(nullptr);
  ::operator delete(nullptr, size_t{100});
  ::operator delete[](nullptr, size_t{5000});
  ::operator delete(nullptr, size_t{64}, std::align_val_t{4096});
  ::operator delete[](nullptr, std::align_val_t{64}, std::nothrow);
}

// new-expressions: the compiler picks the sized deletes for complete types
// (with the array cookie for types with a destructor) and the aligned forms
// for over-aligned types.
template <size_t kSize, size_t kAlign = alignof(std::max_align_t)>
struct alignas(kAlign) Object {
  unsigned char bytes[kSize];
  Object() { std::fill(bytes, bytes + kSize, static_cast<unsigned char>(kSize ^ kAlign)); }
  ~Object() { std::fill(bytes, bytes + kSize, 0xdd); }  // non-trivial: new[] stores a cookie
  bool Intact() const {
    return std::all_of(bytes, bytes + kSize, [](unsigned char b) { return b == static_cast<unsigned char>(kSize ^ kAlign); });
  }
};

template <typename T>
void NewAndDeleteExpressions(int count) {
  std::vector<T *> singles;
  for (int i = 0; i < count; ++i) singles.push_back(Opaque(new T));
  T *array = Opaque(new T[static_cast<size_t>(count)]);
  EXPECT_TRUE(Aligned(array, alignof(T))) << sizeof(T);
  for (T *object : singles) {
    EXPECT_TRUE(Aligned(object, alignof(T))) << sizeof(T);
    EXPECT_TRUE(object->Intact()) << sizeof(T);
  }
  for (int i = 0; i < count; ++i) EXPECT_TRUE(array[i].Intact()) << sizeof(T);
  for (T *object : singles) delete object;
  delete[] array;
}

TEST(AlloyNewDelete, NewAndDeleteExpressions) {
  SKIP_WHERE_A_TOOL_OWNS_MALLOC();
  NewAndDeleteExpressions<Object<24>>(100);
  NewAndDeleteExpressions<Object<1000>>(50);
  NewAndDeleteExpressions<Object<1100>>(20);
  NewAndDeleteExpressions<Object<70000>>(4);
  NewAndDeleteExpressions<Object<64, 64>>(50);
  NewAndDeleteExpressions<Object<100, 256>>(30);
  NewAndDeleteExpressions<Object<8192, 4096>>(5);
  NewAndDeleteExpressions<Object<64, 65536>>(3);
}

// ---- Sized delete ---------------------------------------------------------

// Sizes on both sides of the small-object heap's largest class (8 KiB),
// through the sized forms only, with blocks of every size live together.
TEST(AlloyNewDelete, SizedDeleteOfSmallAndLargeSizes) {
  SKIP_WHERE_A_TOOL_OWNS_MALLOC();
  std::vector<size_t> sizes;
  for (size_t size = 1; size <= 1100; size += 3) sizes.push_back(size);
  for (size_t size = 1100; size <= 8 * kMiB; size = size * 3 / 2) sizes.push_back(size);
  for (int round = 0; round < 3; ++round) {
    std::vector<void *> plain, array, aligned;
    for (size_t size : sizes) {
      plain.push_back(::operator new(size));
      array.push_back(::operator new[](size));
      aligned.push_back(::operator new(size, std::align_val_t{128}));
      EXPECT_TRUE(Aligned(aligned.back(), 128)) << size;
      for (void *ptr : {plain.back(), array.back(), aligned.back()})
        ASSERT_TRUE(Writable(ptr, size, static_cast<uint32_t>(size))) << size;
    }
    for (size_t i = 0; i < sizes.size(); ++i) {
      for (void *ptr : {plain[i], array[i], aligned[i]})
        ASSERT_TRUE(alloy_test::Check(ptr, sizes[i], static_cast<uint32_t>(sizes[i]))) << sizes[i];
      ::operator delete(plain[i], sizes[i]);
      ::operator delete[](array[i], sizes[i]);
      ::operator delete(aligned[i], sizes[i], std::align_val_t{128});
    }
  }
}

using alloy_test::LimitAddressSpace;

// Each loop goes through far more memory than the limit leaves room for:
// it completes only if every sized delete really frees its block.
int SizedDeletesGiveMemoryBack(void *) {
  if (!LimitAddressSpace(256 * kMiB)) return 10;
  for (int i = 0; i < 64; ++i) {  // 2 GiB of 32 MiB mappings
    auto *ptr = static_cast<unsigned char *>(::operator new(32 * kMiB, std::nothrow));
    if (ptr == nullptr) return 11;
    ptr[0] = ptr[32 * kMiB - 1] = 1;
    ::operator delete(ptr, 32 * kMiB);
  }
  for (int i = 0; i < 64; ++i) {  // 2 GiB of 1 MiB-aligned arrays
    auto *ptr = static_cast<unsigned char *>(::operator new[](32 * kMiB, std::align_val_t{kMiB}, std::nothrow));
    if (ptr == nullptr || !Aligned(ptr, kMiB)) return 12;
    ptr[0] = ptr[32 * kMiB - 1] = 1;
    ::operator delete[](ptr, 32 * kMiB, std::align_val_t{kMiB});
  }
  for (int i = 0; i < (1 << 20); ++i) {  // 512 MiB in small blocks, a thousand live at a time
    static void *live[1000];
    void *&slot = live[i % 1000];
    if (slot != nullptr) ::operator delete(slot, 512);
    slot = ::operator new(512, std::nothrow);
    if (slot == nullptr) return 13;
    static_cast<unsigned char *>(slot)[511] = 1;
  }
  return 0;
}

TEST(AlloyNewDelete, SizedDeletesGiveMemoryBack) {
  SKIP_WHERE_A_TOOL_OWNS_MALLOC();
  alloy_test::ChildOutcome outcome =
      alloy_test::RunInChild(SizedDeletesGiveMemoryBack, nullptr, alloy_test::ChildTimeoutMs() * 4);
  EXPECT_TRUE(outcome.ok()) << outcome.describe();
}

// ---- Alignment --------------------------------------------------------------

// Every power of two from 1 to 1 MiB, sizes below, at and above it, through
// the four aligned allocation forms.
TEST(AlloyNewDelete, AlignedNewForEveryAlignmentUpToOneMebibyte) {
  SKIP_WHERE_A_TOOL_OWNS_MALLOC();
  for (size_t alignment = 1; alignment <= kMiB; alignment *= 2) {
    std::align_val_t align{alignment};
    for (size_t size : {size_t{0}, size_t{1}, alignment / 2 + 1, alignment, alignment + 1, size_t{3000}}) {
      void *single = ::operator new(size, align);
      void *array = ::operator new[](size, align);
      void *single_nothrow = ::operator new(size, align, std::nothrow);
      void *array_nothrow = ::operator new[](size, align, std::nothrow);
      for (void *ptr : {single, array, single_nothrow, array_nothrow}) {
        ASSERT_NE(ptr, nullptr) << alignment << " " << size;
        EXPECT_TRUE(Aligned(ptr, alignment)) << alignment << " " << size;
        EXPECT_GE(malloc_usable_size(ptr), size);
        EXPECT_TRUE(Writable(ptr, size, static_cast<uint32_t>(alignment + size))) << alignment << " " << size;
      }
      ::operator delete(single, size, align);
      ::operator delete[](array, align);
      ::operator delete(single_nothrow, align, std::nothrow);
      ::operator delete[](array_nothrow, size, align);
    }
  }
}

// Not a power of two: the operators fail at once (the standard leaves it
// undefined; no new_handler could make it succeed, so none is called).
int handler_calls = 0;
void CountCall() { ++handler_calls; }

TEST(AlloyNewDelete, AlignmentThatIsNotAPowerOfTwoFails) {
  SKIP_WHERE_A_TOOL_OWNS_MALLOC();
  handler_calls = 0;
  std::new_handler previous = std::set_new_handler(CountCall);
  EXPECT_THROW(Opaque(::operator new(64, std::align_val_t{Unknown(48)})), std::bad_alloc);
  EXPECT_THROW(Opaque(::operator new[](64, std::align_val_t{3})), std::bad_alloc);
  EXPECT_EQ(::operator new(64, std::align_val_t{48}, std::nothrow), nullptr);
  EXPECT_EQ(::operator new[](64, std::align_val_t{96}, std::nothrow), nullptr);
  std::set_new_handler(previous);
  EXPECT_EQ(handler_calls, 0);
}

// ---- Failure ---------------------------------------------------------------

TEST(AlloyNewDelete, NothrowNewOfAHugeSizeReturnsNull) {
  SKIP_WHERE_A_TOOL_OWNS_MALLOC();
  ASSERT_EQ(std::get_new_handler(), nullptr);
  for (size_t size : {kHuge, SIZE_MAX, size_t{1} << 62}) {
    EXPECT_EQ(::operator new(Unknown(size), std::nothrow), nullptr) << size;
    EXPECT_EQ(::operator new[](Unknown(size), std::nothrow), nullptr) << size;
    EXPECT_EQ(::operator new(Unknown(size), std::align_val_t{64}, std::nothrow), nullptr) << size;
    EXPECT_EQ(::operator new[](Unknown(size), std::align_val_t{kMiB}, std::nothrow), nullptr) << size;
  }
  size_t count = Unknown(kHuge);
  EXPECT_EQ(new (std::nothrow) char[count], nullptr);
}

TEST(AlloyNewDelete, ThrowingNewOfAHugeSizeThrowsBadAlloc) {
  SKIP_WHERE_A_TOOL_OWNS_MALLOC();
  ASSERT_EQ(std::get_new_handler(), nullptr);
  for (size_t size : {kHuge, SIZE_MAX, size_t{1} << 62}) {
    EXPECT_THROW(Opaque(::operator new(Unknown(size))), std::bad_alloc) << size;
    EXPECT_THROW(Opaque(::operator new[](Unknown(size))), std::bad_alloc) << size;
    EXPECT_THROW(Opaque(::operator new(Unknown(size), std::align_val_t{64})), std::bad_alloc) << size;
    EXPECT_THROW(Opaque(::operator new[](Unknown(size), std::align_val_t{kMiB})), std::bad_alloc) << size;
  }
  size_t count = Unknown(kHuge);
  EXPECT_THROW(Opaque(new char[count]), std::bad_alloc);
}

// A handler that gives up (uninstalls itself) on its third call: the loop
// called it three times, then threw; the nothrow forms return nullptr.
void GiveUpOnThirdCall() {
  if (++handler_calls == 3) std::set_new_handler(nullptr);
}

TEST(AlloyNewDelete, NewHandlerRunsUntilItGivesUp) {
  SKIP_WHERE_A_TOOL_OWNS_MALLOC();
  handler_calls = 0;
  std::set_new_handler(GiveUpOnThirdCall);
  EXPECT_THROW(Opaque(::operator new(Unknown(kHuge))), std::bad_alloc);
  EXPECT_EQ(handler_calls, 3);
  handler_calls = 0;
  std::set_new_handler(GiveUpOnThirdCall);
  EXPECT_EQ(::operator new[](Unknown(kHuge), std::align_val_t{256}, std::nothrow), nullptr);
  EXPECT_EQ(handler_calls, 3);
  EXPECT_EQ(std::get_new_handler(), nullptr);
}

// A handler that throws std::bad_alloc itself: a throwing form passes it
// on, a nothrow form returns nullptr.
void ThrowBadAlloc() {
  ++handler_calls;
  throw std::bad_alloc();
}

TEST(AlloyNewDelete, NewHandlerThatThrows) {
  SKIP_WHERE_A_TOOL_OWNS_MALLOC();
  handler_calls = 0;
  std::new_handler previous = std::set_new_handler(ThrowBadAlloc);
  EXPECT_THROW(Opaque(::operator new[](Unknown(kHuge))), std::bad_alloc);
  EXPECT_EQ(::operator new(Unknown(kHuge), std::nothrow), nullptr);
  EXPECT_EQ(::operator new(Unknown(kHuge), std::align_val_t{64}, std::nothrow), nullptr);
  std::set_new_handler(previous);
  EXPECT_EQ(handler_calls, 3);
}

// Under an address-space limit (in a child): four 60 MiB reserve blocks fill
// most of the room; a request for 100 MiB fails until the handler, one
// reserve block per call, has freed two of them, and then succeeds.
constexpr size_t kReserveBlock = 60 * kMiB;
constexpr size_t kRequest = 100 * kMiB;
void *reserve[4];

void ReleaseOneReserveBlock() {
  ++handler_calls;
  for (void *&block : reserve) {
    if (block != nullptr) {
      ::operator delete(block, kReserveBlock);
      block = nullptr;
      return;
    }
  }
  std::set_new_handler(nullptr);  // nothing left to give
}

// Each allocation form once, with a delete that matches it; returns 0 or
// the code of the step that went wrong.
int RetryAfterTheHandlerReleasesReserve() {
  if (!LimitAddressSpace(256 * kMiB)) return 20;
  struct Pair {
    void *(*allocate)(size_t size);
    void (*release)(void *ptr);
  };
  const Pair pairs[] = {
      {[](size_t s) { return ::operator new(s); }, [](void *p) { ::operator delete(p); }},
      {[](size_t s) { return ::operator new[](s, std::nothrow); }, [](void *p) { ::operator delete[](p); }},
      {[](size_t s) { return ::operator new(s, std::align_val_t{4096}); },
       [](void *p) { ::operator delete(p, std::align_val_t{4096}); }},
      {[](size_t s) { return ::operator new[](s, std::align_val_t{kMiB}, std::nothrow); },
       [](void *p) { ::operator delete[](p, std::align_val_t{kMiB}); }},
  };
  int which = 0;
  for (const Pair &pair : pairs) {
    ++which;
    for (void *&block : reserve) {
      block = ::operator new(kReserveBlock, std::nothrow);
      if (block == nullptr) return 20 + which;
      static_cast<unsigned char *>(block)[0] = 1;
    }
    handler_calls = 0;
    std::set_new_handler(ReleaseOneReserveBlock);
    void *ptr = pair.allocate(kRequest);
    std::set_new_handler(nullptr);
    if (ptr == nullptr) return 30 + which;
    if (handler_calls != 2) return 40 + which;
    if (!Writable(ptr, 4096, 9) || !Writable(static_cast<char *>(ptr) + kRequest - 4096, 4096, 10)) return 50 + which;
    pair.release(ptr);
    for (void *&block : reserve) {
      ::operator delete(block);
      block = nullptr;
    }
  }
  return 0;
}

int HandlerReleasesReserveAndRetrySucceeds(void *) {
  try {
    return RetryAfterTheHandlerReleasesReserve();
  } catch (const std::bad_alloc &) {  // a throwing form gave up: the retry never succeeded
    return 60;
  }
}

TEST(AlloyNewDelete, NewHandlerThatFreesReserveLetsTheRetrySucceed) {
  SKIP_WHERE_A_TOOL_OWNS_MALLOC();
  alloy_test::ChildOutcome outcome =
      alloy_test::RunInChild(HandlerReleasesReserveAndRetrySucceeds, nullptr, alloy_test::ChildTimeoutMs());
  EXPECT_TRUE(outcome.ok()) << outcome.describe();
}

// ---- new(0) ------------------------------------------------------------------

TEST(AlloyNewDelete, NewOfZeroBytesIsUniqueAndNotNull) {
  SKIP_WHERE_A_TOOL_OWNS_MALLOC();
  for (const Form &form : kForms) {
    std::vector<void *> blocks;
    for (int i = 0; i < 100; ++i) {
      void *ptr = form.allocate(0, std::align_val_t{32});
      ASSERT_NE(ptr, nullptr) << form.name;
      blocks.push_back(ptr);
    }
    std::vector<void *> sorted = blocks;
    std::sort(sorted.begin(), sorted.end());
    EXPECT_EQ(std::adjacent_find(sorted.begin(), sorted.end()), sorted.end()) << form.name;
    for (void *ptr : blocks) form.release(ptr, 0, std::align_val_t{32});
  }
  size_t zero = Unknown(0);
  char *a = Opaque(new char[zero]);
  char *b = Opaque(new char[zero]);
  EXPECT_NE(a, nullptr);
  EXPECT_NE(a, b);
  delete[] a;
  delete[] b;
}

// ---- Containers ---------------------------------------------------------------

// The value stored under `key`: its length spans the small classes and, now
// and then, a page mapping.
std::string ValueFor(uint32_t key) {
  size_t length = key % 61 == 0 ? 3000 + key % 5000 : key % 300;
  std::string value(length, static_cast<char>('a' + key % 26));
  return value + std::to_string(key);
}

std::vector<uint32_t> VectorFor(uint32_t key) {
  std::vector<uint32_t> values;
  for (uint32_t i = 0; i < key % 200; ++i) values.push_back(key * 2654435761u + i);
  return values;
}

struct Shard {
  std::map<uint32_t, std::string> strings;
  std::map<uint32_t, std::vector<uint32_t>> vectors;
};

int CheckShard(const Shard &shard) {
  int failures = 0;
  for (const auto &entry : shard.strings) failures += entry.second != ValueFor(entry.first);
  for (const auto &entry : shard.vectors) failures += entry.second != VectorFor(entry.first);
  return failures;
}

// Four threads insert, grow, overwrite and erase; each round a thread takes
// over its neighbour's containers from the previous round, checks them and
// destroys them (frees of blocks another thread allocated).
TEST(AlloyNewDelete, ContainerChurnAcrossFourThreads) {
  SKIP_WHERE_A_TOOL_OWNS_MALLOC();
  constexpr int kThreads = 4;
  const int rounds = static_cast<int>(alloy_test::Scaled(12, 3));
  const int operations = static_cast<int>(alloy_test::Scaled(20000, 2000));
  std::atomic<int> failures{0};
  std::vector<Shard> handed(kThreads);
  for (int round = 0; round < rounds; ++round) {
    std::vector<Shard> next(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t, round] {
        failures += CheckShard(handed[(t + 1) % kThreads]);
        handed[(t + 1) % kThreads] = Shard();  // the neighbour's blocks freed here
        std::mt19937 random(static_cast<uint32_t>(round * 977 + t));
        Shard shard;
        std::vector<std::string> log;
        for (int i = 0; i < operations; ++i) {
          uint32_t key = random() % 4096;
          switch (random() % 6) {
            case 0:
            case 1: shard.strings[key] = ValueFor(key); break;
            case 2: shard.vectors[key] = VectorFor(key); break;
            case 3:
              shard.strings.erase(key);
              shard.vectors.erase(key);
              break;
            case 4: {  // grow a vector one element at a time, then put it back as it was
              std::vector<uint32_t> &values = shard.vectors[key];
              values = VectorFor(key);
              for (int extra = 0; extra < 50; ++extra) values.push_back(0xdeadbeefu);
              values.resize(values.size() - 50);
              values.shrink_to_fit();
              break;
            }
            case 5:
              log.push_back(ValueFor(key));
              if (log.size() > 500) {
                for (const std::string &line : log) {
                  uint32_t logged = static_cast<uint32_t>(std::stoul(line.substr(line.find_first_of("0123456789"))));
                  failures += line != ValueFor(logged);
                }
                log.clear();
              }
              break;
          }
        }
        failures += CheckShard(shard);
        next[t] = std::move(shard);
      });
    }
    for (std::thread &thread : threads) thread.join();
    handed = std::move(next);
  }
  for (const Shard &shard : handed) failures += CheckShard(shard);
  EXPECT_EQ(failures.load(), 0);
}

#else  // ALLOY_MALLOC_EXCLUDED

TEST(AlloyNewDelete, SkippedWhereAToolOwnsMalloc) { GTEST_SKIP() << SkipReason(); }

#endif

}  // namespace
