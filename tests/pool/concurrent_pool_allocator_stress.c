/* concurrent_pool_allocator_stress — the spec's ConcurrentPoolAllocatorTest
 * at full length: the concurrent pool under a sustained producer/consumer
 * load (5 s by default). //tests/pool:concurrent_pool_allocator_test runs the
 * same stress, shortened, in the test suite.
 *
 * Producers own their pools and allocate; consumers verify every block's
 * 0xDEADBEEF pattern and free it from their own thread, so nearly every
 * free takes the remote-free path and comes back to its owner in batches.
 * At the end every pool must account for every block (no leak, stats equal
 * to the threads' atomic counts); any inconsistency exits non-zero.
 *
 *   bazel run //tests/pool:concurrent_pool_allocator_stress -- [--seconds=S] [--producers=N] [--consumers=N] [--affinity]
 *   ALLOY_STRESS_SECONDS=S overrides the default duration too.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/pool/concurrent_pool_stress.h"

int main(int argc, char **argv) {
  pool_stress_config config = {3, 3, 5.0, 64, false};
  const char *env = getenv("ALLOY_STRESS_SECONDS");
  if (env != NULL && *env != '\0') config.seconds = atof(env);
  for (int i = 1; i < argc; ++i) {
    if (strncmp(argv[i], "--seconds=", 10) == 0) {
      config.seconds = atof(argv[i] + 10);
    } else if (strncmp(argv[i], "--producers=", 12) == 0) {
      config.producers = atoi(argv[i] + 12);
    } else if (strncmp(argv[i], "--consumers=", 12) == 0) {
      config.consumers = atoi(argv[i] + 12);
    } else if (strcmp(argv[i], "--affinity") == 0) {
      config.affinity = true;
    } else {
      fprintf(stderr, "usage: %s [--seconds=S] [--producers=N] [--consumers=N] [--affinity]\n", argv[0]);
      return 2;
    }
  }
  printf("%d producers (each owning a concurrent pool of %zu B blocks), %d consumers, %.1f s%s\n",
         config.producers, config.block_size, config.consumers, config.seconds,
         config.affinity ? ", pinned" : "");
  pool_stress_result r;
  const int failed = pool_stress_run(&config, &r);
  printf("blocks allocated      %llu (%.2f M/s)\n", (unsigned long long)r.allocated,
         r.elapsed > 0 ? (double)r.allocated / r.elapsed / 1e6 : 0.0);
  printf("freed by consumers    %llu (remote)\n", (unsigned long long)r.remote_freed);
  printf("freed by producers    %llu (local)\n", (unsigned long long)r.local_freed);
  printf("pools: allocations    %llu, local frees %llu, remote frees %llu\n",
         (unsigned long long)r.pool_allocations, (unsigned long long)r.pool_local_frees,
         (unsigned long long)r.pool_remote_frees);
  printf("batches reclaimed     %llu (%.1f blocks per batch), %llu collected at the end\n",
         (unsigned long long)r.pool_batches,
         r.pool_batches ? (double)(r.pool_remote_frees - r.collected) / (double)r.pool_batches : 0.0,
         (unsigned long long)r.collected);
  printf("corrupted blocks      %llu, live at the end %llu\n", (unsigned long long)r.corrupted,
         (unsigned long long)r.live_after);
  if (failed) {
    printf("FAILED: %llu inconsistencies, first: %s\n", (unsigned long long)r.errors, r.first_error);
    return 1;
  }
  printf("OK: every block verified, every free accounted for\n");
  return 0;
}
