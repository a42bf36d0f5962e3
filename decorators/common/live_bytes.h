/* alloy/live_bytes.h — live and peak byte counters that many threads update
 * at once, for the decorators that count what is outstanding (stats: per
 * resource, tagged: per tag).
 *
 * Relaxed atomics throughout: the counters order nothing else, and a reader
 * takes each one as a snapshot. The peak is raised with a compare-exchange
 * loop that gives up as soon as another thread has raised it higher, so it
 * never goes down and ends at least as high as every live value any thread
 * saw.
 *
 * Internal to //decorators.
 */
#ifndef ALLOY_LIVE_BYTES_H
#define ALLOY_LIVE_BYTES_H

#include <stdatomic.h>
#include <stddef.h>

#include "alloy/compiler.h"

/* Makes *peak at least `live`. */
static ALLOY_ALWAYS_INLINE void alloy_live_bytes_raise_peak(atomic_size_t *peak, size_t live) {
  size_t seen = atomic_load_explicit(peak, memory_order_relaxed);
  while (live > seen &&
         !atomic_compare_exchange_weak_explicit(peak, &seen, live, memory_order_relaxed, memory_order_relaxed)) {
  }
}

/* Adds `bytes` to *live and raises *peak to the sum; returns the sum. */
static ALLOY_ALWAYS_INLINE size_t alloy_live_bytes_add(atomic_size_t *live, atomic_size_t *peak, size_t bytes) {
  const size_t now = atomic_fetch_add_explicit(live, bytes, memory_order_relaxed) + bytes;
  alloy_live_bytes_raise_peak(peak, now);
  return now;
}

static ALLOY_ALWAYS_INLINE void alloy_live_bytes_sub(atomic_size_t *live, size_t bytes) {
  atomic_fetch_sub_explicit(live, bytes, memory_order_relaxed);
}

#endif /* ALLOY_LIVE_BYTES_H */
