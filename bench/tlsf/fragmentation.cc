// Fragmentation and latency of alloy's TLSF against glibc, mimalloc and
// jemalloc on one deterministic steady-state trace of medium sizes.
//
// The trace is medium_trace.h's. Every allocator replays the same trace in
// its own forked process (so no allocator's memory or state leaks into
// another's figures).
//
// Fragmentation, as the spec means it:
//     (bytes the allocator holds - bytes live) / bytes live
// with "live" the sum of the sizes requested and not yet freed, sampled every
// `sample_every` steady-state operations: the mean over the samples is the
// steady-state figure, the largest sample the worst case over the run.
// What "holds" means per allocator is printed with the results.
//
// For alloy's TLSF the bytes held beyond the live ones are broken down
// (mean over the samples, in % of live):
//   header+round  block headers (8 B) and the rounding of sizes to 16 B
//   pool          pool headers, end sentinels, the control block, page rounding
//   partial       free bytes on pages that also hold a live block or a header:
//                 no policy can give these back (pages are the unit)
//   dirty         whole resident pages inside free blocks: what purging can return
//   (purged)      whole free pages already given back or never touched; not held
//
// Usage: fragmentation [live_mib=64] [steady_ops=3000000] [seed=42] [purge_kib=64] [dirty_kib=1024] [only=] [dirty_age=0]
// (only: run just the allocators whose name contains it, e.g. "tlsf")
#include <dlfcn.h>
#include <sys/wait.h>
#include <unistd.h>
#include <x86intrin.h>

#include <malloc.h>

#include <algorithm>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "alloy/tlsf.h"
#include "bench/support/cycle_clock.h"
#include "bench/support/percentile.h"
#include "bench/support/process_clocks.h"
#include "bench/tlsf/medium_trace.h"

