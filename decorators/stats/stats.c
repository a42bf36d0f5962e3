/* The stats decorator: relaxed atomic counters around an inner resource. */
#include "alloy/stats.h"

#include <stdatomic.h>
#include <string.h>

#include "alloy/heap.h"
#include "alloy/live_bytes.h"
#include "alloy/text_sink.h"
#include "decorators/stats/stats_internal.h"

static alloy_stats *stats_of(alloy_resource *self) { return (alloy_stats *)(void *)self; }
static const alloy_stats *stats_of_const(const alloy_resource *self) { return (const alloy_stats *)(const void *)self; }

/* Fibonacci hashing: the top 32 bits of the product mix every address bit. */
static ALLOY_ALWAYS_INLINE bool stats_sampled(const alloy_stats *stats, const void *ptr) {
  if (ALLOY_LIKELY(stats->sample_rate == 1)) return true;
  uint64_t hash = ((uint64_t)(uintptr_t)ptr * UINT64_C(0x9E3779B97F4A7C15)) >> 32;
  return hash < stats->sample_threshold;
}

static void stats_add_live(stats_counters *c, size_t bytes) {
  alloy_live_bytes_add(&c->live_bytes, &c->peak_live_bytes, bytes);
  atomic_fetch_add_explicit(&c->live_blocks, 1, memory_order_relaxed);
}

static void stats_sub_live(stats_counters *c, size_t bytes) {
  alloy_live_bytes_sub(&c->live_bytes, bytes);
  atomic_fetch_sub_explicit(&c->live_blocks, 1, memory_order_relaxed);
}

static ALLOY_COLD alloy_status stats_failed(alloy_stats *stats, alloy_status status);

/* The per-operation cost of events: a mask and a compare on the count the
 * operation's own increment returned. Each count value goes to one thread
 * only, so exactly one thread reaches a given checkpoint. */
static ALLOY_ALWAYS_INLINE void stats_counted(alloy_stats *stats, uint64_t count_before) {
  if (ALLOY_UNLIKELY(((count_before + 1) & stats->check_mask) == 0)) stats_checkpoint(stats);
}

static alloy_status stats_allocate(alloy_resource *self, size_t size, size_t align, alloy_block *out) {
  alloy_stats *stats = stats_of(self);
  alloy_block block;
  alloy_status status = alloy_resource_allocate(stats->inner, size, align, &block);
  if (ALLOY_UNLIKELY(status != ALLOY_OK)) return stats_failed(stats, status);
  if (stats_sampled(stats, block.ptr)) {
    uint64_t count = atomic_fetch_add_explicit(&stats->counters.allocations, 1, memory_order_relaxed);
    stats_add_live(&stats->counters, size);
    stats_counted(stats, count);
  }
  *out = alloy_block_make(block.ptr, size);
  return ALLOY_OK;
}

static alloy_status stats_deallocate(alloy_resource *self, alloy_block block, size_t align) {
  alloy_stats *stats = stats_of(self);
  alloy_status status = alloy_resource_deallocate(stats->inner, block, align);
  if (ALLOY_UNLIKELY(status != ALLOY_OK)) return stats_failed(stats, status);
  if (stats_sampled(stats, block.ptr)) {
    uint64_t count = atomic_fetch_add_explicit(&stats->counters.deallocations, 1, memory_order_relaxed);
    stats_sub_live(&stats->counters, block.size);
    stats_counted(stats, count);
  }
  return ALLOY_OK;
}

static void stats_moved(alloy_stats *stats, alloy_block old_block, alloy_block new_block) {
  if (old_block.ptr != NULL && stats_sampled(stats, old_block.ptr)) stats_sub_live(&stats->counters, old_block.size);
  if (stats_sampled(stats, new_block.ptr)) {
    uint64_t count = atomic_fetch_add_explicit(&stats->counters.reallocations, 1, memory_order_relaxed);
    stats_add_live(&stats->counters, new_block.size);
    stats_counted(stats, count);
  }
}

