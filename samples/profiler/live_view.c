/* Sample: a live view of a workload through the stats decorator's profiler
 * events.
 *
 * A TLSF heap serves a churn of variable-size blocks; a stats decorator over
 * it emits a snapshot every 200 ms (checked every 256 operations on the
 * coarse monotonic clock) and spike events when live bytes pass 8 MiB or the
 * allocation rate passes half a million per second. The workload runs three
 * phases: steady (a 2 MiB working set, paced), spike (14 MiB, flat out) and
 * recovery (back to 2 MiB, paced). Each snapshot prints one line; spikes
 * print where they happen.
 *
 * Runs about 2.4 s; `live_view --seconds=N` or ALLOY_LIVE_VIEW_SECONDS=N
 * runs longer (the phases keep their proportions). */
#define _GNU_SOURCE /* clock_gettime, nanosleep */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alloy/resource.h"
#include "alloy/stats.h"
#include "alloy/tlsf.h"

#define SLOTS 4096u
#define LIVE_THRESHOLD ((size_t)8 << 20)
#define RATE_THRESHOLD 500000u

typedef struct view {
  const char *phase;
  double started; /* seconds */
  unsigned snapshots;
  unsigned spikes;
  unsigned events_this_period;
} view;

static double seconds_now(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (double)now.tv_sec + (double)now.tv_nsec * 1e-9;
}

static double mib(size_t bytes) { return (double)bytes / (1024.0 * 1024.0); }

/* Runs on the allocating thread, inside the allocation: it only prints. */
static void on_event(const alloy_stats_event *event, void *context) {
  view *v = (view *)context;
  double at = seconds_now() - v->started;
  if (event->kind == ALLOY_STATS_EVENT_SPIKE) {
    ++v->spikes;
    ++v->events_this_period;
    if (event->spike == ALLOY_STATS_SPIKE_LIVE_BYTES)
      printf("%6.2fs  %-8s  ! spike: live bytes %.1f MiB above %.1f MiB\n", at, v->phase, mib((size_t)event->value),
             mib((size_t)event->threshold));
    else
      printf("%6.2fs  %-8s  ! spike: %.2fM allocations/s above %.2fM/s\n", at, v->phase, event->value / 1e6,
             event->threshold / 1e6);
    return;
  }
  ++v->snapshots;
  const alloy_stats_snapshot *s = &event->snapshot;
  printf("%6.2fs  %-8s  live %6.2f MiB in %5llu blocks  peak %6.2f MiB  %6.2fM allocs/s  frag %4.1f %%  events %u\n",
         at, v->phase, mib(s->live_bytes), (unsigned long long)s->live_blocks, mib(s->peak_live_bytes),
         event->allocation_rate / 1e6, s->has_fragmentation ? s->fragmentation * 100.0 : 0.0, v->events_this_period);
  v->events_this_period = 0;
}

/* xorshift: the same workload every run. */
static uint32_t next_random(uint64_t *state) {
  *state ^= *state << 13;
  *state ^= *state >> 7;
  *state ^= *state << 17;
  return (uint32_t)(*state >> 32);
}

typedef struct workload {
  alloy_resource *heap;
  alloy_block slots[SLOTS];
  size_t live;
  uint64_t random;
  unsigned failures;
} workload;

/* One step towards `target` live blocks: allocate below it, free above it,
 * replace a random block at it. */
static void step(workload *w, size_t target) {
  uint32_t r = next_random(&w->random);
  if (w->live < target || (w->live == target && (r & 1u))) {
    if (w->live == SLOTS) return;
    size_t size = 64 + (r >> 8) % 8128; /* 64 B .. 8 KiB, 4 KiB on average */
    alloy_block block;
    if (alloy_resource_allocate(w->heap, size, 16, &block) != ALLOY_OK) {
      ++w->failures;
      return;
    }
    memset(block.ptr, 0x5a, size < 64 ? size : 64);
    w->slots[w->live++] = block;
  } else if (w->live > 0) {
    size_t victim = (r >> 4) % w->live;
    if (alloy_resource_deallocate(w->heap, w->slots[victim], 16) != ALLOY_OK) ++w->failures;
    w->slots[victim] = w->slots[--w->live];
  }
}

static void run_phase(workload *w, view *v, const char *phase, double seconds, size_t target, bool paced) {
  v->phase = phase;
  double end = seconds_now() + seconds;
  const struct timespec pause = {0, 1000000}; /* 1 ms after every 200 steps: ~150k operations/s */
  while (seconds_now() < end) {
    for (int i = 0; i < 200; ++i) step(w, target);
    if (paced) nanosleep(&pause, NULL);
  }
}

static double duration_from(int argc, char **argv) {
  const char *text = getenv("ALLOY_LIVE_VIEW_SECONDS");
  for (int i = 1; i < argc; ++i)
    if (strncmp(argv[i], "--seconds=", 10) == 0) text = argv[i] + 10;
  double seconds = text != NULL ? atof(text) : 2.4;
  return seconds > 0.3 ? seconds : 2.4;
}

int main(int argc, char **argv) {
  double seconds = duration_from(argc, argv);
  alloy_tlsf_config tlsf_config = alloy_tlsf_config_default();
  tlsf_config.initial_pool_size = (size_t)4 << 20;
  alloy_tlsf *tlsf;
  alloy_status status = alloy_tlsf_create(&tlsf_config, &tlsf);
  if (status != ALLOY_OK) {
    fprintf(stderr, "tlsf: %s\n", alloy_status_string(status));
    return 1;
  }
  view v = {"start", seconds_now(), 0, 0, 0};
  alloy_stats_config config;
  memset(&config, 0, sizeof config);
  config.on_event = on_event;
  config.event_context = &v;
  config.check_every = 256;
  config.period_ns = 200000000; /* 200 ms */
  config.live_bytes_threshold = LIVE_THRESHOLD;
  config.allocation_rate_threshold = RATE_THRESHOLD;
  alloy_stats *stats;
  status = alloy_stats_create(alloy_tlsf_resource(tlsf), &config, &stats);
  if (status != ALLOY_OK) {
    fprintf(stderr, "stats: %s\n", alloy_status_string(status));
    alloy_tlsf_destroy(tlsf);
    return 1;
  }
  static workload w;
  w.heap = alloy_stats_resource(stats);
  w.random = UINT64_C(0x9E3779B97F4A7C15);

  printf("live view: stats over tlsf, snapshot every 200 ms, spikes above %.0f MiB live or %.1fM allocs/s\n",
         mib(LIVE_THRESHOLD), RATE_THRESHOLD / 1e6);
  run_phase(&w, &v, "steady", seconds * 0.4, 512, true);
  run_phase(&w, &v, "spike", seconds * 0.25, 3584, false);
  run_phase(&w, &v, "recovery", seconds * 0.35, 512, true);
  alloy_stats_poll(stats); /* the last, partial period */

  while (w.live > 0) step(&w, 0);
  char text[2048];
  alloy_stats_dump_text(stats, text, sizeof text);
  printf("%u snapshots, %u spikes, %u failed calls\n%s", v.snapshots, v.spikes, w.failures, text);
  alloy_stats_destroy(stats);
  alloy_tlsf_destroy(tlsf);
  return w.failures == 0 ? 0 : 1;
}
