/* alloy/stats.h — the stats decorator: counts what flows through a resource.
 *
 * Counts allocations, frees, reallocations, failures per status, live bytes
 * and their peak, and asks the inner resource what it can tell beyond that
 * (reserved and committed bytes, hence fragmentation; the length of its
 * remote-free queue when the caller supplies a query for it). Counters are
 * relaxed atomics, so the decorator may be shared when the inner is
 * thread-safe; a snapshot is a consistent-enough reading, not a transaction.
 *
 * Byte counts are exact: blocks are handed out with exactly the requested
 * size, so each free names the byte count its allocation added.
 *
 * Sampling (sample_rate N > 1, for production): a block is counted when a
 * hash of its address falls in the lowest 1/N of the hash range, so its
 * allocation and its free agree on it without any per-block state. Counted
 * figures are multiplied by N in snapshots, so they estimate the totals;
 * failures are always counted exactly. An address reused over and over is
 * either always or never sampled, so short runs on few addresses are noisy.
 *
 * Profiler events (for production too): given an on_event callback, the
 * decorator reaches a checkpoint whenever its allocation count, its free
 * count or its reallocation count reaches a multiple of `check_every`
 * (rounded up to a power of two; counted blocks only when sampling). The
 * test is a mask and a compare on the value the counter's own relaxed
 * increment returned, so events add no atomic operation to the fast path,
 * and each checkpoint belongs to exactly one thread. That thread takes the
 * slow path: it reads the clock (CLOCK_MONOTONIC_COARSE unless the config
 * supplies one) and
 *   - when `period_ns` is 0, or at least period_ns has passed since the last
 *     snapshot, ends a period: emits ALLOY_STATS_EVENT_SNAPSHOT with the
 *     snapshot and the allocation rate over the period, then checks the rate
 *     threshold;
 *   - checks the live-bytes threshold at every checkpoint.
 * A spike event (ALLOY_STATS_EVENT_SPIKE) fires once when its value rises
 * above its threshold and re-arms only once the value is back at or below
 * 7/8 of the threshold (12.5 % hysteresis), so a value hovering around the
 * threshold does not flood the callback. The callback runs on the thread
 * that allocated, inside the allocation call, one at a time per decorator
 * (a checkpoint reached while another thread is still in the callback is
 * skipped); it must not call back into this decorator.
 *
 * State: one object from the platform heap (alloy_heap_allocate). The inner
 * resource stays the caller's.
 */
#ifndef ALLOY_STATS_H
#define ALLOY_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "alloy/compiler.h"
#include "alloy/resource.h"
#include "alloy/status.h"

ALLOY_EXTERN_C_BEGIN

typedef struct alloy_stats alloy_stats;

typedef struct alloy_stats_snapshot alloy_stats_snapshot;
typedef struct alloy_stats_event alloy_stats_event;

/* Nanoseconds from any fixed origin, never going back. */
typedef uint64_t (*alloy_stats_clock)(void *context);
typedef void (*alloy_stats_event_callback)(const alloy_stats_event *event, void *context);

#define ALLOY_STATS_DEFAULT_CHECK_EVERY 4096u

typedef struct alloy_stats_config {
  uint32_t sample_rate; /* 1 in N blocks counted; 0 or 1 = every block */
  /* Profiler events; all off while on_event is NULL. */
  alloy_stats_event_callback on_event;
  void *event_context;
  uint64_t check_every;          /* counted operations of one kind between checkpoints, rounded
                                  * up to a power of two (0: ALLOY_STATS_DEFAULT_CHECK_EVERY) */
  uint64_t period_ns;            /* least time between snapshots (0: one snapshot per checkpoint) */
  size_t live_bytes_threshold;   /* spike when live bytes rise above it (0: off) */
  uint64_t allocation_rate_threshold; /* spike when a period's allocations per second exceed it (0: off) */
  alloy_stats_clock clock;       /* NULL: CLOCK_MONOTONIC_COARSE (a few ms resolution, no syscall) */
  void *clock_context;
  /* Where the inner has a remote-free queue (small_object), a query for its
   * length; NULL when there is none. */
  size_t (*remote_free_pending)(const alloy_resource *inner, void *context);
  void *remote_free_context;
} alloy_stats_config;

