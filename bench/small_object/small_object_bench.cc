// Small-object heap against glibc malloc, mimalloc, jemalloc and tcmalloc,
// side by side in one run:
//   - ThreadLocalPairs: allocate + free pairs of mixed 8..256 B sizes on one
//     thread (the fast path), ns per operation;
//   - Latency: per-operation P50 / P99 of the same pairs, read with the
//     cycle counter around every single allocate and free;
//   - WorkingSet10k: 10 000 live objects, each step frees a random one and
//     allocates a new one of random size, pairs per second;
//   - ProducerConsumer: one thread allocates, another frees (remote frees),
//     blocks per second;
//   - BatchReclaim (alloy only): how long the owner takes to reclaim a batch
//     of blocks other threads freed.
// Peers are loaded with dlopen(RTLD_NOW | RTLD_LOCAL) from Debian's
// packages, so this one binary runs them all; a peer that is missing is
// skipped and named on stderr. Debian's jemalloc uses initial-exec TLS and
// does not fit glibc's default static-TLS reserve for dlopen, so by default
// it is skipped; run with GLIBC_TUNABLES=glibc.rtld.optional_static_tls=16384
// to include it.
//
//   bazel run //bench/small_object:small_object_bench -- --benchmark_repetitions=5
#include <dlfcn.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

#include <benchmark/benchmark.h>

#include "alloy/small_object.h"
#include "bench/support/cycle_clock.h"
#include "bench/support/percentile.h"
#include "bench/support/producer_consumer.h"

