// Ratios between benchmarks of one run: a reporter that keeps each run's
// time per item (from items_per_second) under its name, so that main() can
// print a table of variants against a baseline once everything has run.
#ifndef ALLOY_BENCH_SUPPORT_RATIO_TABLE_H
#define ALLOY_BENCH_SUPPORT_RATIO_TABLE_H

#include <map>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

namespace alloy_bench {

class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run> &runs) override;

  // Time per item of the run called `name`; 0 when it did not run or
  // reported no items.
  double NsPerItem(const std::string &name) const;

  // NsPerItem(name) / NsPerItem(baseline); 0 when either is missing.
  double Ratio(const std::string &name, const std::string &baseline) const;

 private:
  std::map<std::string, double> ns_per_item_;
};

}  // namespace alloy_bench

#endif  // ALLOY_BENCH_SUPPORT_RATIO_TABLE_H
