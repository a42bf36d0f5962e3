// bench/malloc/thread_churn.cc — short-lived threads: in a loop, two threads
// are created, each mallocs a few thousand blocks of 16–512 B, frees most of
// them and leaves the rest for the next pair of threads to free; then both
// are joined. Measures what a heap pays to set up and retire a thread's
// state, and the frees of blocks whose thread has exited. Reports the wall
// time in seconds.
#include <thread>
#include <vector>

#include "bench/malloc/workload.h"

namespace {

using alloy_malloc_bench::Rng;

constexpr int kThreads = 2;
constexpr size_t kBlocks = 2000;
constexpr size_t kLeft = kBlocks / 4;  // left for the next round's threads to free

struct Leftovers {
  void *block[kLeft] = {};
  size_t size[kLeft] = {};
};

void Work(Leftovers *leftovers, uint64_t seed) {
  Rng rng(seed);
  for (size_t i = 0; i < kLeft; ++i) alloy_malloc_bench::StampedFree(leftovers->block[i], leftovers->size[i]);
  std::vector<void *> block(kBlocks);
  std::vector<size_t> size(kBlocks);
  for (size_t i = 0; i < kBlocks; ++i) {
    size[i] = rng.Between(16, 512);
    block[i] = alloy_malloc_bench::StampedMalloc(size[i]);
  }
  for (size_t i = 0; i < kBlocks; ++i) {
    if (i % (kBlocks / kLeft) == 0) {
      leftovers->block[i / (kBlocks / kLeft)] = block[i];
      leftovers->size[i / (kBlocks / kLeft)] = size[i];
    } else {
      alloy_malloc_bench::StampedFree(block[i], size[i]);
    }
  }
}

}  // namespace

int main(int argc, char **argv) {
  const double scale = alloy_malloc_bench::ScaleFlag(argc, argv);
  const long rounds = alloy_malloc_bench::Scaled(scale, 400);

  std::vector<Leftovers> leftovers(kThreads);
  const double start = alloy_malloc_bench::NowSeconds();
  for (long round = 0; round < rounds; ++round) {
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      // Each thread frees what the other side's thread left last round.
      Leftovers *mine = &leftovers[static_cast<size_t>((t + round) % kThreads)];
      threads.emplace_back(Work, mine, static_cast<uint64_t>(round * kThreads + t + 1));
    }
    for (std::thread &thread : threads) thread.join();
  }
  const double seconds = alloy_malloc_bench::NowSeconds() - start;
  for (Leftovers &l : leftovers)
    for (size_t i = 0; i < kLeft; ++i) alloy_malloc_bench::StampedFree(l.block[i], l.size[i]);
  alloy_malloc_bench::PrintResult("thread_churn", "seconds", seconds, kThreads);
  return 0;
}
