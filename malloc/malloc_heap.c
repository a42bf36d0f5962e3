/* The drop-in malloc's process-wide small-object heap, created on the first
 * call (which may come before main, from a constructor or from dlsym) with
 * the medium arenas' fork guards, and the bootstrap buffer for the calls
 * that creation itself causes.
 *
 * Creation allocates nothing through libc, but the libc calls it makes
 * (pthread_key_create, pthread_atfork) may call malloc on some systems: such
 * a call comes back here on the creating thread while creation runs, and is
 * served from a static buffer instead of recursing. Other threads that
 * arrive meanwhile wait for the state to settle. */
#include <pthread.h>
#include <sched.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdint.h>

#include "alloy/align.h"
#include "malloc_internal.h"

enum heap_state { HEAP_NONE, HEAP_CREATING, HEAP_READY, HEAP_FAILED };

/* Reserved, not committed: pages and thread caches are committed as used. */
#define HEAP_CAPACITY ((size_t)64 << 30)
#define HEAP_CAPACITY_FALLBACK ((size_t)4 << 30) /* under an address-space limit */
#define HEAP_MAX_THREADS 16384u                 /* live at once; exited threads' caches are adopted */
#define BOOTSTRAP_BYTES (64u * 1024u)
#define BOOTSTRAP_HEADER 16u                    /* the block size, kept below each bootstrap block */

static _Atomic int heap_state = HEAP_NONE;
/* Published (release) before heap_state becomes HEAP_READY (see malloc_internal.h). */
alloy_small_object *_Atomic alloy_malloc_heap_ready;
static _Atomic(pthread_t) creating_thread; /* valid while heap_state is HEAP_CREATING */

static alignas(4096) char bootstrap[BOOTSTRAP_BYTES];
static _Atomic size_t bootstrap_used;

static alloy_small_object *create_heap(void) {
  alloy_small_object_config config = {0};
  config.max_size = ALLOY_MALLOC_SMALL_MAX;
  config.capacity = HEAP_CAPACITY;
  config.max_threads = HEAP_MAX_THREADS;
  config.on_page_event = alloy_malloc_decay_page_event;
  alloy_small_object *created = NULL;
  if (alloy_small_object_create(&config, &created) == ALLOY_OK) return created;
  config.capacity = HEAP_CAPACITY_FALLBACK;
  if (alloy_small_object_create(&config, &created) == ALLOY_OK) return created;
  return NULL;
}

/* The first caller creates the heap; the others wait (a few system calls). */
static ALLOY_NOINLINE alloy_small_object *heap_get_slow(bool *reentrant) {
  int expected = HEAP_NONE;
  if (atomic_compare_exchange_strong_explicit(&heap_state, &expected, HEAP_CREATING, memory_order_acquire,
                                              memory_order_acquire)) {
    atomic_store_explicit(&creating_thread, pthread_self(), memory_order_relaxed);
    alloy_malloc_medium_init();
    alloy_small_object *created = create_heap();
    atomic_store_explicit(&alloy_malloc_heap_ready, created, memory_order_release);
    atomic_store_explicit(&heap_state, created != NULL ? HEAP_READY : HEAP_FAILED, memory_order_release);
    return created;
  }
  pthread_t creator = atomic_load_explicit(&creating_thread, memory_order_relaxed);
  if (expected == HEAP_CREATING && pthread_equal(creator, pthread_self())) {
    *reentrant = true;
    return NULL;
  }
  while ((expected = atomic_load_explicit(&heap_state, memory_order_acquire)) == HEAP_CREATING) sched_yield();
  return expected == HEAP_READY ? atomic_load_explicit(&alloy_malloc_heap_ready, memory_order_acquire) : NULL;
}

alloy_small_object *alloy_malloc_heap_get(bool *reentrant) {
  alloy_small_object *ready = atomic_load_explicit(&alloy_malloc_heap_ready, memory_order_acquire);
  if (ALLOY_LIKELY(ready != NULL)) return ready;
  return heap_get_slow(reentrant);
}

bool alloy_malloc_heap_is_bootstrap(const void *ptr) {
  return (uintptr_t)ptr - (uintptr_t)bootstrap < BOOTSTRAP_BYTES;
}

void *alloy_malloc_heap_bootstrap_allocate(size_t size, size_t align) {
  if (align < ALLOY_MALLOC_ALIGN) align = ALLOY_MALLOC_ALIGN;
  if (size > BOOTSTRAP_BYTES || align > BOOTSTRAP_BYTES / 2) return NULL;
  size_t used = atomic_load_explicit(&bootstrap_used, memory_order_relaxed);
  for (;;) {
    size_t start = alloy_align_up(used + BOOTSTRAP_HEADER, align);
    size_t end = alloy_align_up(start + size, ALLOY_MALLOC_ALIGN);
    if (end > BOOTSTRAP_BYTES) return NULL;
    if (atomic_compare_exchange_weak_explicit(&bootstrap_used, &used, end, memory_order_relaxed,
                                              memory_order_relaxed)) {
      *(size_t *)(void *)(bootstrap + start - sizeof(size_t)) = end - start;
      return bootstrap + start;
    }
  }
}

size_t alloy_malloc_heap_bootstrap_usable_size(const void *ptr) {
  return *(const size_t *)(const void *)((const char *)ptr - sizeof(size_t));
}
