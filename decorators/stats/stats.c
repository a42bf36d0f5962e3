/* The stats decorator: relaxed atomic counters around an inner resource, and
 * its lifecycle. Reading the counters is stats_snapshot.c's; the profiler
 * checkpoint, stats_events.c's. */
#include "alloy/stats.h"

#include <stdatomic.h>
#include <string.h>

#include "alloy/heap.h"
#include "alloy/live_bytes.h"
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
  if (ALLOY_UNLIKELY(((count_before + 1) & stats->check_mask) == 0)) alloy_stats_events_checkpoint(stats);
}

/* `inner_allocate`: the inner's checking or trusted slot, as this call came. */
static ALLOY_ALWAYS_INLINE alloy_status stats_allocate_with(alloy_stats *stats, alloy_allocate_fn inner_allocate,
                                                           size_t size, size_t align, alloy_block *out) {
  alloy_block block;
  alloy_status status = inner_allocate(stats->inner, size, align, &block);
  if (ALLOY_UNLIKELY(status != ALLOY_OK)) return stats_failed(stats, status);
  if (stats_sampled(stats, block.ptr)) {
    uint64_t count = atomic_fetch_add_explicit(&stats->counters.allocations, 1, memory_order_relaxed);
    stats_add_live(&stats->counters, size);
    stats_counted(stats, count);
  }
  *out = alloy_block_make(block.ptr, size);
  return ALLOY_OK;
}

static alloy_status stats_allocate(alloy_resource *self, size_t size, size_t align, alloy_block *out) {
  alloy_stats *stats = stats_of(self);
  return stats_allocate_with(stats, stats->inner->ops->allocate, size, align, out);
}

static alloy_status stats_allocate_trusted(alloy_resource *self, size_t size, size_t align, alloy_block *out) {
  alloy_stats *stats = stats_of(self);
  return stats_allocate_with(stats, stats->inner_allocate_trusted, size, align, out);
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

/* Reallocate and resize alike. The block handed back has exactly the size
 * asked for: an inner block left larger would let a later free name either
 * size, and the live bytes could no longer be told apart. */
static alloy_status stats_reshape(alloy_resource *self, alloy_block block, size_t new_size, size_t align,
                                  alloy_block *out, alloy_reshape_fn reshape) {
  alloy_stats *stats = stats_of(self);
  alloy_block moved;
  alloy_status status = reshape(stats->inner, block, new_size, align, &moved);
  if (ALLOY_UNLIKELY(status != ALLOY_OK)) return stats_failed(stats, status);
  moved.size = new_size;
  stats_moved(stats, block, moved);
  *out = moved;
  return ALLOY_OK;
}

static alloy_status stats_reallocate(alloy_resource *self, alloy_block block, size_t new_size, size_t align,
                                     alloy_block *out) {
  return stats_reshape(self, block, new_size, align, out, alloy_resource_reallocate);
}

static alloy_status stats_resize(alloy_resource *self, alloy_block block, size_t new_size, size_t align,
                                 alloy_block *out) {
  return stats_reshape(self, block, new_size, align, out, alloy_resource_resize);
}

static bool stats_owns(const alloy_resource *self, alloy_block block) {
  return alloy_resource_owns(stats_of_const(self)->inner, block);
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
    .resize = stats_resize,
    .owns = stats_owns,
    .get_info = stats_get_info,
    .mark = stats_mark,
    .rewind = stats_rewind,
    .allocate_trusted = stats_allocate_trusted,
};

/* Over an inner that cannot tell ownership, neither can the decorator. */
static const alloy_resource_ops stats_ops_without_owns = {
    .struct_size = sizeof(alloy_resource_ops),
    .name = "stats",
    .allocate = stats_allocate,
    .deallocate = stats_deallocate,
    .reallocate = stats_reallocate,
    .resize = stats_resize,
    .get_info = stats_get_info,
    .mark = stats_mark,
    .rewind = stats_rewind,
    .allocate_trusted = stats_allocate_trusted,
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
  stats->inner_allocate_trusted = alloy_resource_trusted_allocate_slot(inner);
  stats->sample_rate = config != NULL && config->sample_rate > 1 ? config->sample_rate : 1;
  stats->sample_threshold = (UINT64_C(1) << 32) / stats->sample_rate;
  if (config != NULL) {
    stats->remote_free_pending = config->remote_free_pending;
    stats->remote_free_context = config->remote_free_context;
  }
  stats_counters_init(&stats->counters);
  alloy_stats_events_init(stats, config);
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
