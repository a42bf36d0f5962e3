/* The drop-in malloc's process-wide small-object heap, created on the first
 * call (which may come before main, from a constructor or from dlsym) with
 * the partition and the medium arenas' fork guards, and the bootstrap buffer for the calls
 * that creation itself causes.
 *
 * Creation allocates nothing through libc, but the libc calls it makes
 * (pthread_key_create, pthread_atfork) may call malloc on some systems: such
 * a call comes back on the creating thread while creation runs
 * (malloc_once.h), and is served from a static buffer instead of
 * recursing. */
#include <stdalign.h>
#include <stdatomic.h>
#include <stdint.h>

#include "alloy/align.h"
#include "malloc_internal.h"

/* Reserved, not committed: pages and thread caches are committed as used. */
#define HEAP_CAPACITY ((size_t)64 << 30)
#define HEAP_CAPACITY_FALLBACK ((size_t)4 << 30) /* under an address-space limit */
#define HEAP_MAX_THREADS 16384u                 /* live at once; exited threads' caches are adopted */
#define BOOTSTRAP_BYTES (64u * 1024u)
#define BOOTSTRAP_HEADER 16u                    /* the block size, kept below each bootstrap block */

alloy_malloc_once alloy_malloc_heap_once = ALLOY_MALLOC_ONCE_INIT;

static alignas(4096) char bootstrap[BOOTSTRAP_BYTES];
static _Atomic size_t bootstrap_used;

/* The medium tiers' fork guards first, then the heap. */
static void *make_heap(void) {
  alloy_malloc_partition_init();
  alloy_malloc_medium_init();
  alloy_small_object_config config = {0};
  config.max_size = ALLOY_MALLOC_SMALL_MAX;
  config.capacity = HEAP_CAPACITY;
  config.max_threads = HEAP_MAX_THREADS;
  config.on_page_event = alloy_malloc_decay_page_event;
  alloy_small_object *made = NULL;
  if (alloy_small_object_create(&config, &made) == ALLOY_OK) return made;
  config.capacity = HEAP_CAPACITY_FALLBACK;
  if (alloy_small_object_create(&config, &made) == ALLOY_OK) return made;
  return NULL;
}

alloy_small_object *alloy_malloc_heap_get(bool *reentrant) {
  return alloy_malloc_once_get(&alloy_malloc_heap_once, make_heap, reentrant);
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
