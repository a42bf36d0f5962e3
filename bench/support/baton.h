// Hand-off between a producer and a consumer thread (two buffers filled and
// emptied in turn). Waiting blocks instead of spinning, so an oversubscribed
// machine measures the allocator, not the scheduler.
#ifndef ALLOY_BENCH_SUPPORT_BATON_H
#define ALLOY_BENCH_SUPPORT_BATON_H

#include <condition_variable>
#include <mutex>

namespace alloy_bench {

// A counting semaphore: Give() adds one, Take() waits for one and removes it.
class Baton {
 public:
  void Give();
  void Take();

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  int count_ = 0;
};

}  // namespace alloy_bench

#endif  // ALLOY_BENCH_SUPPORT_BATON_H