/* No resize slot: an in-place resize may leave the inner block larger than
 * asked, and the decorator could then no longer tell which size a later free
 * names. The default (a shrink keeps the block as it is) stays exact. */
static alloy_status stats_reallocate(alloy_resource *self, alloy_block block, size_t new_size, size_t align,
                                     alloy_block *out) {
  alloy_stats *stats = stats_of(self);
  alloy_block moved;
  alloy_status status = alloy_resource_reallocate(stats->inner, block, new_size, align, &moved);
  if (ALLOY_UNLIKELY(status != ALLOY_OK)) return stats_failed(stats, status);
  moved.size = new_size;
  stats_moved(stats, block, moved);
  *out = moved;
  return ALLOY_OK;
}

static bool stats_owns(const alloy_resource *self, alloy_block block) {
  return alloy_resource_owns(stats_of_const(self)->inner, block);
}

static size_t scaled(const alloy_stats *stats, size_t value) { return value * stats->sample_rate; }

void alloy_stats_snapshot_get(const alloy_stats *stats, alloy_stats_snapshot *out) {
  const stats_counters *c = &stats->counters;
  memset(out, 0, sizeof *out);
  out->sample_rate = stats->sample_rate;
  out->allocations = scaled(stats, atomic_load_explicit(&c->allocations, memory_order_relaxed));
  out->deallocations = scaled(stats, atomic_load_explicit(&c->deallocations, memory_order_relaxed));
  out->reallocations = scaled(stats, atomic_load_explicit(&c->reallocations, memory_order_relaxed));
  out->live_blocks = scaled(stats, atomic_load_explicit(&c->live_blocks, memory_order_relaxed));
  out->live_bytes = scaled(stats, atomic_load_explicit(&c->live_bytes, memory_order_relaxed));
  out->peak_live_bytes = scaled(stats, atomic_load_explicit(&c->peak_live_bytes, memory_order_relaxed));
  for (unsigned s = 1; s < ALLOY_STATUS_COUNT; ++s) {
    out->failures_by_status[s] = atomic_load_explicit(&c->failures[s], memory_order_relaxed);
    out->failures += out->failures_by_status[s];
  }
  alloy_resource_info inner;
  alloy_resource_get_info(stats->inner, &inner);
  if (inner.has_stats) {
    out->has_inner_stats = true;
    out->inner_reserved_bytes = inner.stats.reserved_bytes;
    out->inner_committed_bytes = inner.stats.committed_bytes;
    out->inner_live_bytes = inner.stats.live_bytes;
    if (inner.stats.committed_bytes > 0 && inner.stats.committed_bytes >= inner.stats.live_bytes) {
      out->has_fragmentation = true;
      out->fragmentation = (double)(inner.stats.committed_bytes - inner.stats.live_bytes) /
                           (double)inner.stats.committed_bytes;
    }
  }
  if (stats->remote_free_pending != NULL) {
    out->has_remote_free_queue = true;
    out->remote_free_pending = stats->remote_free_pending(stats->inner, stats->remote_free_context);
  }
}

static ALLOY_COLD alloy_status stats_failed(alloy_stats *stats, alloy_status status) {
  if ((unsigned)status < ALLOY_STATUS_COUNT)
    atomic_fetch_add_explicit(&stats->counters.failures[status], 1, memory_order_relaxed);
  return status;
}

static void stats_get_info(const alloy_resource *self, alloy_resource_info *info) {
  const alloy_stats *stats = stats_of_const(self);
  alloy_resource_get_info(stats->inner, info); /* size classes, limits, thread safety */
  alloy_stats_snapshot snapshot;
  alloy_stats_snapshot_get(stats, &snapshot);
  info->name = "stats";
  info->has_stats = true;
  info->stats.live_bytes = snapshot.live_bytes;
  info->stats.peak_live_bytes = snapshot.peak_live_bytes;
  info->stats.allocations = snapshot.allocations;
  info->stats.deallocations = snapshot.deallocations;
  info->stats.failures = snapshot.failures;
  /* reserved and committed stay the inner's own, when it reported them. */
}

