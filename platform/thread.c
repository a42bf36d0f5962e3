/* Thread helpers that need a system call or process-wide state: yielding,
 * and the counter thread serial numbers come from. */
#include "alloy/thread.h"

#include <sched.h>
#include <stdatomic.h>

ALLOY_THREAD_LOCAL char alloy_thread_anchor __attribute__((tls_model("initial-exec")));
ALLOY_THREAD_LOCAL uint64_t alloy_thread_serial_value __attribute__((tls_model("initial-exec")));

/* 64 bits: a billion threads a second would take 584 years to wrap it. */
static _Atomic(uint64_t) thread_serial_counter;

uint64_t alloy_thread_serial_take(void) {
  if (alloy_thread_serial_value == 0)
    alloy_thread_serial_value = atomic_fetch_add_explicit(&thread_serial_counter, 1, memory_order_relaxed) + 1;
  return alloy_thread_serial_value;
}

void alloy_thread_yield(void) { sched_yield(); }
