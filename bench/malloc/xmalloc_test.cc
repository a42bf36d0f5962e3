// bench/malloc/xmalloc_test.cc — producer and consumer (after the xmalloc
// test): the producer thread mallocs blocks of 16–512 B in batches and hands
// each batch through a bounded queue to the consumer thread, which frees
// them. Every free is a remote one. Runs for a fixed time; reports blocks
// (malloc + remote free) per second.
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "bench/malloc/workload.h"

namespace {

using alloy_malloc_bench::Rng;

constexpr size_t kBatch = 64;
constexpr int kQueueLimit = 32;  // batches in flight: bounds the live set
constexpr size_t kMinSize = 16;
constexpr size_t kMaxSize = 512;

// A batch is itself malloc'd by the producer and freed by the consumer.
struct Batch {
  Batch *next;
  void *block[kBatch];
  size_t size[kBatch];
};

class Queue {
 public:
  void Push(Batch *batch) {
    std::unique_lock<std::mutex> lock(mutex_);
    room_.wait(lock, [this] { return count_ < kQueueLimit; });
    batch->next = nullptr;
    if (tail_ != nullptr) {
      tail_->next = batch;
    } else {
      head_ = batch;
    }
    tail_ = batch;
    ++count_;
    ready_.notify_one();
  }
  // Null once the producer has closed the queue and it is empty.
  Batch *Pop() {
    std::unique_lock<std::mutex> lock(mutex_);
    ready_.wait(lock, [this] { return head_ != nullptr || closed_; });
    Batch *batch = head_;
    if (batch == nullptr) return nullptr;
    head_ = batch->next;
    if (head_ == nullptr) tail_ = nullptr;
    --count_;
    room_.notify_one();
    return batch;
  }
  void Close() {
    std::lock_guard<std::mutex> lock(mutex_);
    closed_ = true;
    ready_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable ready_, room_;
  Batch *head_ = nullptr, *tail_ = nullptr;
  int count_ = 0;
  bool closed_ = false;
};

std::atomic<long> blocks_done{0};

void Produce(Queue *queue, double scale) {
  Rng rng(7);
  const alloy_malloc_bench::Deadline deadline(scale);
  for (long b = 0; !deadline.Passed(b); ++b) {
    Batch *batch = static_cast<Batch *>(alloy_malloc_bench::MallocOrDie(sizeof(Batch)));
    for (size_t i = 0; i < kBatch; ++i) {
      batch->size[i] = rng.Between(kMinSize, kMaxSize);
      batch->block[i] = alloy_malloc_bench::StampedMalloc(batch->size[i]);
    }
    queue->Push(batch);
  }
  queue->Close();
}

void Consume(Queue *queue) {
  while (Batch *batch = queue->Pop()) {
    for (size_t i = 0; i < kBatch; ++i) alloy_malloc_bench::StampedFree(batch->block[i], batch->size[i]);
    std::free(batch);
    blocks_done.fetch_add(kBatch + 1, std::memory_order_relaxed);
  }
}

}  // namespace

int main(int argc, char **argv) {
  const double scale = alloy_malloc_bench::ScaleFlag(argc, argv);
  Queue queue;
  const double start = alloy_malloc_bench::NowSeconds();
  std::thread consumer(Consume, &queue);
  std::thread producer(Produce, &queue, scale);
  producer.join();
  consumer.join();
  const double seconds = alloy_malloc_bench::NowSeconds() - start;
  alloy_malloc_bench::PrintResult("xmalloc_test", "ops_per_s",
                                  static_cast<double>(blocks_done.load()) / seconds, 2);
  return 0;
}