static alloy_status stats_mark(alloy_resource *self, alloy_marker *out) {
  return alloy_resource_mark(stats_of(self)->inner, out);
}

/* A rewind frees blocks this decorator never sees individually, so live
 * bytes can no longer be told; stats over LIFO resources count allocations
 * and frees only up to the first rewind. */
static alloy_status stats_rewind(alloy_resource *self, alloy_marker marker) {
  return alloy_resource_rewind(stats_of(self)->inner, marker);
}

static const alloy_resource_ops stats_ops = {
    .struct_size = sizeof(alloy_resource_ops),
    .name = "stats",
    .allocate = stats_allocate,
    .deallocate = stats_deallocate,
    .reallocate = stats_reallocate,
    .owns = stats_owns,
    .get_info = stats_get_info,
    .mark = stats_mark,
    .rewind = stats_rewind,
};

/* Over an inner that cannot tell ownership, neither can the decorator. */
static const alloy_resource_ops stats_ops_without_owns = {
    .struct_size = sizeof(alloy_resource_ops),
    .name = "stats",
    .allocate = stats_allocate,
    .deallocate = stats_deallocate,
    .reallocate = stats_reallocate,
    .get_info = stats_get_info,
    .mark = stats_mark,
    .rewind = stats_rewind,
};

static void stats_counters_init(stats_counters *c) {
  atomic_init(&c->allocations, 0);
  atomic_init(&c->deallocations, 0);
  atomic_init(&c->reallocations, 0);
  atomic_init(&c->live_bytes, 0);
  atomic_init(&c->peak_live_bytes, 0);
  atomic_init(&c->live_blocks, 0);
  for (unsigned s = 0; s < ALLOY_STATUS_COUNT; ++s) atomic_init(&c->failures[s], 0);
}

alloy_status alloy_stats_create(alloy_resource *inner, const alloy_stats_config *config, alloy_stats **out) {
  if (inner == NULL || out == NULL) return ALLOY_E_INVALID_ARGUMENT;
  void *memory;
  ALLOY_TRY(alloy_heap_allocate(sizeof(alloy_stats), ALLOY_CACHE_LINE, &memory));
  alloy_stats *stats = (alloy_stats *)memory;
  memset(stats, 0, sizeof *stats);
  stats->resource.ops = alloy_resource_can_tell_ownership(inner) ? &stats_ops : &stats_ops_without_owns;
  stats->inner = inner;
  stats->sample_rate = config != NULL && config->sample_rate > 1 ? config->sample_rate : 1;
  stats->sample_threshold = (UINT64_C(1) << 32) / stats->sample_rate;
  if (config != NULL) {
    stats->remote_free_pending = config->remote_free_pending;
    stats->remote_free_context = config->remote_free_context;
  }
  stats_counters_init(&stats->counters);
  stats_events_init(stats, config);
  *out = stats;
  return ALLOY_OK;
}

void alloy_stats_destroy(alloy_stats *stats) {
  if (stats != NULL) alloy_heap_free(stats);
}

alloy_resource *alloy_stats_resource(alloy_stats *stats) { return &stats->resource; }

void alloy_stats_reset(alloy_stats *stats) {
  stats_counters *c = &stats->counters;
  atomic_store_explicit(&c->allocations, 0, memory_order_relaxed);
  atomic_store_explicit(&c->deallocations, 0, memory_order_relaxed);
  atomic_store_explicit(&c->reallocations, 0, memory_order_relaxed);
  atomic_store_explicit(&c->live_bytes, 0, memory_order_relaxed);
  atomic_store_explicit(&c->peak_live_bytes, 0, memory_order_relaxed);
  atomic_store_explicit(&c->live_blocks, 0, memory_order_relaxed);
  for (unsigned s = 0; s < ALLOY_STATUS_COUNT; ++s) atomic_store_explicit(&c->failures[s], 0, memory_order_relaxed);
}

