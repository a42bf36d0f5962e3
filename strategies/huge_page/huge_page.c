/* The huge-page arena: one huge-page mapping, a bump pointer, O(1) reset. */
#include "alloy/huge_page.h"

#include <string.h>

#include "alloy/align.h"
#include "alloy/fault.h"
#include "alloy/numa.h"
#include "alloy/tool_hooks.h"
#include "alloy/vm.h"

struct alloy_huge_page_arena {
  alloy_resource resource; /* first: the arena is a resource */
  char *base;
  size_t capacity;
  size_t top;  /* bytes from base handed out so far, a multiple of ALLOY_DEFAULT_ALIGNMENT */
  size_t peak; /* highest top seen */
  size_t max_align; /* the huge page size, capped by the mapping (read once: the platform asks /proc) */
  alloy_huge_mapping mapping;
  size_t self_bytes;
  uint64_t allocations, deallocations, failures;
};

alloy_huge_page_config alloy_huge_page_config_default(void) {
  alloy_huge_page_config config;
  memset(&config, 0, sizeof config);
  config.capacity = (size_t)32 << 20;
  config.best = ALLOY_PAGES_EXPLICIT_HUGE;
  config.numa_node = ALLOY_HUGE_PAGE_NUMA_LOCAL;
  return config;
}

/* Where the top lands after a block: rounded to the default alignment, so a
 * block of any size freed on top gives back exactly what it took (size 0
 * still takes a byte, to get a distinct address). The capacity is a page
 * multiple, so the rounding never passes it. */
static inline size_t block_end(size_t start, size_t size) {
  return alloy_align_up(start + (size ? size : 1), ALLOY_DEFAULT_ALIGNMENT);
}

alloy_status alloy_huge_page_arena_allocate(alloy_huge_page_arena *arena, size_t size, size_t align,
                                            alloy_block *out) {
  alloy_status status = alloy_request_check(size, align);
  if (ALLOY_UNLIKELY(status != ALLOY_OK)) goto failed;
  if (ALLOY_UNLIKELY(align > arena->max_align)) {
    status = ALLOY_E_UNSUPPORTED;
    goto failed;
  }
  /* base is huge-page aligned, so aligning the offset aligns the pointer. */
  const size_t start = alloy_align_up(arena->top, align);
  if (ALLOY_UNLIKELY(start > arena->capacity || size > arena->capacity - start)) {
    status = ALLOY_E_CAPACITY;
    goto failed;
  }
  char *ptr = arena->base + start;
  arena->top = block_end(start, size);
  if (arena->top > arena->peak) arena->peak = arena->top;
  arena->allocations++;
  ALLOY_TRACK_ALLOC(arena, ptr, size ? size : 1);
  *out = alloy_block_make(ptr, size);
  return ALLOY_OK;
failed:
  arena->failures++;
  return status;
}

static bool arena_contains(const alloy_huge_page_arena *arena, const void *ptr) {
  return alloy_range_contains(arena->base, arena->top, ptr, 0) && (const char *)ptr < arena->base + arena->top;
}

/* A block the used range does not hold. Inside the mapping but at or above
 * the top, it was handed out once and given back since: freed already as the
 * top block, or by a reset. Elsewhere it never came from this arena. */
static ALLOY_COLD alloy_status arena_refuse(const alloy_huge_page_arena *arena, alloy_block block) {
  const bool in_mapping = alloy_range_contains(arena->base, arena->capacity, block.ptr, 0);
  alloy_fault fault = {
      .resource = "huge_page",
      .ptr = block.ptr,
      .size = block.size,
  };
  if (!in_mapping) {
    fault.kind = ALLOY_E_NOT_OWNED;
    fault.detail = "block is outside the arena's mapping";
  } else if ((const char *)block.ptr >= arena->base + arena->top) {
    fault.kind = ALLOY_E_DOUBLE_FREE;
    fault.detail = "block lies above the arena's top: freed already, or by a reset or rewind";
  } else {
    fault.kind = ALLOY_E_SIZE_MISMATCH;
    fault.expected_size = arena->top - (size_t)((const char *)block.ptr - arena->base);
    fault.detail = "block runs past the arena's top: the size given is larger than the block";
  }
  return alloy_fault_report(&fault);
}

