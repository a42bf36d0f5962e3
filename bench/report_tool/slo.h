// bench/report_tool/slo.h — the spec's SLOs checked against the measured numbers.
//
// Spec §16: small objects P50 < 80 ns and P99 < 200 ns (thread-local, allocate
// and free); remote-free batch reclaim < 2 us (judged on the median round:
// the owner's slowest allocation right after another thread freed a batch of
// its blocks; the P99 round is in the results as the jitter); frame reset < 150 us after a million objects; medium-size
// fragmentation < 1.5 % in a long steady state.
// Each line is checked for every alloy subject that measured it; a line no
// alloy subject measured yet says so and why.
#ifndef ALLOY_BENCH_REPORT_TOOL_SLO_H_
#define ALLOY_BENCH_REPORT_TOOL_SLO_H_

#include <string>
#include <vector>

#include "bench/common/subjects.h"
#include "bench/report_tool/results.h"

namespace alloy_bench {

struct SloVerdict {
  std::string slo;      // "small allocate P50 (thread-local)"
  std::string target;   // "< 80 ns"
  std::string subject;  // alloy subject, or "-" when not measured
  double measured = 0;
  std::string unit;
  std::string verdict;    // "met", "missed", "not measured yet"
  std::string best_peer;  // "mimalloc 12.0 ns" for context
  std::string note;
};

std::vector<SloVerdict> EvaluateSlos(const Results& results, const std::vector<Subject>& subjects);

}  // namespace alloy_bench

#endif  // ALLOY_BENCH_REPORT_TOOL_SLO_H_
