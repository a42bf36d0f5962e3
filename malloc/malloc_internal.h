/* Internals of the drop-in malloc, shared by its three sources:
 *
 *   malloc_api.c    the C library's allocation functions (malloc, free,
 *                   calloc, realloc, the aligned family, usable size, the
 *                   sized frees): routing by size and by address.
 *                   Calls malloc_heap.c and malloc_large.c.
 *   malloc_heap.c   the process-wide small-object heap, created on first
 *                   use (before main too) without allocating through libc,
 *                   and the bootstrap buffer that serves the initialising
 *                   thread's own re-entrant calls while it runs.
 *   malloc_large.c  page-granular mappings for what the small-object heap
 *                   does not serve, with a header before the block.
 *
 * Where a block lives follows from its address alone: the bootstrap buffer
 * (a static range), the small-object heap (alloy_small_object_block_size
 * answers a block start with its size), else a large mapping.
 */
#ifndef ALLOY_MALLOC_INTERNAL_H
#define ALLOY_MALLOC_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "alloy/compiler.h"
#include "alloy/small_object.h"

/* The largest block the small-object heap serves: its largest class, so
 * strings and nodes of a few hundred bytes never cost a mapping each. */
#define ALLOY_MALLOC_SMALL_MAX ALLOY_SMALL_OBJECT_MAX_CLASS_SIZE

/* What malloc guarantees without an alignment argument (alignof(max_align_t)). */
#define ALLOY_MALLOC_ALIGN 16u

/* malloc_heap.c: the small-object heap, created on first use; NULL when it
 * could not be created (everything then goes to large mappings) or, with
 * *reentrant set, while the calling thread is the one creating it. */
ALLOY_HIDDEN alloy_small_object *alloy_malloc_heap_get(bool *reentrant);

/* The heap if it exists already, without creating it (for frees). */
ALLOY_HIDDEN alloy_small_object *alloy_malloc_heap_existing(void);

/* The bootstrap buffer: blocks for the initialising thread's re-entrant
 * calls. Never freed; NULL when it is used up. */
ALLOY_HIDDEN void *alloy_malloc_heap_bootstrap_allocate(size_t size, size_t align);
ALLOY_HIDDEN bool alloy_malloc_heap_is_bootstrap(const void *ptr);
ALLOY_HIDDEN size_t alloy_malloc_heap_bootstrap_usable_size(const void *ptr);

/* malloc_large.c: a mapping of its own for one block, fresh from the OS (so
 * it reads as zero). NULL when the OS refuses or the size overflows. */
ALLOY_HIDDEN void *alloy_malloc_large_allocate(size_t size, size_t align);
ALLOY_HIDDEN void alloy_malloc_large_free(void *ptr);
ALLOY_HIDDEN size_t alloy_malloc_large_usable_size(const void *ptr);

#endif /* ALLOY_MALLOC_INTERNAL_H */
