// Steady-state allocate/free pairs of medium sizes (256 B - 64 KiB, log-uniform)
// with 4096 live blocks: alloy TLSF against glibc malloc. Each iteration frees
// a random live block and allocates a new one in its place. The argument of
// the TLSF runs is config.dirty_limit in KiB: 0 (the default: no tracking),
// 1 GiB (free pages tracked but never purged: the bookkeeping alone) and
// 4 MiB (purging; the benchmark never touches the blocks, so purged pages are
// only faulted back where a header lands on them).
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "alloy/tlsf.h"

namespace {

constexpr size_t kLive = 4096;

std::vector<uint32_t> Sizes(size_t n) {
  std::vector<uint32_t> sizes(n);
  uint64_t x = 88172645463325252ull;
  for (auto &s : sizes) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    s = static_cast<uint32_t>(256.0 * std::exp2(8.0 * static_cast<double>(x >> 11) / 9007199254740992.0));
  }
  return sizes;
}

void BM_TlsfMediumPairs(benchmark::State &state) {
  alloy_tlsf_config config = alloy_tlsf_config_default();
  config.initial_pool_size = 64 << 20;
  config.numa_node = ALLOY_TLSF_NUMA_NONE;
  config.dirty_limit = static_cast<size_t>(state.range(0)) << 10;
  alloy_tlsf *tlsf = nullptr;
  if (alloy_tlsf_create(&config, &tlsf) != ALLOY_OK) {
    state.SkipWithError("tlsf create failed");
    return;
  }
  const std::vector<uint32_t> sizes = Sizes(1 << 16);
  std::vector<alloy_block> live(kLive);
  for (size_t i = 0; i < kLive; ++i)
    if (alloy_tlsf_allocate(tlsf, sizes[i], 16, &live[i]) != ALLOY_OK) state.SkipWithError("allocate failed");
  size_t k = 0;
  for (auto _ : state) {
    const size_t slot = (k * 2654435761u) % kLive;
    alloy_tlsf_deallocate(tlsf, live[slot]);
    if (alloy_tlsf_allocate(tlsf, sizes[k & 0xffff], 16, &live[slot]) != ALLOY_OK) state.SkipWithError("allocate");
    benchmark::DoNotOptimize(live[slot].ptr);
    ++k;
  }
  state.SetItemsProcessed(state.iterations());
  alloy_tlsf_destroy(tlsf);
}
BENCHMARK(BM_TlsfMediumPairs)->Arg(0)->Arg(1 << 20)->Arg(4 << 10);

void BM_GlibcMediumPairs(benchmark::State &state) {
  const std::vector<uint32_t> sizes = Sizes(1 << 16);
  std::vector<void *> live(kLive);
  for (size_t i = 0; i < kLive; ++i) live[i] = std::malloc(sizes[i]);
  size_t k = 0;
  for (auto _ : state) {
    const size_t slot = (k * 2654435761u) % kLive;
    std::free(live[slot]);
    live[slot] = std::malloc(sizes[k & 0xffff]);
    benchmark::DoNotOptimize(live[slot]);
    ++k;
  }
  state.SetItemsProcessed(state.iterations());
  for (void *p : live) std::free(p);
}
BENCHMARK(BM_GlibcMediumPairs);

}  // namespace

BENCHMARK_MAIN();
