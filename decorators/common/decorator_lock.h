/* alloy/decorator_lock.h — the small lock the decorators guard their state with.
 *
 * Test-and-test-and-set on one atomic flag: uncontended acquire is one
 * exchange, release one store. A waiter spins on a plain load with a CPU
 * pause and, after a short while, yields its time slice, so two threads on
 * one core (or under Valgrind, which runs one thread at a time) do not burn
 * a whole slice each. Critical sections in the decorators are a handful of
 * instructions plus one call into the inner resource.
 *
 * Internal to //decorators; a general lock belongs in //concurrency, and this
 * one should be replaced by it once that package exists.
 */
#ifndef ALLOY_DECORATOR_LOCK_H
#define ALLOY_DECORATOR_LOCK_H

#include <stdatomic.h>
#include <stdbool.h>

#include "alloy/compiler.h"
#include "alloy/thread.h"

ALLOY_EXTERN_C_BEGIN

typedef struct alloy_decorator_lock {
  atomic_bool held;
} alloy_decorator_lock;

static inline void alloy_decorator_lock_init(alloy_decorator_lock *lock) {
  atomic_init(&lock->held, false);
}

ALLOY_COLD void alloy_decorator_lock_wait(alloy_decorator_lock *lock);

static ALLOY_ALWAYS_INLINE void alloy_decorator_lock_acquire(alloy_decorator_lock *lock) {
  if (ALLOY_LIKELY(!atomic_exchange_explicit(&lock->held, true, memory_order_acquire))) return;
  alloy_decorator_lock_wait(lock);
}

static ALLOY_ALWAYS_INLINE void alloy_decorator_lock_release(alloy_decorator_lock *lock) {
  atomic_store_explicit(&lock->held, false, memory_order_release);
}

ALLOY_EXTERN_C_END

#endif /* ALLOY_DECORATOR_LOCK_H */
