// bench/malloc/larson.cc — a server under load (after Larson and Krishnan's
// benchmark): each thread owns an array of slots and, again and again, frees
// a random slot's block and mallocs a block of a random size (16–1000 B) in
// its place. After a round every thread exits and a new thread takes over its
// array, so most frees land on blocks another (by then finished) thread
// allocated. Runs for a fixed time; reports malloc+free pairs per second.
#include <atomic>
#include <thread>
#include <vector>

#include "bench/malloc/workload.h"

namespace {

using alloy_malloc_bench::Rng;

constexpr int kThreads = 2;
constexpr size_t kSlots = 1000;
constexpr size_t kMinSize = 16;
constexpr size_t kMaxSize = 1000;

struct Slots {
  void *block[kSlots];
  size_t size[kSlots];
};

std::atomic<long> pairs_done{0};

void Round(Slots *slots, long replacements, uint64_t seed, const alloy_malloc_bench::Deadline *deadline) {
  Rng rng(seed);
  long i = 0;
  for (; i < replacements && !deadline->Passed(i + 1); ++i) {
    size_t slot = rng.Between(0, kSlots - 1);
    alloy_malloc_bench::StampedFree(slots->block[slot], slots->size[slot]);
    size_t size = rng.Between(kMinSize, kMaxSize);
    slots->block[slot] = alloy_malloc_bench::StampedMalloc(size);
    slots->size[slot] = size;
  }
  pairs_done.fetch_add(i);
}

}  // namespace

int main(int argc, char **argv) {
  const double scale = alloy_malloc_bench::ScaleFlag(argc, argv);
  const long per_round = 10000;

  std::vector<Slots> arrays(kThreads);
  Rng fill(1);
  for (Slots &slots : arrays) {
    for (size_t s = 0; s < kSlots; ++s) {
      slots.size[s] = fill.Between(kMinSize, kMaxSize);
      slots.block[s] = alloy_malloc_bench::StampedMalloc(slots.size[s]);
    }
  }

  const double start = alloy_malloc_bench::NowSeconds();
  const alloy_malloc_bench::Deadline deadline(scale);
  for (long round = 0; !deadline.Passed(0); ++round) {
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      // Arrays change hands every round: thread t takes the one its
      // predecessor on the other side filled.
      Slots *slots = &arrays[static_cast<size_t>((t + round) % kThreads)];
      threads.emplace_back(Round, slots, per_round, static_cast<uint64_t>(round * kThreads + t + 2),
                           &deadline);
    }
    for (std::thread &thread : threads) thread.join();
  }
  const double seconds = alloy_malloc_bench::NowSeconds() - start;

  for (Slots &slots : arrays)
    for (size_t s = 0; s < kSlots; ++s) alloy_malloc_bench::StampedFree(slots.block[s], slots.size[s]);
  alloy_malloc_bench::PrintResult("larson", "ops_per_s",
                                  static_cast<double>(pairs_done.load()) / seconds, kThreads);
  return 0;
}
