// bench/report_tool/cases.h — the workloads registered as Google Benchmark cases.
//
// Every (workload, subject) pair is one benchmark named "<workload>/<subject>",
// so --benchmark_filter selects any part of the report. Kernels that repeat
// (batch pairs, per-operation latency, steady state, producer/consumer) let Google Benchmark choose
// the iteration count for the requested minimum time; their throughput comes
// from its timing (RunReporter below). Fixed traces (medium, frame, loading)
// run once and store their own numbers.
#ifndef ALLOY_BENCH_REPORT_TOOL_CASES_H_
#define ALLOY_BENCH_REPORT_TOOL_CASES_H_

#include <map>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "bench/support/subjects.h"

namespace alloy_bench {

struct CaseOptions {
  double min_time = 0.1;  // seconds per adaptive case and repetition
  // The same for the per-operation latency cases of one strategy each
  // (fixed_64_latency, lifo_latency, large_latency: one repetition each;
  // xthread_64).
  double latency_min_time = 0.05;
  int repetitions = 3;    // adaptive cases report the median repetition
  double scale = 1.0;     // multiplies the length of the fixed traces
  std::vector<size_t> frame_sizes = {1000, 100000, 1000000};
};

// Registers every workload for every subject that runs it (workload-major, so
// subjects alternate and slow drift in the machine spreads over all of them).
void RegisterCases(const std::vector<Subject>& subjects, const CaseOptions& options);

// Collects Google Benchmark's runs into GlobalResults() and prints one
// progress line per case.
class RunReporter : public benchmark::BenchmarkReporter {
 public:
  bool ReportContext(const Context& context) override;
  void ReportRuns(const std::vector<Run>& runs) override;
  int errors() const { return errors_; }

 private:
  int errors_ = 0;
  double last_report_ = 0;  // monotonic seconds at the previous report
};

}  // namespace alloy_bench

#endif  // ALLOY_BENCH_REPORT_TOOL_CASES_H_
