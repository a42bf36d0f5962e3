/* Test-and-test-and-set with bounded exponential backoff, then yield. */
#include "alloy/spin_lock.h"

#include "alloy/thread.h"

#define SPIN_LIMIT 64u /* relax rounds per attempt before yielding instead */

void alloy_spin_lock_init(alloy_spin_lock *lock) { atomic_init(&lock->locked, false); }

bool alloy_spin_lock_try_acquire(alloy_spin_lock *lock) {
  return !atomic_load_explicit(&lock->locked, memory_order_relaxed) &&
         !atomic_exchange_explicit(&lock->locked, true, memory_order_acquire);
}

static ALLOY_NOINLINE void spin_lock_contended(alloy_spin_lock *lock) {
  unsigned spins = 1;
  do {
    if (spins <= SPIN_LIMIT) {
      for (unsigned i = 0; i < spins; ++i) alloy_cpu_relax();
      spins *= 2;
    } else {
      alloy_thread_yield();
    }
  } while (!alloy_spin_lock_try_acquire(lock));
}

void alloy_spin_lock_acquire(alloy_spin_lock *lock) {
  if (ALLOY_LIKELY(!atomic_exchange_explicit(&lock->locked, true, memory_order_acquire))) return;
  spin_lock_contended(lock);
}

void alloy_spin_lock_release(alloy_spin_lock *lock) { atomic_store_explicit(&lock->locked, false, memory_order_release); }
