// The shapes of the report's two TLSF traces (//bench:report "medium_trace"
// and "loading": same sizes, counts, touches and eviction) replayed on one
// TLSF configuration given on the command line, with what the report cannot
// show: where the held bytes beyond the live ones sit, how many pools were
// mapped and given back, how many page faults the loading cost. The tables
// come from a fixed-seed generator here, so two configurations see exactly
// the same trace (the report's tables are salted per process, so its medium
// figures move by a few points from run to run).
//
// Usage: report_traces [key=value ...]
//   growth_kib=N   config.growth_size (0: default)
//   divisor=N      config.growth_divisor (a grown pool is at least held / N; 0: off)
//   keep=0|1       config.keep_empty_pools
//   spare_kib=N    config.spare_bytes (empty grown pools kept for reuse)
//   decay=N        config.spare_decay (frees before an unused spare goes back)
//   purge_kib=N    config.purge_threshold
//   dirty_kib=N    config.dirty_limit
//   age=N          config.dirty_age (frees before an unused free page is purged)
//   scale=X        trace length multiplier, as the report's --scale
//   seed=N         seed of the size and index tables
//   trace=medium|loading|both
//   defrag_every=N a defragmentation pass (alloy copying) after every N steps of the medium trace
//   defrag_kib=N   its byte budget (default 128)
//   defrag_moves=N its move budget (default 64)
//   defrag_purge=0|1 pass.purge_free: end purges every resident free page (default 1)
//
// Breakdown (mean over the samples, % of live bytes; the parts add up to the
// fragmentation): header+round (size word, 16 B rounding), pool (pool
// headers, sentinels, the control block), partial (free bytes on pages that
// also hold a live block or a header), dirty (whole resident pages inside
// free blocks: what purging could return). "live below its peak": how far
// the live bytes are below the most they ever were, the part of the dirty
// pages no allocator that keeps its pages could avoid. Then the free blocks
// by size, with their bytes outside whole pages (partial and purgeable
// pages apart: what every free block costs once its pages are purged).
#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <unordered_map>
#include <vector>

#include <cmath>

#include "alloy/tlsf.h"
#include "bench/support/process_clocks.h"

