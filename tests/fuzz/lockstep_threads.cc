#include "tests/fuzz/lockstep_threads.h"

#include <condition_variable>
#include <mutex>
#include <thread>

namespace alloy_fuzz {
namespace {

constexpr int kHelpers = 2;

class Helper {
 public:
  Helper() : thread_([this] { Loop(); }) { thread_.detach(); }

  void Run(const std::function<void()> &work) {
    std::unique_lock<std::mutex> lock(mutex_);
    work_ = &work;
    changed_.notify_all();
    changed_.wait(lock, [this] { return work_ == nullptr; });
  }

 private:
  void Loop() {
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      changed_.wait(lock, [this] { return work_ != nullptr; });
      (*work_)();
      work_ = nullptr;
      changed_.notify_all();
    }
  }

  std::mutex mutex_;
  std::condition_variable changed_;
  const std::function<void()> *work_ = nullptr;
  std::thread thread_;
};

}  // namespace

void RunOnThread(int thread, const std::function<void()> &work) {
  if (thread <= 0 || thread > kHelpers) return work();
  // Never destroyed: the helpers outlive every fuzz input and exit with the process.
  static Helper *helpers = new Helper[kHelpers];
  helpers[thread - 1].Run(work);
}

}  // namespace alloy_fuzz
