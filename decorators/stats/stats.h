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
#include "alloy/memory_config.h"
#include "alloy/resource.h"
#include "alloy/status.h"

ALLOY_EXTERN_C_BEGIN

typedef struct alloy_stats alloy_stats;

typedef struct alloy_stats_config {
  uint32_t sample_rate; /* 1 in N blocks counted; 0 or 1 = every block */
  /* Where the inner has a remote-free queue (small_object), a query for its
   * length; NULL when there is none. */
  size_t (*remote_free_pending)(const alloy_resource *inner, void *context);
  void *remote_free_context;
} alloy_stats_config;

typedef struct alloy_stats_snapshot {
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
} alloy_stats_snapshot;

/* The stats part of a memory config: the sampling rate. */
alloy_stats_config alloy_stats_config_from_memory_config(const alloy_memory_config *config);

/* config may be NULL (count every block). ALLOY_E_INVALID_ARGUMENT for a NULL
 * inner or out; ALLOY_E_OUT_OF_MEMORY when the platform heap refuses. */
ALLOY_NODISCARD alloy_status alloy_stats_create(alloy_resource *inner, const alloy_stats_config *config,
                                                alloy_stats **out);
void alloy_stats_destroy(alloy_stats *stats);
alloy_resource *alloy_stats_resource(alloy_stats *stats);

void alloy_stats_snapshot_get(const alloy_stats *stats, alloy_stats_snapshot *out);

/* Zeroes the counters (live bytes included: call it when nothing is live). */
void alloy_stats_reset(alloy_stats *stats);

/* Human-readable lines / one JSON object, into buffer. Return the length the
 * full text needs, as snprintf does (truncated when it is >= capacity). */
size_t alloy_stats_dump_text(const alloy_stats *stats, char *buffer, size_t capacity);
size_t alloy_stats_dump_json(const alloy_stats *stats, char *buffer, size_t capacity);

ALLOY_EXTERN_C_END

#endif /* ALLOY_STATS_H */
