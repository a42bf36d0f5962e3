/* alloy/thread.h — the calling thread's identity and CPU hints. */
#ifndef ALLOY_THREAD_H
#define ALLOY_THREAD_H

#include <stdint.h>

#include "alloy/compiler.h"

ALLOY_EXTERN_C_BEGIN

/* One byte per thread whose address identifies the thread. */
extern ALLOY_THREAD_LOCAL char alloy_thread_anchor __attribute__((tls_model("initial-exec")));

/* A non-zero value unique among live threads: the address of a thread-local
 * byte, which costs one instruction and needs no system call. */
static ALLOY_ALWAYS_INLINE uintptr_t alloy_thread_id(void) { return (uintptr_t)&alloy_thread_anchor; }

/* Tells the CPU the caller is spinning. */
static ALLOY_ALWAYS_INLINE void alloy_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield");
#endif
}

/* Gives the rest of the time slice to another thread. */
void alloy_thread_yield(void);

ALLOY_EXTERN_C_END

#endif /* ALLOY_THREAD_H */
