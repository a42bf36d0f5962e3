// bench/support/peer_allocators.cc — dlopen'ed peers behind the Allocator interface.
#include "bench/support/peer_allocators.h"

#include <dlfcn.h>
#include <malloc.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <thread>
#include <vector>

namespace alloy_bench {
namespace {

constexpr size_t kMallocAlignment = 16;  // what every peer's plain malloc guarantees

size_t ResidentBytes() { return ProcessResidentBytes(); }

class GlibcAllocator final : public Allocator {
 public:
  const std::string& name() const override { return name_; }
  void* Allocate(size_t size, size_t align) override {
    if (align <= kMallocAlignment) return malloc(size);
    return aligned_alloc(align, (size + align - 1) & ~(align - 1));
  }
  void Free(void* ptr, size_t, size_t) override { free(ptr); }
  HeldMemory Held() override { return GlibcHeldMemory(); }
  void Trim() override { malloc_trim(0); }

 private:
  std::string name_ = "glibc";
};

template <typename Fn>
bool Lookup(void* handle, const char* symbol, Fn* out) {
  *out = reinterpret_cast<Fn>(dlsym(handle, symbol));
  return *out != nullptr;
}

class MimallocAllocator final : public Allocator {
 public:
  static std::unique_ptr<Allocator> Open(void* handle, std::string* why) {
    auto a = std::unique_ptr<MimallocAllocator>(new MimallocAllocator);
    if (!Lookup(handle, "mi_malloc", &a->malloc_) || !Lookup(handle, "mi_free", &a->free_) ||
        !Lookup(handle, "mi_malloc_aligned", &a->malloc_aligned_)) {
      *why = "mi_malloc/mi_free/mi_malloc_aligned missing";
      return nullptr;
    }
    Lookup(handle, "mi_free_size", &a->free_size_);
    Lookup(handle, "mi_free_size_aligned", &a->free_size_aligned_);
    Lookup(handle, "mi_collect", &a->collect_);
    return a;
  }
  const std::string& name() const override { return name_; }
  void* Allocate(size_t size, size_t align) override {
    return align <= kMallocAlignment ? malloc_(size) : malloc_aligned_(size, align);
  }
  void Free(void* ptr, size_t size, size_t align) override {
    if (align <= kMallocAlignment) {
      if (free_size_ != nullptr) return free_size_(ptr, size);
    } else if (free_size_aligned_ != nullptr) {
      return free_size_aligned_(ptr, size, align);
    }
    free_(ptr);
  }
  HeldMemory Held() override {
    // mimalloc's own commit counter counts whole segments and not what is
    // touched; the process RSS is what a user sees. Valid as a difference
    // while mimalloc is the only thing allocating.
    return HeldMemory{true, ResidentBytes(), "process RSS delta (after mi_collect)"};
  }
  void Trim() override {
    if (collect_ != nullptr) collect_(true);
  }

 private:
  std::string name_ = "mimalloc";
  void* (*malloc_)(size_t) = nullptr;
  void* (*malloc_aligned_)(size_t, size_t) = nullptr;
  void (*free_)(void*) = nullptr;
  void (*free_size_)(void*, size_t) = nullptr;
  void (*free_size_aligned_)(void*, size_t, size_t) = nullptr;
  void (*collect_)(bool) = nullptr;
};

class JemallocAllocator final : public Allocator {
 public:
  static std::unique_ptr<Allocator> Open(void* handle, std::string* why) {
    auto a = std::unique_ptr<JemallocAllocator>(new JemallocAllocator);
    if (!Lookup(handle, "mallocx", &a->mallocx_) || !Lookup(handle, "sdallocx", &a->sdallocx_) ||
        !Lookup(handle, "mallctl", &a->mallctl_)) {
      *why = "mallocx/sdallocx/mallctl missing";
      return nullptr;
    }
    return a;
  }
  const std::string& name() const override { return name_; }
  void* Allocate(size_t size, size_t align) override { return mallocx_(size, Flags(align)); }
  void Free(void* ptr, size_t size, size_t align) override { sdallocx_(ptr, size, Flags(align)); }
  HeldMemory Held() override {
    uint64_t epoch = 1;
    size_t len = sizeof(epoch);
    mallctl_("epoch", &epoch, &len, &epoch, len);
    size_t resident = 0;
    len = sizeof(resident);
    if (mallctl_("stats.resident", &resident, &len, nullptr, 0) != 0) {
      return HeldMemory{true, ResidentBytes(), "process RSS delta (stats.resident unavailable)"};
    }
    return HeldMemory{true, resident, "mallctl stats.resident after epoch"};
  }
  void Trim() override {
    // MALLCTL_ARENAS_ALL is 4096 in jemalloc 5.
    mallctl_("arena.4096.purge", nullptr, nullptr, nullptr, 0);
  }

