/* alloy/fault.h — the one replaceable handler for programming errors.
 *
 * A double free, a foreign block, a wrong size or alignment, an out-of-order
 * free or a smashed canary is reported here, whichever component found it.
 * The default handler prints one line naming the error class, the resource,
 * the block and the values given versus expected, then aborts. A program (or
 * a test) may install its own handler; when that handler returns, the
 * reporting call returns the fault's status instead of proceeding.
 */
#ifndef ALLOY_FAULT_H
#define ALLOY_FAULT_H

#include <stddef.h>

#include "alloy/compiler.h"
#include "alloy/status.h"

ALLOY_EXTERN_C_BEGIN

typedef struct alloy_fault {
  alloy_status kind;      /* one of the programming-error statuses */
  const char *resource;   /* name of the resource that detected it */
  const void *ptr;        /* the block concerned, or NULL */
  size_t size;            /* size given by the caller */
  size_t expected_size;   /* size the resource expected (0 when unknown) */
  size_t align;           /* alignment given by the caller */
  size_t expected_align;  /* alignment expected (0 when unknown) */
  const char *detail;     /* free text, e.g. which canary side was hit; may be NULL */
} alloy_fault;

typedef void (*alloy_fault_handler)(const alloy_fault *fault, void *context);

/* Installs `handler` (NULL restores the default print-and-abort handler). */
void alloy_fault_set_handler(alloy_fault_handler handler, void *context);

/* Reports a fault to the installed handler and returns fault->kind. */
ALLOY_COLD alloy_status alloy_fault_report(const alloy_fault *fault);

/* Formats the default one-line message into buffer; returns its length as snprintf does. */
int alloy_fault_format(const alloy_fault *fault, char *buffer, size_t capacity);

/* Internal invariants, checked only in ALLOY_DEBUG builds. */
#if ALLOY_DEBUG
#define ALLOY_ASSERT(cond)                                                      \
  do {                                                                          \
    if (ALLOY_UNLIKELY(!(cond))) alloy_fault_assert_failed(#cond, __FILE__, __LINE__); \
  } while (0)
#else
#define ALLOY_ASSERT(cond) ((void)0)
#endif

ALLOY_COLD void alloy_fault_assert_failed(const char *expression, const char *file, int line);

ALLOY_EXTERN_C_END

#endif /* ALLOY_FAULT_H */