struct alloy_stats_snapshot {
  uint32_t sample_rate;
  uint64_t allocations;
  uint64_t deallocations;
  uint64_t reallocations;
  uint64_t failures;                              /* exact */
  uint64_t failures_by_status[ALLOY_STATUS_COUNT]; /* exact; index ALLOY_OK stays 0 */
  uint64_t live_blocks;
  size_t live_bytes;
  size_t peak_live_bytes;
  /* From the inner resource's own stats, when it keeps them. */
  bool has_inner_stats;
  size_t inner_reserved_bytes;
  size_t inner_committed_bytes;
  size_t inner_live_bytes;
  bool has_fragmentation;
  double fragmentation; /* (committed - live) / committed of the inner, 0..1 */
  bool has_remote_free_queue;
  size_t remote_free_pending;
};

typedef enum alloy_stats_event_kind {
  ALLOY_STATS_EVENT_SNAPSHOT, /* a period ended */
  ALLOY_STATS_EVENT_SPIKE,    /* a threshold was crossed upwards */
} alloy_stats_event_kind;

typedef enum alloy_stats_spike_kind {
  ALLOY_STATS_SPIKE_NONE,
  ALLOY_STATS_SPIKE_LIVE_BYTES,      /* value and threshold in bytes */
  ALLOY_STATS_SPIKE_ALLOCATION_RATE, /* value and threshold in allocations per second */
} alloy_stats_spike_kind;

struct alloy_stats_event {
  alloy_stats_event_kind kind;
  uint64_t sequence;           /* events emitted before this one */
  uint64_t operations;         /* allocations + deallocations + reallocations in the snapshot */
  uint64_t time_ns;            /* the clock at the checkpoint */
  /* The period that ended (snapshots) or is running (spikes). */
  uint64_t period_ns;
  uint64_t period_allocations;
  double allocation_rate;      /* allocations per second over the last ended period; 0 before one ended */
  alloy_stats_spike_kind spike;     /* SPIKE only */
  double value;                /* SPIKE only: the value that crossed */
  double threshold;            /* SPIKE only */
  alloy_stats_snapshot snapshot;    /* both kinds: the counters at the checkpoint */
};

/* config may be NULL (count every block). ALLOY_E_INVALID_ARGUMENT for a NULL
 * inner or out; ALLOY_E_OUT_OF_MEMORY when the platform heap refuses. */
ALLOY_NODISCARD alloy_status alloy_stats_create(alloy_resource *inner, const alloy_stats_config *config,
                                                alloy_stats **out);
void alloy_stats_destroy(alloy_stats *stats);
alloy_resource *alloy_stats_resource(alloy_stats *stats);

void alloy_stats_snapshot_get(const alloy_stats *stats, alloy_stats_snapshot *out);

/* Runs a checkpoint now (from a timer or an idle loop, or to see a phase that
 * only frees through to its end); nothing when events are off or another
 * thread is in a checkpoint. */
void alloy_stats_poll(alloy_stats *stats);

const char *alloy_stats_spike_name(alloy_stats_spike_kind spike);

/* Zeroes the counters (live bytes included: call it when nothing is live). */
void alloy_stats_reset(alloy_stats *stats);

/* Human-readable lines / one JSON object, into buffer. Return the length the
 * full text needs, as snprintf does (truncated when it is >= capacity). */
size_t alloy_stats_dump_text(const alloy_stats *stats, char *buffer, size_t capacity);
size_t alloy_stats_dump_json(const alloy_stats *stats, char *buffer, size_t capacity);

ALLOY_EXTERN_C_END

#endif /* ALLOY_STATS_H */
