/* stats_internal.h — the stats decorator's state, shared by its three files.
 *
 * Who calls whom (never back up):
 *   stats.c           the counting fast path and the lifecycle
 *     -> stats_events.c   the profiler checkpoint (slow path)
 *          -> stats_snapshot.c   reading the counters; the dumps
 */
#ifndef ALLOY_STATS_INTERNAL_H
#define ALLOY_STATS_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "alloy/stats.h"

typedef struct stats_counters {
  atomic_uint_fast64_t allocations;
  atomic_uint_fast64_t deallocations;
  atomic_uint_fast64_t reallocations;
  atomic_size_t live_bytes;
  atomic_size_t peak_live_bytes;
  atomic_uint_fast64_t live_blocks;
  atomic_uint_fast64_t failures[ALLOY_STATUS_COUNT];
} stats_counters;

/* Profiler event state. Only the one thread inside a checkpoint (`emitting`
 * held) touches the fields below it. */
typedef struct stats_events {
  alloy_stats_event_callback on_event;
  void *event_context;
  alloy_stats_clock clock;
  void *clock_context;
  uint64_t period_ns;
  size_t live_bytes_threshold;
  uint64_t allocation_rate_threshold;
  atomic_flag emitting;
  /* Owned by the emitting thread. */
  uint64_t sequence;
  uint64_t period_start_ns;
  uint64_t period_start_allocations;
  uint64_t rate_start_ns; /* the rate window ends only once the clock has moved */
  uint64_t rate_start_allocations;
  double allocation_rate;
  bool live_bytes_armed;
  bool allocation_rate_armed;
} stats_events;

struct alloy_stats {
  alloy_resource resource; /* first: the decorator is a resource */
  alloy_resource *inner;
  alloy_allocate_fn inner_allocate_trusted; /* the inner's slot for validated requests */
  uint64_t sample_threshold; /* a block is counted when its address hash is below */
  uint32_t sample_rate;
  /* check_every - 1 (a power of two less one); UINT64_MAX with events off,
   * so that no count ever matches. */
  uint64_t check_mask;
  size_t (*remote_free_pending)(const alloy_resource *inner, void *context);
  void *remote_free_context;
  _Alignas(ALLOY_CACHE_LINE) stats_counters counters;
  stats_events events;
};

/* stats_events.c: sets up the events from the config (off when it has no
 * callback). */
ALLOY_HIDDEN void alloy_stats_events_init(alloy_stats *stats, const alloy_stats_config *config);

/* stats_events.c: runs one checkpoint unless another thread is inside one. */
ALLOY_HIDDEN ALLOY_NOINLINE void alloy_stats_events_checkpoint(alloy_stats *stats);

#endif /* ALLOY_STATS_INTERNAL_H */
