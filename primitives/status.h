/* alloy/status.h — the one error vocabulary of alloy.
 *
 * Runtime failures are returned, never aborted on. The programming-error
 * statuses (ALLOY_E_DOUBLE_FREE and the ones after it) are what a check
 * reports through the fault handler (alloy/fault.h) and, when the handler
 * returns, what the call returns.
 */
#ifndef ALLOY_STATUS_H
#define ALLOY_STATUS_H

#include "alloy/compiler.h"

ALLOY_EXTERN_C_BEGIN

typedef enum alloy_status {
  ALLOY_OK = 0,
  /* Runtime failures. */
  ALLOY_E_OUT_OF_MEMORY,    /* the OS or the parent resource refused memory */
  ALLOY_E_INVALID_ARGUMENT, /* alignment not a power of two, size that overflows, bad config */
  ALLOY_E_UNSUPPORTED,      /* valid, but not served by this resource (size, alignment, operation) */
  ALLOY_E_CAPACITY,         /* the resource's own limit is reached (reservation, maximum) */
  ALLOY_E_BUDGET_EXCEEDED,  /* a tag's budget would be exceeded; nothing was allocated */
  ALLOY_E_PLATFORM,         /* an OS call failed for a reason other than memory */
  ALLOY_E_UNAVAILABLE,      /* the feature is absent on this machine (NUMA node, huge pages) */
  /* Programming errors, detected by checks and the debug decorator. */
  ALLOY_E_DOUBLE_FREE,      /* the block was already freed */
  ALLOY_E_NOT_OWNED,        /* the block does not belong to this resource */
  ALLOY_E_SIZE_MISMATCH,    /* freed with a size other than the one allocated */
  ALLOY_E_ALIGN_MISMATCH,   /* freed with an alignment other than the one allocated */
  ALLOY_E_OUT_OF_ORDER,     /* a LIFO resource was freed out of order */
  ALLOY_E_CORRUPTION,       /* a canary or the resource's metadata was overwritten */
  ALLOY_E_INTERIOR_POINTER, /* freed a pointer into a block, not the block's start */
  ALLOY_STATUS_COUNT
} alloy_status;

/* "ALLOY_E_OUT_OF_MEMORY", or "ALLOY_STATUS_UNKNOWN" for a value outside the enum. */
const char *alloy_status_name(alloy_status status);

/* A short sentence a person can act on, e.g. "out of memory". */
const char *alloy_status_string(alloy_status status);

/* Propagates a failed status to the caller. */
#define ALLOY_TRY(expr)                            \
  do {                                             \
    alloy_status alloy_try_status_ = (expr);       \
    if (ALLOY_UNLIKELY(alloy_try_status_ != ALLOY_OK)) \
      return alloy_try_status_;                    \
  } while (0)

/* Discards a status on purpose (clean-up paths). A plain (void) cast does not
 * silence warn_unused_result in GCC. */
#define ALLOY_IGNORE_STATUS(expr) ((void)!(expr))

ALLOY_EXTERN_C_END

#endif /* ALLOY_STATUS_H */
