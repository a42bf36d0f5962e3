/* alloy/sized_heap.h — blocks routed by their size: the small-object heap
 * up to small_max, the system heap above it.
 *
 * For hosts whose allocation hook hands back the size of every block it
 * frees or resizes (Lua's lua_Alloc; SQLite's methods after their size
 * header): the size alone says which heap holds a block, so a free needs
 * neither an ownership query nor a lookup. A block stays in the heap its
 * size routes it to, through every reallocation; the small-object heap's
 * refusal is an allocation failure, never a detour to the other heap.
 *
 * Every block is aligned to ALLOY_SIZED_HEAP_ALIGN. Thread safety is that of
 * the two heaps: any thread may allocate and free.
 *
 * Internal to //integrations.
 */
#ifndef ALLOY_SIZED_HEAP_H
#define ALLOY_SIZED_HEAP_H

#include <stddef.h>

#include "alloy/compiler.h"
#include "alloy/resource.h"
#include "alloy/small_object.h"
#include "alloy/status.h"

ALLOY_EXTERN_C_BEGIN

/* What Lua and SQLite require of a block (doubles, pointers, 64-bit
 * integers), and the small-object heap's fastest alignment. */
#define ALLOY_SIZED_HEAP_ALIGN 8u

typedef struct alloy_sized_heap {
  alloy_small_object *small;
  size_t small_max; /* sizes up to this go to `small` */
  alloy_resource *large;
} alloy_sized_heap;

/* small_max: 0 for 256; at most ALLOY_SMALL_OBJECT_MAX_CLASS_SIZE. capacity:
 * address space of the small-object heap, 0 for its default. */
ALLOY_NODISCARD alloy_status alloy_sized_heap_init(alloy_sized_heap *heap, size_t small_max, size_t capacity);
/* The same with the small-object heap's page size (a power of two in
 * [16 KiB, 256 KiB]; 0 for its default, 64 KiB). Smaller pages hold fewer
 * blocks of one class, so a class's empty page goes back to the heap (for any
 * class) sooner: less resident memory for a host whose live blocks are few. */
ALLOY_NODISCARD alloy_status alloy_sized_heap_init_paged(alloy_sized_heap *heap, size_t small_max, size_t page_size,
                                                         size_t capacity);
/* Releases the small-object heap (blocks still live in it included). */
void alloy_sized_heap_destroy(alloy_sized_heap *heap);

void *alloy_sized_heap_allocate_large(alloy_sized_heap *heap, size_t size);
void alloy_sized_heap_free_large(alloy_sized_heap *heap, void *ptr, size_t size);

/* NULL on failure. `size` must be above 0 (both hosts free on 0). */
static ALLOY_ALWAYS_INLINE void *alloy_sized_heap_allocate(alloy_sized_heap *heap, size_t size) {
  if (ALLOY_LIKELY(size <= heap->small_max)) {
    alloy_block block;
    if (ALLOY_UNLIKELY(alloy_small_object_allocate(heap->small, size, ALLOY_SIZED_HEAP_ALIGN, &block) != ALLOY_OK))
      return NULL;
    return block.ptr;
  }
  return alloy_sized_heap_allocate_large(heap, size);
}

/* `size` is the one the block was allocated or last reallocated with. */
static ALLOY_ALWAYS_INLINE void alloy_sized_heap_free(alloy_sized_heap *heap, void *ptr, size_t size) {
  if (ALLOY_LIKELY(size <= heap->small_max)) {
    (void)alloy_small_object_deallocate(heap->small, alloy_block_make(ptr, size), ALLOY_SIZED_HEAP_ALIGN);
    return;
  }
  alloy_sized_heap_free_large(heap, ptr, size);
}

/* Resizes the block `ptr` of `old_size` bytes to `new_size` (above 0): in
 * place when both sizes fall in one small-object class or both lie above
 * small_max (where the C library's realloc may grow or shrink in place),
 * otherwise by moving. NULL on failure, the old block then untouched. */
void *alloy_sized_heap_reallocate(alloy_sized_heap *heap, void *ptr, size_t old_size, size_t new_size);

ALLOY_EXTERN_C_END

#endif /* ALLOY_SIZED_HEAP_H */
