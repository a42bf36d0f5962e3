/* alloy/malloc_debug.h — the checked drop-in malloc (//malloc:alloy_malloc_debug,
 * liballoy_malloc_debug.so): the release malloc under alloy's debug
 * decorator (alloy/debug.h). Every block has canaries on both sides and is
 * handed out filled with ALLOY_DEBUG_ALLOC_BYTE; a freed block is filled
 * with ALLOY_DEBUG_FREE_BYTE and held in a quarantine before the release
 * malloc gets it back. Reported through the fault handler (alloy/fault.h):
 *
 *   a free of a block freed already            ALLOY_E_DOUBLE_FREE
 *   a free of a pointer never allocated        ALLOY_E_NOT_OWNED
 *   a free of a pointer inside a live block    ALLOY_E_INTERIOR_POINTER
 *   a canary overwritten, found at the free    ALLOY_E_CORRUPTION ("front/back canary")
 *   a quarantined block written after its free ALLOY_E_CORRUPTION ("modified after free"),
 *                                              found when it leaves the quarantine
 *   free_sized / free_aligned_sized / sized delete with another size or
 *   alignment than the allocation's           ALLOY_E_SIZE_MISMATCH / ALIGN_MISMATCH
 *
 * A misused call changes nothing: the block stays as it was (and is leaked
 * when the handler returns). The handler installed when the library starts
 * (alloy_malloc_debug_fault_handler) prints the fault and its call site on
 * stderr and aborts; with ALLOY_MALLOC_DEBUG=continue in the environment it
 * prints and lets the program go on. ALLOY_MALLOC_DEBUG=quarantine=N sets
 * the number of freed blocks held back (default 256); options combine with
 * commas. A program may install its own handler (alloy_fault_set_handler)
 * and ask alloy_malloc_debug_call_site() inside it.
 *
 * malloc_usable_size answers the requested size. Exhaustion is NULL with
 * ENOMEM as in the release malloc, never an abort.
 */
#ifndef ALLOY_MALLOC_DEBUG_H
#define ALLOY_MALLOC_DEBUG_H

#include "alloy/compiler.h"
#include "alloy/fault.h"

ALLOY_EXTERN_C_BEGIN

/* Inside a fault handler: the return address in the code that called the
 * checked malloc's function now reporting on this thread (free, realloc,
 * operator delete, ...), or NULL when the fault does not come from a call
 * into the checked malloc. A quarantined block written after its free is
 * found by a later call: that call's site. */
const void *alloy_malloc_debug_call_site(void);

/* The name of that function ("free", "realloc", ...), or NULL. */
const char *alloy_malloc_debug_call_function(void);

/* The handler installed at start: alloy_fault_format's line, then the call
 * site with the module and symbol it lies in, on stderr (without
 * allocating); then abort(), unless ALLOY_MALLOC_DEBUG=continue was set at
 * start. `context` is unused. */
void alloy_malloc_debug_fault_handler(const alloy_fault *fault, void *context);

ALLOY_EXTERN_C_END

#endif /* ALLOY_MALLOC_DEBUG_H */
