/* The producer/consumer stress of the concurrent pool (see the header). */
#define _GNU_SOURCE
#include "tests/pool/concurrent_pool_stress.h"

#include <pthread.h>
#include <sched.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "alloy/pool.h"

#define PATTERN 0xDEADBEEFu
#define MAX_THREADS 16
#define RING_SIZE 256u /* a power of two */
#define FLUSH_EVERY 256u /* thread-local counts go to the shared atomics this often */
#define LOCAL_FREE_EVERY 16u

typedef struct ring_entry {
  uint32_t *block;
  uint64_t sequence;
} ring_entry;

/* Single producer, single consumer: the producer owns `tail`, the consumer
 * `head`; each publishes with release and reads the other's with acquire. */
typedef struct ring {
  alignas(64) _Atomic(size_t) head;
  alignas(64) _Atomic(size_t) tail;
  alignas(64) ring_entry entries[RING_SIZE];
} ring;

typedef struct shared_state {
  pool_stress_config config;
  ring rings[MAX_THREADS][MAX_THREADS]; /* [producer][consumer] */
  alloy_pool *pools[MAX_THREADS];
  _Atomic(bool) stop;
  _Atomic(int) producers_done;
  _Atomic(uint64_t) allocated, remote_freed, local_freed, corrupted, errors;
  _Atomic(uint64_t) pool_allocations, pool_local_frees, pool_remote_frees, pool_batches, collected, live_after;
  pthread_barrier_t ready, drained;
  pthread_mutex_t error_lock;
  char first_error[160];
} shared_state;

typedef struct thread_arg {
  shared_state *state;
  int index;
} thread_arg;

static void record_error(shared_state *state, const char *what, uint64_t got, uint64_t want) {
  atomic_fetch_add(&state->errors, 1);
  pthread_mutex_lock(&state->error_lock);
  if (state->first_error[0] == '\0')
    snprintf(state->first_error, sizeof state->first_error, "%s: got %llu, expected %llu", what,
             (unsigned long long)got, (unsigned long long)want);
  pthread_mutex_unlock(&state->error_lock);
}