namespace {

using alloy_bench::MapArray;
using Trace = alloy_bench::MediumTrace;
using Op = alloy_bench::TraceOp;

// ---- the allocators ---------------------------------------------------------

// Where the bytes held beyond the live ones are (alloy tlsf only).
struct Breakdown {
  double header_round, pool, partial, dirty, purged;  // bytes
  double free_blocks;
};

struct Subject {
  const char *name;
  const char *held_definition;
  bool (*init)();
  void *(*allocate)(size_t size);
  void (*release)(void *ptr, size_t size);
  size_t (*held)();
  Breakdown (*breakdown)(size_t live);  // null: not available
  uint64_t (*purge_calls)();            // null: not available
};

// alloy TLSF with its default configuration (1 MiB initial pool, growth by
// 1 MiB pools from the platform, spare pools, no purging; the 7th argument
// sets dirty_age), then
// with the oldest free pages purged past a dirty limit (dirty_limit), then
// with free pages purged at once on free (purge_threshold).
alloy_tlsf *g_tlsf;
bool g_dirty_age_set = false;
uint64_t g_dirty_age = 0;
bool TlsfCreate(size_t purge_threshold, size_t dirty_limit) {
  alloy_tlsf_config config = alloy_tlsf_config_default();
  config.numa_node = ALLOY_TLSF_NUMA_NONE;
  config.purge_threshold = purge_threshold;
  config.dirty_limit = dirty_limit;
  if (g_dirty_age_set) config.dirty_age = g_dirty_age;
  return alloy_tlsf_create(&config, &g_tlsf) == ALLOY_OK;
}
bool TlsfInit() { return TlsfCreate(0, 0); }
size_t g_purge_threshold = 64 << 10;
size_t g_dirty_limit = 1 << 20;
bool TlsfPurgeInit() { return TlsfCreate(g_purge_threshold, 0); }
bool TlsfDirtyInit() { return TlsfCreate(0, g_dirty_limit); }
void *TlsfAllocate(size_t size) {
  alloy_block block;
  return alloy_tlsf_allocate(g_tlsf, size, 16, &block) == ALLOY_OK ? block.ptr : nullptr;
}
void TlsfRelease(void *ptr, size_t size) { alloy_tlsf_deallocate(g_tlsf, alloy_block_make(ptr, size)); }
size_t TlsfHeld() {
  alloy_tlsf_stats stats;
  alloy_tlsf_get_stats(g_tlsf, &stats);
  return stats.held_bytes;
}
struct WalkTotals {
  size_t used_blocks, free_blocks, used_bytes, free_bytes;
};
bool CountBlock(void *, size_t size, bool used, void *context) {
  WalkTotals *totals = static_cast<WalkTotals *>(context);
  (used ? totals->used_blocks : totals->free_blocks)++;
  (used ? totals->used_bytes : totals->free_bytes) += size;
  return true;
}
Breakdown TlsfBreakdown(size_t live) {
  alloy_tlsf_stats stats;
  alloy_tlsf_get_stats(g_tlsf, &stats);
  WalkTotals totals = {};
  alloy_tlsf_walk(g_tlsf, CountBlock, &totals);
  const size_t header = sizeof(size_t);  // one size word per block (tlsf.h)
  const double used_footprint = static_cast<double>(totals.used_bytes + header * totals.used_blocks);
  const double free_footprint = static_cast<double>(totals.free_bytes + header * totals.free_blocks);
  Breakdown b;
  b.header_round = used_footprint - static_cast<double>(live);
  b.pool = static_cast<double>(stats.pool_bytes) - used_footprint - free_footprint;
  b.purged = static_cast<double>(stats.purged_bytes);
  b.dirty = static_cast<double>(stats.dirty_bytes);
  b.partial = free_footprint - b.purged - b.dirty;
  b.free_blocks = static_cast<double>(totals.free_blocks);
  return b;
}
uint64_t TlsfPurgeCalls() {
  alloy_tlsf_stats stats;
  alloy_tlsf_get_stats(g_tlsf, &stats);
  return stats.purge_calls;
}

// glibc malloc.
size_t g_glibc_baseline;
size_t GlibcHeldRaw() {
  struct mallinfo2 info = mallinfo2();
  return info.arena + info.hblkhd;
}
bool GlibcInit() {
  g_glibc_baseline = GlibcHeldRaw();
  return true;
}
void *GlibcAllocate(size_t size) { return std::malloc(size); }
void GlibcRelease(void *ptr, size_t) { std::free(ptr); }
size_t GlibcHeld() { return GlibcHeldRaw() - g_glibc_baseline; }

// mimalloc, loaded privately.
void *(*g_mi_malloc)(size_t);
void (*g_mi_free)(void *);
void (*g_mi_process_info)(size_t *, size_t *, size_t *, size_t *, size_t *, size_t *, size_t *, size_t *);
size_t g_mi_baseline;
size_t MimallocCommit() {
  size_t elapsed, user, sys, rss, peak_rss, commit = 0, peak_commit, faults;
  g_mi_process_info(&elapsed, &user, &sys, &rss, &peak_rss, &commit, &peak_commit, &faults);
  return commit;
}
bool MimallocInit() {
  void *handle = dlopen("libmimalloc.so.2", RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) return false;
  g_mi_malloc = reinterpret_cast<void *(*)(size_t)>(dlsym(handle, "mi_malloc"));
  g_mi_free = reinterpret_cast<void (*)(void *)>(dlsym(handle, "mi_free"));
  g_mi_process_info = reinterpret_cast<decltype(g_mi_process_info)>(dlsym(handle, "mi_process_info"));
  if (!g_mi_malloc || !g_mi_free || !g_mi_process_info) return false;
  g_mi_free(g_mi_malloc(16));  // initialise before the baseline
  g_mi_baseline = MimallocCommit();
  return true;
}
void *MimallocAllocate(size_t size) { return g_mi_malloc(size); }
void MimallocRelease(void *ptr, size_t) { g_mi_free(ptr); }
size_t MimallocHeld() { return MimallocCommit() - g_mi_baseline; }

// jemalloc, loaded privately; malloc/free looked up in its own handle.
void *(*g_je_malloc)(size_t);
void (*g_je_free)(void *);
int (*g_je_mallctl)(const char *, void *, size_t *, void *, size_t);
size_t g_je_baseline;
size_t JemallocStat(const char *name) {
  uint64_t epoch = 1;
  size_t length = sizeof epoch;
  g_je_mallctl("epoch", &epoch, &length, &epoch, length);
  size_t value = 0;
  length = sizeof value;
  g_je_mallctl(name, &value, &length, nullptr, 0);
  return value;
}
// Debian's libjemalloc uses initial-exec TLS, so dlopen() fails ("cannot
// allocate memory in static TLS block"); its replay runs in a re-executed
// copy of this program with LD_PRELOAD, where malloc is jemalloc's.
bool JemallocInit() {
  g_je_mallctl = reinterpret_cast<decltype(g_je_mallctl)>(dlsym(RTLD_DEFAULT, "mallctl"));
  g_je_malloc = std::malloc;
  g_je_free = std::free;
  if (!g_je_malloc || !g_je_free || !g_je_mallctl) return false;
  g_je_free(g_je_malloc(16));
  g_je_baseline = JemallocStat("stats.resident");
  return true;
}
void *JemallocAllocate(size_t size) { return g_je_malloc(size); }
void JemallocRelease(void *ptr, size_t) { g_je_free(ptr); }
size_t JemallocHeld() { return JemallocStat("stats.resident") - g_je_baseline; }

const Subject kSubjects[] = {
    {"alloy tlsf",
     "alloy_tlsf_stats.held_bytes: bytes of all pools and the control block, minus the whole pages inside\n"
     "              free blocks that were never touched (fresh pool tails) or were purged",
     TlsfInit, TlsfAllocate,
     TlsfRelease, TlsfHeld, TlsfBreakdown, TlsfPurgeCalls},
    {"tlsf dirty", "as alloy tlsf, with config.dirty_limit (5th argument): the oldest free pages purged in batches",
     TlsfDirtyInit, TlsfAllocate, TlsfRelease, TlsfHeld, TlsfBreakdown, TlsfPurgeCalls},
    {"tlsf purge", "as alloy tlsf, with config.purge_threshold (4th argument): free pages purged on every free",
     TlsfPurgeInit, TlsfAllocate, TlsfRelease, TlsfHeld, TlsfBreakdown, TlsfPurgeCalls},
    {"glibc", "mallinfo2().arena + hblkhd, minus the value before the run", GlibcInit, GlibcAllocate, GlibcRelease,
     GlibcHeld, nullptr, nullptr},
    {"mimalloc",
     "mi_process_info current_commit, minus the value before the run (mimalloc's own counter; it can\n"
     "              read below live, so compare mimalloc by the rss column)", MimallocInit, MimallocAllocate,
     MimallocRelease, MimallocHeld, nullptr, nullptr},
    {"jemalloc", "mallctl stats.resident (after epoch), minus the value before the run", JemallocInit,
     JemallocAllocate, JemallocRelease, JemallocHeld, nullptr, nullptr},
};

// ---- the replay ---------------------------------------------------------------

struct Result {
  bool ok;
  double steady_fragmentation;  // mean over samples
  double worst_fragmentation;   // max over samples
  double rss_fragmentation;     // the same with held = process resident bytes above the baseline
  double mean_held_mib, mean_live_mib;
  double ns_per_op;             // steady state, wall clock, sampling excluded
  bool has_breakdown;
  Breakdown breakdown;          // means over the samples, bytes
  uint64_t purge_calls;         // over the steady state
  double alloc_p50, alloc_p99, alloc_p999, alloc_max;  // ns, per-op rdtsc
  double free_p50, free_p99, free_p999, free_max;
};

double Percentile(uint32_t *ticks, size_t n, double p, double ticks_per_ns) {
  return alloy_bench::Percentile(ticks, ticks + n, p) / ticks_per_ns;
}

// Resident bytes of the whole process (/proc/self/statm), the one measure
// that means the same for every allocator.
size_t ResidentBytes() {
  FILE *file = std::fopen("/proc/self/statm", "r");
  if (file == nullptr) return 0;
  unsigned long size = 0, resident = 0;
  if (std::fscanf(file, "%lu %lu", &size, &resident) != 2) resident = 0;
  std::fclose(file);
  return resident * static_cast<size_t>(sysconf(_SC_PAGESIZE));
}

Result Replay(const Subject &subject, const Trace &trace, size_t sample_every, double ticks_per_ns) {
  Result result = {};
  // Everything the benchmark itself needs is mapped and touched before the
  // allocator's baseline, so none of it counts as held.
  void **ptrs = MapArray<void *>(trace.slots);
  uint32_t *sizes = MapArray<uint32_t>(trace.slots);
  const size_t steady = trace.count - trace.ramp;
  uint32_t *alloc_ticks = MapArray<uint32_t>(steady / 4 + 2);
  uint32_t *free_ticks = MapArray<uint32_t>(steady / 4 + 2);
  std::memset(ptrs, 0, trace.slots * sizeof *ptrs);
  std::memset(sizes, 0, trace.slots * sizeof *sizes);
  std::memset(alloc_ticks, 0, (steady / 4 + 2) * sizeof *alloc_ticks);
  std::memset(free_ticks, 0, (steady / 4 + 2) * sizeof *free_ticks);
  size_t alloc_count = 0, free_count = 0;
  if (!subject.init()) return result;
  const size_t rss_baseline = ResidentBytes();
  double rss_sum = 0;
  size_t live = 0;
  double fragmentation_sum = 0, worst = 0, held_sum = 0, live_sum = 0;
  size_t samples = 0;
  double start = 0, sampling_seconds = 0;
  uint64_t purge_calls_at_start = 0;
  Breakdown breakdown_sum = {};
  for (size_t i = 0; i < trace.count; ++i) {
    if (i == trace.ramp) {
      if (subject.purge_calls) purge_calls_at_start = subject.purge_calls();
      start = alloy_bench::MonotonicSeconds();
    }
    const Op op = trace.ops[i];
    const bool timed = i >= trace.ramp && (i & 3) == 0;
    uint64_t t0 = timed ? __rdtsc() : 0;
    if (op.size != 0) {
      void *p = subject.allocate(op.size);
      if (timed) alloc_ticks[alloc_count++] = static_cast<uint32_t>(__rdtsc() - t0);
      if (p == nullptr) return result;
      // Touch every page of the block, as a user filling it would, so that
      // resident memory means the same for every allocator.
      for (size_t offset = 0; offset < op.size; offset += 4096) static_cast<volatile char *>(p)[offset] = 1;
      ptrs[op.slot] = p;
      sizes[op.slot] = op.size;
      live += op.size;
    } else {
      subject.release(ptrs[op.slot], sizes[op.slot]);
      if (timed) free_ticks[free_count++] = static_cast<uint32_t>(__rdtsc() - t0);
      live -= sizes[op.slot];
    }
    if (i >= trace.ramp && (i - trace.ramp) % sample_every == sample_every - 1) {
      const double sample_start = alloy_bench::MonotonicSeconds();
      if (subject.breakdown) {
        const Breakdown b = subject.breakdown(live);
        breakdown_sum.header_round += b.header_round;
        breakdown_sum.pool += b.pool;
        breakdown_sum.partial += b.partial;
        breakdown_sum.dirty += b.dirty;
        breakdown_sum.purged += b.purged;
        breakdown_sum.free_blocks += b.free_blocks;
      }
      const double held = static_cast<double>(subject.held());
      const double f = (held - live) / static_cast<double>(live);
      fragmentation_sum += f;
      worst = std::max(worst, f);
      held_sum += held;
      live_sum += static_cast<double>(live);
      const double rss = static_cast<double>(ResidentBytes() - rss_baseline);
      rss_sum += (rss - live) / static_cast<double>(live);
      ++samples;
      sampling_seconds += alloy_bench::MonotonicSeconds() - sample_start;
    }
  }
  result.ns_per_op = (alloy_bench::MonotonicSeconds() - start - sampling_seconds) * 1e9 / static_cast<double>(steady);
  if (subject.purge_calls) result.purge_calls = subject.purge_calls() - purge_calls_at_start;
  if (subject.breakdown && samples > 0) {
    result.has_breakdown = true;
    const double n = static_cast<double>(samples);
    result.breakdown = {breakdown_sum.header_round / n, breakdown_sum.pool / n, breakdown_sum.partial / n,
                        breakdown_sum.dirty / n, breakdown_sum.purged / n, breakdown_sum.free_blocks / n};
  }
  result.ok = samples > 0;
  result.steady_fragmentation = fragmentation_sum / samples;
  result.worst_fragmentation = worst;
  result.rss_fragmentation = rss_sum / samples;
  result.mean_held_mib = held_sum / samples / 1048576.0;
  result.mean_live_mib = live_sum / samples / 1048576.0;
  result.alloc_p50 = Percentile(alloc_ticks, alloc_count, 0.5, ticks_per_ns);
  result.alloc_p99 = Percentile(alloc_ticks, alloc_count, 0.99, ticks_per_ns);
  result.alloc_p999 = Percentile(alloc_ticks, alloc_count, 0.999, ticks_per_ns);
  result.alloc_max = Percentile(alloc_ticks, alloc_count, 1.0, ticks_per_ns);
  result.free_p50 = Percentile(free_ticks, free_count, 0.5, ticks_per_ns);
  result.free_p99 = Percentile(free_ticks, free_count, 0.99, ticks_per_ns);
  result.free_p999 = Percentile(free_ticks, free_count, 0.999, ticks_per_ns);
  result.free_max = Percentile(free_ticks, free_count, 1.0, ticks_per_ns);
  return result;
}

char **g_argv;

// Runs the replay in a child process and brings the result back through a pipe.
Result ReplayIsolated(const Subject &subject, const Trace &trace, size_t sample_every, double ticks_per_ns) {
  int fds[2];
  if (pipe(fds) != 0) return {};
  pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    if (subject.init == JemallocInit) {
      char fd_text[16];
      std::snprintf(fd_text, sizeof fd_text, "%d", fds[1]);
      setenv("ALLOY_BENCH_JEMALLOC_FD", fd_text, 1);
      setenv("LD_PRELOAD", "libjemalloc.so.2", 1);
      execv("/proc/self/exe", g_argv);
      _exit(1);
    }
    Result r = Replay(subject, trace, sample_every, ticks_per_ns);
    ssize_t written = write(fds[1], &r, sizeof r);
    _exit(written == static_cast<ssize_t>(sizeof r) ? 0 : 1);
  }
  close(fds[1]);
  Result result = {};
  if (read(fds[0], &result, sizeof result) != static_cast<ssize_t>(sizeof result)) result.ok = false;
  close(fds[0]);
  int status;
  waitpid(pid, &status, 0);
  return result;
}

}  // namespace

