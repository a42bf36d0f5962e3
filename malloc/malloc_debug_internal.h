/* Internals of the checked drop-in malloc (liballoy_malloc_debug.so,
 * //malloc:alloy_malloc_debug), shared by its sources:
 *
 *   malloc_api.c        the release malloc itself, compiled a second time
 *                       with its exported names renamed alloy_malloc_api_*
 *                       (the BUILD target's defines) and hidden: the
 *                       resource the checks stand on.
 *   malloc_debug_heap.c the process-wide debug decorator over it, created
 *                       on first use (before main too) with its state from
 *                       the same release malloc; the call site of the
 *                       current call and the fault handler that prints it.
 *   malloc_debug_api.c  the C library's allocation functions, each a
 *                       checked call of the decorator.
 *
 * The release malloc's own sources (malloc_heap.c, malloc_medium.c, ...)
 * are shared, unchanged: the checked variant adds the decorator and the
 * lookups a pointer-only free needs, nothing on the release path.
 */
#ifndef ALLOY_MALLOC_DEBUG_INTERNAL_H
#define ALLOY_MALLOC_DEBUG_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "alloy/compiler.h"
#include "alloy/debug.h"

/* malloc_api.c under its checked-build names: the unchecked release malloc. */
ALLOY_HIDDEN void *alloy_malloc_api_malloc(size_t size);
ALLOY_HIDDEN void *alloy_malloc_api_memalign(size_t alignment, size_t size);
ALLOY_HIDDEN void *alloy_malloc_api_realloc(void *ptr, size_t size);
ALLOY_HIDDEN void alloy_malloc_api_free(void *ptr);
ALLOY_HIDDEN void alloy_malloc_api_free_aligned_sized(void *ptr, size_t alignment, size_t size);
ALLOY_HIDDEN size_t alloy_malloc_api_malloc_usable_size(void *ptr);

/* The decorator once it exists (NULL before, and when it could not be
 * created: then every call is the release malloc's, unchecked). get creates
 * it on the first call; a call that comes back into malloc on the creating
 * thread while it is created gets NULL with *reentrant set, and is served
 * from the release malloc's bootstrap buffer. */
ALLOY_HIDDEN alloy_debug *alloy_malloc_debug_heap_get(bool *reentrant);
ALLOY_HIDDEN alloy_debug *alloy_malloc_debug_heap_existing(void);

/* Where the current call into the checked malloc came from, per thread:
 * set by every exported function on entry, restored on exit, read by the
 * fault handler. */
typedef struct alloy_malloc_debug_call {
  const void *site;     /* the caller's return address */
  const char *function; /* "free", "realloc", ... */
} alloy_malloc_debug_call;

ALLOY_HIDDEN extern ALLOY_THREAD_LOCAL alloy_malloc_debug_call alloy_malloc_debug_heap_call
    __attribute__((tls_model("initial-exec")));

#endif /* ALLOY_MALLOC_DEBUG_INTERNAL_H */
