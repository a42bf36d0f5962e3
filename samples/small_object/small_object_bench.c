/* small_object_bench — a quick look at the small-object heap's fast path.
 *
 * Allocates and frees mixed 8..256 B blocks on one thread (the local fast
 * path), then keeps 10 000 objects live and replaces random ones, and prints
 * nanoseconds per operation and the heap's own counters. The side-by-side
 * comparison with other allocators is //bench/small_object.
 *
 *   bazel run //samples/small_object:small_object_bench -- [pairs]
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "alloy/small_object.h"

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static size_t next_size(uint32_t *state) {
  uint32_t x = *state;
  x ^= x << 13, x ^= x >> 17, x ^= x << 5;
  *state = x;
  return 8 + x % 249;
}

int main(int argc, char **argv) {
  size_t pairs = argc > 1 ? (size_t)strtoull(argv[1], NULL, 10) : 20000000;
  alloy_small_object *heap;
  alloy_status status = alloy_small_object_create(NULL, &heap);
  if (status != ALLOY_OK) {
    fprintf(stderr, "create: %s\n", alloy_status_string(status));
    return 1;
  }

  /* 1. Allocate + free pairs: the block comes straight back. */
  uint32_t rng = 2463534242u;
  double t0 = now_ns();
  for (size_t i = 0; i < pairs; ++i) {
    size_t size = next_size(&rng);
    alloy_block block;
    if (alloy_small_object_allocate(heap, size, 8, &block) != ALLOY_OK) return 1;
    ((volatile char *)block.ptr)[0] = 1;
    alloy_small_object_deallocate(heap, alloy_block_make(block.ptr, size), 8);
  }
  double pair_ns = (now_ns() - t0) / (double)pairs;
  printf("allocate+free pairs, 8..256 B:   %.2f ns per operation\n", pair_ns / 2);

  /* 2. A working set of 10 000 live objects, random replacement. */
  enum { LIVE = 10000 };
  static alloy_block live[LIVE];
  for (size_t i = 0; i < LIVE; ++i)
    if (alloy_small_object_allocate(heap, next_size(&rng), 8, &live[i]) != ALLOY_OK) return 1;
  t0 = now_ns();
  for (size_t i = 0; i < pairs; ++i) {
    size_t slot = next_size(&rng) * 40 % LIVE;
    alloy_small_object_deallocate(heap, live[slot], 8);
    if (alloy_small_object_allocate(heap, next_size(&rng), 8, &live[slot]) != ALLOY_OK) return 1;
  }
  double set_ns = (now_ns() - t0) / (double)pairs;
  printf("10k working set, random replace: %.2f ns per pair (%.1f M pairs/s)\n", set_ns, 1e3 / set_ns);

  alloy_small_object_stats stats;
  alloy_small_object_get_stats(heap, &stats);
  printf("live %zu B, %llu allocations, %llu frees, %zu pages committed, %zu KiB committed\n", stats.live_bytes,
         (unsigned long long)stats.allocations, (unsigned long long)stats.deallocations, stats.pages_committed,
         stats.committed_bytes / 1024);
  for (size_t i = 0; i < LIVE; ++i) alloy_small_object_deallocate(heap, live[i], 8);
  alloy_small_object_destroy(heap);
  return 0;
}
