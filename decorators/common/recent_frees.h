/* alloy/recent_frees.h — the last addresses a decorator freed, so that a free
 * of an address it no longer knows can be named: a double free when the
 * address is among them, a foreign block when it is not.
 *
 * A plain ring under the decorator's own lock: remembering costs a store, and
 * the search runs only on the misuse path. An address freed long ago (more
 * than ALLOY_RECENT_FREES frees back) reads as foreign.
 *
 * Internal to //decorators.
 */
#ifndef ALLOY_RECENT_FREES_H
#define ALLOY_RECENT_FREES_H

#include <stdbool.h>
#include <stddef.h>

#include "alloy/compiler.h"

#define ALLOY_RECENT_FREES 256u

typedef struct alloy_recent_frees {
  const void *ptrs[ALLOY_RECENT_FREES];
  size_t next;
} alloy_recent_frees;

static ALLOY_ALWAYS_INLINE void alloy_recent_frees_remember(alloy_recent_frees *recent, const void *ptr) {
  recent->ptrs[recent->next] = ptr;
  recent->next = (recent->next + 1) % ALLOY_RECENT_FREES;
}

static inline bool alloy_recent_frees_contains(const alloy_recent_frees *recent, const void *ptr) {
  for (size_t i = 0; i < ALLOY_RECENT_FREES; ++i)
    if (recent->ptrs[i] == ptr) return true;
  return false;
}

#endif /* ALLOY_RECENT_FREES_H */
