// bench/report_tool/report_main.cc — //bench:report, the one command behind the performance report.
//
// Runs every workload for every subject (alloy's resources and the peers,
// side by side in this process), prints the text report and writes it with
// CSV/JSON and plot data into --out_dir. Google Benchmark runs the cases
// (its --benchmark_* flags work, e.g. --benchmark_filter=small); Abseil
// parses the report's own flags.
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "bench/report_tool/cases.h"
#include "bench/report_tool/isolated_case.h"
#include "bench/report_tool/report_writer.h"
#include "bench/report_tool/results.h"
#include "bench/report_tool/slo.h"
#include "bench/support/cycle_clock.h"
#include "bench/support/peer_allocators.h"
#include "bench/support/subjects.h"

ABSL_FLAG(std::string, out_dir, "bench-out", "Directory the report files are written into.");
ABSL_FLAG(std::string, subjects, "", "Comma-separated subjects to run (default: all), e.g. alloy/system,mimalloc.");
ABSL_FLAG(double, min_time, 0.1, "Seconds each repeating case runs (Google Benchmark's minimum time).");
ABSL_FLAG(int, repetitions, 3, "Repetitions of each repeating case; the median is reported.");
ABSL_FLAG(double, scale, 1.0, "Multiplies the length of the fixed traces (medium, frame, loading).");
ABSL_FLAG(std::vector<std::string>, frame_sizes, std::vector<std::string>({"1000", "100000", "1000000"}),
          "Records per frame in the frame-build scenarios.");
ABSL_FLAG(std::string, command, "", "How this run was started (recorded in the report).");
ABSL_FLAG(std::string, isolated_case, "",
          "Internal: run only this workload (medium_trace, remote_reclaim) for --isolated_subject and print it.");
ABSL_FLAG(std::string, isolated_subject, "", "Internal: the subject of --isolated_case.");
ABSL_FLAG(int64_t, isolated_length, 0, "Internal: steps or rounds of --isolated_case.");

namespace {

std::string LoadAverage() {
  std::ifstream f("/proc/loadavg");
  double one = 0;
  if (!(f >> one)) return "?";
  return absl::StrFormat("%.2f", one);
}

std::string CpuModel() {
  std::ifstream f("/proc/cpuinfo");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("model name", 0) == 0) {
      auto colon = line.find(':');
      if (colon != std::string::npos) return line.substr(colon + 2);
    }
  }
  return "unknown CPU";
}

}  // namespace

int main(int argc, char** argv) {
  // Before anything else: jemalloc and tcmalloc need static TLS when opened
  // with dlopen (see peer_allocators.h).
  alloy_bench::EnsureStaticTlsForPeers(argc, argv, true);
  std::string original_command;
  for (int i = 0; i < argc; ++i) original_command += (i ? " " : "") + std::string(argv[i]);
  benchmark::Initialize(&argc, argv);
  absl::ParseCommandLine(argc, argv);

  if (!absl::GetFlag(FLAGS_isolated_case).empty()) {
    return alloy_bench::IsolatedCaseMain(absl::GetFlag(FLAGS_isolated_case), absl::GetFlag(FLAGS_isolated_subject),
                                         static_cast<size_t>(absl::GetFlag(FLAGS_isolated_length)));
  }

  const absl::Time start = absl::Now();
  const std::string load_before = LoadAverage();
  const alloy_bench::CycleClock& clock = alloy_bench::GetCycleClock();
  std::fprintf(stderr, "cycle counter: %.3f GHz, empty timer pair %.1f ns\n", 1.0 / clock.ns_per_cycle,
               clock.overhead_ns());

  std::vector<alloy_bench::Subject> subjects = alloy_bench::LoadSubjects(absl::GetFlag(FLAGS_subjects));
  for (const auto& s : subjects) {
    std::fprintf(stderr, "subject %-14s %s%s\n", s.name.c_str(), s.available() ? "" : "SKIPPED: ", s.note.c_str());
  }

  alloy_bench::CaseOptions options;
  options.min_time = absl::GetFlag(FLAGS_min_time);
  options.latency_min_time = options.min_time / 2;
  options.scale = absl::GetFlag(FLAGS_scale);
  options.repetitions = absl::GetFlag(FLAGS_repetitions);
  options.frame_sizes.clear();
  for (const std::string& n : absl::GetFlag(FLAGS_frame_sizes)) options.frame_sizes.push_back(std::stoul(n));
  alloy_bench::RegisterCases(subjects, options);

  alloy_bench::RunReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();

  alloy_bench::RunInfo run;
  run.generated = absl::FormatTime("%Y-%m-%d %H:%M:%S UTC", start, absl::UTCTimeZone());
  run.command = absl::GetFlag(FLAGS_command).empty() ? original_command : absl::GetFlag(FLAGS_command);
  run.cpu_model = CpuModel();
  run.cpus = static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN));
  run.seconds = absl::ToDoubleSeconds(absl::Now() - start);
  run.load = load_before + " at start, " + LoadAverage() + " at end";

  const alloy_bench::Results& results = alloy_bench::GlobalResults();
  std::vector<alloy_bench::SloVerdict> slos = alloy_bench::EvaluateSlos(results, subjects);
  std::string text = alloy_bench::FormatTextReport(run, results, subjects, slos);
  std::fputs(text.c_str(), stdout);
  std::fflush(stdout);
  std::string error;
  std::string dir = absl::GetFlag(FLAGS_out_dir);
  // Under `bazel run` the working directory is the runfiles tree: a relative
  // --out_dir means relative to where the command was typed.
  const char* workdir = getenv("BUILD_WORKING_DIRECTORY");
  if (!dir.empty() && dir[0] != '/' && workdir != nullptr) dir = std::string(workdir) + "/" + dir;
  if (!alloy_bench::WriteReportFiles(dir, text, run, results, subjects, slos, &error)) {
    std::fprintf(stderr, "error: %s\n", error.c_str());
    return 1;
  }
  std::fprintf(stderr, "report written to %s/report.txt (results.csv, results.json, latency_*.csv, ratios_*.csv)\n",
               dir.c_str());
  return reporter.errors() == 0 ? 0 : 2;
}
