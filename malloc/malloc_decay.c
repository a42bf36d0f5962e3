/* The drop-in malloc's decay: memory a program freed and did not reuse goes
 * back to the OS on its own, a second or so later, as in mimalloc and
 * jemalloc, not only on an explicit trim.
 *
 * The clock is read on the slow paths only: once every DECAY_EVENTS medium
 * and large allocations and frees per thread, and at every page the
 * small-object heap's thread caches take for a class or give back empty
 * (a page's worth of small blocks apart). Once DECAY_PERIOD has passed
 * since the last decay, the first thread to notice trims the small-object
 * heap (frees sent to exited threads' caches are reclaimed, its empty pages
 * decommitted), the partition (the thread's own cache and the blocks other
 * threads sent back go home to their slabs, empty slabs are decommitted)
 * and each medium arena it can lock without waiting (spare pools unmapped,
 * whole free pages purged). A program that stops
 * allocating keeps what it freed last until its next page event. */
#define _GNU_SOURCE
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

#include "malloc_internal.h"

#define DECAY_EVENTS 256u
#define DECAY_PERIOD_NS UINT64_C(1000000000)

static _Atomic uint64_t last_decay_ns;
static ALLOY_THREAD_LOCAL unsigned events __attribute__((tls_model("initial-exec")));

static uint64_t now_ns(void) {
  struct timespec now;
  if (clock_gettime(CLOCK_MONOTONIC_COARSE, &now) != 0) return 0;
  return (uint64_t)now.tv_sec * UINT64_C(1000000000) + (uint64_t)now.tv_nsec;
}

static ALLOY_NOINLINE void decay_if_due(void) {
  uint64_t now = now_ns();
  uint64_t last = atomic_load_explicit(&last_decay_ns, memory_order_relaxed);
  if (now - last < DECAY_PERIOD_NS) return;
  if (!atomic_compare_exchange_strong_explicit(&last_decay_ns, &last, now, memory_order_relaxed,
                                               memory_order_relaxed))
    return; /* another thread decays this period */
  alloy_small_object *heap = alloy_malloc_heap_existing();
  if (heap != NULL) alloy_small_object_trim(heap);
  alloy_malloc_partition_trim();
  alloy_malloc_medium_trim();
}

void alloy_malloc_decay_page_event(void *context) {
  (void)context;
  decay_if_due();
}

void alloy_malloc_decay_tick(void) {
  if (ALLOY_LIKELY(++events % DECAY_EVENTS != 0)) return;
  decay_if_due();
}
