/* alloy/sized_free.h — C23's sized frees, which the drop-in malloc
 * (//malloc:alloy_malloc) exports next to the C library's functions and which
 * Debian 12's <stdlib.h> does not declare yet.
 *
 * `size` is the size given at allocation (`alignment` too, for blocks from
 * aligned_alloc); the drop-in malloc uses it to route the free without
 * looking the block up. NULL is a no-op.
 */
#ifndef ALLOY_SIZED_FREE_H
#define ALLOY_SIZED_FREE_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

void free_sized(void *ptr, size_t size);
void free_aligned_sized(void *ptr, size_t alignment, size_t size);

#ifdef __cplusplus
}
#endif

#endif /* ALLOY_SIZED_FREE_H */
