/* The system strategy on the platform heap. */
#include "alloy/system.h"

#include "alloy/heap.h"

static alloy_status system_allocate(alloy_resource *self, size_t size, size_t align, alloy_block *out) {
  (void)self;
  void *ptr;
  ALLOY_TRY(alloy_heap_allocate(size, align, &ptr));
  *out = alloy_block_make(ptr, alloy_heap_usable_size(ptr));
  return ALLOY_OK;
}

static alloy_status system_deallocate(alloy_resource *self, alloy_block block, size_t align) {
  (void)self;
  (void)align;
  alloy_heap_free(block.ptr);
  return ALLOY_OK;
}

static alloy_status system_reallocate(alloy_resource *self, alloy_block block, size_t new_size, size_t align,
                                      alloy_block *out) {
  (void)self;
  if (block.ptr == NULL) return system_allocate(self, new_size, align, out);
  void *ptr = block.ptr;
  ALLOY_TRY(alloy_heap_reallocate(&ptr, block.size, new_size, align));
  *out = alloy_block_make(ptr, alloy_heap_usable_size(ptr));
  return ALLOY_OK;
}

static bool system_is_equal(const alloy_resource *self, const alloy_resource *other) {
  /* Every system resource is the same heap. */
  return other != NULL && other->ops == self->ops;
}

static void system_get_info(const alloy_resource *self, alloy_resource_info *info) {
  (void)self;
  info->thread_safety = ALLOY_THREAD_SAFE;
  info->max_alignment = ALLOY_MAX_REQUEST / 2 + 1; /* any power of two */
  info->max_size = ALLOY_MAX_REQUEST;
}

static const alloy_resource_ops system_ops = {
    .struct_size = sizeof(alloy_resource_ops),
    .name = "system",
    .allocate = system_allocate,
    .deallocate = system_deallocate,
    .reallocate = system_reallocate,
    .is_equal = system_is_equal,
    .get_info = system_get_info,
};

static alloy_resource system_instance = {&system_ops};

alloy_resource *alloy_system_resource(void) { return &system_instance; }
