/* alloy/spin_lock.h — a small test-and-test-and-set spin lock for slow paths.
 *
 * For critical sections of a few dozen instructions (a free-page list, a
 * registry) where a futex would cost more than the wait. Waiters spin on a
 * plain load (the line stays shared until the holder releases), back off
 * exponentially with alloy_cpu_relax, and yield the CPU after a while so a
 * descheduled holder (an oversubscribed VM, Valgrind's serialised threads)
 * can run. Not fair and not recursive. Zero-initialised memory is an
 * unlocked lock.
 */
#ifndef ALLOY_SPIN_LOCK_H
#define ALLOY_SPIN_LOCK_H

#include <stdbool.h>

#include "alloy/atomic_field.h"
#include "alloy/compiler.h"

ALLOY_EXTERN_C_BEGIN

typedef struct alloy_spin_lock {
  ALLOY_ATOMIC(bool) locked;
} alloy_spin_lock;

void alloy_spin_lock_init(alloy_spin_lock *lock);

/* Acquire semantics: what the previous holder wrote before unlock is visible. */
void alloy_spin_lock_acquire(alloy_spin_lock *lock);

/* One attempt; true when the lock is now held. */
bool alloy_spin_lock_try_acquire(alloy_spin_lock *lock);

/* Release semantics. */
void alloy_spin_lock_release(alloy_spin_lock *lock);

ALLOY_EXTERN_C_END

#endif /* ALLOY_SPIN_LOCK_H */
