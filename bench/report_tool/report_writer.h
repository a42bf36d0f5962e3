// bench/report_tool/report_writer.h — the report files: text, CSV, JSON and plot data.
//
// Files written into the output directory:
//   report.txt           the terminal report (also printed)
//   results.csv          one line per workload, metric and subject
//   results.json         the same, plus machine, subjects and SLO verdicts
//   latency_<series>.csv percentile curves (ns) per subject, for the plots
//   ratios_<alloy>.csv   how much better each alloy subject is than each peer
#ifndef ALLOY_BENCH_REPORT_TOOL_REPORT_WRITER_H_
#define ALLOY_BENCH_REPORT_TOOL_REPORT_WRITER_H_

#include <string>
#include <vector>

#include "bench/report_tool/results.h"
#include "bench/report_tool/slo.h"
#include "bench/support/subjects.h"

namespace alloy_bench {

struct RunInfo {
  std::string generated;  // UTC time
  std::string command;    // how the report was produced
  std::string cpu_model;
  int cpus = 0;
  double seconds = 0;  // wall time of the whole run
  std::string load;    // the 1-minute load average around the run
};

// The text report.
std::string FormatTextReport(const RunInfo& run, const Results& results, const std::vector<Subject>& subjects,
                             const std::vector<SloVerdict>& slos);

// Writes every file; returns false (with *error) when a file cannot be written.
bool WriteReportFiles(const std::string& dir, const std::string& text, const RunInfo& run, const Results& results,
                      const std::vector<Subject>& subjects, const std::vector<SloVerdict>& slos,
                      std::string* error);

// A name usable in a file name ("alloy/system" -> "alloy_system").
std::string FileSafe(const std::string& name);

}  // namespace alloy_bench

#endif  // ALLOY_BENCH_REPORT_TOOL_REPORT_WRITER_H_