 private:
  static int Flags(size_t align) {
    // MALLOCX_LG_ALIGN(lg) is lg itself in the low bits.
    return align <= kMallocAlignment ? 0 : __builtin_ctzll(align);
  }
  std::string name_ = "jemalloc";
  void* (*mallocx_)(size_t, int) = nullptr;
  void (*sdallocx_)(void*, size_t, int) = nullptr;
  int (*mallctl_)(const char*, void*, size_t*, void*, size_t) = nullptr;
};

class TcmallocAllocator final : public Allocator {
 public:
  static std::unique_ptr<Allocator> Open(void* handle, std::string* why) {
    auto a = std::unique_ptr<TcmallocAllocator>(new TcmallocAllocator);
    if (!Lookup(handle, "tc_malloc", &a->malloc_) || !Lookup(handle, "tc_free", &a->free_) ||
        !Lookup(handle, "tc_memalign", &a->memalign_)) {
      *why = "tc_malloc/tc_free/tc_memalign missing";
      return nullptr;
    }
    Lookup(handle, "tc_free_sized", &a->free_sized_);
    Lookup(handle, "MallocExtension_GetNumericProperty", &a->property_);
    Lookup(handle, "MallocExtension_ReleaseFreeMemory", &a->release_);
    return a;
  }
  const std::string& name() const override { return name_; }
  void* Allocate(size_t size, size_t align) override {
    return align <= kMallocAlignment ? malloc_(size) : memalign_(align, size);
  }
  void Free(void* ptr, size_t size, size_t align) override {
    // A memalign'ed block may sit in a larger class than its size says.
    if (align <= kMallocAlignment && free_sized_ != nullptr) return free_sized_(ptr, size);
    free_(ptr);
  }
  HeldMemory Held() override {
    size_t heap = 0, unmapped = 0;
    if (property_ == nullptr || !property_("generic.heap_size", &heap) ||
        !property_("tcmalloc.pageheap_unmapped_bytes", &unmapped)) {
      return HeldMemory{true, ResidentBytes(), "process RSS delta"};
    }
    return HeldMemory{true, heap - unmapped, "generic.heap_size - tcmalloc.pageheap_unmapped_bytes"};
  }
  void Trim() override {
    if (release_ != nullptr) release_();
  }

