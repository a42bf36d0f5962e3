// Steady-state allocate/free pairs of small sizes (8 - 256 B) with 10k live
// objects: one alloy partition against glibc malloc, from one thread, and
// from two threads at once on one shared partition (no lock around it).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdlib>
#include <mutex>
#include <vector>

#include "alloy/partition.h"
#include "bench/support/loops.h"

namespace {

constexpr size_t kLive = 10000;

using alloy_bench::RunSteadyReplacements;

// The sizes every run requests, in order: 8 - 256 B, uniform.
std::vector<uint32_t> Sizes() { return alloy_bench::UniformSizes(1 << 16, 8, 256); }

// kLive objects of the small sizes kept in `partition`, replaced at random
// while the benchmark runs; returns them still live.
std::vector<alloy_block> ReplaceSteadily(benchmark::State &state, alloy_partition *partition) {
  const std::vector<uint32_t> sizes = Sizes();
  std::vector<alloy_block> live(kLive);
  for (size_t i = 0; i < kLive; ++i)
    if (alloy_partition_allocate(partition, sizes[i], 8, &live[i]) != ALLOY_OK) state.SkipWithError("allocate");
  RunSteadyReplacements(state, kLive, [&](size_t slot, size_t step) {
    alloy_partition_deallocate(partition, live[slot]);
    if (alloy_partition_allocate(partition, sizes[step & 0xffff], 8, &live[slot]) != ALLOY_OK)
      state.SkipWithError("allocate");
    benchmark::DoNotOptimize(live[slot].ptr);
  });
  return live;
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
  ReplaceSteadily(state, partition);
  alloy_partition_root_destroy(root);
}
BENCHMARK(BM_PartitionSmallPairs);

// One partition for every thread of the threaded runs, made once and kept.
alloy_partition *SharedPartition() {
  static alloy_partition *partition = nullptr;
  static std::once_flag once;
  std::call_once(once, [] {
    alloy_partition_root_config root_config = alloy_partition_root_config_default();
    alloy_partition_root *root = nullptr;
    alloy_partition_config config = alloy_partition_config_default();
    config.numa_node = ALLOY_PARTITION_NUMA_NONE;
    if (alloy_partition_root_create(&root_config, &root) != ALLOY_OK) return;
    if (alloy_partition_create(root, "shared", &config, &partition) != ALLOY_OK) partition = nullptr;
  });
  return partition;
}

// Each thread keeps its own 10k live objects in the shared partition.
void BM_PartitionSmallPairsThreads(benchmark::State &state) {
  alloy_partition *partition = SharedPartition();
  if (partition == nullptr) {
    state.SkipWithError("create failed");
    return;
  }
  const std::vector<alloy_block> live = ReplaceSteadily(state, partition);
  for (const alloy_block &block : live) alloy_partition_deallocate(partition, block);
}
BENCHMARK(BM_PartitionSmallPairsThreads)->Threads(1)->Threads(2)->UseRealTime();

void BM_GlibcSmallPairs(benchmark::State &state) {
  const std::vector<uint32_t> sizes = Sizes();
  std::vector<void *> live(kLive);
  for (size_t i = 0; i < kLive; ++i) live[i] = std::malloc(sizes[i]);
  RunSteadyReplacements(state, kLive, [&](size_t slot, size_t step) {
    std::free(live[slot]);
    live[slot] = std::malloc(sizes[step & 0xffff]);
    benchmark::DoNotOptimize(live[slot]);
  });
  for (void *p : live) std::free(p);
}
BENCHMARK(BM_GlibcSmallPairs);

}  // namespace

BENCHMARK_MAIN();
