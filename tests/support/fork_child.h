// Runs a body in a forked child and waits for it with a deadline, so a
// child that hangs (a lock held by a thread that does not exist in it) fails
// the test instead of the test hanging.
#ifndef ALLOY_TESTS_FORK_CHILD_H
#define ALLOY_TESTS_FORK_CHILD_H

#include <cstddef>
#include <string>

namespace alloy_test {

struct ChildOutcome {
  bool forked = false;    // fork() succeeded
  bool hung = false;      // missed the deadline and was killed
  int exit_code = -1;     // valid when it exited on its own
  int signal = 0;         // the signal that ended it, when one did
  bool ok() const { return forked && !hung && signal == 0 && exit_code == 0; }
  std::string describe() const;
};

// Forks; the child runs body() and _exit()s with its result (0 = success)
// without running atexit handlers or destructors of the parent's state. The
// parent waits up to timeout_ms, then kills the child and reports a hang.
ChildOutcome RunInChild(int (*body)(void *), void *context, int timeout_ms);

// How long a child may take before it counts as hung: a few seconds, more
// under Valgrind and the sanitizers (which slow the child's work, not a
// deadlock).
int ChildTimeoutMs();

// How many times a test that forks while other threads work should fork:
// `native` (scaled), but only a few under memcheck. There the threads run one
// at a time in long slices, so each fork waits for whole slices of the
// others; the interleavings are covered natively and under TSan.
size_t ForksWhileThreadsRun(size_t native, size_t minimum);

// Called once per round by a thread that loops over a lock while another
// forks: under memcheck it gives up the CPU, so that a loop taking a lock
// thousands of times per slice does not keep the forking thread (or the
// forked child's helpers) waiting for whole slices. Natively it does nothing.
void LetOthersRunUnderValgrind();

}  // namespace alloy_test

#endif  // ALLOY_TESTS_FORK_CHILD_H
