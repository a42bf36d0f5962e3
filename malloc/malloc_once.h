/* malloc_once.c: a process-wide object made by the first call that needs
 * it, which may come before main, from a constructor or from the dynamic
 * loader, and may call back into malloc while it is being made.
 *
 * The first caller makes it; other threads that arrive meanwhile wait for
 * the outcome (a few system calls); a call that comes back on the making
 * thread itself is told so (*reentrant) and serves itself elsewhere (the
 * bootstrap buffer) instead of recursing. Used by the release heap
 * (malloc_heap.c) and the checked one (malloc_debug_heap.c). */
#ifndef ALLOY_MALLOC_ONCE_H
#define ALLOY_MALLOC_ONCE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "alloy/compiler.h"

typedef struct alloy_malloc_once {
  _Atomic int state;                  /* none, making, made or failed */
  _Atomic(pthread_t) making_thread;   /* valid while making */
  void *_Atomic made;                 /* published (release) before state says made */
} alloy_malloc_once;

#define ALLOY_MALLOC_ONCE_INIT {0, 0, NULL}

/* The object once made, else NULL: one acquire load, for the fast paths. */
static inline void *alloy_malloc_once_existing(alloy_malloc_once *once) {
  return atomic_load_explicit(&once->made, memory_order_acquire);
}

/* make() on the first call; the object, or NULL when make() failed or, with
 * *reentrant set, when the calling thread is the one making it. */
ALLOY_HIDDEN void *alloy_malloc_once_get_slow(alloy_malloc_once *once, void *(*make)(void), bool *reentrant);

static inline void *alloy_malloc_once_get(alloy_malloc_once *once, void *(*make)(void), bool *reentrant) {
  void *made = alloy_malloc_once_existing(once);
  if (ALLOY_LIKELY(made != NULL)) return made;
  return alloy_malloc_once_get_slow(once, make, reentrant);
}

#endif /* ALLOY_MALLOC_ONCE_H */
