/* The contended path of the spin lock: bounded exponential backoff, then yield. */
#include "alloy/spin_lock.h"

#include "alloy/thread.h"

#define SPIN_LIMIT 64u /* relax rounds per attempt before yielding instead */

void alloy_spin_lock_wait(alloy_spin_lock *lock) {
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
