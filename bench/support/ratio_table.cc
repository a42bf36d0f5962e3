#include "bench/support/ratio_table.h"

namespace alloy_bench {

void RatioReporter::ReportRuns(const std::vector<Run> &runs) {
  for (const Run &run : runs) {
    if (run.error_occurred || run.iterations == 0) continue;
    auto items = run.counters.find("items_per_second");
    if (items != run.counters.end() && items->second.value > 0)
      ns_per_item_[run.benchmark_name()] = 1e9 / items->second.value;
  }
  ConsoleReporter::ReportRuns(runs);
}

double RatioReporter::NsPerItem(const std::string &name) const {
  auto it = ns_per_item_.find(name);
  return it == ns_per_item_.end() ? 0.0 : it->second;
}

double RatioReporter::Ratio(const std::string &name, const std::string &baseline) const {
  const double ns = NsPerItem(name);
  const double base = NsPerItem(baseline);
  return ns == 0.0 || base == 0.0 ? 0.0 : ns / base;
}

}  // namespace alloy_bench
