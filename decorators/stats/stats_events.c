/* The stats decorator's profiler events: the checkpoint slow path, which
 * reads the clock, emits snapshots and spikes, and keeps the hysteresis. */
#define _GNU_SOURCE /* clock_gettime, CLOCK_MONOTONIC_COARSE */
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "alloy/stats.h"
#include "decorators/stats/stats_internal.h"

static uint64_t stats_coarse_clock(void *context) {
  (void)context;
  struct timespec now;
#ifdef CLOCK_MONOTONIC_COARSE
  if (clock_gettime(CLOCK_MONOTONIC_COARSE, &now) != 0)
#endif
    clock_gettime(CLOCK_MONOTONIC, &now);
  return (uint64_t)now.tv_sec * UINT64_C(1000000000) + (uint64_t)now.tv_nsec;
}

/* Re-arm below 7/8 of the threshold: the hysteresis documented in stats.h. */
static bool stats_below_rearm(double value, double threshold) { return value <= threshold - threshold / 8.0; }

static void stats_emit(alloy_stats *stats, alloy_stats_event *event) {
  event->sequence = stats->events.sequence++;
  stats->events.on_event(event, stats->events.event_context);
}

static void stats_check_spike(alloy_stats *stats, alloy_stats_event *event, alloy_stats_spike_kind spike, bool *armed,
                              double value, double threshold) {
  if (threshold <= 0.0) return;
  if (*armed && value > threshold) {
    *armed = false;
    event->kind = ALLOY_STATS_EVENT_SPIKE;
    event->spike = spike;
    event->value = value;
    event->threshold = threshold;
    stats_emit(stats, event);
  } else if (!*armed && stats_below_rearm(value, threshold)) {
    *armed = true;
  }
}

static void stats_run_checkpoint(alloy_stats *stats) {
  stats_events *e = &stats->events;
  alloy_stats_event event;
  memset(&event, 0, sizeof event);
  event.time_ns = e->clock(e->clock_context);
  alloy_stats_snapshot_get(stats, &event.snapshot);
  event.operations = event.snapshot.allocations + event.snapshot.deallocations + event.snapshot.reallocations;
  uint64_t allocations = event.snapshot.allocations + event.snapshot.reallocations;
  /* After alloy_stats_reset the counts restart from zero. */
  if (allocations < e->period_start_allocations) e->period_start_allocations = 0;
  if (allocations < e->rate_start_allocations) e->rate_start_allocations = 0;

  /* The rate window closes only once the clock has moved past its start. */
  bool rate_measured = false;
  if (event.time_ns > e->rate_start_ns && (e->period_ns == 0 || event.time_ns - e->rate_start_ns >= e->period_ns)) {
    uint64_t elapsed = event.time_ns - e->rate_start_ns;
    e->allocation_rate = (double)(allocations - e->rate_start_allocations) * 1e9 / (double)elapsed;
    e->rate_start_ns = event.time_ns;
    e->rate_start_allocations = allocations;
    rate_measured = true;
  }
  event.allocation_rate = e->allocation_rate;
  event.period_ns = event.time_ns - e->period_start_ns;
  event.period_allocations = allocations - e->period_start_allocations;

  if (e->period_ns == 0 || event.time_ns - e->period_start_ns >= e->period_ns) {
    event.kind = ALLOY_STATS_EVENT_SNAPSHOT;
    stats_emit(stats, &event);
    e->period_start_ns = event.time_ns;
    e->period_start_allocations = allocations;
  }
  if (rate_measured)
    stats_check_spike(stats, &event, ALLOY_STATS_SPIKE_ALLOCATION_RATE, &e->allocation_rate_armed,
                      e->allocation_rate, (double)e->allocation_rate_threshold);
  stats_check_spike(stats, &event, ALLOY_STATS_SPIKE_LIVE_BYTES, &e->live_bytes_armed,
                    (double)event.snapshot.live_bytes, (double)e->live_bytes_threshold);
}

/* One checkpoint at a time: one reached while another thread is still in
 * the callback is skipped rather than queued behind it. */
ALLOY_NOINLINE void alloy_stats_events_checkpoint(alloy_stats *stats) {
  stats_events *e = &stats->events;
  if (atomic_flag_test_and_set_explicit(&e->emitting, memory_order_acquire)) return;
  stats_run_checkpoint(stats);
  atomic_flag_clear_explicit(&e->emitting, memory_order_release);
}

void alloy_stats_poll(alloy_stats *stats) {
  if (stats == NULL || stats->events.on_event == NULL) return;
  alloy_stats_events_checkpoint(stats);
}

const char *alloy_stats_spike_name(alloy_stats_spike_kind spike) {
  switch (spike) {
    case ALLOY_STATS_SPIKE_LIVE_BYTES: return "live_bytes";
    case ALLOY_STATS_SPIKE_ALLOCATION_RATE: return "allocation_rate";
    case ALLOY_STATS_SPIKE_NONE: break;
  }
  return "none";
}

void alloy_stats_events_init(alloy_stats *stats, const alloy_stats_config *config) {
  stats_events *e = &stats->events;
  atomic_flag_clear(&e->emitting);
  stats->check_mask = UINT64_MAX;
  if (config == NULL || config->on_event == NULL) return;
  uint64_t check_every = config->check_every != 0 ? config->check_every : ALLOY_STATS_DEFAULT_CHECK_EVERY;
  uint64_t rounded = 1;
  while (rounded < check_every && rounded < (UINT64_C(1) << 62)) rounded <<= 1;
  stats->check_mask = rounded - 1;
  e->on_event = config->on_event;
  e->event_context = config->event_context;
  e->clock = config->clock != NULL ? config->clock : stats_coarse_clock;
  e->clock_context = config->clock_context;
  e->period_ns = config->period_ns;
  e->live_bytes_threshold = config->live_bytes_threshold;
  e->allocation_rate_threshold = config->allocation_rate_threshold;
  e->live_bytes_armed = true;
  e->allocation_rate_armed = true;
  e->period_start_ns = e->rate_start_ns = e->clock(e->clock_context);
}
