/* alloy/fork_guard.h — fork() never leaves a lock held in the child.
 *
 * fork() copies the calling thread only. A lock that another thread held at
 * that moment stays held in the child forever, and the child's first
 * allocation that needs it spins in alloy_spin_lock_wait until killed. So
 * every lock an allocation or a free can take is registered here, and one
 * pthread_atfork handler (installed once, with pthread_once, by the first
 * registration) acquires them all before fork() and releases them in the
 * parent and in the child afterwards. No thread is inside a guarded critical
 * section at the moment of the fork, so both processes start from
 * consistent, unlocked state.
 *
 * One registry for every component rather than one atfork per component:
 * the handlers of separate pthread_atfork calls run in an order no component
 * controls, while a single handler can take every lock in the one order that
 * cannot deadlock against the callers' own nesting (below).
 *
 * Order. prepare first takes the registry's own lock (so a heap created or
 * destroyed by another thread meanwhile is either fully in the list or fully
 * out of it, and its memory is not released under the handler), then every
 * guard from the most recently registered to the oldest, and within one
 * guard its locks in the order they were given. That is the order locks
 * nest in: a lock is only ever taken while holding a lock of something
 * created later — a decorator (locked, debug, leak) holds its lock across
 * the call into its inner resource, and the inner had to exist before the
 * decorator could be created over it. A component with several locks of its
 * own passes them in its own nesting order (outer first: e.g. a central lock
 * before a per-class lock), so one guard covers them in the order the
 * component itself takes them. parent and child release in reverse.
 * Nothing takes the registry lock while holding a guarded lock: heaps
 * register at create and unregister at destroy, outside their own locks.
 *
 * No allocation. The guard is an intrusive node kept inside the object it
 * guards, so registration cannot fail and a live heap is never missing from
 * the registry. The only step that can fail is installing the handler
 * (pthread_atfork fails only when the C library is out of memory); then no
 * lock is guarded in the process and alloy_fork_guard_installed() says so.
 *
 * What the handler does not do: it makes the locks safe, not the state of
 * threads that do not exist in the child. A thread of the parent that was
 * in the middle of a lock-free fast path (its own thread cache, a
 * remote-free push) is gone; whatever it owned is stranded in the child
 * exactly like memory that thread held. Each component documents what that
 * means for it.
 */
#ifndef ALLOY_FORK_GUARD_H
#define ALLOY_FORK_GUARD_H

#include <stdbool.h>
#include <stddef.h>

#include "alloy/compiler.h"
#include "alloy/spin_lock.h"

ALLOY_EXTERN_C_BEGIN

#define ALLOY_FORK_GUARD_MAX_LOCKS 4u

/* Embedded in the guarded object; the fields are the registry's. */
typedef struct alloy_fork_guard {
  alloy_spin_lock *locks[ALLOY_FORK_GUARD_MAX_LOCKS];
  size_t lock_count;
  struct alloy_fork_guard *newer, *older;
} alloy_fork_guard;

/* Guards `count` (1 .. ALLOY_FORK_GUARD_MAX_LOCKS) locks, given in the order
 * their owner nests them, outer first. The guard and the locks must stay at
 * their address until alloy_fork_guard_unregister. */
void alloy_fork_guard_register(alloy_fork_guard *guard, alloy_spin_lock *const *locks, size_t count);

/* Guards one lock. */
static inline void alloy_fork_guard_register_lock(alloy_fork_guard *guard, alloy_spin_lock *lock) {
  alloy_fork_guard_register(guard, &lock, 1);
}

/* From the owner's destroy, while no thread uses its locks. No-op on a guard
 * that is not registered (zeroed, or unregistered already). */
void alloy_fork_guard_unregister(alloy_fork_guard *guard);

/* Whether the atfork handler is in place; installs it if no registration
 * has yet. False only if pthread_atfork failed. */
bool alloy_fork_guard_installed(void);

/* How many guards are registered; for tests. */
size_t alloy_fork_guard_count(void);

ALLOY_EXTERN_C_END

#endif /* ALLOY_FORK_GUARD_H */
