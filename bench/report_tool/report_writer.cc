// bench/report_tool/report_writer.cc — formats and writes the report.
#include "bench/report_tool/report_writer.h"

#include <sys/stat.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/str_format.h"
#include "bench/common/cycle_clock.h"

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
  if (workload == "steady_10k") return "Steady state: 10k live objects of 8-256 B, free a random one and malloc anew";
  if (workload == "xthread")
    return "Producer/consumer: one thread mallocs 8-256 B, another frees (SPSC ring); allocator calls timed in "
           "batches of 64, ring waits excluded";
  if (workload == "medium_trace")
    return "Medium 256 B-64 KiB (log-uniform), long steady-state trace: 2048 live, random replace";
  if (workload.rfind("frame_", 0) == 0)
    return "Frame build: " + workload.substr(6) + " records of 16-128 B written, then the frame is reset";
  if (workload == "loading") return "Resource loading: 1 KiB-1 MiB assets into a 64 MiB budget, random eviction";
  if (workload == "remote_reclaim")
    return "Remote-free batch reclaim: another thread frees 256 blocks of 64 B, then the owner allocates 256";
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

  o << "Subjects (all in this one process and run):\n";
  for (const Subject& s : subjects) {
    o << absl::StrFormat("  %-14s %s%s\n", s.name, s.available() ? "" : "SKIPPED: ", s.note);
    auto notes = results.notes().find(s.name);
    if (notes != results.notes().end()) {
      for (const auto& n : notes->second) o << absl::StrFormat("  %-14s   %s: %s\n", "", n.first, n.second);
    }
  }

  // Values: one block per workload, one column per subject.
  o << "\nResults (lower is better unless marked ^)\n";
  const int label_width = 44, col = 13;
  std::string header = absl::StrFormat("%-*s %-10s", label_width, "", "unit");
  for (const Subject* s : all) header += absl::StrFormat(" %*s", col, s->name);
  std::string last_workload;
  for (const auto& row : results.rows()) {
    if (row.key.workload != last_workload) {
      last_workload = row.key.workload;
      o << "\n" << WorkloadHeading(row.key.workload) << "\n" << header << "\n";
    }
    std::string label = "  " + row.info.title + (row.info.higher_is_better ? " ^" : "");
    o << absl::StrFormat("%-*s %-10s", label_width, label, row.info.unit);
    for (const Subject* s : all) {
      auto it = row.values.find(s->name);
      o << absl::StrFormat(" %*s", col, it == row.values.end() ? "-" : FormatValue(it->second));
    }
    o << "\n";
  }

  // Ratios alloy/peer for the headline metrics.
  for (const Subject* a : alloys) {
    o << "\nRatios " << a->name << " / peer (raw value ratio; + alloy better, - alloy worse, = within "
      << static_cast<int>(kEvenBand * 100) << " %,\n  ~ both latencies within 3 timer steps: below what the counter resolves)\n";
    std::string h = absl::StrFormat("%-*s", label_width + 11, "");
    for (const Subject* p : peers) h += absl::StrFormat(" %*s", col, p->name);
    o << h << "\n";
    for (const auto& row : results.rows()) {
      if (!row.info.headline) continue;
      auto av = row.values.find(a->name);
      if (av == row.values.end()) continue;
      std::string label = absl::StrFormat("  %s: %s", row.key.workload, row.info.title);
      if (static_cast<int>(label.size()) > label_width + 11) label.resize(label_width + 11);
      o << absl::StrFormat("%-*s", label_width + 11, label);
      for (const Subject* p : peers) {
        auto pv = row.values.find(p->name);
        if (pv == row.values.end() || pv->second <= 0 || av->second <= 0) {
          // A latency of 0 means below the empty-pair overhead: no ratio.
          o << absl::StrFormat(" %*s", col, "-");
          continue;
        }
        double ratio = av->second / pv->second;
        double adv = Advantage(row.info, av->second, pv->second);
        char mark = std::fabs(adv - 1) < kEvenBand ? '=' : (adv > 1 ? '+' : '-');
        const double coarse = 3 * clock.resolution_ns();
        const std::string& m = row.key.metric;
        bool percentile = m.size() > 4 && (m.compare(m.size() - 4, 4, "_p50") == 0 ||
                                           m.compare(m.size() - 4, 4, "_p99") == 0 ||
                                           (m.size() > 5 && m.compare(m.size() - 5, 5, "_p999") == 0));
        if (percentile && av->second <= coarse && pv->second <= coarse) mark = '~';
        o << absl::StrFormat(" %*s", col, absl::StrFormat("%.2f %c", ratio, mark));
      }
      o << "\n";
    }
  }

  o << "\nSLO table (spec section 16; verdicts from this run)\n";
  o << absl::StrFormat("  %-44s %-10s %-14s %-12s %-17s %s\n", "SLO", "target", "subject", "measured", "verdict",
                       "best peer");
  for (const SloVerdict& v : slos) {
    std::string measured = v.subject == "-" ? "-" : FormatValue(v.measured) + " " + v.unit;
    o << absl::StrFormat("  %-44s %-10s %-14s %-12s %-17s %s\n", v.slo, v.target, v.subject, measured, v.verdict,
                         v.best_peer);
    if (!v.note.empty()) o << absl::StrFormat("  %-44s %s\n", "", v.note);
  }

  o << "\nNotes\n"
    << "  Per-op latencies come from rdtsc/rdtscp around each call, minus the empty-pair cost above; the counter\n"
    << "  ticks in coarse steps on a VM, so small-object percentiles are quantised. Batch figures time many\n"
    << "  operations at once and are the better throughput measure. Every subject is called through the same\n"
    << "  adapter (one virtual call, then a dlsym'd entry point or the alloy ops table), with sized frees where\n"
    << "  the subject has them. Fragmentation = (held - live) / live, held measured per subject as listed above.\n"
    << "  Repeating cases report the median of their repetitions, timed in thread CPU time (preemption by\n"
    << "  other work does not count); producer/consumer times only the allocator calls, in batches.\n"
    << "  The fixed traces run once, in real time. On a shared 2-CPU machine treat differences under\n"
    << "  ~10-20 % as noise (see the load average above).\n";
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
    json += absl::StrFormat("    {\"slo\": %s, \"target\": %s, \"subject\": %s, \"measured\": %.6g, \"unit\": %s, "
                            "\"verdict\": %s, \"best_peer\": %s, \"note\": %s}%s\n",
                            JsonString(v.slo), JsonString(v.target), JsonString(v.subject), v.measured,
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

  // Advantage of each alloy subject over each peer, headline metrics only.
  auto alloys = Ran(results, subjects, SubjectKind::kAlloy);
  auto peers = Ran(results, subjects, SubjectKind::kPeer);
  for (const Subject* a : alloys) {
    std::string out = "# " + a->name + ": peer/alloy for lower-is-better, alloy/peer for higher (>1 = alloy better)\nmetric";
    for (const Subject* p : peers) out += "," + p->name;
    out += "\n";
    for (const auto& row : results.rows()) {
      if (!row.info.headline) continue;
      auto av = row.values.find(a->name);
      if (av == row.values.end()) continue;
      out += CsvField(row.key.workload + ": " + row.info.title);
      for (const Subject* p : peers) {
        auto pv = row.values.find(p->name);
        out += pv == row.values.end() ? ",NaN" : absl::StrFormat(",%.4f", Advantage(row.info, av->second, pv->second));
      }
      out += "\n";
    }
    if (!WriteFile(dir + "/ratios_" + FileSafe(a->name) + ".csv", out, error)) return false;
  }
  return true;
}

}  // namespace alloy_bench
