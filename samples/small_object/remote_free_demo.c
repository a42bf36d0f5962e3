/* remote_free_demo — blocks freed by threads that do not own them.
 *
 * The main thread allocates blocks and hands them to worker threads, which
 * check and free them: every such free is a remote free. It never blocks the
 * owner and takes no lock; the blocks travel back in batches through the
 * remote-free channel, and the owner reclaims them all in one step on its
 * next slow path (here: alloy_small_object_collect). Then a thread that
 * exits with live blocks leaves its cache abandoned, and the next new thread
 * adopts it.
 *
 *   bazel run //samples/small_object:remote_free_demo
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "alloy/small_object.h"

enum { WORKERS = 4, PER_WORKER = 50000 };

static alloy_small_object *heap;
static alloy_block handed[WORKERS][PER_WORKER];
static int bad_blocks[WORKERS];

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void *worker(void *arg) {
  size_t w = (size_t)(uintptr_t)arg;
  for (size_t i = 0; i < PER_WORKER; ++i) {
    const uint32_t *word = handed[w][i].ptr;
    if (*word != 0xDEADBEEFu) bad_blocks[w]++;
    alloy_small_object_deallocate(heap, handed[w][i], 8); /* remote: main owns it */
  }
  return NULL; /* thread exit sends this worker's last batch */
}

static void *leaver(void *arg) {
  (void)arg;
  alloy_block block;
  if (alloy_small_object_allocate(heap, 64, 8, &block) != ALLOY_OK) return NULL;
  return NULL; /* exits with the block live */
}

static void *adopter(void *arg) {
  (void)arg;
  alloy_block block;
  if (alloy_small_object_allocate(heap, 64, 8, &block) == ALLOY_OK) alloy_small_object_deallocate(heap, block, 8);
  return NULL;
}

static void print_stats(const char *when) {
  alloy_small_object_stats s;
  alloy_small_object_get_stats(heap, &s);
  printf("%-28s live %7zu B  remote frees %7llu  caches %zu (abandoned %zu, adoptions %llu)  pages %zu (recycled %zu)\n",
         when, s.live_bytes, (unsigned long long)s.remote_deallocations, s.thread_caches, s.abandoned_caches,
         (unsigned long long)s.adoptions, s.pages_committed, s.pages_recycled);
}

int main(void) {
  if (alloy_small_object_create(NULL, &heap) != ALLOY_OK) return 1;
  for (size_t w = 0; w < WORKERS; ++w)
    for (size_t i = 0; i < PER_WORKER; ++i) {
      if (alloy_small_object_allocate(heap, 8 + (i * 13) % 120, 8, &handed[w][i]) != ALLOY_OK) return 1;
      *(uint32_t *)handed[w][i].ptr = 0xDEADBEEFu;
    }
  print_stats("allocated by main:");

  pthread_t threads[WORKERS];
  for (size_t w = 0; w < WORKERS; ++w) pthread_create(&threads[w], NULL, worker, (void *)(uintptr_t)w);
  for (size_t w = 0; w < WORKERS; ++w) pthread_join(threads[w], NULL);
  print_stats("freed by workers:");

  double t0 = now_ns();
  alloy_small_object_collect(heap); /* the whole batch, one step */
  double reclaim_us = (now_ns() - t0) / 1e3;
  print_stats("after main's collect:");
  printf("main reclaimed %d blocks in %.1f us\n", WORKERS * PER_WORKER, reclaim_us);

  pthread_t t;
  pthread_create(&t, NULL, leaver, NULL);
  pthread_join(t, NULL);
  print_stats("a thread left a live block:");
  pthread_create(&t, NULL, adopter, NULL);
  pthread_join(t, NULL);
  print_stats("a new thread adopted it:");

  int bad = 0;
  for (size_t w = 0; w < WORKERS; ++w) bad += bad_blocks[w];
  printf("%s\n", bad == 0 ? "every block arrived intact" : "CORRUPTED BLOCKS");
  alloy_small_object_destroy(heap);
  return bad == 0 ? 0 : 1;
}
