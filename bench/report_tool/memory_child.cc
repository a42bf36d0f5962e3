// bench/report_tool/memory_child.cc — running and reading the isolated memory trace.
#include "bench/report_tool/memory_child.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <sstream>
#include <vector>

#include "absl/strings/str_format.h"
#include "bench/common/subjects.h"

namespace alloy_bench {

int MediumTraceChildMain(const std::string& subject, const MediumTraceOptions& options) {
  std::vector<Subject> subjects = LoadSubjects(subject, /*check_peers=*/false);
  if (subjects.empty() || !subjects[0].available()) {
    std::printf("error no such subject\n");
    return 1;
  }
  std::shared_ptr<Allocator> a = subjects[0].make();
  MediumTraceResult r = RunMediumTrace(*a, options);
  std::printf("%d %.17g %.17g %.17g %.17g %.17g\n%s\n%s\n", r.ok ? 1 : 0, r.fragmentation, r.fragmentation_max,
              r.held_bytes, r.live_bytes, r.seconds, r.held_method.c_str(), r.allocate.Encode().c_str());
  return r.ok ? 0 : 1;
}

bool RunMediumTraceIsolated(const std::string& subject, const MediumTraceOptions& options, MediumTraceResult* out,
                            std::string* error) {
  int fds[2];
  if (pipe(fds) != 0) {
    *error = "pipe failed";
    return false;
  }
  std::string subject_flag = "--memory_trace_subject=" + subject;
  std::string steps_flag = absl::StrFormat("--memory_trace_steps=%d", options.steps);
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
    char* argv[] = {const_cast<char*>("report"), const_cast<char*>(subject_flag.c_str()),
                    const_cast<char*>(steps_flag.c_str()), nullptr};
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
  std::istringstream in(output);
  std::string line;
  int ok = 0;
  if (!std::getline(in, line) ||
      std::sscanf(line.c_str(), "%d %lf %lf %lf %lf %lf", &ok, &out->fragmentation, &out->fragmentation_max,
                  &out->held_bytes, &out->live_bytes, &out->seconds) != 6) {
    *error = "child failed: " + output.substr(0, 200);
    return false;
  }
  std::getline(in, out->held_method);
  std::getline(in, line);
  if (!out->allocate.Decode(line)) {
    *error = "child sent a malformed histogram";
    return false;
  }
  out->ok = ok == 1 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
  if (!out->ok) *error = "trace failed or sizes not served";
  return out->ok;
}

}  // namespace alloy_bench
