// bench/malloc/measure_child.c — runs one workload or program in a child
// process under a chosen malloc and reports the child's time and peak RSS.
//
//   measure_child TIMEOUT_S PRELOAD|- BINARY [ARGS...]
//
// The child gets LD_PRELOAD=PRELOAD (none for "-") and inherits stdin and
// stdout; once it has exited, this prints
//   usage wall_s=<fork to reap> user_s=<CPU> sys_s=<CPU>
//   peak_rss_kib=<ru_maxrss from wait4> exit=<code>
// (code 128+N for signal N). The child is killed after TIMEOUT_S seconds,
// when this launcher gets SIGTERM or SIGINT, and when it dies.
//
// wait4's usage is the child's own plus that of every descendant it waited
// for: CPU times are the sum over the process tree, ru_maxrss the peak of
// its largest single process (for a compiler driver, usually cc1).
//
// Why a launcher of its own: Linux carries a process's peak RSS across exec,
// so a child forked from the runner (a Python interpreter, ~16 MiB) would
// report at least the runner's size. Forked from this small C program, the
// floor is this program's ~1 MiB, below any workload's own.
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

static pid_t child_pid;

static void kill_child(int signal_number) {
  (void)signal_number;
  if (child_pid > 0) kill(child_pid, SIGKILL);
}

int main(int argc, char **argv) {
  if (argc < 4 || atoi(argv[1]) <= 0) {
    fprintf(stderr, "usage: %s TIMEOUT_S PRELOAD|- BINARY [ARGS...]\n", argv[0]);
    return 2;
  }
  fflush(stdout);
  struct timespec started;
  clock_gettime(CLOCK_MONOTONIC, &started);
  pid_t launcher = getpid();
  // The handlers are in place before the child exists, and the signals
  // they take wait until child_pid names it: a SIGTERM that comes as soon
  // as the child shows signs of life still kills it and gets the report.
  sigset_t handled, before;
  sigemptyset(&handled);
  sigaddset(&handled, SIGALRM);
  sigaddset(&handled, SIGTERM);
  sigaddset(&handled, SIGINT);
  sigprocmask(SIG_BLOCK, &handled, &before);
  signal(SIGALRM, kill_child);
  signal(SIGTERM, kill_child);
  signal(SIGINT, kill_child);
  child_pid = fork();
  if (child_pid < 0) {
    perror("fork");
    return 1;
  }
  if (child_pid == 0) {
    signal(SIGALRM, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    sigprocmask(SIG_SETMASK, &before, NULL);
    // A launcher killed outright takes its child along (a server, say).
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != launcher) {
      _exit(127);
    }
    if (strcmp(argv[2], "-") == 0) {
      unsetenv("LD_PRELOAD");
    } else {
      setenv("LD_PRELOAD", argv[2], 1);
    }
    execv(argv[3], argv + 3);
    perror(argv[3]);
    _exit(127);
  }
  sigprocmask(SIG_SETMASK, &before, NULL);
  alarm((unsigned)atoi(argv[1]));
  int status = 0;
  struct rusage usage;
  while (wait4(child_pid, &status, 0, &usage) < 0) {
    // EINTR comes from the alarm: the child is being killed; wait for it.
    if (errno != EINTR) {
      perror("wait4");
      return 1;
    }
  }
  struct timespec ended;
  clock_gettime(CLOCK_MONOTONIC, &ended);
  double wall = (double)(ended.tv_sec - started.tv_sec) + (double)(ended.tv_nsec - started.tv_nsec) / 1e9;
  printf("usage wall_s=%.6f user_s=%.6f sys_s=%.6f\n", wall,
         (double)usage.ru_utime.tv_sec + (double)usage.ru_utime.tv_usec / 1e6,
         (double)usage.ru_stime.tv_sec + (double)usage.ru_stime.tv_usec / 1e6);
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  printf("peak_rss_kib=%ld exit=%d\n", usage.ru_maxrss, code);
  return 0;
}
