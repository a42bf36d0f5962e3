/* alloy/decorator_lock.h — how a decorator that keeps state of its own (debug's
 * live table and quarantine, leak's records) is shared between threads.
 *
 * Two modes, chosen once from the inner resource's thread safety:
 *   - over a thread-safe inner, the lock guards the decorator's own state
 *     only, and calls into the inner run outside it, so threads meet only on
 *     the short table updates;
 *   - over a thread-unsafe inner, one lock covers each whole call, the inner
 *     call included: the decorator serializes its inner and is itself
 *     thread-safe. A stack such as debug(tagged(stats(tlsf))) then needs no
 *     locked decorator under it and pays one lock per call, not two.
 *
 * A call that reaches the inner opens with call_enter and closes with
 * call_leave; inside it, state_enter / state_leave guard the decorator's
 * state (a no-op when the call already holds the lock). An entry point that
 * touches only the decorator's state (a report, a count, owns) takes the
 * lock with query_enter / query_leave in either mode.
 *
 * fork(): the lock is registered with //concurrency:fork_guard from
 * alloy_decorator_lock_init to alloy_decorator_lock_destroy, in both modes
 * (allocation takes it in both), so a child never inherits it held. The
 * guard takes it before the inner's locks, the order a serialized call
 * nests them in (the decorator is created after its inner).
 *
 * Internal to //decorators.
 */
#ifndef ALLOY_DECORATOR_LOCK_H
#define ALLOY_DECORATOR_LOCK_H

#include <stdbool.h>

#include "alloy/compiler.h"
#include "alloy/fork_guard.h"
#include "alloy/resource.h"
#include "alloy/spin_lock.h"

typedef struct alloy_decorator_lock {
  alloy_spin_lock lock;
  bool serializes_inner;
  alloy_fork_guard fork_guard;
} alloy_decorator_lock;

/* `inner` NULL: the decorator's calls never reach an inner (guard pages).
 * The lock must stay where it is until alloy_decorator_lock_destroy. */
static inline void alloy_decorator_lock_init(alloy_decorator_lock *lock, const alloy_resource *inner) {
  alloy_spin_lock_init(&lock->lock);
  lock->serializes_inner = false;
  if (inner != NULL) {
    alloy_resource_info info;
    alloy_resource_get_info(inner, &info);
    lock->serializes_inner = info.thread_safety == ALLOY_THREAD_UNSAFE;
  }
  alloy_fork_guard_register_lock(&lock->fork_guard, &lock->lock);
}

/* From the decorator's destroy, while no thread uses it. */
static inline void alloy_decorator_lock_destroy(alloy_decorator_lock *lock) {
  alloy_fork_guard_unregister(&lock->fork_guard);
}

static ALLOY_ALWAYS_INLINE void alloy_decorator_lock_call_enter(alloy_decorator_lock *lock) {
  if (lock->serializes_inner) alloy_spin_lock_acquire(&lock->lock);
}

static ALLOY_ALWAYS_INLINE void alloy_decorator_lock_call_leave(alloy_decorator_lock *lock) {
  if (lock->serializes_inner) alloy_spin_lock_release(&lock->lock);
}

static ALLOY_ALWAYS_INLINE void alloy_decorator_lock_state_enter(alloy_decorator_lock *lock) {
  if (!lock->serializes_inner) alloy_spin_lock_acquire(&lock->lock);
}

static ALLOY_ALWAYS_INLINE void alloy_decorator_lock_state_leave(alloy_decorator_lock *lock) {
  if (!lock->serializes_inner) alloy_spin_lock_release(&lock->lock);
}

static ALLOY_ALWAYS_INLINE void alloy_decorator_lock_query_enter(alloy_decorator_lock *lock) {
  alloy_spin_lock_acquire(&lock->lock);
}

static ALLOY_ALWAYS_INLINE void alloy_decorator_lock_query_leave(alloy_decorator_lock *lock) {
  alloy_spin_lock_release(&lock->lock);
}

#endif /* ALLOY_DECORATOR_LOCK_H */
