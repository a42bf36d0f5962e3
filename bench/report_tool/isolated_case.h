// bench/report_tool/isolated_case.h — workloads measured in a fresh process.
//
// Some numbers depend on everything a heap served before: memory one workload
// freed stays cached and a later workload on the same heap reuses it, and
// alloy/system and glibc even share one heap, so whichever runs second
// inherits the first one's state. The medium memory trace, resource loading
// and the remote-free reclaim rounds therefore run in a fresh copy of this
// program per subject (re-executed with --isolated_case), whose heaps have
// served nothing else; the results come back over a pipe as text lines.
#ifndef ALLOY_BENCH_REPORT_TOOL_ISOLATED_CASE_H_
#define ALLOY_BENCH_REPORT_TOOL_ISOLATED_CASE_H_

#include <map>
#include <string>

#include "bench/support/latency_histogram.h"

namespace alloy_bench {

struct IsolatedResult {
  std::map<std::string, double> values;
  std::map<std::string, std::string> texts;
  std::map<std::string, LatencyHistogram> histograms;
};

// The workloads that can run isolated: "medium_trace" (`length` = steps),
// "loading" (`length` = timed loads) and "remote_reclaim" (`length` = rounds).
bool RunIsolated(const std::string& workload, const std::string& subject, size_t length, IsolatedResult* out,
                 std::string* error);

// In the child: runs the workload and prints the result on stdout; the exit code.
int IsolatedCaseMain(const std::string& workload, const std::string& subject, size_t length);

}  // namespace alloy_bench

#endif  // ALLOY_BENCH_REPORT_TOOL_ISOLATED_CASE_H_
