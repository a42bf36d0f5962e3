// bench/report_tool/cases.cc — workload x subject benchmark cases.
#include "bench/report_tool/cases.h"

#include <algorithm>
#include <cstdio>
#include <functional>
#include <memory>

#include "absl/strings/str_format.h"
#include "bench/report_tool/isolated_case.h"
#include "bench/report_tool/results.h"
#include "bench/support/cycle_clock.h"
#include "bench/support/percentile.h"
#include "bench/support/process_clocks.h"
#include "bench/support/workloads.h"

namespace alloy_bench {
namespace {

// What to store once Google Benchmark reports a case (adaptive kernels only).
using Finisher = std::function<void(const benchmark::BenchmarkReporter::Run&)>;

std::map<std::string, Finisher>& Finishers() {
  static auto* finishers = new std::map<std::string, Finisher>;
  return *finishers;
}

double Ns(double cycles) { return GetCycleClock().ToNs(cycles); }

// A number a case measures itself, per invocation. Google Benchmark calls a
// case several times (probing the iteration count, then each repetition); the
// reported value is the median of the `repetitions` longest invocations.
std::map<std::string, std::vector<std::pair<int64_t, double>>>& Invocations() {
  static auto* invocations = new std::map<std::string, std::vector<std::pair<int64_t, double>>>;
  return *invocations;
}

double MedianOfLongest(const std::string& name, int repetitions) {
  auto v = Invocations()[name];
  std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  if (static_cast<int>(v.size()) > repetitions) v.resize(static_cast<size_t>(repetitions));
  std::vector<double> values;
  for (const auto& e : v) values.push_back(e.second);
  return Median(values);
}

void StorePercentiles(const std::string& workload, const std::string& prefix, const std::string& what,
                      const std::string& subject, const LatencyHistogram& h) {
  Results& r = GlobalResults();
  const struct {
    const char* suffix;
    const char* label;
    double q;
  } points[] = {{"_p50", "P50", 0.5}, {"_p99", "P99", 0.99}, {"_p999", "P99.9", 0.999}};
  for (const auto& p : points) {
    r.Set({workload, prefix + p.suffix}, {what + " " + p.label, "ns", false, true}, subject, Ns(h.Quantile(p.q)));
  }
}

// Time per iteration in nanoseconds (for the median aggregate too). Single-
// threaded kernels use the thread's CPU time, which a shared machine's
// preemptions do not inflate; cases with their own threads use real time.
double NsPerIteration(const benchmark::BenchmarkReporter::Run& run) {
  double t = run.run_name.time_type.empty() ? run.GetAdjustedCPUTime() : run.GetAdjustedRealTime();
  return t * 1e9 / benchmark::GetTimeUnitMultiplier(run.time_unit);
}

// The subject's instance for one case; nullptr (the case marked skipped) when
// it cannot be created.
std::shared_ptr<Allocator> Create(const Subject& s, benchmark::State& state) {
  std::shared_ptr<Allocator> a = s.make();
  if (!a) state.SkipWithError("the subject could not be created");
  return a;
}

using CaseBody = std::function<void(benchmark::State&)>;

// A kernel that repeats: Google Benchmark picks the iteration count for
// `min_time`, the median repetition is reported.
benchmark::internal::Benchmark* RegisterAdaptive(const std::string& name, double min_time, int repetitions,
                                                 CaseBody body) {
  return benchmark::RegisterBenchmark(name.c_str(), std::move(body))
      ->MinTime(min_time)
      ->Repetitions(repetitions)
      ->ReportAggregatesOnly(true);
}

// A fixed trace: runs once and stores its own numbers.
void RegisterOnce(const std::string& name, CaseBody body) {
  benchmark::RegisterBenchmark(name.c_str(), std::move(body))->Iterations(1)->Unit(benchmark::kMillisecond);
}

// Runs `workload` for `subject` in a fresh child process (isolated_case.h);
// false, with the case marked skipped, when it fails.
bool RunIsolatedCase(benchmark::State& state, const std::string& workload, const std::string& subject, size_t length,
                     IsolatedResult* r) {
  std::string error;
  bool ok = false;
  for (auto _ : state) ok = RunIsolated(workload, subject, length, r, &error);
  if (!ok) state.SkipWithError(error.c_str());
  return ok;
}

const PairShape kSmallShape{8, 256, false, false};
const PairShape kFixed64Shape{64, 64, false, false};

// Batch-timed throughput (small_pairs, fixed_64): `store` gets the subject and
// Google Benchmark's time per batch of BatchPairs::kBatch pairs.
void RegisterBatches(const Subject& s, const CaseOptions& o, const std::string& workload, const PairShape& shape,
                     const std::function<void(const std::string&, double)>& store) {
  std::string subject = s.name;
  std::string name = workload + "/" + subject;
  RegisterAdaptive(name, o.min_time, o.repetitions, [s, shape](benchmark::State& state) {
    std::shared_ptr<Allocator> a = Create(s, state);
    if (!a) return;
    BatchPairs work(*a, shape);
    for (auto _ : state) {
      if (!work.RunBatch()) {
        state.SkipWithError("allocation failed");
        break;
      }
    }
  });
  Finishers()[name] = [subject, store](const benchmark::BenchmarkReporter::Run& run) {
    store(subject, NsPerIteration(run));
  };
}

// Per-operation latency: every allocate and every free of a batch timed on
// its own, stored as P50/P99/P99.9 rows and as histograms for the plots.
struct LatencyWorkload {
  const char* workload;  // "small_latency"
  PairShape shape;
  const char* series;  // histograms "<series>_alloc" and "<series>_free"
  const char* title;   // what the plots say, before "allocate" / "free"
  bool short_case;     // a strategy's own case: CaseOptions::latency_min_time
};

const LatencyWorkload kSmallLatency{"small_latency", kSmallShape, "small", "small 8-256 B thread-local", false};
// A pool's workload.
const LatencyWorkload kFixed64Latency{"fixed_64_latency", kFixed64Shape, "fixed_64", "fixed 64 B thread-local",
                                      true};
// A stack's: nested temporaries of mixed sizes.
const LatencyWorkload kLifoLatency{"lifo_latency", {16, 4096, true, true}, "lifo",
                                   "nested 16 B-4 KiB, freed last-in first-out,", true};
// A huge-page arena's: big buffers of whole pages, freed in reverse so the
// arena takes each back (it only takes back a block that ends at its top, and
// a size off the alignment would leave padding between blocks).
const LatencyWorkload kLargeLatency{"large_latency", {64u << 10, 2u << 20, true, true, 4096}, "large",
                                    "large 64 KiB-2 MiB pages, freed last-in first-out,", true};

void RegisterLatency(const Subject& s, const CaseOptions& o, const LatencyWorkload& w) {
  std::string subject = s.name;
  // The rows come from the last invocation's histograms (each one starts a
  // fresh instance), so a strategy's own case runs one repetition.
  const double min_time = w.short_case ? o.latency_min_time : o.min_time;
  const int repetitions = w.short_case ? 1 : o.repetitions;
  const std::string name = std::string(w.workload) + "/" + subject;
  RegisterAdaptive(name, min_time, repetitions, [s, subject, w](benchmark::State& state) {
    std::shared_ptr<Allocator> a = Create(s, state);
    if (!a) return;
    BatchPairs work(*a, w.shape);
    auto alloc = std::make_unique<LatencyHistogram>();
    auto free = std::make_unique<LatencyHistogram>();
    for (auto _ : state) {
      if (!work.RunTimedBatch(*alloc, *free)) {
        state.SkipWithError("allocation failed");
        return;
      }
    }
    StorePercentiles(w.workload, "alloc", "allocate", subject, *alloc);
    StorePercentiles(w.workload, "free", "free", subject, *free);
    const std::string series = w.series, title = w.title;
    GlobalResults().SetHistogram(series + "_alloc", title + " allocate", subject, *alloc);
    GlobalResults().SetHistogram(series + "_free", title + " free", subject, *free);
  });
}

void RegisterSteady(const Subject& s, const CaseOptions& o) {
  constexpr size_t kSteps = 1024;
  std::string subject = s.name;
  std::string name = "steady_10k/" + subject;
  RegisterAdaptive(name, o.min_time, o.repetitions, [s](benchmark::State& state) {
    std::shared_ptr<Allocator> a = Create(s, state);
    if (!a) return;
    SteadyState work(*a);
    if (!work.ok()) {
      state.SkipWithError("allocation failed");
      return;
    }
    for (auto _ : state) {
      if (!work.Replace(kSteps)) {
        state.SkipWithError("allocation failed");
        break;
      }
    }
  });
  Finishers()[name] = [subject](const benchmark::BenchmarkReporter::Run& run) {
    GlobalResults().Set({"steady_10k", "mpairs_per_s"},
                        {"free+malloc pairs", "M pairs/s", true, true}, subject,
                        1e3 * kSteps / NsPerIteration(run));
  };
}

// One thread allocates, another frees: the remote-free path of every subject
// that lets another thread free.
struct CrossThreadWorkload {
  const char* workload;  // "xthread"
  size_t min_size, max_size;
  const char* series;  // the remote-free histogram
  const char* title;
  bool short_case;  // a strategy's own case: CaseOptions::latency_min_time
};

const CrossThreadWorkload kCrossThread{"xthread", 8, 256, "remote_free",
                                       "cross-thread free (producer allocates, consumer frees)", false};
// A concurrent pool's: its one size.
const CrossThreadWorkload kCrossThread64{"xthread_64", 64, 64, "remote_free_64",
                                         "cross-thread free of 64 B (producer allocates, consumer frees)", true};

void RegisterCrossThread(const Subject& s, const CaseOptions& o, const CrossThreadWorkload& w) {
  constexpr size_t kChunk = 4096;
  std::string subject = s.name;
  std::string workload = w.workload;
  std::string name = workload + "/" + subject;
  const double min_time = w.short_case ? o.latency_min_time : o.min_time;
  RegisterAdaptive(name, min_time, o.repetitions, [s, subject, name, w](benchmark::State& state) {
    std::shared_ptr<Allocator> a = Create(s, state);
    if (!a) return;
    auto work = std::make_unique<ProducerConsumer>(*a, w.min_size, w.max_size);
    for (auto _ : state) {
      if (!work->Produce(kChunk)) {
        state.SkipWithError("allocation failed");
        return;
      }
    }
    work->Stop();
    StorePercentiles(w.workload, "remote_free", "remote free", subject, work->free_latency());
    GlobalResults().SetHistogram(w.series, w.title, subject, work->free_latency());
    Invocations()[name].emplace_back(static_cast<int64_t>(state.iterations()), Ns(work->cycles_per_object()));
  })->UseRealTime();
  Finishers()[name] = [subject, workload, name, o](const benchmark::BenchmarkReporter::Run& run) {
    // Allocator time only (both threads' timed batches), ring waits excluded.
    GlobalResults().Set({workload, "ns_per_object"}, {"malloc + remote free, per object", "ns", false, true},
                        subject, MedianOfLongest(name, o.repetitions));
    GlobalResults().Set({workload, "mobjects_per_s"}, {"objects per wall second", "M objects/s", true, false},
                        subject, 1e3 * kChunk / NsPerIteration(run));
  };
}

void RegisterRemoteReclaim(const Subject& s, const CaseOptions& o) {
  std::string subject = s.name;
  const size_t rounds = static_cast<size_t>(std::max(100.0, 1000 * o.scale));
  RegisterOnce("remote_reclaim/" + subject, [subject, rounds](benchmark::State& state) {
    auto r = std::make_unique<IsolatedResult>();
    if (!RunIsolatedCase(state, "remote_reclaim", subject, rounds, r.get())) return;
    // Per round, the slowest of the owner's allocations after the remote batch.
    const LatencyHistogram& h = r->histograms["worst"];
    Results& res = GlobalResults();
    res.Set({"remote_reclaim", "batch_us"}, {"worst allocation per round, P50", "us", false, true}, subject,
            Ns(h.Quantile(0.5)) / 1e3);
    res.Set({"remote_reclaim", "batch_p95_us"}, {"worst allocation per round, P95", "us", false, true}, subject,
            Ns(h.Quantile(0.95)) / 1e3);
    res.Set({"remote_reclaim", "batch_p99_us"}, {"worst allocation per round, P99", "us", false, true}, subject,
            Ns(h.Quantile(0.99)) / 1e3);
    res.Set({"remote_reclaim", "preempted_rounds"}, {"rounds left out: owner preempted", "rounds", false, false},
            subject, r->values["preempted_rounds"]);
    res.SetHistogram("remote_reclaim", "slowest allocation after a 256-block remote-free batch", subject, h);
  });
}

void RegisterMedium(const Subject& s, const CaseOptions& o) {
  std::string subject = s.name;
  MediumTraceOptions mo;
  mo.steps = static_cast<size_t>(static_cast<double>(mo.steps) * o.scale);
  RegisterOnce("medium_trace/" + subject, [subject, mo](benchmark::State& state) {
    auto r = std::make_unique<IsolatedResult>();
    if (!RunIsolatedCase(state, "medium_trace", subject, mo.steps, r.get())) return;
    Results& res = GlobalResults();
    res.Set({"medium_trace", "frag_pct"}, {"held beyond live: (held-live)/live", "%", false, true}, subject,
            100.0 * r->values["fragmentation"]);
    const double operations = static_cast<double>(MediumTraceOptions().live + 2 * mo.steps);
    res.Set({"medium_trace", "moved_b_per_op"},
            {"bytes moved per allocate or free (defragmentation; 0: never moves)", "B", false, false}, subject,
            r->values["moved_bytes"] / operations);
    res.Set({"medium_trace", "frag_max_pct"}, {"held beyond live, worst sample", "%", false, false}, subject,
            100.0 * r->values["fragmentation_max"]);
    res.Set({"medium_trace", "held_mib"}, {"held (mean of samples)", "MiB", false, false}, subject,
            r->values["held_bytes"] / 1048576.0);
    res.Set({"medium_trace", "live_mib"}, {"live (mean of samples)", "MiB", false, false}, subject,
            r->values["live_bytes"] / 1048576.0);
    res.Set({"medium_trace", "floor_pct"},
            {"placement floor of the same trace (fewest partial pages)", "%", false, false}, subject,
            100.0 * r->values["floor_fewest_partial"]);
    res.Set({"medium_trace", "floor_best_fit_pct"}, {"the same, best fit", "%", false, false}, subject,
            100.0 * r->values["floor_best_fit"]);
    res.Set({"medium_trace", "ns_per_op"}, {"time per allocate or free (page touches included)", "ns", false, false},
            subject, 1e9 * r->values["seconds"] / operations);
    if (r->values.count("internal_overhead") != 0)
      res.Set({"medium_trace", "internal_pct"}, {"headers and rounding / live", "%", false, false}, subject,
              100.0 * r->values["internal_overhead"]);
    const LatencyHistogram& allocate = r->histograms["allocate"];
    StorePercentiles("medium_trace", "alloc", "allocate", subject, allocate);
    res.SetHistogram("medium_alloc", "medium 256 B-64 KiB allocate (steady trace)", subject, allocate);
    res.SetNote(subject, "held", r->texts["held_method"]);
  });
}

std::string FrameLabel(size_t records) {
  if (records >= 1000000 && records % 1000000 == 0) return absl::StrFormat("%dm", records / 1000000);
  if (records >= 1000 && records % 1000 == 0) return absl::StrFormat("%dk", records / 1000);
  return absl::StrFormat("%d", records);
}

void RegisterFrame(const Subject& s, const CaseOptions& o, size_t records) {
  std::string subject = s.name;
  std::string workload = "frame_" + FrameLabel(records);
  // Enough frames for a median, at most a few million records in all.
  int frames = static_cast<int>(std::max(3.0, std::min(200.0, 3e6 * o.scale / static_cast<double>(records))));
  RegisterOnce(workload + "/" + subject, [s, subject, workload, records, frames](benchmark::State& state) {
    std::shared_ptr<Allocator> a = Create(s, state);
    if (!a) return;
    FrameResult r;
    for (auto _ : state) r = RunFrames(*a, records, frames);
    if (!r.ok) {
      state.SkipWithError("frame failed");
      return;
    }
    Results& res = GlobalResults();
    res.Set({workload, "build_ns"}, {"build, per record", "ns", false, true}, subject, r.build_ns_per_record);
    res.Set({workload, "reset_us"}, {"reset (rewind, or free each)", "us", false, true}, subject, r.reset_us);
    res.Set({workload, "true_reset"}, {"reset: one rewind, or frees every record", "", true, false}, subject,
            r.true_reset ? 1 : 0);
    if (r.true_reset) res.SetNote(subject, "frame", "frame reset = mark/rewind");
  });
}

void RegisterLoading(const Subject& s, const CaseOptions& o) {
  std::string subject = s.name;
  LoadingOptions lo;
  lo.loads = static_cast<size_t>(static_cast<double>(lo.loads) * o.scale);
  RegisterOnce("loading/" + subject, [subject, lo](benchmark::State& state) {
    auto r = std::make_unique<IsolatedResult>();
    if (!RunIsolatedCase(state, "loading", subject, lo.loads, r.get())) return;
    Results& res = GlobalResults();
    res.Set({"loading", "kloads_per_s"},
            {"loads per CPU second (alloc+write+evict)", "k loads/s", true, true},
            subject, r->values["loads_per_second"] / 1e3);
    const LatencyHistogram& allocate = r->histograms["allocate"];
    StorePercentiles("loading", "alloc", "allocate", subject, allocate);
    res.SetHistogram("loading_alloc", "resource loading allocate (1 KiB-1 MiB)", subject, allocate);
  });
}

}  // namespace

void RegisterCases(const std::vector<Subject>& subjects, const CaseOptions& o) {
  // What each subject serves, from one probe instance (a strategy that cannot
  // even be created registers a case that reports why).
  struct Probe {
    bool created = false;
    size_t max_size = 0;
    bool thread_safe = false;
  };
  std::map<std::string, Probe> probes;
  for (const Subject& s : subjects) {
    if (!s.available()) continue;
    std::shared_ptr<Allocator> a = s.make();
    Probe& p = probes[s.name];
    if (!a) continue;
    p.created = true;
    p.max_size = a->max_size();
    p.thread_safe = a->thread_safe();
  }
  auto each = [&](const std::string& workload, const std::function<void(const Subject&)>& reg) {
    for (const Subject& s : subjects) {
      if (!s.Runs(workload)) continue;
      reg(s);
    }
  };
  // A workload runs only where the subject serves its largest size (and,
  // across threads, only where it is thread safe); it is not an error. A
  // subject that failed to be created registers its cases so they report it.
  auto serves = [&](const Subject& s, size_t size) {
    const Probe& p = probes[s.name];
    return !p.created || p.max_size >= size;
  };
  auto threads = [&](const Subject& s) {
    const Probe& p = probes[s.name];
    return !p.created || p.thread_safe;
  };
  auto latency = [&](const LatencyWorkload& w) {
    each(w.workload, [&](const Subject& s) {
      if (serves(s, w.shape.max_size)) RegisterLatency(s, o, w);
    });
  };
  auto cross_thread = [&](const CrossThreadWorkload& w) {
    each(w.workload, [&](const Subject& s) {
      if (serves(s, w.max_size) && threads(s)) RegisterCrossThread(s, o, w);
    });
  };
  // Medium first: every heap is still fresh, so held memory is its own.
  each("medium_trace", [&](const Subject& s) {
    if (serves(s, MediumTraceOptions{}.max_size)) RegisterMedium(s, o);
  });
  each("small_pairs", [&](const Subject& s) {
    if (!serves(s, kSmallShape.max_size)) return;
    RegisterBatches(s, o, "small_pairs", kSmallShape, [](const std::string& subject, double ns_per_batch) {
      GlobalResults().Set({"small_pairs", "ns_per_op"}, {"per malloc or free, batched", "ns", false, true}, subject,
                          ns_per_batch / (2 * BatchPairs::kBatch));
    });
  });
  latency(kSmallLatency);
  // A fixed 64 B size: what a pool serves; the peers' same-size path.
  each("fixed_64", [&](const Subject& s) {
    if (!serves(s, kFixed64Shape.max_size)) return;
    RegisterBatches(s, o, "fixed_64", kFixed64Shape, [](const std::string& subject, double ns_per_batch) {
      GlobalResults().Set({"fixed_64", "mpairs_per_s"}, {"malloc+free pairs, batched", "M pairs/s", true, true},
                          subject, 1e3 * BatchPairs::kBatch / ns_per_batch);
    });
  });
  latency(kFixed64Latency);
  latency(kLifoLatency);
  each("steady_10k", [&](const Subject& s) {
    if (serves(s, kSmallShape.max_size)) RegisterSteady(s, o);
  });
  cross_thread(kCrossThread);
  cross_thread(kCrossThread64);
  each("remote_reclaim", [&](const Subject& s) {
    if (serves(s, RemoteReclaim::kSize) && threads(s)) RegisterRemoteReclaim(s, o);
  });
  for (size_t records : o.frame_sizes) {
    each("frame_" + FrameLabel(records), [&](const Subject& s) {
      if (serves(s, 128)) RegisterFrame(s, o, records);
    });
  }
  // Large blocks last but one: the peers' heaps give them back or keep them
  // for the loading case, which allocates the same range.
  latency(kLargeLatency);
  each("loading", [&](const Subject& s) {
    if (serves(s, LoadingOptions{}.max_size)) RegisterLoading(s, o);
  });
}

bool RunReporter::ReportContext(const Context& context) {
  (void)context;
  last_report_ = MonotonicSeconds();
  return true;
}

void RunReporter::ReportRuns(const std::vector<Run>& runs) {
  // Wall time of the case, probing and repetitions included.
  const double now = MonotonicSeconds();
  const double case_seconds = now - last_report_;
  last_report_ = now;
  for (const Run& run : runs) {
    // The registered name; Google Benchmark appends "/min_time:..." and such.
    std::string name = run.run_name.function_name;
    if (run.error_occurred) {
      ++errors_;
      std::fprintf(stderr, "  %-34s skipped: %s\n", name.c_str(), run.error_message.c_str());
      continue;
    }
    // Repeated cases arrive as aggregates: keep the median repetition.
    if (run.run_type == Run::RT_Aggregate && run.aggregate_name != "median") continue;
    auto it = Finishers().find(name);
    if (it != Finishers().end()) it->second(run);
    std::fprintf(stderr, "  %-34s %12.1f %s per iteration%s  [%.1f s]\n", name.c_str(), run.GetAdjustedRealTime(),
                 benchmark::GetTimeUnitString(run.time_unit),
                 run.run_type == Run::RT_Aggregate ? " (median of the repetitions)" : "", case_seconds);
  }
}

}  // namespace alloy_bench
