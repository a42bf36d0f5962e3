// Helper threads driven in lockstep by the interpreter: Run(k, fn) executes
// fn on thread k and returns once it finished, so a multi-threaded run is as
// deterministic as a single-threaded one while each operation still happens
// on the thread the input chose. Thread 0 is the caller itself.
#ifndef ALLOY_TESTS_FUZZ_LOCKSTEP_THREADS_H
#define ALLOY_TESTS_FUZZ_LOCKSTEP_THREADS_H

#include <functional>

namespace alloy_fuzz {

// Runs `work` on helper thread `thread` (1 or 2; 0 runs it inline). The
// helpers are started on first use and live for the whole process.
void RunOnThread(int thread, const std::function<void()> &work);

}  // namespace alloy_fuzz

#endif  // ALLOY_TESTS_FUZZ_LOCKSTEP_THREADS_H
