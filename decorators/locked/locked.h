/* alloy/locked.h — the locked decorator: one lock around any resource.
 *
 * Makes a single-threaded strategy (frame, stack, pool, tlsf, ...) safe to
 * share between threads: every call into the inner resource runs under one
 * lock. The inner resource stays the caller's: destroy the decorator first,
 * then the inner one.
 *
 *   alloy_locked *locked;
 *   ALLOY_TRY(alloy_locked_create(inner, NULL, &locked));
 *   alloy_resource *shared = alloy_locked_resource(locked);
 *
 * The decorator's own state (one small object) comes from the platform heap
 * (alloy_heap_allocate). get_info reports ALLOY_THREAD_SAFE and forwards the
 * rest (name "locked", size classes and stats of the inner).
 */
#ifndef ALLOY_LOCKED_H
#define ALLOY_LOCKED_H

#include "alloy/compiler.h"
#include "alloy/resource.h"
#include "alloy/status.h"

ALLOY_EXTERN_C_BEGIN

typedef struct alloy_locked alloy_locked;

/* Reserved for future options; pass NULL for the defaults. */
typedef struct alloy_locked_config {
  int reserved;
} alloy_locked_config;

/* ALLOY_E_INVALID_ARGUMENT for a NULL inner or out; ALLOY_E_OUT_OF_MEMORY
 * when the platform heap refuses the decorator's state. */
ALLOY_NODISCARD alloy_status alloy_locked_create(alloy_resource *inner, const alloy_locked_config *config,
                                                 alloy_locked **out);

/* Destroys the decorator; the inner resource and its blocks are untouched. */
void alloy_locked_destroy(alloy_locked *locked);

/* The decorator as a resource (its first member). */
alloy_resource *alloy_locked_resource(alloy_locked *locked);

ALLOY_EXTERN_C_END

#endif /* ALLOY_LOCKED_H */
