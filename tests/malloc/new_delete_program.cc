// A C++ program for preload_test.sh, built without alloy: run on the C++
// runtime's own operator new and again under LD_PRELOAD of liballoy_malloc.so,
// it must print the same line. It allocates through new-expressions that the
// compiler pairs with sized deletes (objects of many sizes, polymorphic ones
// deleted through their base, arrays with a cookie), over-aligned types
// (aligned and sized aligned deletes), explicit aligned operator new for
// every power of two up to 1 MiB, and standard containers; it prints a
// checksum of what it stored and read back, and how many blocks were
// misaligned or lost their contents.
//
// With --providers it prints instead which file defines operator new, the
// sized delete and their aligned forms in this process (the first definition
// the dynamic linker finds, as every call binds to it).
//
// With --exhaustion it checks instead what the standard asks of a failed
// allocation: the new_handler runs until it gives up, throws or frees enough
// for the retry; then std::bad_alloc, or nullptr from the nothrow forms. One
// line per check; the exit status is 1 when one of them failed.
#include <dlfcn.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "tests/support/address_space.h"

namespace {

struct Checksum {
  uint64_t value = 1469598103934665603ull;  // FNV-1a
  void Add(const void *bytes, size_t size) {
    for (size_t i = 0; i < size; ++i) {
      value ^= static_cast<const unsigned char *>(bytes)[i];
      value *= 1099511628211ull;
    }
  }
  void Add(uint64_t number) { Add(&number, sizeof number); }
};

int misaligned = 0;
int damaged = 0;

// Deleted through the base: the deleting destructor passes the derived
// type's size to the sized delete.
struct Shape {
  virtual ~Shape() = default;
  virtual uint64_t Sum() const = 0;
};

template <size_t kBytes, size_t kAlign = alignof(std::max_align_t)>
struct alignas(kAlign) Filled : Shape {
  unsigned char bytes[kBytes];
  explicit Filled(unsigned seed) {
    for (size_t i = 0; i < kBytes; ++i) bytes[i] = static_cast<unsigned char>(seed + i * 31);
  }
  uint64_t Sum() const override {
    if (reinterpret_cast<uintptr_t>(this) % kAlign != 0) ++misaligned;
    uint64_t sum = kBytes;
    for (size_t i = 0; i < kBytes; ++i) sum = sum * 131 + bytes[i];
    return sum;
  }
};

std::unique_ptr<Shape> MakeShape(unsigned seed) {
  switch (seed % 8) {
    case 0: return std::make_unique<Filled<8>>(seed);
    case 1: return std::make_unique<Filled<100>>(seed);
    case 2: return std::make_unique<Filled<1000>>(seed);
    case 3: return std::make_unique<Filled<1017>>(seed);  // the object just above 1 KiB
    case 4: return std::make_unique<Filled<5000>>(seed);
    case 5: return std::make_unique<Filled<48, 64>>(seed);
    case 6: return std::make_unique<Filled<3000, 4096>>(seed);
    default: return std::make_unique<Filled<200000>>(seed);
  }
}

// A destructor makes new[] store the element count: the sized delete[]
// gets the size with that cookie.
struct Cell {
  uint32_t value;
  explicit Cell(uint32_t v = 0) : value(v) {}
  ~Cell() { value = 0xdeadbeef; }
};

void Shapes(Checksum &checksum) {
  std::vector<std::unique_ptr<Shape>> shapes;
  for (unsigned round = 0; round < 20; ++round) {
    for (unsigned i = 0; i < 500; ++i) shapes.push_back(MakeShape(round * 500 + i));
    for (size_t i = 0; i < shapes.size(); i += 3) {
      checksum.Add(shapes[i]->Sum());
      shapes[i].reset();
    }
    std::vector<std::unique_ptr<Shape>> kept;
    for (auto &shape : shapes)
      if (shape) kept.push_back(std::move(shape));
    shapes = std::move(kept);
  }
  for (const auto &shape : shapes) checksum.Add(shape->Sum());
}

void Arrays(Checksum &checksum) {
  for (uint32_t count = 1; count < 40000; count = count * 3 + 1) {
    Cell *cells = new Cell[count];
    for (uint32_t i = 0; i < count; ++i) cells[i].value = i * count;
    uint64_t sum = 0;
    for (uint32_t i = 0; i < count; ++i) sum += cells[i].value;
    if (sum != uint64_t{count} * (uint64_t{count} - 1) / 2 * count) ++damaged;
    checksum.Add(sum);
    delete[] cells;
  }
}

void AlignedOperators(Checksum &checksum) {
  for (size_t align = 1; align <= (size_t{1} << 20); align *= 2) {
    for (size_t size : {size_t{1}, align, align + 100, size_t{5000}}) {
      auto *block = static_cast<unsigned char *>(::operator new(size, std::align_val_t{align}));
      auto *array = static_cast<unsigned char *>(::operator new[](size, std::align_val_t{align}));
      if (reinterpret_cast<uintptr_t>(block) % align != 0) ++misaligned;
      if (reinterpret_cast<uintptr_t>(array) % align != 0) ++misaligned;
      memset(block, static_cast<int>(size), size);
      memset(array, static_cast<int>(align), size);
      if (block[size - 1] != static_cast<unsigned char>(size)) ++damaged;
      if (array[size - 1] != static_cast<unsigned char>(align)) ++damaged;
      checksum.Add(block, size < 64 ? size : 64);
      ::operator delete(block, size, std::align_val_t{align});
      ::operator delete[](array, std::align_val_t{align});
    }
  }
}

void Containers(Checksum &checksum) {
  std::map<uint32_t, std::string> map;
  std::vector<std::string> strings;
  for (uint32_t i = 0; i < 100000; ++i) {
    uint32_t key = (i * 2654435761u) % 20000;
    map[key] = std::string(key % 700, static_cast<char>('a' + key % 26)) + std::to_string(i);
    if (i % 5 == 0) map.erase((key * 7) % 20000);
    strings.push_back(std::to_string(i) + std::string(i % 40, 'x'));
    if (strings.size() > 3000) strings.erase(strings.begin(), strings.begin() + 1500);
  }
  for (const auto &entry : map) {
    checksum.Add(entry.first);
    checksum.Add(entry.second.data(), entry.second.size());
  }
  for (const std::string &s : strings) checksum.Add(s.data(), s.size());
}

const char *Provider(const char *symbol) {
  void *address = dlsym(RTLD_DEFAULT, symbol);
  Dl_info info;
  if (address == nullptr || dladdr(address, &info) == 0 || info.dli_fname == nullptr) return "none";
  const char *slash = strrchr(info.dli_fname, '/');
  return slash != nullptr ? slash + 1 : info.dli_fname;
}

// ---- --exhaustion -------------------------------------------------------------

constexpr size_t kHuge = SIZE_MAX - 4096;
constexpr size_t kMiB = size_t{1} << 20;
int handler_calls = 0;
int exhaustion_failures = 0;

// A size the optimiser cannot see.
size_t Unknown(size_t size) {
  volatile size_t hidden = size;
  return hidden;
}

void Report(const char *check, bool passed) {
  printf("%s %s\n", passed ? "ok  " : "FAIL", check);
  if (!passed) ++exhaustion_failures;
}

// Whether `allocate` throws std::bad_alloc (it never returns a block here).
template <typename Allocate>
bool Throws(Allocate allocate) {
  try {
    return allocate() == nullptr;  // a throwing form returning nullptr fails the check too
  } catch (const std::bad_alloc &) {
    return true;
  }
}

void GiveUpOnThirdCall() {
  if (++handler_calls == 3) std::set_new_handler(nullptr);
}

void ThrowBadAlloc() {
  ++handler_calls;
  throw std::bad_alloc();
}

// Four 60 MiB reserve blocks under an address-space limit that leaves 256
// MiB; the handler frees one per call.
void *reserve[4];

void ReleaseOneReserveBlock() {
  ++handler_calls;
  for (void *&block : reserve) {
    if (block != nullptr) {
      ::operator delete(block, 60 * kMiB);
      block = nullptr;
      return;
    }
  }
  std::set_new_handler(nullptr);
}

using alloy_test::LimitAddressSpace;

// A 100 MiB request fails until the handler has freed two reserve blocks.
bool RetrySucceedsOnceTheHandlerFreedEnough(void *(*allocate)(size_t), void (*release)(void *)) {
  for (void *&block : reserve) {
    block = ::operator new(60 * kMiB, std::nothrow);
    if (block == nullptr) return false;
    static_cast<unsigned char *>(block)[0] = 1;
  }
  handler_calls = 0;
  std::set_new_handler(ReleaseOneReserveBlock);
  void *ptr = allocate(100 * kMiB);
  std::set_new_handler(nullptr);
  bool passed = ptr != nullptr && handler_calls == 2;
  if (ptr != nullptr) {
    static_cast<unsigned char *>(ptr)[100 * kMiB - 1] = 1;
    release(ptr);
  }
  for (void *&block : reserve) {
    ::operator delete(block);
    block = nullptr;
  }
  return passed;
}

int Exhaustion() {
  const std::align_val_t align{256};
  Report("new without a handler throws std::bad_alloc", Throws([] { return ::operator new(Unknown(kHuge)); }));
  Report("new[] without a handler throws std::bad_alloc", Throws([] { return ::operator new[](Unknown(kHuge)); }));
  Report("aligned new without a handler throws std::bad_alloc",
         Throws([&] { return ::operator new(Unknown(kHuge), align); }));
  Report("nothrow new without a handler returns nullptr", ::operator new(Unknown(kHuge), std::nothrow) == nullptr);
  Report("nothrow aligned new[] without a handler returns nullptr",
         ::operator new[](Unknown(kHuge), align, std::nothrow) == nullptr);

  handler_calls = 0;
  std::set_new_handler(GiveUpOnThirdCall);
  Report("new throws std::bad_alloc once the handler gave up",
         Throws([] { return ::operator new(Unknown(kHuge)); }) && handler_calls == 3);
  handler_calls = 0;
  std::set_new_handler(GiveUpOnThirdCall);
  Report("nothrow aligned new returns nullptr once the handler gave up",
         ::operator new(Unknown(kHuge), align, std::nothrow) == nullptr && handler_calls == 3);

  handler_calls = 0;
  std::set_new_handler(ThrowBadAlloc);
  Report("the handler's std::bad_alloc passes through new[]", Throws([] { return ::operator new[](Unknown(kHuge)); }));
  Report("nothrow new returns nullptr when the handler throws", ::operator new(Unknown(kHuge), std::nothrow) == nullptr);
  Report("nothrow aligned new returns nullptr when the handler throws",
         ::operator new(Unknown(kHuge), align, std::nothrow) == nullptr);
  std::set_new_handler(nullptr);
  Report("the throwing handler ran once per allocation", handler_calls == 3);

  Report("the address space is limited", LimitAddressSpace(256 * kMiB));
  Report("new succeeds once the handler freed enough",
         RetrySucceedsOnceTheHandlerFreedEnough([](size_t size) { return ::operator new(size); },
                                                [](void *ptr) { ::operator delete(ptr); }));
  Report("nothrow new[] succeeds once the handler freed enough",
         RetrySucceedsOnceTheHandlerFreedEnough([](size_t size) { return ::operator new[](size, std::nothrow); },
                                                [](void *ptr) { ::operator delete[](ptr); }));
  Report("aligned new succeeds once the handler freed enough",
         RetrySucceedsOnceTheHandlerFreedEnough(
             [](size_t size) { return ::operator new(size, std::align_val_t{4096}); },
             [](void *ptr) { ::operator delete(ptr, std::align_val_t{4096}); }));
  Report("nothrow aligned new[] succeeds once the handler freed enough",
         RetrySucceedsOnceTheHandlerFreedEnough(
             [](size_t size) { return ::operator new[](size, std::align_val_t{kMiB}, std::nothrow); },
             [](void *ptr) { ::operator delete[](ptr, std::align_val_t{kMiB}); }));
  return exhaustion_failures == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "--exhaustion") == 0) return Exhaustion();
  if (argc > 1 && strcmp(argv[1], "--providers") == 0) {
    printf("operator new: %s\n", Provider("_Znwm"));
    printf("sized delete: %s\n", Provider("_ZdlPvm"));
    printf("aligned new: %s\n", Provider("_ZnwmSt11align_val_t"));
    printf("sized aligned delete: %s\n", Provider("_ZdlPvmSt11align_val_t"));
    return 0;
  }
  Checksum checksum;
  Shapes(checksum);
  Arrays(checksum);
  AlignedOperators(checksum);
  Containers(checksum);
  printf("checksum %016llx misaligned %d damaged %d\n", static_cast<unsigned long long>(checksum.value), misaligned,
         damaged);
  return misaligned == 0 && damaged == 0 ? 0 : 1;
}
