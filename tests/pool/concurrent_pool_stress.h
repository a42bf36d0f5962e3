/* tests/pool/concurrent_pool_stress.h — the producer/consumer stress of the
 * concurrent pool (the spec's ConcurrentPoolAllocatorTest), shared by the
 * full-length program (5 s by default) and the test (short).
 *
 * Each producer thread owns a concurrent pool: it allocates blocks, writes
 * the 0xDEADBEEF pattern and a sequence number in them, and hands them to
 * the consumers through lock-free single-producer/single-consumer rings
 * (one per producer/consumer pair); one block in 16 it verifies and frees
 * itself (the owner's local path). Consumers verify the pattern and the
 * sequence, wipe the block and free it from their thread: the remote-free
 * path. When time is up, consumers drain the rings, every thread meets at a
 * barrier, and each producer reclaims what is pending (alloy_pool_collect)
 * and checks its pool's stats against the counts the threads kept.
 */
#ifndef ALLOY_TESTS_POOL_CONCURRENT_POOL_STRESS_H
#define ALLOY_TESTS_POOL_CONCURRENT_POOL_STRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pool_stress_config {
  int producers;     /* 1 .. 16 */
  int consumers;     /* 1 .. 16 */
  double seconds;    /* how long producers keep producing */
  size_t block_size; /* >= 16 */
  bool affinity;     /* pin thread i to CPU i % CPUs */
} pool_stress_config;

typedef struct pool_stress_result {
  uint64_t allocated;       /* blocks the producers got (thread counts, atomic) */
  uint64_t remote_freed;    /* verified and freed by consumers */
  uint64_t local_freed;     /* verified and freed by their producer */
  uint64_t pool_allocations; /* the pools' own stats, summed */
  uint64_t pool_local_frees;
  uint64_t pool_remote_frees;
  uint64_t pool_batches;    /* slab batches reclaimed */
  uint64_t collected;       /* blocks reclaimed by the final collect */
  uint64_t live_after;      /* live blocks in the pools at the end (must be 0) */
  uint64_t corrupted;       /* blocks whose pattern or sequence was wrong */
  uint64_t errors;          /* failed calls and inconsistent stats */
  double elapsed;           /* seconds from start to the last join */
  char first_error[160];
} pool_stress_result;

/* Runs the scenario; returns 0 when everything was consistent. */
int pool_stress_run(const pool_stress_config *config, pool_stress_result *result);

#ifdef __cplusplus
}
#endif

#endif /* ALLOY_TESTS_POOL_CONCURRENT_POOL_STRESS_H */
