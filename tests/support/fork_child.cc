#include "tests/support/fork_child.h"

#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <thread>

#include "tests/support/support.h"

namespace alloy_test {

std::string ChildOutcome::describe() const {
  if (!forked) return "fork() failed";
  if (hung) return "the child hung (killed after the deadline)";
  if (signal != 0) return "the child died of signal " + std::to_string(signal);
  return "the child exited with " + std::to_string(exit_code);
}

namespace {

long long MonotonicMs() {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<long long>(now.tv_sec) * 1000 + now.tv_nsec / 1000000;
}

}  // namespace

int ChildTimeoutMs() {
  if (UnderValgrind()) return 60000;
  if (kAsan || kTsan) return 10000;
  return 5000;
}

size_t ForksWhileThreadsRun(size_t native, size_t minimum) {
  return UnderValgrind() ? 3 : Scaled(native, minimum);
}

void LetOthersRunUnderValgrind() {
  if (UnderValgrind()) std::this_thread::yield();
}

ChildOutcome RunInChild(int (*body)(void *), void *context, int timeout_ms) {
  ChildOutcome outcome;
  // Under Valgrind the child ends by SIGKILL after reporting its result
  // through the pipe: memcheck's leak check at exit would count the stacks
  // and thread objects of the parent's other threads, which do not exist in
  // the child, as definitely lost. The parent's own leak check still runs.
  int result_pipe[2];
  if (pipe(result_pipe) != 0) return outcome;
  pid_t pid = fork();
  if (pid < 0) {
    close(result_pipe[0]);
    close(result_pipe[1]);
    return outcome;
  }
  if (pid == 0) {
    unsigned char result = static_cast<unsigned char>(body(context));
    if (UnderValgrind()) {
      ssize_t written = write(result_pipe[1], &result, 1);
      (void)written;
      kill(getpid(), SIGKILL);
    }
    _exit(result);
  }
  close(result_pipe[1]);
  outcome.forked = true;
  // Measured on the clock, not by counting polls: on a loaded machine a
  // 1 ms sleep can last several.
  const struct timespec tick = {0, 1000000};  // 1 ms
  const long long deadline = MonotonicMs() + timeout_ms;
  for (;;) {
    int status = 0;
    pid_t done = waitpid(pid, &status, WNOHANG);
    if (done == pid) {
      if (WIFEXITED(status)) outcome.exit_code = WEXITSTATUS(status);
      if (WIFSIGNALED(status)) outcome.signal = WTERMSIG(status);
      unsigned char result;
      if (UnderValgrind() && outcome.signal == SIGKILL && read(result_pipe[0], &result, 1) == 1) {
        outcome.signal = 0;
        outcome.exit_code = result;
      }
      close(result_pipe[0]);
      return outcome;
    }
    if (done < 0 && errno != EINTR) {
      close(result_pipe[0]);
      return outcome;
    }
    if (MonotonicMs() >= deadline) break;
    nanosleep(&tick, nullptr);
  }
  close(result_pipe[0]);
  outcome.hung = true;
  kill(pid, SIGKILL);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return outcome;
}

}  // namespace alloy_test
