/* Dispatch for the optional slots of the resource contract, and their defaults. */
#include "alloy/resource.h"

#include <string.h>

alloy_status alloy_resource_reallocate_by_moving(alloy_resource *resource, alloy_block block, size_t new_size,
                                                 size_t align, alloy_block *out) {
  alloy_block moved;
  ALLOY_TRY(alloy_resource_allocate(resource, new_size, align, &moved));
  if (block.ptr != NULL) {
    memcpy(moved.ptr, block.ptr, block.size < new_size ? block.size : new_size);
    alloy_status freed = alloy_resource_deallocate(resource, block, align);
    if (freed != ALLOY_OK) {
      /* The old block was not accepted back; keep it owned by the caller. */
      ALLOY_IGNORE_STATUS(alloy_resource_deallocate(resource, moved, align));
      return freed;
    }
  }
  *out = moved;
  return ALLOY_OK;
}

alloy_status alloy_resource_resize(alloy_resource *resource, alloy_block block, size_t new_size, size_t align,
                                   alloy_block *out) {
  const alloy_resource_ops *ops = resource->ops;
  ALLOY_TRY(alloy_request_check(new_size, align));
  if (ALLOY_OPS_HAS(ops, resize)) return ops->resize(resource, block, new_size, align, out);
  if (new_size == block.size) { /* nothing for the resource to learn */
    *out = block;
    return ALLOY_OK;
  }
  /* A caller may use a block as a smaller one without asking; asking a
   * resource that cannot record the new size would let the caller free the
   * block with a size the resource never saw. */
  return ALLOY_E_UNSUPPORTED;
}

alloy_status alloy_resource_reallocate(alloy_resource *resource, alloy_block block, size_t new_size, size_t align,
                                       alloy_block *out) {
  const alloy_resource_ops *ops = resource->ops;
  ALLOY_TRY(alloy_request_check(new_size, align));
  if (ALLOY_OPS_HAS(ops, reallocate)) return ops->reallocate(resource, block, new_size, align, out);
  if (ALLOY_OPS_HAS(ops, resize) && ops->resize(resource, block, new_size, align, out) == ALLOY_OK) return ALLOY_OK;
  return alloy_resource_reallocate_by_moving(resource, block, new_size, align, out);
}

bool alloy_resource_is_equal(const alloy_resource *a, const alloy_resource *b) {
  if (a == b) return true;
  if (a == NULL || b == NULL) return false;
  return ALLOY_OPS_HAS(a->ops, is_equal) && a->ops->is_equal(a, b);
}

bool alloy_resource_can_tell_ownership(const alloy_resource *resource) { return ALLOY_OPS_HAS(resource->ops, owns); }

bool alloy_resource_owns(const alloy_resource *resource, alloy_block block) {
  return ALLOY_OPS_HAS(resource->ops, owns) && resource->ops->owns(resource, block);
}

void alloy_resource_get_info(const alloy_resource *resource, alloy_resource_info *info) {
  memset(info, 0, sizeof *info);
  info->name = resource->ops->name;
  info->thread_safety = ALLOY_THREAD_UNSAFE;
  info->max_alignment = ALLOY_DEFAULT_ALIGNMENT;
  info->max_size = ALLOY_MAX_REQUEST;
  if (ALLOY_OPS_HAS(resource->ops, get_info)) resource->ops->get_info(resource, info);
}

alloy_status alloy_resource_mark(alloy_resource *resource, alloy_marker *out) {
  if (!ALLOY_OPS_HAS(resource->ops, mark)) return ALLOY_E_UNSUPPORTED;
  return resource->ops->mark(resource, out);
}

alloy_status alloy_resource_rewind(alloy_resource *resource, alloy_marker marker) {
  if (!ALLOY_OPS_HAS(resource->ops, rewind)) return ALLOY_E_UNSUPPORTED;
  return resource->ops->rewind(resource, marker);
}

const char *alloy_resource_name(const alloy_resource *resource) {
  return resource->ops->name ? resource->ops->name : "unnamed";
}
