#include "bench/support/baton.h"

namespace alloy_bench {

void Baton::Give() {
  std::lock_guard<std::mutex> lock(mutex_);
  ++count_;
  cv_.notify_one();
}

void Baton::Take() {
  std::unique_lock<std::mutex> lock(mutex_);
  cv_.wait(lock, [&] { return count_ > 0; });
  --count_;
}

}  // namespace alloy_bench
