/* The stats decorator's reading side: a snapshot of the counters (scaled by
 * the sampling rate, with what the inner resource reports) and the text and
 * JSON dumps made from it. */
#include <stdatomic.h>
#include <string.h>

#include "alloy/stats.h"
#include "alloy/text_sink.h"
#include "decorators/stats/stats_internal.h"

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