namespace {

using alloy_bench::CyclesBegin;
using alloy_bench::GetCycleClock;

// ---- The allocators under test ---------------------------------------------

using MallocFn = void *(*)(size_t);
using FreeFn = void (*)(void *);
using SizedFreeFn = void (*)(void *, size_t);

struct Peer {
  const char *name;
  MallocFn malloc_fn = nullptr;
  FreeFn free_fn = nullptr;
  SizedFreeFn sized_free_fn = nullptr;
};

Peer mimalloc_peer{"mimalloc"}, tcmalloc_peer{"tcmalloc"}, jemalloc_peer{"jemalloc"};
using MallocxFn = void *(*)(size_t, int);
using SdallocxFn = void (*)(void *, size_t, int);
MallocxFn je_mallocx = nullptr;
SdallocxFn je_sdallocx = nullptr;

alloy_small_object *alloy_heap = nullptr;

bool LoadPeer(Peer &peer, const char *library, const char *malloc_name, const char *free_name,
              const char *sized_free_name) {
  void *handle = dlopen(library, RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    std::fprintf(stderr, "%s: not loaded (%s); skipped\n", peer.name, dlerror());
    return false;
  }
  peer.malloc_fn = reinterpret_cast<MallocFn>(dlsym(handle, malloc_name));
  peer.free_fn = reinterpret_cast<FreeFn>(dlsym(handle, free_name));
  peer.sized_free_fn = reinterpret_cast<SizedFreeFn>(dlsym(handle, sized_free_name));
  if (peer.malloc_fn == nullptr || peer.free_fn == nullptr) {
    std::fprintf(stderr, "%s: symbols missing; skipped\n", peer.name);
    peer.malloc_fn = nullptr;
    return false;
  }
  return true;
}

void LoadPeers() {
  LoadPeer(mimalloc_peer, "libmimalloc.so.2", "mi_malloc", "mi_free", "");
  LoadPeer(tcmalloc_peer, "libtcmalloc_minimal.so.4", "tc_malloc", "tc_free", "tc_free_sized");
  if (LoadPeer(jemalloc_peer, "libjemalloc.so.2", "malloc", "free", "")) {
    void *handle = dlopen("libjemalloc.so.2", RTLD_NOW | RTLD_LOCAL);
    je_mallocx = reinterpret_cast<MallocxFn>(dlsym(handle, "mallocx"));
    je_sdallocx = reinterpret_cast<SdallocxFn>(dlsym(handle, "sdallocx"));
    if (je_mallocx == nullptr || je_sdallocx == nullptr) jemalloc_peer.malloc_fn = nullptr;
  }
}

// Each allocator as a pair of inline functions; sized free where the
// allocator has one (that is its fastest free).
struct Alloy {
  static void *Alloc(size_t size) {
    alloy_block block;
    if (alloy_small_object_allocate(alloy_heap, size, 8, &block) != ALLOY_OK) std::abort();
    return block.ptr;
  }
  static void Free(void *ptr, size_t size) {
    (void)alloy_small_object_deallocate(alloy_heap, alloy_block_make(ptr, size), 8);
  }
  static bool Available() { return true; }
};

struct AlloyResource {  // the same heap through the alloy_resource ops table
  static void *Alloc(size_t size) {
    alloy_block block;
    if (alloy_resource_allocate(alloy_small_object_resource(alloy_heap), size, 8, &block) != ALLOY_OK) std::abort();
    return block.ptr;
  }
  static void Free(void *ptr, size_t size) {
    (void)alloy_resource_deallocate(alloy_small_object_resource(alloy_heap), alloy_block_make(ptr, size), 8);
  }
  static bool Available() { return true; }
};

struct Glibc {
  static void *Alloc(size_t size) { return std::malloc(size); }
  static void Free(void *ptr, size_t) { std::free(ptr); }
  static bool Available() { return true; }
};

template <Peer *P>
struct PeerAllocator {
  static void *Alloc(size_t size) { return P->malloc_fn(size); }
  static void Free(void *ptr, size_t size) {
    if (P->sized_free_fn != nullptr) P->sized_free_fn(ptr, size);
    else P->free_fn(ptr);
  }
  static bool Available() { return P->malloc_fn != nullptr; }
};
using Mimalloc = PeerAllocator<&mimalloc_peer>;
using Tcmalloc = PeerAllocator<&tcmalloc_peer>;

struct Jemalloc {
  static void *Alloc(size_t size) { return je_mallocx(size, 0); }
  static void Free(void *ptr, size_t size) { je_sdallocx(ptr, size, 0); }
  static bool Available() { return jemalloc_peer.malloc_fn != nullptr; }
};

// ---- Workload inputs ---------------------------------------------------------

constexpr size_t kSizeCount = 4096;  // a power of two

const std::vector<size_t> &Sizes() {
  static const std::vector<size_t> sizes = [] {
    std::vector<size_t> s(kSizeCount);
    uint32_t x = 2463534242u;
    for (size_t &size : s) {
      x ^= x << 13, x ^= x >> 17, x ^= x << 5;
      size = 8 + x % 249;  // 8..256
    }
    return s;
  }();
  return sizes;
}

// ---- Benchmarks ------------------------------------------------------------

template <class A>
void ThreadLocalPairs(benchmark::State &state) {
  if (!A::Available()) return state.SkipWithError("allocator not loaded");
  const std::vector<size_t> &sizes = Sizes();
  size_t i = 0;
  for (auto _ : state) {
    for (int k = 0; k < 64; ++k) {
      size_t size = sizes[i++ & (kSizeCount - 1)];
      void *p = A::Alloc(size);
      benchmark::DoNotOptimize(p);
      A::Free(p, size);
    }
  }
  // Two operations (allocate, free) per pair.
  state.counters["ns_per_op"] =
      benchmark::Counter(static_cast<double>(state.iterations()) * 128, benchmark::Counter::kIsRate |
                                                                             benchmark::Counter::kInvert);
}

// Per-operation percentiles over a live set of 64 objects (each step frees
// the oldest and allocates a new one): timed one operation at a time (the
// timer costs ~20 ns and ticks in ~10 ns steps here, so these are coarse),
// and per operation from batches of 128 operations.
template <class A>
void Latency(benchmark::State &state) {
  if (!A::Available()) return state.SkipWithError("allocator not loaded");
  const std::vector<size_t> &sizes = Sizes();
  constexpr size_t kLive = 64;
  void *live[kLive];
  size_t live_size[kLive];
  for (size_t k = 0; k < kLive; ++k) live[k] = A::Alloc(live_size[k] = sizes[k]);
  std::vector<uint32_t> alloc_ticks, free_ticks;
  alloc_ticks.reserve(1 << 20);
  free_ticks.reserve(1 << 20);
  size_t i = kLive;
  uint64_t empty = UINT64_MAX;  // the timer's own cost
  for (int k = 0; k < 1000; ++k) {
    uint64_t t0 = CyclesBegin();
    uint64_t t1 = CyclesBegin();
    empty = std::min(empty, t1 - t0);
  }
  std::vector<uint32_t> batch_ticks;  // 64 free + allocate pairs, one timer pair
  batch_ticks.reserve(1 << 16);
  for (auto _ : state) {
    for (int k = 0; k < 64; ++k, ++i) {
      size_t slot = i & (kLive - 1);
      size_t size = sizes[i & (kSizeCount - 1)];
      uint64_t t0 = CyclesBegin();
      A::Free(live[slot], live_size[slot]);
      uint64_t t1 = CyclesBegin();
      void *p = A::Alloc(size);
      uint64_t t2 = CyclesBegin();
      live[slot] = p;
      live_size[slot] = size;
      if (free_ticks.size() < (1 << 20)) {
        free_ticks.push_back(static_cast<uint32_t>(t1 - t0));
        alloc_ticks.push_back(static_cast<uint32_t>(t2 - t1));
      }
    }
    uint64_t b0 = CyclesBegin();
    for (int k = 0; k < 64; ++k, ++i) {
      size_t slot = i & (kLive - 1);
      size_t size = sizes[i & (kSizeCount - 1)];
      A::Free(live[slot], live_size[slot]);
      live[slot] = A::Alloc(size);
      live_size[slot] = size;
    }
    uint64_t b1 = CyclesBegin();
    if (batch_ticks.size() < (1 << 16)) batch_ticks.push_back(static_cast<uint32_t>(b1 - b0));
  }
  for (size_t k = 0; k < kLive; ++k) A::Free(live[k], live_size[k]);
  // Timed one at a time: the timer's own cost comes off each sample.
  auto percentile_ns = [&](std::vector<uint32_t> &v, double q) {
    const double ticks = alloy_bench::Percentile(v, q) - static_cast<double>(empty);
    return GetCycleClock().ToNs(ticks < 0 ? 0 : ticks);
  };
  state.counters["alloc_p50_ns"] = percentile_ns(alloc_ticks, 0.50);
  state.counters["alloc_p99_ns"] = percentile_ns(alloc_ticks, 0.99);
  state.counters["free_p50_ns"] = percentile_ns(free_ticks, 0.50);
  state.counters["free_p99_ns"] = percentile_ns(free_ticks, 0.99);
  state.counters["timer_ns"] = GetCycleClock().ToNs(static_cast<double>(empty));
  // Per operation from batches of 128 operations: fine-grained, but a slow
  // operation is averaged with its batch.
  state.counters["batch_p50_ns"] = GetCycleClock().ToNs(alloy_bench::Percentile(batch_ticks, 0.50)) / 128.0;
  state.counters["batch_p99_ns"] = GetCycleClock().ToNs(alloy_bench::Percentile(batch_ticks, 0.99)) / 128.0;
}

template <class A>
void WorkingSet10k(benchmark::State &state) {
  if (!A::Available()) return state.SkipWithError("allocator not loaded");
  const std::vector<size_t> &sizes = Sizes();
  constexpr size_t kLive = 10000;
  std::vector<void *> live(kLive);
  std::vector<size_t> live_size(kLive);
  for (size_t k = 0; k < kLive; ++k) live[k] = A::Alloc(live_size[k] = sizes[k & (kSizeCount - 1)]);
  uint32_t x = 88172645u;
  size_t i = 0;
  for (auto _ : state) {
    for (int k = 0; k < 64; ++k) {
      x ^= x << 13, x ^= x >> 17, x ^= x << 5;
      size_t slot = x % kLive;
      size_t size = sizes[i++ & (kSizeCount - 1)];
      A::Free(live[slot], live_size[slot]);
      live[slot] = A::Alloc(size);
      live_size[slot] = size;
    }
  }
  for (size_t k = 0; k < kLive; ++k) A::Free(live[k], live_size[k]);
  state.counters["pairs_per_s"] =
      benchmark::Counter(static_cast<double>(state.iterations()) * 64, benchmark::Counter::kIsRate);
}

// One thread allocates, the other frees what it got: every free is remote.
// Reports blocks per second of wall time and the CPU time each side spent
// per block (the steadier figure on a shared machine).
template <class A>
void ProducerConsumer(benchmark::State &state) {
  if (!A::Available()) return state.SkipWithError("allocator not loaded");
  const std::vector<size_t> &sizes = Sizes();
  alloy_bench::RunProducerConsumer(
      state, [&](size_t n) { return A::Alloc(sizes[n & (kSizeCount - 1)]); },
      [&](void *p, size_t n) { A::Free(p, sizes[n & (kSizeCount - 1)]); });
}

// The owner reclaims `range(0)` blocks another thread freed: one exchange
// for the inbox, one per page, then the splice.
void BatchReclaim(benchmark::State &state) {
  const size_t batch = static_cast<size_t>(state.range(0));
  std::vector<alloy_block> blocks(batch);
  double total_ns = 0;
  for (auto _ : state) {
    state.PauseTiming();
    for (alloy_block &b : blocks)
      if (alloy_small_object_allocate(alloy_heap, 48, 8, &b) != ALLOY_OK) std::abort();
    std::thread([&] {
      for (alloy_block b : blocks) (void)alloy_small_object_deallocate(alloy_heap, b, 8);
      alloy_small_object_collect(alloy_heap);  // sends the last outgoing batch
    }).join();
    state.ResumeTiming();
    uint64_t t0 = CyclesBegin();
    alloy_small_object_collect(alloy_heap);
    uint64_t t1 = CyclesBegin();
    total_ns += GetCycleClock().ToNs(static_cast<double>(t1 - t0));
  }
  state.counters["reclaim_ns"] = total_ns / static_cast<double>(state.iterations());
  state.counters["ns_per_block"] = total_ns / static_cast<double>(state.iterations()) / static_cast<double>(batch);
}

#define ALLOY_BENCH_ALL(fn)                                  \
  BENCHMARK_TEMPLATE(fn, Alloy)->Name(#fn "/alloy");         \
  BENCHMARK_TEMPLATE(fn, Mimalloc)->Name(#fn "/mimalloc");   \
  BENCHMARK_TEMPLATE(fn, Jemalloc)->Name(#fn "/jemalloc");   \
  BENCHMARK_TEMPLATE(fn, Tcmalloc)->Name(#fn "/tcmalloc");   \
  BENCHMARK_TEMPLATE(fn, Glibc)->Name(#fn "/glibc")

ALLOY_BENCH_ALL(ThreadLocalPairs);
BENCHMARK_TEMPLATE(ThreadLocalPairs, AlloyResource)->Name("ThreadLocalPairs/alloy_resource");
ALLOY_BENCH_ALL(Latency);
ALLOY_BENCH_ALL(WorkingSet10k);
BENCHMARK_TEMPLATE(ProducerConsumer, Alloy)->Name("ProducerConsumer/alloy")->UseRealTime()->MinTime(1.0);
BENCHMARK_TEMPLATE(ProducerConsumer, Mimalloc)->Name("ProducerConsumer/mimalloc")->UseRealTime()->MinTime(1.0);
BENCHMARK_TEMPLATE(ProducerConsumer, Jemalloc)->Name("ProducerConsumer/jemalloc")->UseRealTime()->MinTime(1.0);
BENCHMARK_TEMPLATE(ProducerConsumer, Tcmalloc)->Name("ProducerConsumer/tcmalloc")->UseRealTime()->MinTime(1.0);
BENCHMARK_TEMPLATE(ProducerConsumer, Glibc)->Name("ProducerConsumer/glibc")->UseRealTime()->MinTime(1.0);
BENCHMARK(BatchReclaim)->Arg(64)->Arg(256)->Arg(1024)->Iterations(200);

}  // namespace

int main(int argc, char **argv) {
  LoadPeers();
  if (alloy_small_object_create(nullptr, &alloy_heap) != ALLOY_OK) return 1;
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  alloy_small_object_destroy(alloy_heap);
  return 0;
}
