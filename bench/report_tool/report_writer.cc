// bench/report_tool/report_writer.cc — formats and writes the report.
#include "bench/report_tool/report_writer.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/str_format.h"
#include "bench/support/cycle_clock.h"

namespace alloy_bench {
namespace {

// Headline rows whose alloy/peer ratio differs from 1 by less than this are
// called even: the run-to-run noise of a short run on a shared VM.
constexpr double kEvenBand = 0.05;

std::string WorkloadHeading(const std::string& workload) {
  if (workload == "small_pairs") return "Small objects 8-256 B, thread-local: 16 mallocs then 16 frees, batch-timed";
  if (workload == "small_latency")
    return "Small objects 8-256 B, thread-local: each malloc and free timed (rdtsc, empty-pair cost subtracted)";
  if (workload == "fixed_64") return "Fixed 64 B: 16 mallocs then 16 frees, batch-timed (a pool's workload)";
  if (workload == "fixed_64_latency")
    return "Fixed 64 B, thread-local: each malloc and free timed (a pool's workload)";
  if (workload == "lifo_latency")
    return "Nested temporaries 16 B-4 KiB (log-uniform): 16 mallocs, then 16 frees in reverse order, each timed "
           "(a stack's workload)";
  if (workload == "large_latency")
    return "Large blocks 64 KiB-2 MiB (log-uniform): 16 mallocs, then 16 frees in reverse order, each timed "
           "(a huge-page arena's workload)";
  if (workload == "steady_10k") return "Steady state: 10k live objects of 8-256 B, free a random one and malloc anew";
  if (workload == "xthread")
    return "Producer/consumer: one thread mallocs 8-256 B, another frees (SPSC ring); allocator calls timed in "
           "batches of 64, ring waits excluded";
  if (workload == "xthread_64")
    return "Producer/consumer, fixed 64 B: one thread mallocs, another frees (SPSC ring); allocator calls timed in "
           "batches of 64, ring waits excluded (a concurrent pool's workload)";
  if (workload == "medium_trace")
    return "Medium 256 B-64 KiB (log-uniform), long steady-state trace: 2048 live, random replace";
  if (workload.rfind("frame_", 0) == 0)
    return "Frame build: " + workload.substr(6) + " records of 16-128 B written, then the frame is reset";
  if (workload == "loading") return "Resource loading: 1 KiB-1 MiB assets into a 64 MiB budget, random eviction";
  if (workload == "remote_reclaim")
    return "Remote-free batch reclaim: another thread frees 256 blocks of 64 B, then the owner allocates 256 "
           "(per round, its slowest allocation)";
  return workload;
}

std::string FormatValue(double v) {
  if (v == 0) return "0";
  double a = std::fabs(v);
  if (a >= 1e5) return absl::StrFormat("%.0f", v);
  if (a >= 100) return absl::StrFormat("%.1f", v);
  if (a >= 10) return absl::StrFormat("%.2f", v);
  return absl::StrFormat("%.3f", v);
}

std::vector<const Subject*> Ran(const Results& results, const std::vector<Subject>& subjects, SubjectKind kind) {
  std::vector<const Subject*> out;
  for (const Subject& s : subjects) {
    if (s.kind != kind || !s.available()) continue;
    bool any = false;
    for (const auto& row : results.rows()) any = any || row.values.count(s.name) != 0;
    if (any) out.push_back(&s);
  }
  return out;
}

// How much better alloy is than the peer: >1 means alloy better.
double Advantage(const MetricInfo& info, double alloy, double peer) {
  if (alloy <= 0 || peer <= 0) return 0;
  return info.higher_is_better ? alloy / peer : peer / alloy;
}

std::string JsonString(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += absl::StrFormat("\\u%04x", c);
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string CsvField(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

bool WriteFile(const std::string& path, const std::string& content, std::string* error) {
  std::ofstream f(path);
  f << content;
  f.close();
  if (!f) {
    *error = "cannot write " + path;
    return false;
  }
  return true;
}

const double kQuantiles[] = {0.01, 0.1,   0.25,   0.5,   0.75,   0.9,    0.95,
                             0.99, 0.995, 0.999, 0.9995, 0.9999, 0.99999};

}  // namespace

std::string FileSafe(const std::string& name) {
  std::string out = name;
  for (char& c : out)
    if (c == '/' || c == ' ') c = '_';
  return out;
}

namespace {

// Subjects with a value in any row of `workload`, in table order.
std::vector<const Subject*> InWorkload(const Results& results, const std::vector<const Subject*>& all,
                                       const std::string& workload) {
  std::vector<const Subject*> out;
  for (const Subject* s : all) {
    for (const auto& row : results.rows()) {
      if (row.key.workload == workload && row.values.count(s->name) != 0) {
        out.push_back(s);
        break;
      }
    }
  }
  return out;
}

int ColumnWidth(const Subject* s) { return std::max<int>(9, static_cast<int>(s->name.size())); }

bool IsPercentile(const std::string& m) {
  auto ends = [&](const char* suffix) {
    size_t n = std::strlen(suffix);
    return m.size() > n && m.compare(m.size() - n, n, suffix) == 0;
  };
  return ends("_p50") || ends("_p99") || ends("_p999");
}

// One cell of a ratio table: the advantage and its mark.
std::string RatioCell(const Results::Row& row, double alloy, double peer) {
  if (alloy <= 0 || peer <= 0) return "-";  // 0: below the timer's empty-pair cost
  const CycleClock& clock = GetCycleClock();
  double adv = Advantage(row.info, alloy, peer);
  char mark = std::fabs(adv - 1) < kEvenBand ? '=' : (adv > 1 ? '+' : '-');
  const double coarse = 3 * clock.resolution_ns();
  if (IsPercentile(row.key.metric) && alloy <= coarse && peer <= coarse) mark = '~';
  if (adv >= 1e4) return absl::StrFormat("%.0fk %c", adv / 1e3, mark);
  return absl::StrFormat(adv >= 100 ? "%.0f %c" : "%.2f %c", adv, mark);
}

constexpr int kLabelWidth = 56;

// Rows of one ratio table: each headline metric of each given alloy subject.
void RatioTable(std::ostringstream& o, const Results& results, const std::vector<const Subject*>& alloys,
                const std::vector<const Subject*>& peers) {
  int component_width = 15;
  for (const Subject* a : alloys) component_width = std::max<int>(component_width, static_cast<int>(a->name.size()));
  std::string h = absl::StrFormat("  %-*s %-*s", kLabelWidth, "workload: metric", component_width, "alloy component");
  for (const Subject* p : peers) h += absl::StrFormat(" %*s", ColumnWidth(p), p->name);
  o << h << "\n";
  std::string last_workload;
  for (const auto& row : results.rows()) {
    if (!row.info.headline) continue;
    for (const Subject* a : alloys) {
      auto av = row.values.find(a->name);
      if (av == row.values.end()) continue;
      if (row.key.workload != last_workload && !last_workload.empty()) o << "\n";
      last_workload = row.key.workload;
      std::string label = absl::StrFormat("%s: %s", row.key.workload, row.info.title);
      if (static_cast<int>(label.size()) > kLabelWidth) label.resize(kLabelWidth);
      o << absl::StrFormat("  %-*s %-*s", kLabelWidth, label, component_width, a->name);
      for (const Subject* p : peers) {
        auto pv = row.values.find(p->name);
        o << absl::StrFormat(" %*s", ColumnWidth(p),
                             pv == row.values.end() ? std::string("-") : RatioCell(row, av->second, pv->second));
      }
      o << "\n";
    }
  }
}

// The components compared with the peers (every alloy subject but the baseline).
std::vector<const Subject*> Components(const std::vector<const Subject*>& alloys, bool baseline) {
  std::vector<const Subject*> out;
  for (const Subject* a : alloys)
    if (a->baseline == baseline) out.push_back(a);
  return out;
}

}  // namespace

std::string FormatTextReport(const RunInfo& run, const Results& results, const std::vector<Subject>& subjects,
                             const std::vector<SloVerdict>& slos) {
  std::ostringstream o;
  const CycleClock& clock = GetCycleClock();
  auto alloys = Ran(results, subjects, SubjectKind::kAlloy);
  auto peers = Ran(results, subjects, SubjectKind::kPeer);
  std::vector<const Subject*> all = alloys;
  all.insert(all.end(), peers.begin(), peers.end());

  o << "alloy performance report, " << run.generated << "\n";
  o << absl::StrFormat(
      "machine: %d CPUs, %s; cycle counter %.3f GHz, resolution %.1f ns; empty timer pair %.1f ns (subtracted)\n",
      run.cpus, run.cpu_model, 1.0 / clock.ns_per_cycle, clock.resolution_ns(), clock.overhead_ns());
  o << "load average: " << run.load << " (on " << run.cpus
    << " CPUs; a load above the CPU count means other work shared the machine)\n";
  o << "command: " << run.command << "\n\n";

  o << "Subjects (all measured in this one process and run; alloy's through alloy/resource.h)\n";
  for (const Subject& s : subjects) {
    std::string runs;
    if (s.kind == SubjectKind::kAlloy && !s.only_workloads.empty()) {
      runs = " [";
      for (size_t i = 0; i < s.only_workloads.size(); ++i) runs += (i ? ", " : "") + s.only_workloads[i];
      runs += "]";
    }
    o << absl::StrFormat("  %-18s %s%s%s\n", s.name, s.available() ? "" : "SKIPPED: ", s.note, runs);
    auto notes = results.notes().find(s.name);
    if (notes != results.notes().end()) {
      for (const auto& n : notes->second) o << absl::StrFormat("  %-18s   %s: %s\n", "", n.first, n.second);
    }
  }

  // Values: one block per workload, one column per subject that ran it.
  o << "\nResults per workload. 'better' says which direction wins; * marks the best value of a row\n"
    << "(ties within 5 % or within the timer's resolution all get one). A '-' means the subject does not\n"
    << "serve that workload.\n";
  std::string last_workload;
  std::vector<const Subject*> cols;
  for (const auto& row : results.rows()) {
    if (row.key.workload != last_workload) {
      last_workload = row.key.workload;
      cols = InWorkload(results, all, row.key.workload);
      std::string header = absl::StrFormat("  %-*s %-11s %-6s", kLabelWidth - 2, "", "unit", "better");
      for (const Subject* s : cols) header += absl::StrFormat(" %*s", ColumnWidth(s), s->name);
      o << "\n" << WorkloadHeading(row.key.workload) << "\n" << header << "\n";
    }
    // The best value of a headline row, and what counts as a tie with it.
    bool have_best = false;
    double best = 0;
    for (const Subject* s : cols) {
      auto it = row.values.find(s->name);
      if (it == row.values.end()) continue;
      if (!have_best || (row.info.higher_is_better ? it->second > best : it->second < best)) best = it->second;
      have_best = true;
    }
    const double tie = std::max(std::fabs(best) * kEvenBand,
                                IsPercentile(row.key.metric) ? clock.resolution_ns() * 0.5 : 0.0);
    o << absl::StrFormat("    %-*s %-11s %-6s", kLabelWidth - 4, row.info.title, row.info.unit,
                         row.info.headline ? (row.info.higher_is_better ? "higher" : "lower") : "");
    for (const Subject* s : cols) {
      auto it = row.values.find(s->name);
      std::string cell = it == row.values.end() ? "-" : FormatValue(it->second);
      if (it != row.values.end() && row.key.metric == "true_reset") cell = it->second == 1 ? "rewind" : "frees";
      if (it != row.values.end() && row.info.unit == "rounds") cell = absl::StrFormat("%.0f", it->second);
      if (it != row.values.end() && row.info.headline && have_best && cols.size() > 1 &&
          std::fabs(it->second - best) <= tie)
        cell += "*";
      else
        cell += " ";
      o << absl::StrFormat(" %*s", ColumnWidth(s), cell);
    }
    o << "\n";
  }

  o << "\nRatios: alloy's component for each workload vs each peer, as an advantage factor\n"
    << "  (peer / alloy for lower-is-better metrics, alloy / peer for higher-is-better ones):\n"
    << "  > 1 = alloy better by that factor, < 1 = the peer better. + alloy better, - alloy worse,\n"
    << "  = within " << static_cast<int>(kEvenBand * 100)
    << " %, ~ both latencies within 3 timer steps (below what the counter resolves).\n";
  RatioTable(o, results, Components(alloys, false), peers);
  if (!Components(alloys, true).empty()) {
    o << "  (alloy/system, glibc malloc behind the resource interface, is the baseline column above; its\n"
      << "  factors against the peers are in ratios_alloy_system.csv / .png.)\n";
  }

  o << "\nSLO table (spec section 16; verdicts from this run, each judged on the alloy component the SLO is about)\n";
  o << absl::StrFormat("  %-42s %-9s %-18s %-11s %-12s %s\n", "SLO", "target", "alloy component", "measured",
                       "verdict", "best peer (for context)");
  for (const SloVerdict& v : slos) {
    std::string measured = v.has_value ? FormatValue(v.measured) + " " + v.unit : "-";
    o << absl::StrFormat("  %-42s %-9s %-18s %-11s %-12s %s\n", v.slo, v.target, v.subject, measured, v.verdict,
                         v.best_peer);
    if (!v.note.empty()) o << absl::StrFormat("  %-42s %s\n", "", v.note);
  }

  o << "\nDefinitions\n"
    << "  P50/P99/P99.9: the latency one call in 2 / 100 / 1000 exceeds, from a histogram of every timed call.\n"
    << "  Per-op latencies come from rdtsc/rdtscp around each call, minus the empty-pair cost above; the\n"
    << "  counter ticks in coarse steps on a VM (see resolution), so small-object percentiles are quantised\n"
    << "  and the batch-timed rows are the better speed measure. Every subject is called through the same\n"
    << "  adapter (one virtual call, then a dlsym'd entry point or the alloy ops table), with sized frees\n"
    << "  where the subject has them.\n"
    << "  Fragmentation = (held - live) / live: held is what the subject keeps from the OS (method per\n"
    << "  subject above), live the bytes requested and not freed.\n"
    << "  Medium fragmentation (the first medium SLO line) is judged on alloy/tlsf_defrag: the default\n"
    << "  TLSF with a defragmentation pass (alloy_tlsf_defrag_begin/end) every 4 replacements (a free\n"
    << "  and an allocate), at most 64 KiB and 32 moves a pass, alloy copying and the trace repointing\n"
    << "  the moved blocks, the free pages left resident purged at the end of each pass\n"
    << "  (pass.purge_free); the bytes it moved per allocate or free are in the line's note and in\n"
    << "  moved_b_per_op, the copies and passes in its time per operation.\n"
    << "  Placement floor (medium trace): the same trace, sampled at the same steps, replayed on a model\n"
    << "  heap with no headers and no pools that gives back every whole free page at no cost and places\n"
    << "  each block where it leaves the fewest free bytes on pages shared with live ones (a search of\n"
    << "  every free range): the least any heap that never moves a block holds beyond live with 4 KiB\n"
    << "  pages. \"Held over placement floor\" is alloy/tlsf_purge's held beyond live over that floor,\n"
    << "  met only at no more than 1.5x alloy/tlsf's time per allocate or free (the whole trace's wall\n"
    << "  time, page touches and faults included, over its allocations and frees).\n"
    << "  Headers and rounding / live: the bytes the subject sets aside for its live blocks (their\n"
    << "  placed sizes and headers, by its own books) beyond the bytes requested, over the latter.\n"
    << "  Remote reclaim: after another thread frees 256 of the owner's 64 B blocks, the slowest of the\n"
    << "  owner's next 256 allocations (the stall of taking the batch back); P50/P95/P99 over rounds.\n"
    << "  A heap that reclaims lazily (when its local free list runs dry) does so in only some rounds, so\n"
    << "  the SLO is judged on the P95 round, which holds the reclaims; the P99 round is where a shared\n"
    << "  VM's scheduling noise lands. Rounds in which the owner thread was preempted (an involuntary\n"
    << "  context switch) measure the scheduler and are left out (counted); 64 warm-up rounds run first.\n"
    << "  Frame reset: a frame subject rewinds in O(1); a malloc must free every record, which is timed.\n"
    << "  Repeating cases report the median of their repetitions, timed in thread CPU time (preemption by\n"
    << "  other work does not count); producer/consumer times only the allocator calls, in batches. The\n"
    << "  frame and loading traces run once, timed in thread CPU time too (page faults count); a frame\n"
    << "  rewind is one call, timed on the cycle counter. On a shared 2-CPU machine treat differences\n"
    << "  under ~10-20 % as noise (see the load average above).\n";
  o << absl::StrFormat("\nRun time: %.1f s\n", run.seconds);
  return o.str();
}

bool WriteReportFiles(const std::string& dir, const std::string& text, const RunInfo& run, const Results& results,
                      const std::vector<Subject>& subjects, const std::vector<SloVerdict>& slos,
                      std::string* error) {
  if (mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
    *error = "cannot create " + dir + ": " + strerror(errno);
    return false;
  }
  if (!WriteFile(dir + "/report.txt", text, error)) return false;

  std::string csv = "workload,metric,title,unit,better,subject,kind,value\n";
  for (const auto& row : results.rows()) {
    for (const Subject& s : subjects) {
      auto it = row.values.find(s.name);
      if (it == row.values.end()) continue;
      csv += absl::StrFormat("%s,%s,%s,%s,%s,%s,%s,%.6g\n", row.key.workload, row.key.metric,
                             CsvField(row.info.title), row.info.unit, row.info.higher_is_better ? "higher" : "lower",
                             s.name, s.kind == SubjectKind::kAlloy ? "alloy" : "peer", it->second);
    }
  }
  if (!WriteFile(dir + "/results.csv", csv, error)) return false;

  const CycleClock& clock = GetCycleClock();
  std::string json = "{\n";
  json += absl::StrFormat(
      "  \"generated\": %s,\n  \"command\": %s,\n  \"machine\": {\"cpus\": %d, \"cpu_model\": %s, "
      "\"ns_per_cycle\": %.6f, \"timer_overhead_ns\": %.3f, \"timer_resolution_ns\": %.3f, \"load\": %s},\n"
      "  \"seconds\": %.3f,\n",
      JsonString(run.generated), JsonString(run.command), run.cpus, JsonString(run.cpu_model), clock.ns_per_cycle,
      clock.overhead_ns(), clock.resolution_ns(), JsonString(run.load), run.seconds);
  json += "  \"subjects\": [\n";
  for (size_t i = 0; i < subjects.size(); ++i) {
    const Subject& s = subjects[i];
    std::string held;
    auto notes = results.notes().find(s.name);
    if (notes != results.notes().end() && notes->second.count("held")) held = notes->second.at("held");
    json += absl::StrFormat("    {\"name\": %s, \"kind\": \"%s\", \"available\": %s, \"note\": %s, \"held_method\": %s}%s\n",
                            JsonString(s.name), s.kind == SubjectKind::kAlloy ? "alloy" : "peer",
                            s.available() ? "true" : "false", JsonString(s.note), JsonString(held),
                            i + 1 < subjects.size() ? "," : "");
  }
  json += "  ],\n  \"results\": [\n";
  bool first = true;
  for (const auto& row : results.rows()) {
    for (const auto& v : row.values) {
      json += absl::StrFormat("%s    {\"workload\": %s, \"metric\": %s, \"title\": %s, \"unit\": %s, \"better\": \"%s\", "
                              "\"subject\": %s, \"value\": %.6g}",
                              first ? "" : ",\n", JsonString(row.key.workload), JsonString(row.key.metric),
                              JsonString(row.info.title), JsonString(row.info.unit),
                              row.info.higher_is_better ? "higher" : "lower", JsonString(v.first), v.second);
      first = false;
    }
  }
  json += "\n  ],\n  \"slo\": [\n";
  for (size_t i = 0; i < slos.size(); ++i) {
    const SloVerdict& v = slos[i];
    json += absl::StrFormat("    {\"slo\": %s, \"target\": %s, \"subject\": %s, \"measured\": %s, \"unit\": %s, "
                            "\"verdict\": %s, \"best_peer\": %s, \"note\": %s}%s\n",
                            JsonString(v.slo), JsonString(v.target), JsonString(v.subject),
                            v.has_value ? absl::StrFormat("%.6g", v.measured) : std::string("null"),
                            JsonString(v.unit), JsonString(v.verdict), JsonString(v.best_peer), JsonString(v.note),
                            i + 1 < slos.size() ? "," : "");
  }
  json += "  ]\n}\n";
  if (!WriteFile(dir + "/results.json", json, error)) return false;

  // Percentile curves for the latency plots.
  for (const auto& series : results.series()) {
    std::string out = "# " + series.title + " (ns)\npercentile";
    for (const auto& entry : series.by_subject) out += "," + entry.first;
    out += "\n";
    for (double q : kQuantiles) {
      out += absl::StrFormat("%.5f", q * 100);
      for (const auto& entry : series.by_subject) {
        // A percentile needs at least one sample beyond it to mean anything.
        const LatencyHistogram& h = entry.second;
        bool resolved = (1.0 - q) * static_cast<double>(h.total()) >= 1.0;
        out += resolved ? absl::StrFormat(",%.2f", clock.ToNs(h.Quantile(q))) : ",NaN";
      }
      out += "\n";
    }
    if (!WriteFile(dir + "/latency_" + series.name + ".csv", out, error)) return false;
  }

  // Advantage of alloy's components (and, apart, of the baseline) over each
  // peer, headline metrics only.
  auto alloys = Ran(results, subjects, SubjectKind::kAlloy);
  auto peers = Ran(results, subjects, SubjectKind::kPeer);
  auto write_ratios = [&](const std::string& file, const std::string& title,
                          const std::vector<const Subject*>& which) {
    if (which.empty()) return true;
    std::string out = "# " + title + "\nmetric";
    for (const Subject* p : peers) out += "," + p->name;
    out += "\n";
    for (const auto& row : results.rows()) {
      if (!row.info.headline) continue;
      for (const Subject* a : which) {
        auto av = row.values.find(a->name);
        if (av == row.values.end()) continue;
        std::string label = row.key.workload + ": " + row.info.title;
        if (which.size() > 1) label += " [" + a->name + "]";
        out += CsvField(label);
        for (const Subject* p : peers) {
          auto pv = row.values.find(p->name);
          double adv = pv == row.values.end() ? 0 : Advantage(row.info, av->second, pv->second);
          out += adv > 0 ? absl::StrFormat(",%.4f", adv) : ",NaN";
        }
        out += "\n";
      }
    }
    return WriteFile(dir + "/" + file, out, error);
  };
  if (!write_ratios("ratios_alloy.csv",
                    "alloy's component per workload vs each peer: advantage factor (>1 = alloy better)",
                    Components(alloys, false)))
    return false;
  if (!write_ratios("ratios_alloy_system.csv",
                    "baseline alloy/system (glibc behind the resource interface) vs each peer: advantage factor",
                    Components(alloys, true)))
    return false;
  return true;
}

}  // namespace alloy_bench
