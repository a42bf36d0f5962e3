/* alloy/fallback.h — an ordered chain of resources tried in turn.
 *
 * The spec's FallbackChain (for instance small_object -> tlsf -> system):
 * allocate asks each member in order and moves on when one answers
 * ALLOY_E_UNSUPPORTED (size or alignment it does not serve),
 * ALLOY_E_CAPACITY, ALLOY_E_OUT_OF_MEMORY or ALLOY_E_BUDGET_EXCEEDED. Any
 * other failure (ALLOY_E_INVALID_ARGUMENT above all) is returned at once:
 * a request that is wrong for one member is wrong for all.
 *
 * deallocate, resize and reallocate go to the member that owns the block,
 * found with alloy_resource_owns() — an address-range question the members
 * answer without touching the block. Every member but the last must answer
 * ownership queries; the last may not (the system heap cannot) and is then
 * the owner of every block no earlier member claims. reallocate first asks
 * the owner; when the owner cannot serve the new size it moves the block to
 * whichever member can (allocate through the chain, copy, free).
 *
 * A block no member owns (only possible when every member can tell) is
 * reported as ALLOY_E_NOT_OWNED through alloy_fault_report().
 *
 * The chain is itself a resource. It answers owns() only when every member
 * can (then: whether any member owns the block), so a chain may be a member
 * of another chain. Members are the caller's; the chain never frees them. The
 * chain is as thread-safe as its least thread-safe member.
 */
#ifndef ALLOY_FALLBACK_H
#define ALLOY_FALLBACK_H

#include <stddef.h>

#include "alloy/compiler.h"
#include "alloy/resource.h"
#include "alloy/status.h"

ALLOY_EXTERN_C_BEGIN

#define ALLOY_FALLBACK_MAX_MEMBERS 8

typedef struct alloy_fallback {
  alloy_resource resource; /* first: the chain is a resource */
  size_t count;
  alloy_resource *members[ALLOY_FALLBACK_MAX_MEMBERS];
} alloy_fallback;

/* Builds a chain over members[0..count) in the caller's storage.
 * ALLOY_E_INVALID_ARGUMENT when count is 0 or above the maximum, a member is
 * NULL or listed twice, or a member other than the last cannot answer
 * ownership queries. */
ALLOY_NODISCARD alloy_status alloy_fallback_init(alloy_fallback *chain, alloy_resource *const *members, size_t count);

alloy_resource *alloy_fallback_resource(alloy_fallback *chain);

/* The member that owns `block`, or NULL. */
alloy_resource *alloy_fallback_owner(const alloy_fallback *chain, alloy_block block);

ALLOY_EXTERN_C_END

#endif /* ALLOY_FALLBACK_H */
