// bench/report_tool/isolated_case.cc — running a workload in a child and reading it back.
#include "bench/report_tool/isolated_case.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <sstream>
#include <vector>

#include "absl/strings/str_format.h"
#include "bench/support/subjects.h"
#include "bench/support/workloads.h"

namespace alloy_bench {
namespace {

// Output lines: "v <key> <number>", "s <key> <text>", "h <key> <histogram>",
// and last "ok".
void PrintValue(const char* key, double v) { std::printf("v %s %.17g\n", key, v); }
void PrintText(const char* key, const std::string& t) { std::printf("s %s %s\n", key, t.c_str()); }
void PrintHistogram(const char* key, const LatencyHistogram& h) { std::printf("h %s %s\n", key, h.Encode().c_str()); }

}  // namespace

int IsolatedCaseMain(const std::string& workload, const std::string& subject, size_t length) {
  std::vector<Subject> subjects = LoadSubjects(subject, /*check_peers=*/false);
  if (subjects.empty() || !subjects[0].available()) {
    std::printf("error no such subject\n");
    return 1;
  }
  std::shared_ptr<Allocator> a = subjects[0].make();
  if (!a) {
    std::printf("error the subject could not be created\n");
    return 1;
  }
  if (workload == "medium_trace") {
    MediumTraceOptions options;
    options.steps = length;
    std::unique_ptr<MediumTraceResult> r(new MediumTraceResult(RunMediumTrace(*a, options)));
    if (!r->ok) return 1;
    PrintValue("fragmentation", r->fragmentation);
    PrintValue("fragmentation_max", r->fragmentation_max);
    PrintValue("held_bytes", r->held_bytes);
    PrintValue("live_bytes", r->live_bytes);
    PrintValue("seconds", r->seconds);
    PrintValue("moved_bytes", r->moved_bytes);
    PrintValue("floor_best_fit", r->floor_best_fit);
    PrintValue("floor_fewest_partial", r->floor_fewest_partial);
    if (r->internal_overhead >= 0) PrintValue("internal_overhead", r->internal_overhead);
    PrintText("held_method", r->held_method);
    PrintHistogram("allocate", r->allocate);
  } else if (workload == "loading") {
    LoadingOptions options;
    options.loads = length;
    options.warmup_loads = length;
    std::unique_ptr<LoadingResult> r(new LoadingResult(RunResourceLoading(*a, options)));
    if (!r->ok) return 1;
    PrintValue("loads_per_second", r->loads_per_second);
    PrintHistogram("allocate", r->allocate);
  } else if (workload == "remote_reclaim") {
    std::unique_ptr<RemoteReclaim> work(new RemoteReclaim(*a));
    // Warm-up: the heap commits its pages and settles into its cycle first.
    for (size_t i = 0; i < 64; ++i)
      if (!work->RunRound(false)) return 1;
    for (size_t i = 0; i < length; ++i)
      if (!work->RunRound()) return 1;
    PrintHistogram("worst", work->worst_allocation());
    PrintValue("preempted_rounds", static_cast<double>(work->preempted_rounds()));
  } else {
    std::printf("error unknown workload\n");
    return 1;
  }
  std::printf("ok\n");
  return 0;
}

bool RunIsolated(const std::string& workload, const std::string& subject, size_t length, IsolatedResult* out,
                 std::string* error) {
  int fds[2];
  if (pipe(fds) != 0) {
    *error = "pipe failed";
    return false;
  }
  std::string case_flag = "--isolated_case=" + workload;
  std::string subject_flag = "--isolated_subject=" + subject;
  std::string length_flag = absl::StrFormat("--isolated_length=%d", length);
  std::fflush(nullptr);
  pid_t pid = fork();
  if (pid < 0) {
    *error = "fork failed";
    return false;
  }
  if (pid == 0) {
    dup2(fds[1], STDOUT_FILENO);
    close(fds[0]);
    close(fds[1]);
    char* argv[] = {const_cast<char*>("report"), const_cast<char*>(case_flag.c_str()),
                    const_cast<char*>(subject_flag.c_str()), const_cast<char*>(length_flag.c_str()), nullptr};
    execv("/proc/self/exe", argv);
    _exit(127);
  }
  close(fds[1]);
  std::string output;
  char buffer[4096];
  ssize_t n;
  while ((n = read(fds[0], buffer, sizeof buffer)) > 0) output.append(buffer, static_cast<size_t>(n));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);

  bool ok = false;
  std::istringstream in(output);
  std::string line;
  while (std::getline(in, line)) {
    if (line == "ok") {
      ok = true;
      continue;
    }
    if (line.size() < 3 || line[1] != ' ') continue;
    size_t key_end = line.find(' ', 2);
    if (key_end == std::string::npos) continue;
    std::string key = line.substr(2, key_end - 2);
    std::string rest = line.substr(key_end + 1);
    if (line[0] == 'v') {
      out->values[key] = std::stod(rest);
    } else if (line[0] == 's') {
      out->texts[key] = rest;
    } else if (line[0] == 'h' && !out->histograms[key].Decode(rest)) {
      *error = "child sent a malformed histogram";
      return false;
    }
  }
  if (!ok || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    *error = "isolated " + workload + " failed: " + output.substr(0, 200);
    return false;
  }
  return true;
}

}  // namespace alloy_bench
