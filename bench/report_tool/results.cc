// bench/report_tool/results.cc — the result store.
#include "bench/report_tool/results.h"

namespace alloy_bench {

void Results::Set(const MetricKey& key, const MetricInfo& info, const std::string& subject, double value) {
  for (Row& row : rows_) {
    if (row.key.workload == key.workload && row.key.metric == key.metric) {
      row.values[subject] = value;
      return;
    }
  }
  rows_.push_back(Row{key, info, {{subject, value}}});
}

bool Results::Get(const MetricKey& key, const std::string& subject, double* value) const {
  for (const Row& row : rows_) {
    if (row.key.workload != key.workload || row.key.metric != key.metric) continue;
    auto it = row.values.find(subject);
    if (it == row.values.end()) return false;
    *value = it->second;
    return true;
  }
  return false;
}

void Results::SetHistogram(const std::string& series, const std::string& title, const std::string& subject,
                           const LatencyHistogram& histogram) {
  for (Series& s : series_) {
    if (s.name != series) continue;
    for (auto& entry : s.by_subject) {
      if (entry.first == subject) {
        entry.second = histogram;
        return;
      }
    }
    s.by_subject.emplace_back(subject, histogram);
    return;
  }
  series_.push_back(Series{series, title, {{subject, histogram}}});
}

void Results::SetNote(const std::string& subject, const std::string& key, const std::string& text) {
  notes_[subject][key] = text;
}

Results& GlobalResults() {
  static Results* results = new Results;
  return *results;
}

}  // namespace alloy_bench
