/* alloy/heap.h — the system heap (the C library's malloc), with alignment.
 *
 * The platform's only door to malloc: alloy's system strategy stands on it,
 * and nothing else in alloy calls malloc.
 */
#ifndef ALLOY_HEAP_H
#define ALLOY_HEAP_H

#include <stddef.h>

#include "alloy/compiler.h"
#include "alloy/status.h"

ALLOY_EXTERN_C_BEGIN

/* Allocates at least `size` bytes aligned to `alignment` (a power of two, any
 * size). Size 0 gives a unique pointer that alloy_heap_free accepts. */
ALLOY_NODISCARD alloy_status alloy_heap_allocate(size_t size, size_t alignment, void **out);

/* Resizes, moving when needed; on failure *ptr is untouched and still owned.
 * old_size is the size the block was allocated with (or its usable size). */
ALLOY_NODISCARD alloy_status alloy_heap_reallocate(void **ptr, size_t old_size, size_t new_size, size_t alignment);

void alloy_heap_free(void *ptr);

/* The usable size of a heap block (>= the size asked for). */
size_t alloy_heap_usable_size(void *ptr);

ALLOY_EXTERN_C_END

#endif /* ALLOY_HEAP_H */
