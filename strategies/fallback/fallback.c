/* The fallback chain: try members in order, route frees by ownership. */
#include "alloy/fallback.h"

#include <string.h>

#include "alloy/align.h"
#include "alloy/fault.h"

static bool moves_on(alloy_status status) {
  return status == ALLOY_E_UNSUPPORTED || status == ALLOY_E_CAPACITY || status == ALLOY_E_OUT_OF_MEMORY ||
         status == ALLOY_E_BUDGET_EXCEEDED;
}

static alloy_status chain_allocate(const alloy_fallback *chain, size_t size, size_t align, alloy_block *out) {
  alloy_status status = ALLOY_E_UNSUPPORTED;
  for (size_t i = 0; i < chain->count; ++i) {
    status = alloy_resource_allocate(chain->members[i], size, align, out);
    if (ALLOY_LIKELY(status == ALLOY_OK) || !moves_on(status)) return status;
  }
  return status;
}

alloy_resource *alloy_fallback_owner(const alloy_fallback *chain, alloy_block block) {
  const size_t last = chain->count - 1;
  for (size_t i = 0; i < last; ++i)
    if (alloy_resource_owns(chain->members[i], block)) return chain->members[i];
  alloy_resource *catch_all = chain->members[last];
  if (!alloy_resource_can_tell_ownership(catch_all) || alloy_resource_owns(catch_all, block)) return catch_all;
  return NULL;
}

static ALLOY_COLD alloy_status not_owned(alloy_block block, size_t align) {
  alloy_fault fault = {ALLOY_E_NOT_OWNED, "fallback", block.ptr, block.size, 0, align, 0,
                       "no member of the chain owns the block"};
  return alloy_fault_report(&fault);
}

static alloy_status fallback_allocate(alloy_resource *self, size_t size, size_t align, alloy_block *out) {
  ALLOY_TRY(alloy_request_check(size, align));
  return chain_allocate((const alloy_fallback *)self, size, align, out);
}

static alloy_status fallback_deallocate(alloy_resource *self, alloy_block block, size_t align) {
  if (block.ptr == NULL) return ALLOY_OK;
  alloy_resource *owner = alloy_fallback_owner((const alloy_fallback *)self, block);
  if (ALLOY_UNLIKELY(owner == NULL)) return not_owned(block, align);
  return alloy_resource_deallocate(owner, block, align);
}

static alloy_status fallback_resize(alloy_resource *self, alloy_block block, size_t new_size, size_t align,
                                    alloy_block *out) {
  alloy_resource *owner = alloy_fallback_owner((const alloy_fallback *)self, block);
  if (owner == NULL) return not_owned(block, align);
  return alloy_resource_resize(owner, block, new_size, align, out);
}

static alloy_status fallback_reallocate(alloy_resource *self, alloy_block block, size_t new_size, size_t align,
                                        alloy_block *out) {
  const alloy_fallback *chain = (const alloy_fallback *)self;
  if (block.ptr == NULL) return chain_allocate(chain, new_size, align, out);
  alloy_resource *owner = alloy_fallback_owner(chain, block);
  if (owner == NULL) return not_owned(block, align);
  alloy_status status = alloy_resource_reallocate(owner, block, new_size, align, out);
  if (status == ALLOY_OK || !moves_on(status)) return status;
  /* The owner cannot hold the new size: move the block to a member that can. */
  alloy_block moved;
  ALLOY_TRY(chain_allocate(chain, new_size, align, &moved));
  memcpy(moved.ptr, block.ptr, block.size < new_size ? block.size : new_size);
  ALLOY_IGNORE_STATUS(alloy_resource_deallocate(owner, block, align)); /* the owner accepted it as its own */
  *out = moved;
  return ALLOY_OK;
}

static bool fallback_owns(const alloy_resource *self, alloy_block block) {
  return alloy_fallback_owner((const alloy_fallback *)self, block) != NULL;
}

static void fallback_get_info(const alloy_resource *self, alloy_resource_info *info) {
  const alloy_fallback *chain = (const alloy_fallback *)self;
  info->thread_safety = ALLOY_THREAD_SAFE;
  info->max_alignment = 0;
  info->max_size = 0;
  info->has_stats = false;
  for (size_t i = 0; i < chain->count; ++i) {
    alloy_resource_info member;
    alloy_resource_get_info(chain->members[i], &member);
    if (member.thread_safety == ALLOY_THREAD_UNSAFE ||
        (member.thread_safety == ALLOY_THREAD_SAFE_FREE && info->thread_safety == ALLOY_THREAD_SAFE))
      info->thread_safety = member.thread_safety;
    if (member.max_alignment > info->max_alignment) info->max_alignment = member.max_alignment;
    if (member.max_size > info->max_size) info->max_size = member.max_size;
    if (member.has_stats) {
      info->has_stats = true;
      info->stats.live_bytes += member.stats.live_bytes;
      info->stats.peak_live_bytes += member.stats.peak_live_bytes;
      info->stats.reserved_bytes += member.stats.reserved_bytes;
      info->stats.committed_bytes += member.stats.committed_bytes;
      info->stats.allocations += member.stats.allocations;
      info->stats.deallocations += member.stats.deallocations;
      info->stats.failures += member.stats.failures;
    }
  }
}

/* A chain whose members all answer ownership answers it too. */
static const alloy_resource_ops fallback_ops_telling = {
    .struct_size = sizeof(alloy_resource_ops),
    .name = "fallback",
    .allocate = fallback_allocate,
    .deallocate = fallback_deallocate,
    .reallocate = fallback_reallocate,
    .resize = fallback_resize,
    .owns = fallback_owns,
    .get_info = fallback_get_info,
};

/* A chain ending in a catch-all cannot say which blocks are not its own. */
static const alloy_resource_ops fallback_ops_catch_all = {
    .struct_size = sizeof(alloy_resource_ops),
    .name = "fallback",
    .allocate = fallback_allocate,
    .deallocate = fallback_deallocate,
    .reallocate = fallback_reallocate,
    .resize = fallback_resize,
    .get_info = fallback_get_info,
};

alloy_status alloy_fallback_init(alloy_fallback *chain, alloy_resource *const *members, size_t count) {
  if (chain == NULL || members == NULL || count == 0 || count > ALLOY_FALLBACK_MAX_MEMBERS)
    return ALLOY_E_INVALID_ARGUMENT;
  for (size_t i = 0; i < count; ++i) {
    if (members[i] == NULL || members[i] == &chain->resource) return ALLOY_E_INVALID_ARGUMENT;
    if (i + 1 < count && !alloy_resource_can_tell_ownership(members[i])) return ALLOY_E_INVALID_ARGUMENT;
    for (size_t j = 0; j < i; ++j)
      if (members[j] == members[i]) return ALLOY_E_INVALID_ARGUMENT;
  }
  memset(chain, 0, sizeof *chain);
  chain->count = count;
  for (size_t i = 0; i < count; ++i) chain->members[i] = members[i];
  chain->resource.ops =
      alloy_resource_can_tell_ownership(members[count - 1]) ? &fallback_ops_telling : &fallback_ops_catch_all;
  return ALLOY_OK;
}

alloy_resource *alloy_fallback_resource(alloy_fallback *chain) { return &chain->resource; }
