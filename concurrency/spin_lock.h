/* alloy/spin_lock.h — a small test-and-test-and-set spin lock.
 *
 * For critical sections of a few dozen instructions (a free-page list, a
 * registry, a decorator's bookkeeping) where a futex would cost more than the
 * wait. The uncontended acquire is one exchange and the release one store,
 * both inline. Waiters spin on a plain load (the line stays shared until the
 * holder releases), back off exponentially with alloy_cpu_relax, and yield
 * the CPU after a while so a descheduled holder (an oversubscribed VM,
 * Valgrind's serialised threads) can run. Not fair and not recursive.
 * Zero-initialised memory is an unlocked lock.
 *
 * The flag is a plain bool touched only through the GCC/Clang __atomic
 * builtins, which C11 and C++ callers (and ThreadSanitizer) understand alike.
 */
#ifndef ALLOY_SPIN_LOCK_H
#define ALLOY_SPIN_LOCK_H

#include <stdbool.h>

#include "alloy/compiler.h"

ALLOY_EXTERN_C_BEGIN

typedef struct alloy_spin_lock {
  bool locked;
} alloy_spin_lock;

static inline void alloy_spin_lock_init(alloy_spin_lock *lock) { __atomic_store_n(&lock->locked, false, __ATOMIC_RELAXED); }

/* The contended path: spin, back off, yield, retry. */
ALLOY_COLD void alloy_spin_lock_wait(alloy_spin_lock *lock);

/* Acquire semantics: what the previous holder wrote before unlock is visible. */
static ALLOY_ALWAYS_INLINE void alloy_spin_lock_acquire(alloy_spin_lock *lock) {
  if (ALLOY_LIKELY(!__atomic_exchange_n(&lock->locked, true, __ATOMIC_ACQUIRE))) return;
  alloy_spin_lock_wait(lock);
}

/* One attempt; true when the lock is now held. */
static inline bool alloy_spin_lock_try_acquire(alloy_spin_lock *lock) {
  return !__atomic_load_n(&lock->locked, __ATOMIC_RELAXED) &&
         !__atomic_exchange_n(&lock->locked, true, __ATOMIC_ACQUIRE);
}

/* Release semantics. */
static ALLOY_ALWAYS_INLINE void alloy_spin_lock_release(alloy_spin_lock *lock) {
  __atomic_store_n(&lock->locked, false, __ATOMIC_RELEASE);
}

ALLOY_EXTERN_C_END

#endif /* ALLOY_SPIN_LOCK_H */
