/* Thread helpers that need a system call. */
#include "alloy/thread.h"

#include <sched.h>

ALLOY_THREAD_LOCAL char alloy_thread_anchor __attribute__((tls_model("initial-exec")));

void alloy_thread_yield(void) { sched_yield(); }