size_t alloy_stats_dump_text(const alloy_stats *stats, char *buffer, size_t capacity) {
  alloy_stats_snapshot s;
  alloy_stats_snapshot_get(stats, &s);
  alloy_text_sink sink = alloy_text_sink_start(buffer, capacity);
  alloy_text_sink_printf(&sink, "stats over '%s' (1 in %u sampled)\n", alloy_resource_name(stats->inner),
                         s.sample_rate);
  alloy_text_sink_printf(&sink, "  allocations    %llu\n", (unsigned long long)s.allocations);
  alloy_text_sink_printf(&sink, "  deallocations  %llu\n", (unsigned long long)s.deallocations);
  alloy_text_sink_printf(&sink, "  reallocations  %llu\n", (unsigned long long)s.reallocations);
  alloy_text_sink_printf(&sink, "  live blocks    %llu\n", (unsigned long long)s.live_blocks);
  alloy_text_sink_printf(&sink, "  live bytes     %zu\n", s.live_bytes);
  alloy_text_sink_printf(&sink, "  peak bytes     %zu\n", s.peak_live_bytes);
  alloy_text_sink_printf(&sink, "  failures       %llu\n", (unsigned long long)s.failures);
  for (unsigned st = 1; st < ALLOY_STATUS_COUNT; ++st)
    if (s.failures_by_status[st] != 0)
      alloy_text_sink_printf(&sink, "    %-24s %llu\n", alloy_status_name((alloy_status)st),
                             (unsigned long long)s.failures_by_status[st]);
  if (s.has_inner_stats)
    alloy_text_sink_printf(&sink, "  inner reserved %zu, committed %zu, live %zu\n", s.inner_reserved_bytes,
                           s.inner_committed_bytes, s.inner_live_bytes);
  if (s.has_fragmentation) alloy_text_sink_printf(&sink, "  fragmentation  %.1f %%\n", s.fragmentation * 100.0);
  if (s.has_remote_free_queue) alloy_text_sink_printf(&sink, "  remote frees   %zu pending\n", s.remote_free_pending);
  return sink.length;
}

size_t alloy_stats_dump_json(const alloy_stats *stats, char *buffer, size_t capacity) {
  alloy_stats_snapshot s;
  alloy_stats_snapshot_get(stats, &s);
  alloy_text_sink sink = alloy_text_sink_start(buffer, capacity);
  alloy_text_sink_printf(&sink,
                         "{\"resource\":\"%s\",\"sample_rate\":%u,\"allocations\":%llu,\"deallocations\":%llu,"
                         "\"reallocations\":%llu,\"live_blocks\":%llu,\"live_bytes\":%zu,\"peak_live_bytes\":%zu,"
                         "\"failures\":%llu,\"failures_by_status\":{",
                         alloy_resource_name(stats->inner), s.sample_rate, (unsigned long long)s.allocations,
                         (unsigned long long)s.deallocations, (unsigned long long)s.reallocations,
                         (unsigned long long)s.live_blocks, s.live_bytes, s.peak_live_bytes,
                         (unsigned long long)s.failures);
  const char *separator = "";
  for (unsigned st = 1; st < ALLOY_STATUS_COUNT; ++st) {
    if (s.failures_by_status[st] == 0) continue;
    alloy_text_sink_printf(&sink, "%s\"%s\":%llu", separator, alloy_status_name((alloy_status)st),
                           (unsigned long long)s.failures_by_status[st]);
    separator = ",";
  }
  alloy_text_sink_printf(&sink, "}");
  if (s.has_inner_stats)
    alloy_text_sink_printf(&sink, ",\"inner\":{\"reserved_bytes\":%zu,\"committed_bytes\":%zu,\"live_bytes\":%zu}",
                           s.inner_reserved_bytes, s.inner_committed_bytes, s.inner_live_bytes);
  if (s.has_fragmentation) alloy_text_sink_printf(&sink, ",\"fragmentation\":%.4f", s.fragmentation);
  if (s.has_remote_free_queue) alloy_text_sink_printf(&sink, ",\"remote_free_pending\":%zu", s.remote_free_pending);
  alloy_text_sink_printf(&sink, "}");
  return sink.length;
}