static void pin(const shared_state *state, int slot) {
  if (!state->config.affinity) return;
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  if (cpus < 1) cpus = 1;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET((int)(slot % cpus), &set);
  pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

static size_t words_of(const shared_state *state) { return state->config.block_size / sizeof(uint32_t); }

/* Every word but the last two holds the pattern; those two hold the sequence. */
static void write_block(uint32_t *block, size_t words, uint64_t sequence) {
  for (size_t i = 0; i + 2 < words; ++i) block[i] = PATTERN;
  memcpy(&block[words - 2], &sequence, sizeof sequence);
}

static bool verify_and_wipe(uint32_t *block, size_t words, uint64_t sequence) {
  bool good = true;
  for (size_t i = 0; i + 2 < words; ++i) good &= block[i] == PATTERN;
  uint64_t stored;
  memcpy(&stored, &block[words - 2], sizeof stored);
  good &= stored == sequence;
  memset(block, 0, words * sizeof(uint32_t)); /* a second delivery of this block would fail */
  return good;
}

static void *producer_main(void *raw) {
  thread_arg *arg = raw;
  shared_state *state = arg->state;
  const int me = arg->index;
  const size_t words = words_of(state);
  pin(state, me);
  /* The pool belongs to this thread: created here, so this thread owns it. */
  alloy_pool_config config = alloy_pool_config_default(state->config.block_size);
  config.concurrent_free = true;
  alloy_pool *pool = NULL;
  if (alloy_pool_create(&config, &pool) != ALLOY_OK) {
    record_error(state, "pool create", 1, 0);
    pool = NULL;
  }
  state->pools[me] = pool;
  pthread_barrier_wait(&state->ready);

  uint64_t sequence = (uint64_t)me << 48, allocated = 0, local = 0, flushed_allocated = 0, flushed_local = 0;
  int consumer = 0;
  while (pool != NULL && !atomic_load_explicit(&state->stop, memory_order_relaxed)) {
    alloy_block block;
    if (alloy_pool_allocate(pool, config.block_size, 8, &block) != ALLOY_OK) {
      record_error(state, "owner allocate", 1, 0);
      break;
    }
    ++allocated;
    write_block(block.ptr, words, ++sequence);
    if (sequence % LOCAL_FREE_EVERY == 0) { /* the owner's own free, amid remote ones */
      if (!verify_and_wipe(block.ptr, words, sequence)) atomic_fetch_add(&state->corrupted, 1);
      if (alloy_pool_free(pool, block, 8) != ALLOY_OK) record_error(state, "owner free", 1, 0);
      ++local;
    } else {
      ring *r = &state->rings[me][consumer];
      consumer = (consumer + 1) % state->config.consumers;
      size_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
      while (tail - atomic_load_explicit(&r->head, memory_order_acquire) == RING_SIZE) sched_yield();
      r->entries[tail % RING_SIZE].block = block.ptr;
      r->entries[tail % RING_SIZE].sequence = sequence;
      atomic_store_explicit(&r->tail, tail + 1, memory_order_release);
    }
    if (allocated - flushed_allocated >= FLUSH_EVERY) {
      atomic_fetch_add(&state->allocated, allocated - flushed_allocated);
      atomic_fetch_add(&state->local_freed, local - flushed_local);
      flushed_allocated = allocated;
      flushed_local = local;
    }
  }
  atomic_fetch_add(&state->allocated, allocated - flushed_allocated);
  atomic_fetch_add(&state->local_freed, local - flushed_local);
  atomic_fetch_add_explicit(&state->producers_done, 1, memory_order_release);
  pthread_barrier_wait(&state->drained); /* every block handed out is freed now */

  if (pool != NULL) {
    alloy_pool_stats before;
    alloy_pool_get_stats(pool, &before);
    const size_t collected = alloy_pool_collect(pool);
    alloy_pool_stats stats;
    alloy_pool_get_stats(pool, &stats);
    if (collected != before.remote_pending) record_error(state, "collected blocks", collected, before.remote_pending);
    if (stats.remote_pending != 0) record_error(state, "pending after collect", stats.remote_pending, 0);
    if (stats.live_blocks != 0) record_error(state, "live blocks at the end", stats.live_blocks, 0);
    if (stats.allocations != allocated) record_error(state, "pool allocations", stats.allocations, allocated);
    if (stats.local_frees != local) record_error(state, "pool local frees", stats.local_frees, local);
    if (stats.allocations != stats.local_frees + stats.remote_frees)
      record_error(state, "allocations - frees", stats.allocations, stats.local_frees + stats.remote_frees);
    atomic_fetch_add(&state->pool_allocations, stats.allocations);
    atomic_fetch_add(&state->pool_local_frees, stats.local_frees);
    atomic_fetch_add(&state->pool_remote_frees, stats.remote_frees);
    atomic_fetch_add(&state->pool_batches, stats.remote_batches);
    atomic_fetch_add(&state->collected, collected);
    atomic_fetch_add(&state->live_after, stats.live_blocks);
    alloy_pool_destroy(pool);
  }
  return NULL;
}

static bool pop(ring *r, ring_entry *out) {
  size_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
  if (head == atomic_load_explicit(&r->tail, memory_order_acquire)) return false;
  *out = r->entries[head % RING_SIZE];
  atomic_store_explicit(&r->head, head + 1, memory_order_release);
  return true;
}

static void *consumer_main(void *raw) {
  thread_arg *arg = raw;
  shared_state *state = arg->state;
  const int me = arg->index;
  const size_t words = words_of(state);
  pin(state, state->config.producers + me);
  pthread_barrier_wait(&state->ready);
  uint64_t freed = 0, flushed = 0;
  for (;;) {
    /* Read `done` before looking at the rings: once every producer is done
     * and the rings are empty, nothing more can arrive. */
    const bool done =
        atomic_load_explicit(&state->producers_done, memory_order_acquire) == state->config.producers;
    bool any = false;
    for (int p = 0; p < state->config.producers; ++p) {
      ring_entry entry;
      while (pop(&state->rings[p][me], &entry)) {
        any = true;
        if (!verify_and_wipe(entry.block, words, entry.sequence)) atomic_fetch_add(&state->corrupted, 1);
        /* A remote free: this thread does not own the pool. */
        if (alloy_pool_free(state->pools[p], alloy_block_make(entry.block, state->config.block_size), 8) != ALLOY_OK)
          record_error(state, "remote free", 1, 0);
        if (++freed - flushed >= FLUSH_EVERY) {
          atomic_fetch_add(&state->remote_freed, freed - flushed);
          flushed = freed;
        }
      }
    }
    if (done && !any) break;
    if (!any) sched_yield();
  }
  atomic_fetch_add(&state->remote_freed, freed - flushed);
  /* Send the open batches before the owners count, collect and destroy. */
  for (int p = 0; p < state->config.producers; ++p)
    if (state->pools[p] != NULL) alloy_pool_thread_detach(state->pools[p]);
  pthread_barrier_wait(&state->drained);
  return NULL;
}

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int pool_stress_run(const pool_stress_config *config, pool_stress_result *result) {
  memset(result, 0, sizeof *result);
  if (config->producers < 1 || config->producers > MAX_THREADS || config->consumers < 1 ||
      config->consumers > MAX_THREADS || config->block_size < 16 || config->seconds < 0) {
    snprintf(result->first_error, sizeof result->first_error, "bad configuration");
    result->errors = 1;
    return 1;
  }
  static shared_state state; /* large (the rings); one run at a time */
  memset(&state, 0, sizeof state);
  state.config = *config;
  state.config.block_size &= ~(size_t)7; /* whole words */
  pthread_mutex_init(&state.error_lock, NULL);
  const unsigned parties = (unsigned)(config->producers + config->consumers);
  pthread_barrier_init(&state.ready, NULL, parties + 1);
  pthread_barrier_init(&state.drained, NULL, parties);

  pthread_t threads[2 * MAX_THREADS];
  thread_arg args[2 * MAX_THREADS];
  for (int i = 0; i < config->producers; ++i) {
    args[i] = (thread_arg){&state, i};
    pthread_create(&threads[i], NULL, producer_main, &args[i]);
  }
  for (int i = 0; i < config->consumers; ++i) {
    args[config->producers + i] = (thread_arg){&state, i};
    pthread_create(&threads[config->producers + i], NULL, consumer_main, &args[config->producers + i]);
  }
  pthread_barrier_wait(&state.ready);
  const double start = now_seconds();
  const double deadline = start + config->seconds;
  for (double now = start; now < deadline; now = now_seconds()) {
    double left = deadline - now;
    if (left > 0.05) left = 0.05;
    struct timespec pause = {0, (long)(left * 1e9)};
    nanosleep(&pause, NULL);
  }
  atomic_store(&state.stop, true);
  for (unsigned i = 0; i < parties; ++i) pthread_join(threads[i], NULL);
  result->elapsed = now_seconds() - start;

  result->allocated = atomic_load(&state.allocated);
  result->remote_freed = atomic_load(&state.remote_freed);
  result->local_freed = atomic_load(&state.local_freed);
  result->pool_allocations = atomic_load(&state.pool_allocations);
  result->pool_local_frees = atomic_load(&state.pool_local_frees);
  result->pool_remote_frees = atomic_load(&state.pool_remote_frees);
  result->pool_batches = atomic_load(&state.pool_batches);
  result->collected = atomic_load(&state.collected);
  result->live_after = atomic_load(&state.live_after);
  result->corrupted = atomic_load(&state.corrupted);
  result->errors = atomic_load(&state.errors);
  memcpy(result->first_error, state.first_error, sizeof result->first_error);

  /* The threads' own counts against each other and against the pools'. */
  if (result->allocated != result->remote_freed + result->local_freed)
    record_error(&state, "allocated vs freed (threads)", result->allocated, result->remote_freed + result->local_freed);
  if (result->pool_allocations != result->allocated)
    record_error(&state, "pool allocations vs threads", result->pool_allocations, result->allocated);
  if (result->pool_remote_frees != result->remote_freed)
    record_error(&state, "pool remote frees vs consumers", result->pool_remote_frees, result->remote_freed);
  if (result->pool_local_frees != result->local_freed)
    record_error(&state, "pool local frees vs producers", result->pool_local_frees, result->local_freed);
  if (result->corrupted != 0) record_error(&state, "corrupted blocks", result->corrupted, 0);
  if (result->live_after != 0) record_error(&state, "leaked blocks", result->live_after, 0);
  result->errors = atomic_load(&state.errors);
  memcpy(result->first_error, state.first_error, sizeof result->first_error);

  pthread_barrier_destroy(&state.ready);
  pthread_barrier_destroy(&state.drained);
  pthread_mutex_destroy(&state.error_lock);
  return result->errors == 0 ? 0 : 1;
}