 private:
  std::string name_ = "tcmalloc";
  void* (*malloc_)(size_t) = nullptr;
  void* (*memalign_)(size_t, size_t) = nullptr;
  void (*free_)(void*) = nullptr;
  void (*free_sized_)(void*, size_t) = nullptr;
  int (*property_)(const char*, size_t*) = nullptr;
  void (*release_)(void) = nullptr;
};

struct PeerLibrary {
  const char* name;
  const char* soname;
  std::unique_ptr<Allocator> (*open)(void* handle, std::string* why);
};

const PeerLibrary kPeerLibraries[] = {
    {"mimalloc", "libmimalloc.so.2", &MimallocAllocator::Open},
    {"jemalloc", "libjemalloc.so.2", &JemallocAllocator::Open},
    {"tcmalloc", "libtcmalloc_minimal.so.4", &TcmallocAllocator::Open},
};

void CheckWorkload(Allocator& a) {
  // A million blocks from two threads, then cross-thread frees.
  auto local = [&a](unsigned seed) {
    std::vector<void*> blocks(100000);
    std::vector<size_t> sizes(blocks.size());
    for (int round = 0; round < 5; ++round) {
      for (size_t i = 0; i < blocks.size(); ++i) {
        seed = seed * 1103515245u + 12345u;
        sizes[i] = 8 + (seed >> 16) % 249;
        blocks[i] = a.Allocate(sizes[i], 8);
        if (blocks[i] == nullptr) _exit(3);
        memset(blocks[i], 0x5a, sizes[i]);
      }
      for (size_t i = 0; i < blocks.size(); ++i) a.Free(blocks[i], sizes[i], 8);
    }
  };
  std::thread t1(local, 1u), t2(local, 2u);
  t1.join();
  t2.join();
  std::vector<void*> remote(100000);
  std::thread producer([&] {
    for (size_t i = 0; i < remote.size(); ++i) {
      remote[i] = a.Allocate(64, 64);
      if (remote[i] == nullptr || reinterpret_cast<uintptr_t>(remote[i]) % 64 != 0) _exit(4);
    }
  });
  producer.join();
  std::thread consumer([&] {
    for (void* p : remote) a.Free(p, 64, 64);
  });
  consumer.join();
}

}  // namespace

HeldMemory GlibcHeldMemory() {
  // Main arena plus mmapped chunks; memory workloads run on the main thread,
  // which allocates from the main arena.
  struct mallinfo2 info = mallinfo2();
  return HeldMemory{true, info.arena + info.hblkhd, "mallinfo2 arena+hblkhd (main arena)"};
}

size_t ProcessResidentBytes() {
  FILE* f = fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  unsigned long pages = 0, resident = 0;
  int n = fscanf(f, "%lu %lu", &pages, &resident);
  fclose(f);
  return n == 2 ? resident * static_cast<size_t>(sysconf(_SC_PAGESIZE)) : 0;
}

std::string CheckInChild(Allocator& allocator) {
  fflush(nullptr);
  pid_t pid = fork();
  if (pid < 0) return "fork failed";
  if (pid == 0) {
    alarm(60);
    CheckWorkload(allocator);
    _exit(0);
  }
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) return "waitpid failed";
  if (WIFSIGNALED(status)) return std::string("check died with signal ") + strsignal(WTERMSIG(status));
  if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
    return "check exited with code " + std::to_string(WEXITSTATUS(status));
  return "";
}

PeerLoad LoadPeer(const std::string& name, bool check) {
  PeerLoad load;
  if (name == "glibc") {
    load.library = "libc (the process malloc)";
    load.allocator = std::unique_ptr<Allocator>(new GlibcAllocator);
  } else {
    const PeerLibrary* lib = nullptr;
    for (const auto& l : kPeerLibraries)
      if (name == l.name) lib = &l;
    if (lib == nullptr) {
      load.note = "unknown peer";
      return load;
    }
    load.library = lib->soname;
    void* handle = dlopen(lib->soname, RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) {
      load.note = std::string("dlopen failed: ") + dlerror();
      return load;
    }
    std::string why;
    load.allocator = lib->open(handle, &why);
    if (load.allocator == nullptr) {
      load.note = why;
      return load;
    }
    // The handle stays open for the life of the process: the peer's thread
    // destructors must stay mapped.
  }
  std::string failure = check ? CheckInChild(*load.allocator) : "";
  if (!failure.empty()) {
    load.allocator.reset();
    load.note = "failed the two-thread check: " + failure;
    return load;
  }
  load.note = "dlopen(RTLD_NOW|RTLD_LOCAL), checked: 1M blocks from 2 threads + cross-thread frees";
  if (name == "jemalloc") {
    // Without the larger static TLS surplus its dlopen fails with "cannot
    // allocate memory in static TLS block".
    load.note += "; needs GLIBC_TUNABLES=glibc.rtld.optional_static_tls (set by re-executing)";
  }
  if (name == "glibc") load.note = "process malloc, checked: 1M blocks from 2 threads + cross-thread frees";
  return load;
}

void EnsureStaticTlsForPeers(int argc, char** argv, bool allowed) {
  (void)argc;
  static const char kTunable[] = "glibc.rtld.optional_static_tls=";
  if (!allowed) return;
  const char* current = getenv("GLIBC_TUNABLES");
  if (current != nullptr && strstr(current, kTunable) != nullptr) return;
  std::string value = std::string(kTunable) + "65536";
  if (current != nullptr && current[0] != '\0') value = std::string(current) + ":" + value;
  setenv("GLIBC_TUNABLES", value.c_str(), 1);
  execv("/proc/self/exe", argv);
  // If re-executing fails, carry on: a peer that cannot load is skipped.
}

}  // namespace alloy_bench
