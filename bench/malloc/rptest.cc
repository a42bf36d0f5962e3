// bench/malloc/rptest.cc — mixed sizes across threads (after rpmalloc's
// rptest): each thread keeps a working set of blocks from 16 B to 64 KiB,
// skewed small (the median near 45 B, one in ten above 7 KiB), and replaces
// random members again and again, touching each new block. A quarter of the
// replaced blocks go, in batches, to the other thread, which frees them when
// it next looks at its inbox. Runs for a fixed time; reports block
// replacements per second.
#include <atomic>
#include <mutex>
#include <thread>

#include "bench/malloc/workload.h"

namespace {

using alloy_malloc_bench::Rng;

constexpr int kThreads = 2;
constexpr size_t kWorkingSet = 2000;
constexpr size_t kBatch = 64;
constexpr long kInboxPollEvery = 64;

struct Batch {
  Batch *next;
  size_t count;
  void *block[kBatch];
  size_t size[kBatch];
};

// Batches another thread sent; a mutex is enough at one push per 256 replacements.
class Inbox {
 public:
  void Push(Batch *batch) {
    std::lock_guard<std::mutex> lock(mutex_);
    batch->next = head_;
    head_ = batch;
  }
  void FreeAll() {
    Batch *batch;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      batch = head_;
      head_ = nullptr;
    }
    while (batch != nullptr) {
      Batch *next = batch->next;
      for (size_t i = 0; i < batch->count; ++i) alloy_malloc_bench::StampedFree(batch->block[i], batch->size[i]);
      std::free(batch);
      batch = next;
    }
  }

 private:
  std::mutex mutex_;
  Batch *head_ = nullptr;
};

Inbox inboxes[kThreads];
std::atomic<int> finished{0};
std::atomic<long> replacements_done{0};

// 16 B * 4096^(u^3): 16 B to 64 KiB, most of the mass at the small end.
size_t MixedSize(Rng *rng) {
  double u = rng->Unit();
  return static_cast<size_t>(16.0 * std::exp2(12.0 * u * u * u));
}

Batch *NewBatch() {
  Batch *batch = static_cast<Batch *>(alloy_malloc_bench::MallocOrDie(sizeof(Batch)));
  batch->count = 0;
  return batch;
}

void Run(int self, double scale) {
  Rng rng(static_cast<uint64_t>(self) + 11);
  const alloy_malloc_bench::Deadline deadline(scale);
  Inbox *peer = &inboxes[(self + 1) % kThreads];
  void **block = static_cast<void **>(std::calloc(kWorkingSet, sizeof(void *)));
  size_t *size = static_cast<size_t *>(std::calloc(kWorkingSet, sizeof(size_t)));
  Batch *outgoing = NewBatch();
  long i = 0;
  for (; !deadline.Passed(i + 1); ++i) {
    size_t slot = rng.Between(0, kWorkingSet - 1);
    if (block[slot] != nullptr && (rng.Next() & 3) == 0) {
      outgoing->block[outgoing->count] = block[slot];
      outgoing->size[outgoing->count] = size[slot];
      if (++outgoing->count == kBatch) {
        peer->Push(outgoing);
        outgoing = NewBatch();
      }
    } else {
      alloy_malloc_bench::StampedFree(block[slot], size[slot]);
    }
    size[slot] = MixedSize(&rng);
    block[slot] = alloy_malloc_bench::StampedMalloc(size[slot]);
    // Touch a line in the middle too, as a program filling the block would.
    static_cast<unsigned char *>(block[slot])[size[slot] / 2] = 1;
    if (i % kInboxPollEvery == 0) inboxes[self].FreeAll();
  }
  replacements_done.fetch_add(i);
  for (size_t s = 0; s < kWorkingSet; ++s) alloy_malloc_bench::StampedFree(block[s], size[s]);
  std::free(block);
  std::free(size);
  peer->Push(outgoing);
  // Whatever the peer sends before it finishes is freed here.
  finished.fetch_add(1);
  while (finished.load() < kThreads) std::this_thread::yield();
  inboxes[self].FreeAll();
}

}  // namespace

int main(int argc, char **argv) {
  const double scale = alloy_malloc_bench::ScaleFlag(argc, argv);
  const double start = alloy_malloc_bench::NowSeconds();
  std::thread threads[kThreads];
  for (int t = 0; t < kThreads; ++t) threads[t] = std::thread(Run, t, scale);
  for (std::thread &thread : threads) thread.join();
  const double seconds = alloy_malloc_bench::NowSeconds() - start;
  alloy_malloc_bench::PrintResult("rptest", "ops_per_s", static_cast<double>(replacements_done.load()) / seconds,
                                  kThreads);
  return 0;
}
