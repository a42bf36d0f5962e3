/* The alloy_allocator handle's out-of-line helpers. */
#include "alloy/allocator.h"

alloy_status alloy_reallocate(alloy_allocator a, alloy_block *block, size_t new_size, size_t align) {
  alloy_block moved;
  ALLOY_TRY(alloy_resource_reallocate(a.resource, *block, new_size, align, &moved));
  *block = moved;
  return ALLOY_OK;
}

alloy_status alloy_try_reallocate(alloy_allocator a, alloy_block *block, size_t new_size, size_t align) {
  alloy_block resized;
  ALLOY_TRY(alloy_resource_resize(a.resource, *block, new_size, align, &resized));
  *block = resized;
  return ALLOY_OK;
}

bool alloy_allocator_is_equal(alloy_allocator a, alloy_allocator b) {
  return alloy_resource_is_equal(a.resource, b.resource);
}

alloy_status alloy_new_bytes(alloy_allocator a, size_t size, size_t align, void **out) {
  alloy_block block;
  ALLOY_TRY(alloy_alloc(a, size, align, &block));
  memset(block.ptr, 0, size);
  *out = block.ptr;
  return ALLOY_OK;
}

alloy_status alloy_new_array_bytes(alloy_allocator a, size_t count, size_t element_size, size_t align, void **out) {
  size_t size;
  if (!alloy_size_mul(count, element_size, &size)) return ALLOY_E_INVALID_ARGUMENT;
  return alloy_new_bytes(a, size, align, out);
}

alloy_status alloy_delete_bytes(alloy_allocator a, void *ptr, size_t size, size_t align) {
  if (ptr == NULL) return ALLOY_OK;
  return alloy_free(a, alloy_block_make(ptr, size), align);
}

alloy_scope alloy_scope_begin(alloy_allocator a) {
  alloy_scope scope = {a.resource, {0}};
  if (alloy_resource_mark(a.resource, &scope.marker) != ALLOY_OK) scope.resource = NULL;
  return scope;
}

void alloy_scope_end(alloy_scope *scope) {
  if (scope->resource != NULL) ALLOY_IGNORE_STATUS(alloy_resource_rewind(scope->resource, scope->marker));
  scope->resource = NULL;
}

alloy_status alloy_owned_allocate(alloy_allocator a, size_t size, size_t align, alloy_owned_block *out) {
  alloy_block block;
  ALLOY_TRY(alloy_alloc(a, size, align, &block));
  out->resource = a.resource;
  out->block = block;
  out->align = align;
  return ALLOY_OK;
}

alloy_owned_block alloy_owned_block_move(alloy_owned_block *from) {
  alloy_owned_block taken = *from;
  *from = alloy_owned_block_empty();
  return taken;
}

void alloy_owned_block_release(alloy_owned_block *owned) {
  if (owned->resource != NULL && owned->block.ptr != NULL)
    ALLOY_IGNORE_STATUS(alloy_resource_deallocate(owned->resource, owned->block, owned->align));
  *owned = alloy_owned_block_empty();
}