alloy_status alloy_huge_page_arena_deallocate(alloy_huge_page_arena *arena, alloy_block block) {
  if (block.ptr == NULL) return ALLOY_OK;
  const size_t used = block.size ? block.size : 1;
  if (ALLOY_UNLIKELY(!arena_contains(arena, block.ptr) ||
                     used > arena->top - (size_t)((char *)block.ptr - arena->base)))
    return arena_refuse(arena, block);
  ALLOY_TRACK_FREE(arena, block.ptr, used);
  arena->deallocations++;
  /* The most recent block gives its bytes back at once. */
  const size_t start = (size_t)((char *)block.ptr - arena->base);
  if (block_end(start, block.size) == arena->top) arena->top = start;
  return ALLOY_OK;
}

void alloy_huge_page_arena_reset(alloy_huge_page_arena *arena) {
  ALLOY_TRACK_POOL_RESET(arena, arena->base, arena->top);
  arena->top = 0;
}

/* ---- the resource ---------------------------------------------------------- */

static alloy_status op_allocate(alloy_resource *self, size_t size, size_t align, alloy_block *out) {
  return alloy_huge_page_arena_allocate((alloy_huge_page_arena *)self, size, align, out);
}

static alloy_status op_deallocate(alloy_resource *self, alloy_block block, size_t align) {
  (void)align;
  return alloy_huge_page_arena_deallocate((alloy_huge_page_arena *)self, block);
}

/* In place when the block is the top one and the arena has room. */
static alloy_status op_resize(alloy_resource *self, alloy_block block, size_t new_size, size_t align,
                              alloy_block *out) {
  alloy_huge_page_arena *arena = (alloy_huge_page_arena *)self;
  (void)align;
  const size_t old_used = block.size ? block.size : 1;
  const size_t new_used = new_size ? new_size : 1;
  if (!arena_contains(arena, block.ptr)) return ALLOY_E_UNSUPPORTED;
  const size_t start = (size_t)((char *)block.ptr - arena->base);
  if (block_end(start, block.size) != arena->top) {
    if (new_size > block.size) return ALLOY_E_UNSUPPORTED;
    *out = alloy_block_make(block.ptr, new_size); /* shrinking in the middle: the tail just idles */
    return ALLOY_OK;
  }
  if (new_used > arena->capacity - start) return ALLOY_E_CAPACITY;
  arena->top = block_end(start, new_size);
  if (arena->top > arena->peak) arena->peak = arena->top;
  ALLOY_TRACK_RESIZE(arena, block.ptr, old_used, new_used);
  if (new_used > old_used) ALLOY_VG_UNDEFINED((char *)block.ptr + old_used, new_used - old_used);
  else ALLOY_VG_NOACCESS((char *)block.ptr + new_used, old_used - new_used);
  *out = alloy_block_make(block.ptr, new_size);
  return ALLOY_OK;
}

static bool op_owns(const alloy_resource *self, alloy_block block) {
  const alloy_huge_page_arena *arena = (const alloy_huge_page_arena *)self;
  return alloy_range_contains(arena->base, arena->capacity, block.ptr, 0) &&
         (const char *)block.ptr < arena->base + arena->capacity;
}

static alloy_status op_mark(alloy_resource *self, alloy_marker *out) {
  out->position = ((alloy_huge_page_arena *)self)->top;
  return ALLOY_OK;
}

static alloy_status op_rewind(alloy_resource *self, alloy_marker marker) {
  alloy_huge_page_arena *arena = (alloy_huge_page_arena *)self;
  if (marker.position > arena->top) {
    alloy_fault fault = {ALLOY_E_OUT_OF_ORDER, "huge_page", arena->base + marker.position, 0, arena->top, 0, 0,
                         "rewind to a marker above the top (already rewound past it)"};
    return alloy_fault_report(&fault);
  }
  ALLOY_MEM_NOACCESS(arena->base + marker.position, arena->top - marker.position);
  arena->top = marker.position;
  return ALLOY_OK;
}

static void op_get_info(const alloy_resource *self, alloy_resource_info *info) {
  const alloy_huge_page_arena *arena = (const alloy_huge_page_arena *)self;
  info->thread_safety = ALLOY_THREAD_UNSAFE;
  info->max_alignment = arena->max_align;
  info->max_size = arena->capacity;
  info->has_stats = true;
  info->stats.live_bytes = arena->top;
  info->stats.peak_live_bytes = arena->peak;
  info->stats.reserved_bytes = arena->mapping.size;
  info->stats.committed_bytes = arena->mapping.size;
  info->stats.allocations = arena->allocations;
  info->stats.deallocations = arena->deallocations;
  info->stats.failures = arena->failures;
}

