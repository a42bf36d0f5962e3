// bench/report_tool/results.h — every number the report prints, in one table.
//
// Workloads store metrics (one value per workload, metric and subject) and
// latency histograms (one per series and subject); the writers turn them into
// the terminal table, the ratio tables, CSV/JSON and the CSVs the plots read.
#ifndef ALLOY_BENCH_REPORT_TOOL_RESULTS_H_
#define ALLOY_BENCH_REPORT_TOOL_RESULTS_H_

#include <map>
#include <tuple>
#include <string>
#include <utility>
#include <vector>

#include "bench/support/latency_histogram.h"
#include "bench/support/subjects.h"

namespace alloy_bench {

struct MetricKey {
  std::string workload;  // "small_latency"
  std::string metric;    // "alloc_p99"
  bool operator<(const MetricKey& o) const { return std::tie(workload, metric) < std::tie(o.workload, o.metric); }
};

struct MetricInfo {
  std::string title;  // "small 8-256 B, thread-local: allocate P99"
  std::string unit;   // "ns"
  bool higher_is_better = false;
  bool headline = true;  // shown in the ratio tables
};

class Results {
 public:
  void Set(const MetricKey& key, const MetricInfo& info, const std::string& subject, double value);
  bool Get(const MetricKey& key, const std::string& subject, double* value) const;
  // Histogram in cycles for a latency series ("small_alloc", "remote_free", ...).
  void SetHistogram(const std::string& series, const std::string& title, const std::string& subject,
                    const LatencyHistogram& histogram);
  void SetNote(const std::string& subject, const std::string& key, const std::string& text);

  struct Row {
    MetricKey key;
    MetricInfo info;
    std::map<std::string, double> values;  // by subject
  };
  const std::vector<Row>& rows() const { return rows_; }

  struct Series {
    std::string name, title;
    std::vector<std::pair<std::string, LatencyHistogram>> by_subject;
  };
  const std::vector<Series>& series() const { return series_; }
  const std::map<std::string, std::map<std::string, std::string>>& notes() const { return notes_; }

 private:
  std::vector<Row> rows_;
  std::vector<Series> series_;
  std::map<std::string, std::map<std::string, std::string>> notes_;  // subject -> key -> text
};

// The process-wide store the benchmark cases write into.
Results& GlobalResults();

}  // namespace alloy_bench

#endif  // ALLOY_BENCH_REPORT_TOOL_RESULTS_H_
