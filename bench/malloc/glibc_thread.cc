// bench/malloc/glibc_thread.cc — per-thread churn (after glibc's
// bench-malloc-thread): each thread keeps a small live set and, again and
// again, frees a random member and mallocs a new one of a random small size
// (8 B–2 KiB, log-uniform, so most are small). No block leaves its thread:
// this is the thread-local fast path under two threads at once. Runs for a
// fixed time; reports malloc+free pairs per second.
#include <atomic>
#include <thread>
#include <vector>

#include "bench/malloc/workload.h"

namespace {

using alloy_malloc_bench::Rng;

constexpr int kThreads = 2;
constexpr size_t kLive = 128;

size_t SmallSize(Rng *rng) {
  // 2^(3 + 8u): 8 B to 2 KiB, as many blocks in each power-of-two band.
  return static_cast<size_t>(std::exp2(3.0 + 8.0 * rng->Unit()));
}

std::atomic<long> pairs_done{0};

void Churn(double scale, uint64_t seed) {
  Rng rng(seed);
  const alloy_malloc_bench::Deadline deadline(scale);
  void *block[kLive] = {};
  size_t size[kLive] = {};
  long i = 0;
  for (; !deadline.Passed(i + 1); ++i) {
    size_t slot = rng.Between(0, kLive - 1);
    alloy_malloc_bench::StampedFree(block[slot], size[slot]);
    size[slot] = SmallSize(&rng);
    block[slot] = alloy_malloc_bench::StampedMalloc(size[slot]);
  }
  for (size_t s = 0; s < kLive; ++s) alloy_malloc_bench::StampedFree(block[s], size[s]);
  pairs_done.fetch_add(i);
}

}  // namespace

int main(int argc, char **argv) {
  const double scale = alloy_malloc_bench::ScaleFlag(argc, argv);
  const double start = alloy_malloc_bench::NowSeconds();
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) threads.emplace_back(Churn, scale, static_cast<uint64_t>(t + 1));
  for (std::thread &thread : threads) thread.join();
  const double seconds = alloy_malloc_bench::NowSeconds() - start;
  alloy_malloc_bench::PrintResult("glibc_thread", "ops_per_s", static_cast<double>(pairs_done.load()) / seconds, kThreads);
  return 0;
}
