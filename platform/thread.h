/* alloy/thread.h — the calling thread's identity and CPU hints. */
#ifndef ALLOY_THREAD_H
#define ALLOY_THREAD_H

#include <stdint.h>

#include "alloy/compiler.h"

ALLOY_EXTERN_C_BEGIN

/* One byte per thread whose address identifies the thread. */
extern ALLOY_THREAD_LOCAL char alloy_thread_anchor __attribute__((tls_model("initial-exec")));

/* A non-zero value unique among live threads: the address of a thread-local
 * byte, which costs one instruction and needs no system call. A thread
 * started after another exited may get the same address: to recognise a
 * thread across exits (an owner), use alloy_thread_serial(). */
static ALLOY_ALWAYS_INLINE uintptr_t alloy_thread_id(void) { return (uintptr_t)&alloy_thread_anchor; }

/* The calling thread's serial number; 0 until it takes one. */
extern ALLOY_THREAD_LOCAL uint64_t alloy_thread_serial_value __attribute__((tls_model("initial-exec")));

/* Takes the calling thread's serial number from the process-wide counter. */
ALLOY_NOINLINE uint64_t alloy_thread_serial_take(void);

/* A non-zero number no other thread of the process ever had or will have:
 * taken from a 64-bit counter the first time a thread asks, so it is never
 * reused, not even after the thread exits. */
static ALLOY_ALWAYS_INLINE uint64_t alloy_thread_serial(void) {
  const uint64_t serial = alloy_thread_serial_value;
  return ALLOY_LIKELY(serial != 0) ? serial : alloy_thread_serial_take();
}

/* The serial number if the thread has taken one, else 0. One thread-local
 * load: enough to ask "is this thread X?" when X took its serial, because a
 * thread that has none is nobody's. */
static ALLOY_ALWAYS_INLINE uint64_t alloy_thread_serial_if_taken(void) { return alloy_thread_serial_value; }

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
