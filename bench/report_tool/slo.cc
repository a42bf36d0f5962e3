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
  const char* requires_metric;  // another metric of the same workload that must be 1 (or "")
  const char* missing;          // why nothing measured it yet
};

const SloLine kSlos[] = {
    {"small allocate P50 (thread-local)", {"small_latency", "alloc_p50"}, 80, "ns", "", "no alloy subject serves 8-256 B"},
    {"small allocate P99 (thread-local)", {"small_latency", "alloc_p99"}, 200, "ns", "", "no alloy subject serves 8-256 B"},
    {"small free P50 (thread-local)", {"small_latency", "free_p50"}, 80, "ns", "", "no alloy subject serves 8-256 B"},
    {"small free P99 (thread-local)", {"small_latency", "free_p99"}, 200, "ns", "", "no alloy subject serves 8-256 B"},
    {"remote-free batch reclaim (median round)", {"remote_reclaim", "batch_us"}, 2, "us", "",
     "no thread-safe alloy subject serves 64 B"},
    {"frame reset after 1M objects", {"frame_1m", "reset_us"}, 150, "us", "true_reset",
     "no alloy subject with mark/rewind yet (alloy/frame not wired)"},
    {"medium 256 B-64 KiB fragmentation (steady)", {"medium_trace", "frag_pct"}, 1.5, "%", "",
     "no alloy subject serves 256 B-64 KiB"},
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
    SloVerdict base;
    base.slo = line.slo;
    base.target = absl::StrFormat("< %g %s", line.limit, line.unit);
    base.unit = line.unit;
    base.best_peer = BestPeer(results, subjects, line);
    bool any = false;
    std::string partial;
    for (const Subject& s : subjects) {
      double v;
      if (s.kind != SubjectKind::kAlloy || !results.Get(line.key, s.name, &v)) continue;
      if (line.requires_metric[0] != '\0') {
        double flag = 0;
        if (!results.Get({line.key.workload, line.requires_metric}, s.name, &flag) || flag != 1) {
          partial += absl::StrFormat("%s%s: %.0f %s freeing each record (no reset)", partial.empty() ? "" : "; ",
                                     s.name, v, line.unit);
          continue;
        }
      }
      SloVerdict verdict = base;
      verdict.subject = s.name;
      verdict.measured = v;
      verdict.verdict = v < line.limit ? "met" : "missed";
      out.push_back(verdict);
      any = true;
    }
    if (!any) {
      SloVerdict verdict = base;
      verdict.subject = "-";
      verdict.verdict = "not measured yet";
      verdict.note = line.missing;
      if (!partial.empty()) verdict.note += " [" + partial + "]";
      out.push_back(verdict);
    }
  }
  return out;
}

}  // namespace alloy_bench
