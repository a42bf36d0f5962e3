// bench/malloc/cache_scratch.cc — passive false sharing (after Hoard's
// cache-scratch): the main thread mallocs one small object per worker, side
// by side; each worker frees the object it was given, then again and again
// mallocs an object of the same size, writes every byte of it many times and
// frees it. A heap that hands a worker back the block the main thread placed
// next to another worker's makes the two threads fight over a cache line.
// Reports the wall time in seconds.
#include <thread>
#include <vector>

#include "bench/malloc/workload.h"

namespace {

constexpr int kThreads = 2;
constexpr size_t kObjectSize = 8;
constexpr int kWritesPerObject = 500;

void Scratch(void *given, long iterations) {
  alloy_malloc_bench::StampedFree(given, kObjectSize);
  for (long i = 0; i < iterations; ++i) {
    volatile unsigned char *object = static_cast<unsigned char *>(alloy_malloc_bench::StampedMalloc(kObjectSize));
    for (int w = 0; w < kWritesPerObject; ++w)
      for (size_t b = 1; b + 1 < kObjectSize; ++b) object[b] = static_cast<unsigned char>(object[b] + 1);
    alloy_malloc_bench::StampedFree(const_cast<unsigned char *>(object), kObjectSize);
  }
}

}  // namespace

int main(int argc, char **argv) {
  const double scale = alloy_malloc_bench::ScaleFlag(argc, argv);
  const long iterations = alloy_malloc_bench::Scaled(scale, 20000);

  std::vector<void *> given;
  for (int t = 0; t < kThreads; ++t) given.push_back(alloy_malloc_bench::StampedMalloc(kObjectSize));

  const double start = alloy_malloc_bench::NowSeconds();
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) threads.emplace_back(Scratch, given[static_cast<size_t>(t)], iterations);
  for (std::thread &thread : threads) thread.join();
  alloy_malloc_bench::PrintResult("cache_scratch", "seconds", alloy_malloc_bench::NowSeconds() - start, kThreads);
  return 0;
}
