/* The contended path of the decorators' lock. */
#include "alloy/decorator_lock.h"

void alloy_decorator_lock_wait(alloy_decorator_lock *lock) {
  unsigned spins = 0;
  for (;;) {
    while (atomic_load_explicit(&lock->held, memory_order_relaxed)) {
      if (++spins < 64)
        alloy_cpu_relax();
      else
        alloy_thread_yield();
    }
    if (!atomic_exchange_explicit(&lock->held, true, memory_order_acquire)) return;
  }
}