int main(int argc, char **argv) {
  g_argv = argv;
  const size_t live_mib = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 64;
  const size_t steady_ops = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 3000000;
  const uint64_t seed = argc > 3 ? std::strtoull(argv[3], nullptr, 10) : 42;
  if (argc > 4) g_purge_threshold = std::strtoull(argv[4], nullptr, 10) << 10;
  if (argc > 5) g_dirty_limit = std::strtoull(argv[5], nullptr, 10) << 10;
  const char *only = argc > 6 ? argv[6] : "";
  if (argc > 7) {
    g_dirty_age_set = true;
    g_dirty_age = std::strtoull(argv[7], nullptr, 10);
  }
  constexpr size_t kSubjectCount = sizeof kSubjects / sizeof kSubjects[0];
  constexpr size_t kJemalloc = kSubjectCount - 1;
  const size_t sample_every = steady_ops / 300 ? steady_ops / 300 : 1;
  const Trace trace = alloy_bench::MakeMediumTrace(live_mib << 20, steady_ops, seed);
  const double ticks_per_ns = 1.0 / alloy_bench::GetCycleClock().ns_per_cycle;
  if (const char *fd_text = std::getenv("ALLOY_BENCH_JEMALLOC_FD")) {  // the re-executed jemalloc run
    Result r = Replay(kSubjects[kJemalloc], trace, sample_every, ticks_per_ns);
    ssize_t written = write(std::atoi(fd_text), &r, sizeof r);
    return written == static_cast<ssize_t>(sizeof r) ? 0 : 1;
  }

  std::printf("TLSF fragmentation and latency, medium sizes\n");
  std::printf("tlsf dirty: dirty_limit %zu KiB; tlsf purge: purge_threshold %zu KiB\n", g_dirty_limit >> 10,
              g_purge_threshold >> 10);
  std::printf("trace: sizes log-uniform in [256 B, 64 KiB], target live %zu MiB (+-5%%), %zu ramp-up ops, "
              "%zu steady-state ops, seed %" PRIu64 "\n",
              live_mib, trace.ramp, trace.count - trace.ramp, seed);
  std::printf("fragmentation = (bytes held - bytes live) / bytes live, live = sum of requested sizes;\n"
              "sampled every %zu steady-state ops: 'steady' is the mean of the samples, 'worst' the largest.\n"
              "latency: rdtsc around every 4th steady-state operation (ticks of ~10 ns, ~20 ns floor); "
              "ns/op: wall clock over the steady state, sampling excluded.\n\n",
              sample_every);
  Result results[kSubjectCount];
  std::printf("%-11s %9s %9s %9s %9s %9s %8s | %7s %7s %8s %9s | %7s %7s %8s %9s\n", "allocator", "steady",
              "worst", "rss", "held MiB", "live MiB", "ns/op", "a p50", "a p99", "a p99.9", "a max", "f p50", "f p99", "f p99.9",
              "f max");
  for (size_t i = 0; i < kSubjectCount; ++i) {
    results[i] = {};
    if (std::strstr(kSubjects[i].name, only) == nullptr) continue;
    results[i] = ReplayIsolated(kSubjects[i], trace, sample_every, ticks_per_ns);
    const Result &r = results[i];
    if (!r.ok) {
      std::printf("%-11s unavailable (library missing or allocation failed)\n", kSubjects[i].name);
      continue;
    }
    std::printf("%-11s %8.2f%% %8.2f%% %8.2f%% %9.1f %9.1f %8.1f | %7.0f %7.0f %8.0f %9.0f | %7.0f %7.0f %8.0f %9.0f\n",
                kSubjects[i].name, 100 * r.steady_fragmentation, 100 * r.worst_fragmentation,
                100 * r.rss_fragmentation, r.mean_held_mib,
                r.mean_live_mib, r.ns_per_op, r.alloc_p50, r.alloc_p99, r.alloc_p999, r.alloc_max, r.free_p50,
                r.free_p99, r.free_p999, r.free_max);
  }
  std::printf("\nwhere alloy tlsf's held bytes beyond live go (mean over the samples, %% of live bytes;\n"
              "header+round + pool + partial + dirty = steady; 'purged' pages are not held):\n");
  std::printf("  %-11s %13s %7s %8s %7s %9s %12s %12s\n", "", "header+round", "pool", "partial", "dirty", "(purged)",
              "free blocks", "purge calls");
  for (size_t i = 0; i < kSubjectCount; ++i) {
    const Result &r = results[i];
    if (!r.ok || !r.has_breakdown) continue;
    const Breakdown &b = r.breakdown;
    const double live = r.mean_live_mib * 1048576.0;
    std::printf("  %-11s %12.2f%% %6.2f%% %7.2f%% %6.2f%% %8.2f%% %12.0f %12" PRIu64 "\n", kSubjects[i].name,
                100 * b.header_round / live, 100 * b.pool / live, 100 * b.partial / live, 100 * b.dirty / live,
                100 * b.purged / live, b.free_blocks, r.purge_calls);
  }
  std::printf("\nheld, per allocator ('steady' and 'worst'; 'rss' uses the process's resident bytes above the\n"
              "baseline instead, the same measure for all, mean over the samples):\n");
  for (const Subject &s : kSubjects) std::printf("  %-11s %s\n", s.name, s.held_definition);
  if (results[0].ok) {
    std::printf("\nratios (peer / alloy tlsf):\n");
    for (size_t i = 1; i < kSubjectCount; ++i) {
      if (!results[i].ok) continue;
      std::printf("  %-11s steady fragmentation x%.2f, worst x%.2f, ns/op x%.2f, alloc p99 x%.2f, free p99 x%.2f\n",
                  kSubjects[i].name, results[i].steady_fragmentation / results[0].steady_fragmentation,
                  results[i].worst_fragmentation / results[0].worst_fragmentation,
                  results[i].ns_per_op / results[0].ns_per_op, results[i].alloc_p99 / results[0].alloc_p99,
                  results[i].free_p99 / results[0].free_p99);
    }
    std::printf("\nalloy tlsf's default purges nothing: no system call, no tracking (the 7th argument sets\n"
                "dirty_age for every tlsf row: free pages left unused for that many frees are purged).\n"
                "Purging trades time for memory: every purged page that is reused costs a page fault.\n"
                "'partial' is the floor no purging policy can go below on TLSF's layout;\n"
                "//bench/tlsf:placement_floor shows how far a better placement could lower it.\n");
    for (size_t i = 0; i < 3; ++i) {
      if (!results[i].ok) continue;
      std::printf("%s spec target for %s: steady fragmentation < 1.5%% -> %s\n", i == 0 ? "\n" : "",
                  kSubjects[i].name, results[i].steady_fragmentation < 0.015 ? "met" : "NOT met");
    }
  }
  return 0;
}
