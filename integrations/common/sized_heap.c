/* The size-routed heap: creation and the paths beyond the inline fast ones. */
#include "alloy/sized_heap.h"

#include <string.h>

#include "alloy/size_class.h"
#include "alloy/system.h"

alloy_status alloy_sized_heap_init(alloy_sized_heap *heap, size_t small_max, size_t capacity) {
  return alloy_sized_heap_init_paged(heap, small_max, 0, capacity);
}

alloy_status alloy_sized_heap_init_paged(alloy_sized_heap *heap, size_t small_max, size_t page_size,
                                         size_t capacity) {
  if (heap == NULL || small_max > ALLOY_SMALL_OBJECT_MAX_CLASS_SIZE) return ALLOY_E_INVALID_ARGUMENT;
  if (small_max == 0) small_max = ALLOY_SMALL_OBJECT_DEFAULT_MAX_SIZE;
  /* The heap rounds max_size up to its class; route exactly what it serves. */
  small_max = alloy_size_class_size(alloy_size_class_of(small_max));
  alloy_small_object_config config = {.max_size = small_max, .page_size = page_size, .capacity = capacity};
  alloy_small_object *small;
  ALLOY_TRY(alloy_small_object_create(&config, &small));
  heap->small = small;
  heap->small_max = small_max;
  heap->large = alloy_system_resource();
  return ALLOY_OK;
}

void alloy_sized_heap_destroy(alloy_sized_heap *heap) {
  if (heap == NULL) return;
  alloy_small_object_destroy(heap->small);
  heap->small = NULL;
}

void *alloy_sized_heap_allocate_large(alloy_sized_heap *heap, size_t size) {
  alloy_block block;
  if (alloy_resource_allocate(heap->large, size, ALLOY_SIZED_HEAP_ALIGN, &block) != ALLOY_OK) return NULL;
  return block.ptr;
}

void alloy_sized_heap_free_large(alloy_sized_heap *heap, void *ptr, size_t size) {
  (void)alloy_resource_deallocate(heap->large, alloy_block_make(ptr, size), ALLOY_SIZED_HEAP_ALIGN);
}

/* Between the heaps, or between small-object classes: allocate, copy, free. */
static void *move_block(alloy_sized_heap *heap, void *ptr, size_t old_size, size_t new_size) {
  void *moved = alloy_sized_heap_allocate(heap, new_size);
  if (moved == NULL) return NULL;
  memcpy(moved, ptr, old_size < new_size ? old_size : new_size);
  alloy_sized_heap_free(heap, ptr, old_size);
  return moved;
}

void *alloy_sized_heap_reallocate(alloy_sized_heap *heap, void *ptr, size_t old_size, size_t new_size) {
  const size_t small_max = heap->small_max;
  if (old_size <= small_max && new_size <= small_max) {
    if (alloy_size_class_of(old_size) == alloy_size_class_of(new_size)) return ptr;
    return move_block(heap, ptr, old_size, new_size);
  }
  if (old_size > small_max && new_size > small_max) {
    alloy_block moved;
    if (alloy_resource_reallocate(heap->large, alloy_block_make(ptr, old_size), new_size, ALLOY_SIZED_HEAP_ALIGN,
                                  &moved) != ALLOY_OK)
      return NULL;
    return moved.ptr;
  }
  return move_block(heap, ptr, old_size, new_size);
}
