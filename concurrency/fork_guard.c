/* The registry of fork guards and the one atfork handler over it (see
 * alloy/fork_guard.h for the order and why it cannot deadlock). */
#include "alloy/fork_guard.h"

#include <pthread.h>

#include "alloy/fault.h"

/* Newest guard first; guarded by registry_lock. */
static alloy_fork_guard *newest;
static size_t guard_count;
static alloy_spin_lock registry_lock;
static pthread_once_t install_once = PTHREAD_ONCE_INIT;
static bool installed; /* written once under install_once, read after it */

static void lock_guard(alloy_fork_guard *guard) {
  for (size_t i = 0; i < guard->lock_count; ++i) alloy_spin_lock_acquire(guard->locks[i]);
}

static void unlock_guard(alloy_fork_guard *guard) {
  for (size_t i = guard->lock_count; i-- > 0;) alloy_spin_lock_release(guard->locks[i]);
}

static void prepare(void) {
  alloy_spin_lock_acquire(&registry_lock);
  for (alloy_fork_guard *guard = newest; guard != NULL; guard = guard->older) lock_guard(guard);
}

/* Oldest first: the reverse of prepare. The same code serves the parent and
 * the child: in the child, the calling thread is the one that ran prepare. */
static void release_all(void) {
  alloy_fork_guard *oldest = newest;
  while (oldest != NULL && oldest->older != NULL) oldest = oldest->older;
  for (alloy_fork_guard *guard = oldest; guard != NULL; guard = guard->newer) unlock_guard(guard);
  alloy_spin_lock_release(&registry_lock);
}

static void install(void) { installed = pthread_atfork(prepare, release_all, release_all) == 0; }

void alloy_fork_guard_register(alloy_fork_guard *guard, alloy_spin_lock *const *locks, size_t count) {
  ALLOY_ASSERT(count >= 1 && count <= ALLOY_FORK_GUARD_MAX_LOCKS);
  pthread_once(&install_once, install);
  for (size_t i = 0; i < count; ++i) guard->locks[i] = locks[i];
  guard->lock_count = count;
  alloy_spin_lock_acquire(&registry_lock);
  guard->newer = NULL;
  guard->older = newest;
  if (newest != NULL) newest->newer = guard;
  newest = guard;
  guard_count++;
  alloy_spin_lock_release(&registry_lock);
}

void alloy_fork_guard_unregister(alloy_fork_guard *guard) {
  if (guard == NULL || guard->lock_count == 0) return;
  alloy_spin_lock_acquire(&registry_lock);
  if (guard->newer != NULL) guard->newer->older = guard->older;
  else newest = guard->older;
  if (guard->older != NULL) guard->older->newer = guard->newer;
  guard->newer = guard->older = NULL;
  guard->lock_count = 0;
  guard_count--;
  alloy_spin_lock_release(&registry_lock);
}

bool alloy_fork_guard_installed(void) {
  pthread_once(&install_once, install);
  return installed;
}

size_t alloy_fork_guard_count(void) {
  alloy_spin_lock_acquire(&registry_lock);
  size_t count = guard_count;
  alloy_spin_lock_release(&registry_lock);
  return count;
}