static const alloy_resource_ops huge_page_ops = {
    .struct_size = sizeof(alloy_resource_ops),
    .name = "huge_page",
    .allocate = op_allocate,
    .deallocate = op_deallocate,
    .resize = op_resize,
    .owns = op_owns,
    .get_info = op_get_info,
    .mark = op_mark,
    .rewind = op_rewind,
};

/* ---- life cycle -------------------------------------------------------------- */

static alloy_status resolve_node(int requested, int *out) {
  if (requested == ALLOY_HUGE_PAGE_NUMA_NONE) {
    *out = ALLOY_HUGE_PAGE_NUMA_NONE;
    return ALLOY_OK;
  }
  if (requested == ALLOY_HUGE_PAGE_NUMA_LOCAL) return alloy_numa_current_node(out);
  if (requested < 0) return ALLOY_E_INVALID_ARGUMENT;
  if (requested >= alloy_numa_node_count()) return ALLOY_E_UNAVAILABLE;
  *out = requested;
  return ALLOY_OK;
}

alloy_status alloy_huge_page_arena_create(const alloy_huge_page_config *config, alloy_huge_page_arena **out) {
  if (config == NULL || out == NULL || config->capacity == 0 || (unsigned)config->best > ALLOY_PAGES_EXPLICIT_HUGE ||
      config->prewarm_bytes > config->capacity)
    return ALLOY_E_INVALID_ARGUMENT;
  int node;
  ALLOY_TRY(resolve_node(config->numa_node, &node));
  alloy_huge_mapping mapping;
  if (config->require_kind) {
    ALLOY_TRY(alloy_huge_pages_map_kind(config->capacity, config->best, &mapping));
  } else {
    ALLOY_TRY(alloy_huge_pages_map(config->capacity, config->best, &mapping));
  }
  alloy_status status = ALLOY_OK;
  /* Before the first touch, so every page lands on the node. */
  if (node >= 0) status = alloy_numa_bind(mapping.base, mapping.size, node);
  const size_t self_bytes = alloy_vm_page_size();
  void *self = NULL;
  if (status == ALLOY_OK) status = alloy_vm_map(self_bytes, self_bytes, &self);
  if (status != ALLOY_OK) {
    ALLOY_IGNORE_STATUS(alloy_huge_pages_unmap(&mapping));
    return status;
  }
  /* After the NUMA binding (pages land on the node) and before the tools mark the pool inaccessible. */
  if (config->prewarm_bytes != 0)
    alloy_vm_populate(mapping.base, alloy_align_up(config->prewarm_bytes, alloy_vm_page_size()));
  alloy_huge_page_arena *arena = (alloy_huge_page_arena *)self;
  arena->resource.ops = &huge_page_ops;
  arena->base = (char *)mapping.base;
  arena->capacity = mapping.size;
  arena->mapping = mapping;
  const size_t huge_page = alloy_huge_page_size();
  arena->max_align = huge_page < mapping.size ? huge_page : mapping.size;
  arena->self_bytes = self_bytes;
  ALLOY_TRACK_POOL_CREATE(arena, arena->base, arena->capacity);
  *out = arena;
  return ALLOY_OK;
}

void alloy_huge_page_arena_destroy(alloy_huge_page_arena *arena) {
  if (arena == NULL) return;
  alloy_huge_mapping mapping = arena->mapping;
  ALLOY_TRACK_POOL_DESTROY(arena, mapping.base, mapping.size);
  ALLOY_IGNORE_STATUS(alloy_huge_pages_unmap(&mapping));
  ALLOY_IGNORE_STATUS(alloy_vm_release(arena, arena->self_bytes));
}

alloy_resource *alloy_huge_page_arena_resource(alloy_huge_page_arena *arena) { return &arena->resource; }
alloy_page_kind alloy_huge_page_arena_kind(const alloy_huge_page_arena *arena) { return arena->mapping.kind; }
alloy_huge_mapping alloy_huge_page_arena_mapping(const alloy_huge_page_arena *arena) { return arena->mapping; }
size_t alloy_huge_page_arena_used(const alloy_huge_page_arena *arena) { return arena->top; }
size_t alloy_huge_page_arena_capacity(const alloy_huge_page_arena *arena) { return arena->capacity; }
