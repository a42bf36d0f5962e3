// Steady-state allocate/free pairs of small sizes (8 - 256 B) with 10k live
// objects: one alloy partition against glibc malloc.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdlib>
#include <vector>

#include "alloy/partition.h"

namespace {

constexpr size_t kLive = 10000;

std::vector<uint16_t> Sizes(size_t n) {
  std::vector<uint16_t> sizes(n);
  uint64_t x = 88172645463325252ull;
  for (auto &s : sizes) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    s = static_cast<uint16_t>(8 + x % 249);
  }
  return sizes;
}

void BM_PartitionSmallPairs(benchmark::State &state) {
  alloy_partition_root_config root_config = alloy_partition_root_config_default();
  alloy_partition_root *root = nullptr;
  alloy_partition_config config = alloy_partition_config_default();
  config.numa_node = ALLOY_PARTITION_NUMA_NONE;
  alloy_partition *partition = nullptr;
  if (alloy_partition_root_create(&root_config, &root) != ALLOY_OK ||
      alloy_partition_create(root, "bench", &config, &partition) != ALLOY_OK) {
    state.SkipWithError("create failed");
    return;
  }
  const std::vector<uint16_t> sizes = Sizes(1 << 16);
  std::vector<alloy_block> live(kLive);
  for (size_t i = 0; i < kLive; ++i)
    if (alloy_partition_allocate(partition, sizes[i], 8, &live[i]) != ALLOY_OK) state.SkipWithError("allocate");
  size_t k = 0;
  for (auto _ : state) {
    const size_t slot = (k * 2654435761u) % kLive;
    alloy_partition_deallocate(partition, live[slot]);
    if (alloy_partition_allocate(partition, sizes[k & 0xffff], 8, &live[slot]) != ALLOY_OK)
      state.SkipWithError("allocate");
    benchmark::DoNotOptimize(live[slot].ptr);
    ++k;
  }
  state.SetItemsProcessed(state.iterations());
  alloy_partition_root_destroy(root);
}
BENCHMARK(BM_PartitionSmallPairs);

void BM_GlibcSmallPairs(benchmark::State &state) {
  const std::vector<uint16_t> sizes = Sizes(1 << 16);
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
BENCHMARK(BM_GlibcSmallPairs);

}  // namespace

BENCHMARK_MAIN();