namespace {

constexpr size_t kTable = 1 << 16;  // the report's table size
constexpr size_t kPage = 4096;

struct Options {
  alloy_tlsf_config config;
  double scale = 1;
  std::string trace = "both";
  uint64_t seed = 1;
  // A defragmentation pass (alloy copying) after every `defrag_every` steps
  // of the medium trace, within these budgets (0: no passes).
  size_t defrag_every = 0;
  size_t defrag_bytes = 128u << 10;
  size_t defrag_moves = 64;
  bool defrag_purge = true;  // pass.purge_free
};

// xorshift64*: the same tables on every run.
struct Rng {
  uint64_t state;
  uint64_t Next() {
    state ^= state >> 12;
    state ^= state << 25;
    state ^= state >> 27;
    return state * 2685821657736338717ull;
  }
  double Unit() { return static_cast<double>(Next() >> 11) * (1.0 / 9007199254740992.0); }
};

// absl::LogUniform's shape, as the report draws sizes: lo plus an offset
// whose bit length is uniform over [0, bit length of hi - lo], uniform
// within that range (so half the medium sizes are below 2 x lo).
std::vector<uint32_t> LogUniformSizes(size_t count, uint64_t lo, uint64_t hi, uint64_t seed) {
  Rng rng{seed * 0x9E3779B97F4A7C15ull + 1};
  const uint64_t range = hi - lo;
  const unsigned buckets = 64 - static_cast<unsigned>(__builtin_clzll(range)) + 1;
  std::vector<uint32_t> sizes(count);
  for (auto &s : sizes) {
    const unsigned bits = static_cast<unsigned>(rng.Next() % buckets);
    const uint64_t low = bits == 0 ? 0 : uint64_t{1} << (bits - 1);
    const uint64_t high = std::min(range, bits == 0 ? 0 : (uint64_t{1} << bits) - 1);
    s = static_cast<uint32_t>(lo + low + rng.Next() % (high - low + 1));
  }
  return sizes;
}

std::vector<uint32_t> Indices(size_t count, size_t bound, uint64_t seed) {
  Rng rng{seed * 0xD1B54A32D192ED03ull + 7};
  std::vector<uint32_t> indices(count);
  for (auto &i : indices) i = static_cast<uint32_t>(rng.Next() % bound);
  return indices;
}

void TouchPages(void *p, size_t size) {
  volatile char *c = static_cast<char *>(p);
  for (size_t off = 0; off < size; off += kPage) c[off] = 1;
  if (size != 0) c[size - 1] = 1;
}

void *Allocate(alloy_tlsf *tlsf, size_t size) {
  alloy_block block;
  return alloy_tlsf_allocate(tlsf, size, 16, &block) == ALLOY_OK ? block.ptr : nullptr;
}

void Free(alloy_tlsf *tlsf, void *p, size_t size) {
  if (alloy_tlsf_deallocate(tlsf, alloy_block_make(p, size)) != ALLOY_OK) std::abort();
}

// committed_bytes as the report's resource adapter reads it.
size_t Committed(const alloy_tlsf *tlsf) {
  alloy_tlsf_stats stats;
  alloy_tlsf_get_stats(tlsf, &stats);
  return stats.held_bytes;
}

// Free blocks by size: below 256 B, 1, 4, 16, 64 KiB, and larger.
constexpr int kSizeBands = 6;
int SizeBand(size_t size) {
  int band = 0;
  for (size_t bound = 256; band < kSizeBands - 1 && size >= bound; bound *= 4) ++band;
  return band;
}

struct Breakdown {
  double header_round = 0, pool = 0, partial = 0, dirty = 0, free_blocks = 0;
  // Per size band: free blocks, and their bytes outside the whole pages
  // inside them (what stays held once every free page is purged).
  double band_blocks[kSizeBands] = {}, band_edges[kSizeBands] = {};
  double below_peak = 0;  // peak usable live bytes so far - usable live bytes now
};

struct Totals {
  size_t used_blocks = 0, free_blocks = 0, used_bytes = 0, free_bytes = 0;
  size_t band_blocks[kSizeBands] = {}, band_edges[kSizeBands] = {};
};

bool CountBlock(void *ptr, size_t size, bool used, void *context) {
  Totals *t = static_cast<Totals *>(context);
  if (!used) {
    // The whole pages a purge returns: after the free block's list words.
    const uintptr_t start = (reinterpret_cast<uintptr_t>(ptr) + 32 + kPage - 1) & ~(kPage - 1);
    const uintptr_t stop = (reinterpret_cast<uintptr_t>(ptr) + size) & ~(kPage - 1);
    t->band_blocks[SizeBand(size)]++;
    t->band_edges[SizeBand(size)] += size - (stop > start ? stop - start : 0);
  }
  (used ? t->used_blocks : t->free_blocks)++;
  (used ? t->used_bytes : t->free_bytes) += size;
  return true;
}

Breakdown Break(const alloy_tlsf *tlsf, size_t live) {
  alloy_tlsf_stats stats;
  alloy_tlsf_get_stats(tlsf, &stats);
  Totals t;
  alloy_tlsf_walk(tlsf, CountBlock, &t);
  const double word = sizeof(size_t);
  const double used = static_cast<double>(t.used_bytes) + word * static_cast<double>(t.used_blocks);
  const double free = static_cast<double>(t.free_bytes) + word * static_cast<double>(t.free_blocks);
  Breakdown b;
  b.header_round = used - static_cast<double>(live);
  b.pool = static_cast<double>(stats.pool_bytes) - used - free;
  b.dirty = static_cast<double>(stats.dirty_bytes);
  b.partial = free - static_cast<double>(stats.purged_bytes) - b.dirty;
  b.free_blocks = static_cast<double>(t.free_blocks);
  for (int i = 0; i < kSizeBands; ++i) {
    b.band_blocks[i] = static_cast<double>(t.band_blocks[i]);
    b.band_edges[i] = static_cast<double>(t.band_edges[i]);
  }
  b.below_peak = static_cast<double>(stats.peak_live_bytes - stats.live_bytes);
  return b;
}

void Medium(const Options &o) {
  alloy_tlsf *tlsf = nullptr;
  if (alloy_tlsf_create(&o.config, &tlsf) != ALLOY_OK) {
    std::printf("medium: create failed\n");
    return;
  }
  const size_t live_count = 2048, steps = static_cast<size_t>(100000 * o.scale);
  const int samples = 8;
  std::vector<uint32_t> sizes = LogUniformSizes(kTable, 256, 64 * 1024, o.seed);
  std::vector<uint32_t> indices = Indices(kTable, live_count, o.seed + 1);
  std::vector<void *> ptrs(live_count);
  std::vector<uint32_t> live_sizes(live_count);
  alloy_tlsf_trim(tlsf);
  const double base = static_cast<double>(Committed(tlsf));
  size_t live = 0, cursor = 0;
  std::unordered_map<void *, size_t> slot_of;
  std::vector<alloy_tlsf_move> room(o.defrag_moves);
  double moved = 0, passes = 0, planned_moves = 0;
  // One pass; the trace repoints the blocks that moved.
  auto defragment = [&] {
    alloy_tlsf_pass pass = {};
    pass.moves = room.data();
    pass.capacity = room.size();
    pass.max_bytes = o.defrag_bytes;
    pass.max_moves = SIZE_MAX;
    pass.all_movable = true;
    pass.copy = true;
    pass.purge_free = o.defrag_purge;
    if (alloy_tlsf_defrag_begin(tlsf, &pass) != ALLOY_OK || alloy_tlsf_defrag_end(tlsf, &pass) != ALLOY_OK)
      std::abort();
    for (size_t i = 0; i < pass.count; ++i) {
      if (room[i].result != ALLOY_TLSF_MOVE_DONE) continue;
      const size_t slot = slot_of.at(room[i].from);
      slot_of.erase(room[i].from);
      slot_of[room[i].to] = slot;
      ptrs[slot] = room[i].to;
    }
    moved += static_cast<double>(pass.moved_bytes);
    planned_moves += static_cast<double>(pass.count);
    ++passes;
  };
  auto allocate = [&](size_t slot) {
    uint32_t size = sizes[cursor];
    cursor = (cursor + 1) & (kTable - 1);
    void *p = Allocate(tlsf, size);
    if (p == nullptr) std::abort();
    TouchPages(p, size);
    if (o.defrag_every != 0) slot_of[p] = slot;
    ptrs[slot] = p;
    live_sizes[slot] = size;
    live += size;
  };
  for (size_t i = 0; i < live_count; ++i) allocate(i);
  const size_t every = std::max<size_t>(1, steps / 2 / samples);
  double sum = 0, worst = 0, sample_seconds = 0;
  Breakdown acc;
  int taken = 0;
  const double start = alloy_bench::ThreadCpuSeconds();
  for (size_t s = 0; s < steps; ++s) {
    size_t slot = indices[s & (kTable - 1)];
    Free(tlsf, ptrs[slot], live_sizes[slot]);
    if (o.defrag_every != 0) slot_of.erase(ptrs[slot]);
    live -= live_sizes[slot];
    allocate(slot);
    if (o.defrag_every != 0 && (s + 1) % o.defrag_every == 0) defragment();
    if (s >= steps / 2 && (s - steps / 2) % every == every - 1 && taken < samples) {
      const double t0 = alloy_bench::ThreadCpuSeconds();
      const double held = static_cast<double>(Committed(tlsf)) - base;
      const double f = (held - static_cast<double>(live)) / static_cast<double>(live);
      sum += f;
      worst = std::max(worst, f);
      Breakdown b = Break(tlsf, live);
      acc.header_round += b.header_round / static_cast<double>(live);
      acc.pool += b.pool / static_cast<double>(live);
      acc.partial += b.partial / static_cast<double>(live);
      acc.dirty += b.dirty / static_cast<double>(live);
      acc.free_blocks += b.free_blocks;
      for (int i = 0; i < kSizeBands; ++i) {
        acc.band_blocks[i] += b.band_blocks[i];
        acc.band_edges[i] += b.band_edges[i] / static_cast<double>(live);
      }
      acc.below_peak += b.below_peak / static_cast<double>(live);
      ++taken;
      sample_seconds += alloy_bench::ThreadCpuSeconds() - t0;
    }
  }
  const double seconds = alloy_bench::ThreadCpuSeconds() - start - sample_seconds;
  alloy_tlsf_stats stats;
  alloy_tlsf_get_stats(tlsf, &stats);
  const double n = taken;
  std::printf("medium: steady %.2f %%  worst %.2f %%  | header+round %.2f  pool %.2f  partial %.2f  dirty %.2f"
              " (live below its peak %.2f)  free blocks %.0f | %.1f ns per free+allocate+touch, pools %zu,"
              " purge calls %" PRIu64 ", pools grown %" PRIu64 ", given back %" PRIu64 "\n",
              100 * sum / n, 100 * worst, 100 * acc.header_round / n, 100 * acc.pool / n,
              100 * acc.partial / n, 100 * acc.dirty / n, 100 * acc.below_peak / n, acc.free_blocks / n,
              seconds * 1e9 / static_cast<double>(steps), stats.pool_count, stats.purge_calls, stats.pools_grown, stats.pools_released);
  std::printf("medium: free blocks by size (<256 B, <1 KiB, <4 KiB, <16 KiB, <64 KiB, larger):");
  for (int i = 0; i < kSizeBands; ++i) std::printf(" %.0f", acc.band_blocks[i] / n);
  std::printf("; their bytes outside whole pages, %% of live:");
  for (int i = 0; i < kSizeBands; ++i) std::printf(" %.2f", 100 * acc.band_edges[i] / n);
  std::printf("\n");
  if (passes != 0)
    std::printf("medium: defragmentation every %zu steps: %.0f B moved per allocate or free, %.1f moves per pass\n",
                o.defrag_every, moved / static_cast<double>(2 * steps + live_count), planned_moves / passes);
  if (alloy_tlsf_check(tlsf) != ALLOY_OK) std::printf("medium: check failed\n");
  alloy_tlsf_destroy(tlsf);
}

void Loading(const Options &o) {
  alloy_tlsf *tlsf = nullptr;
  if (alloy_tlsf_create(&o.config, &tlsf) != ALLOY_OK) {
    std::printf("loading: create failed\n");
    return;
  }
  const size_t loads = static_cast<size_t>(20000 * o.scale), budget = 64u << 20;
  std::vector<uint32_t> sizes = LogUniformSizes(kTable, 1024, 1u << 20, o.seed + 2);
  std::vector<uint32_t> picks = Indices(kTable, 1u << 30, o.seed + 3);
  std::vector<void *> ptrs;
  std::vector<uint32_t> live_sizes;
  ptrs.reserve(budget / 1024 + 1);
  live_sizes.reserve(budget / 1024 + 1);
  size_t live = 0, pick = 0, peak_pools = 0;
  const long faults = alloy_bench::MinorFaults();
  const double start = alloy_bench::ThreadCpuSeconds();
  for (size_t i = 0; i < loads; ++i) {
    uint32_t size = sizes[i & (kTable - 1)];
    while (live + size > budget && !ptrs.empty()) {
      size_t victim = picks[pick++ & (kTable - 1)] % ptrs.size();
      Free(tlsf, ptrs[victim], live_sizes[victim]);
      live -= live_sizes[victim];
      ptrs[victim] = ptrs.back();
      live_sizes[victim] = live_sizes.back();
      ptrs.pop_back();
      live_sizes.pop_back();
    }
    void *p = Allocate(tlsf, size);
    if (p == nullptr) std::abort();
    std::memset(p, 0x42, std::min<size_t>(size, 64));
    TouchPages(p, size);
    ptrs.push_back(p);
    live_sizes.push_back(size);
    live += size;
    if ((i & 255) == 0) {
      alloy_tlsf_stats stats;
      alloy_tlsf_get_stats(tlsf, &stats);
      peak_pools = std::max(peak_pools, stats.pool_count);
    }
  }
  const double seconds = alloy_bench::ThreadCpuSeconds() - start;
  const long faulted = alloy_bench::MinorFaults() - faults;
  alloy_tlsf_stats stats;
  alloy_tlsf_get_stats(tlsf, &stats);
  std::printf("loading: %.1f k loads/s  %.1f page faults per load | pools now %zu (peak ~%zu), held %.1f MiB,"
              " live %.1f MiB, pools grown %" PRIu64 ", given back %" PRIu64 "\n",
              static_cast<double>(loads) / seconds / 1e3, static_cast<double>(faulted) / static_cast<double>(loads),
              stats.pool_count, peak_pools, static_cast<double>(stats.held_bytes) / 1048576.0,
              static_cast<double>(live) / 1048576.0, stats.pools_grown, stats.pools_released);
  for (size_t i = 0; i < ptrs.size(); ++i) Free(tlsf, ptrs[i], live_sizes[i]);
  if (alloy_tlsf_check(tlsf) != ALLOY_OK) std::printf("loading: check failed\n");
  alloy_tlsf_destroy(tlsf);
}

bool Parse(int argc, char **argv, Options *o) {
  o->config = alloy_tlsf_config_default();
  o->config.numa_node = ALLOY_TLSF_NUMA_NONE;  // as the report's subjects
  for (int i = 1; i < argc; ++i) {
    const char *eq = std::strchr(argv[i], '=');
    if (eq == nullptr) return false;
    const std::string key(argv[i], static_cast<size_t>(eq - argv[i]));
    const char *value = eq + 1;
    const size_t kib = std::strtoull(value, nullptr, 10) << 10;
    if (key == "growth_kib") o->config.growth_size = kib;
    else if (key == "divisor") o->config.growth_divisor = std::strtoull(value, nullptr, 10);
    else if (key == "keep") o->config.keep_empty_pools = std::atoi(value) != 0;
    else if (key == "spare_kib") o->config.spare_bytes = kib;
    else if (key == "decay") o->config.spare_decay = std::strtoull(value, nullptr, 10);
    else if (key == "purge_kib") o->config.purge_threshold = kib;
    else if (key == "age") o->config.dirty_age = std::strtoull(value, nullptr, 10);
    else if (key == "dirty_kib") o->config.dirty_limit = kib;
    else if (key == "scale") o->scale = std::atof(value);
    else if (key == "trace") o->trace = value;
    else if (key == "seed") o->seed = std::strtoull(value, nullptr, 10);
    else if (key == "defrag_every") o->defrag_every = std::strtoull(value, nullptr, 10);
    else if (key == "defrag_kib") o->defrag_bytes = kib;
    else if (key == "defrag_moves") o->defrag_moves = std::strtoull(value, nullptr, 10);
    else if (key == "defrag_purge") o->defrag_purge = std::atoi(value) != 0;
    else return false;
  }
  return true;
}

}  // namespace

int main(int argc, char **argv) {
  Options o;
  if (!Parse(argc, argv, &o)) {
    std::fprintf(stderr, "usage: report_traces [growth_kib= divisor= keep= spare_kib= decay= purge_kib= dirty_kib= age= scale= trace= seed= defrag_every= defrag_kib= defrag_moves= defrag_purge=]\n");
    return 2;
  }
  if (o.trace != "loading") Medium(o);
  if (o.trace != "medium") Loading(o);
  return 0;
}
