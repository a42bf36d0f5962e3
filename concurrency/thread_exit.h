/* alloy/thread_exit.h — run a callback when a thread that used a component exits.
 *
 * Thread caches must go back to their owner when their thread ends, or the
 * memory they hold is stranded. A key names one per-thread slot; a thread
 * that stores a non-NULL value in it gets `on_exit(value)` called as it
 * exits (after its own code, with its thread-locals still valid). Built on
 * POSIX thread-specific keys, so the number of live keys per process is
 * limited (PTHREAD_KEYS_MAX, 1024 on glibc): one per component *instance*
 * that keeps thread caches, not one per object.
 *
 * Deleting a key drops every thread's slot without running callbacks: after
 * alloy_thread_exit_key_delete() returns, no callback for that key starts.
 * The owner must make sure no thread is still using the key (or exiting)
 * while it deletes it. A callback that stores a new value (it used the
 * component again while exiting) is called again, up to
 * PTHREAD_DESTRUCTOR_ITERATIONS rounds.
 */
#ifndef ALLOY_THREAD_EXIT_H
#define ALLOY_THREAD_EXIT_H

#include <stdbool.h>

#include "alloy/compiler.h"
#include "alloy/status.h"

ALLOY_EXTERN_C_BEGIN

typedef void (*alloy_thread_exit_fn)(void *value);

typedef struct alloy_thread_exit_key {
  unsigned int key; /* a pthread_key_t */
  bool valid;
} alloy_thread_exit_key;

/* ALLOY_E_CAPACITY when the process has no key left. */
ALLOY_NODISCARD alloy_status alloy_thread_exit_key_create(alloy_thread_exit_key *key, alloy_thread_exit_fn on_exit);

/* No-op on a key that was never created or is already deleted. */
void alloy_thread_exit_key_delete(alloy_thread_exit_key *key);

/* Stores the calling thread's value (NULL: nothing to do at exit). */
ALLOY_NODISCARD alloy_status alloy_thread_exit_set(const alloy_thread_exit_key *key, void *value);

/* The calling thread's value, NULL when none (or while its callback runs). */
void *alloy_thread_exit_get(const alloy_thread_exit_key *key);

ALLOY_EXTERN_C_END

#endif /* ALLOY_THREAD_EXIT_H */
