/* Making a process-wide object once, from whichever thread asks first
 * (malloc_once.h). */
#include "malloc_once.h"

#include <sched.h>

enum once_state { ONCE_NONE, ONCE_MAKING, ONCE_MADE, ONCE_FAILED };

ALLOY_NOINLINE void *alloy_malloc_once_get_slow(alloy_malloc_once *once, void *(*make)(void), bool *reentrant) {
  int state = ONCE_NONE;
  if (atomic_compare_exchange_strong_explicit(&once->state, &state, ONCE_MAKING, memory_order_acquire,
                                              memory_order_acquire)) {
    atomic_store_explicit(&once->making_thread, pthread_self(), memory_order_relaxed);
    void *made = make();
    atomic_store_explicit(&once->made, made, memory_order_release);
    atomic_store_explicit(&once->state, made != NULL ? ONCE_MADE : ONCE_FAILED, memory_order_release);
    return made;
  }
  pthread_t maker = atomic_load_explicit(&once->making_thread, memory_order_relaxed);
  if (state == ONCE_MAKING && pthread_equal(maker, pthread_self())) {
    *reentrant = true;
    return NULL;
  }
  while ((state = atomic_load_explicit(&once->state, memory_order_acquire)) == ONCE_MAKING) sched_yield();
  return state == ONCE_MADE ? atomic_load_explicit(&once->made, memory_order_acquire) : NULL;
}
