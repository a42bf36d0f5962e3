// bench/report_tool/slo.cc — SLO lines and their verdicts.
#include "bench/report_tool/slo.h"

#include "absl/strings/str_format.h"

namespace alloy_bench {
namespace {

struct SloLine {
  const char* slo;
  MetricKey key;
  double limit;  // measured < limit is met
  const char* unit;
  const char* component;        // the alloy subject the SLO is about
  const char* requires_metric;  // another metric of the same workload that must be 1 (or "")
};

const SloLine kSlos[] = {
    {"small allocate P50 (thread-local)", {"small_latency", "alloc_p50"}, 80, "ns", "alloy/small_object", ""},
    {"small allocate P99 (thread-local)", {"small_latency", "alloc_p99"}, 200, "ns", "alloy/small_object", ""},
    {"small free P50 (thread-local)", {"small_latency", "free_p50"}, 80, "ns", "alloy/small_object", ""},
    {"small free P99 (thread-local)", {"small_latency", "free_p99"}, 200, "ns", "alloy/small_object", ""},
    {"remote-free batch reclaim (P95 round)", {"remote_reclaim", "batch_p95_us"}, 2, "us", "alloy/small_object", ""},
    {"frame reset after 1M objects", {"frame_1m", "reset_us"}, 150, "us", "alloy/frame", "true_reset"},
    {"medium 256 B-64 KiB fragmentation (steady)", {"medium_trace", "frag_pct"}, 1.5, "%", "alloy/tlsf", ""},
};

std::string BestPeer(const Results& results, const std::vector<Subject>& subjects, const SloLine& line) {
  std::string best;
  double best_value = 0;
  for (const Subject& s : subjects) {
    double v;
    if (s.kind != SubjectKind::kPeer || !results.Get(line.key, s.name, &v)) continue;
    if (best.empty() || v < best_value) {
      best = s.name;
      best_value = v;
    }
  }
  if (best.empty()) return "-";
  return absl::StrFormat(best_value >= 1000 ? "%s %.0f %s" : "%s %.3g %s", best, best_value, line.unit);
}

}  // namespace

std::vector<SloVerdict> EvaluateSlos(const Results& results, const std::vector<Subject>& subjects) {
  std::vector<SloVerdict> out;
  for (const SloLine& line : kSlos) {
    SloVerdict v;
    v.slo = line.slo;
    v.target = absl::StrFormat("< %g %s", line.limit, line.unit);
    v.unit = line.unit;
    v.best_peer = BestPeer(results, subjects, line);
    v.subject = line.component;
    double value = 0;
    bool ran = false;
    for (const Subject& s : subjects) ran = ran || (s.name == line.component && s.available());
    if (!ran) {
      v.verdict = "not measured";
      v.note = std::string(line.component) + " was not part of this run (--subjects)";
    } else if (!results.Get(line.key, line.component, &value)) {
      v.verdict = "not measured";
      v.note = "the case did not run or failed for " + std::string(line.component) + " (see the log)";
    } else {
      double flag = 1;
      if (line.requires_metric[0] != '\0' &&
          (!results.Get({line.key.workload, line.requires_metric}, line.component, &flag) || flag != 1)) {
        v.verdict = "not measured";
        v.note = "the subject freed each record instead of resetting";
      } else {
        v.measured = value;
        v.has_value = true;
        v.verdict = value < line.limit ? "met" : "MISSED";
        double p99;
        if (line.key.metric == "batch_p95_us" && results.Get({line.key.workload, "batch_p99_us"}, line.component, &p99))
          v.note = absl::StrFormat("P99 round %.3g us (the VM's scheduling noise shows there too)", p99);
      }
    }
    // Other alloy components (another configuration) that measured the same line.
    for (const Subject& s : subjects) {
      double other;
      if (s.kind != SubjectKind::kAlloy || s.baseline || s.name == line.component ||
          !results.Get(line.key, s.name, &other))
        continue;
      v.note += absl::StrFormat("%salso %s: %s %s", v.note.empty() ? "" : "; ", s.name,
                                absl::StrFormat(other >= 100 ? "%.0f" : "%.3g", other), line.unit);
    }
    out.push_back(v);
  }
  return out;
}

}  // namespace alloy_bench
