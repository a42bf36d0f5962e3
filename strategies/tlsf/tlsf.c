/* TLSF: the instance (create, destroy, the resource), allocate, free and
 * in-place resize on the in-band layout of the shared core (tlsf_core.h:
 * the list search, split and merge), and trim. The top of the package: it
 * calls the helpers (tlsf_pool.c, tlsf_purge.c, the core) and none of them
 * calls it; the integrity walk is in tlsf_check.c. */
#include <string.h>

#include "alloy/align.h"
#include "alloy/fault.h"
#include "alloy/numa.h"
#include "alloy/vm.h"
#include "strategies/tlsf/tlsf_core.h"
#include "strategies/tlsf/tlsf_defrag.h"
#include "strategies/tlsf/tlsf_internal.h"
#include "strategies/tlsf/tlsf_pool.h"
#include "strategies/tlsf/tlsf_purge.h"

/* The in-band heap's view of the shared core (tlsf_core.h). */
#define LAYOUT TLSF_IN_BAND

/* Takes a located block off its list. When it is a spare pool's only block
 * the pool is in use again (invariant 11); the next block's header is
 * looked at only while spare pools exist. */
static ALLOY_ALWAYS_INLINE tlsf_block *take_free_block(alloy_tlsf *tlsf, tlsf_block *block, unsigned fl,
                                                        unsigned sl) {
  block_remove_at(tlsf, block, fl, sl);
  if (ALLOY_UNLIKELY(tlsf->spare_bytes != 0)) {
    tlsf_block *next = block_next(block);
    if (block_is_last(next)) alloy_tlsf_pool_spare_reuse(tlsf, next);
  }
  return block;
}

/* A free block of at least `size` bytes, taken off its list, or NULL. */
static tlsf_block *block_locate_free(alloy_tlsf *tlsf, size_t size) {
  unsigned fl, sl;
  tlsf_block *block = core_find_free(&tlsf->lists, size, &fl, &sl);
  if (block == NULL) return NULL;
  return take_free_block(tlsf, block, fl, sl);
}

static void *block_prepare_used(alloy_tlsf *tlsf, tlsf_block *block, size_t size) {
  core_trim_free(LAYOUT, &tlsf->lists, block, size);
  core_mark_as_used(LAYOUT, block);
  void *ptr = block_to_ptr(block);
  size_t usable = block_size(block);
  ALLOY_TRACK_ALLOC(tlsf, ptr, usable);
  tlsf_counts_allocated(&tlsf->counts, usable);
  return ptr;
}

/* The block size serving a request: at least the minimum, 8 mod 16. The
 * caller has checked size <= BLOCK_SIZE_MAX. */
static ALLOY_ALWAYS_INLINE size_t adjust_request_size(size_t size) {
  size_t adjusted = alloy_align_up(size + BLOCK_OVERHEAD, ALIGN_SIZE) - BLOCK_OVERHEAD;
  return adjusted < BLOCK_SIZE_MIN ? BLOCK_SIZE_MIN : adjusted;
}

/* ---- allocate ------------------------------------------------------------- */

/* Finds room for `adjusted` bytes at `align`, growing once when allowed. */
static ALLOY_NOINLINE alloy_status locate_or_grow(alloy_tlsf *tlsf, size_t search, size_t align,
                                                  tlsf_block **out) {
  tlsf_block *block = block_locate_free(tlsf, search);
  if (block == NULL) {
    ALLOY_TRY(alloy_tlsf_pool_grow(tlsf, search, align));
    block = block_locate_free(tlsf, search);
    if (block == NULL) return ALLOY_E_OUT_OF_MEMORY;
  }
  *out = block;
  return ALLOY_OK;
}

/* The slow path for alignments above ALIGN_SIZE: over-allocate, then cut the
 * leading gap off as a free block of its own (it must be big enough to be
 * one, hence gap_minimum). */
static ALLOY_NOINLINE alloy_status allocate_aligned(alloy_tlsf *tlsf, size_t adjusted, size_t align,
                                                    alloy_block *out) {
  const size_t gap_minimum = sizeof(tlsf_block);
  const size_t search = adjust_request_size(adjusted + align + gap_minimum);
  tlsf_block *block;
  ALLOY_TRY(locate_or_grow(tlsf, search, align, &block));
  char *ptr = (char *)block_to_ptr(block);
  char *aligned = (char *)alloy_ptr_align_up(ptr, align);
  size_t gap = (size_t)(aligned - ptr);
  if (gap != 0 && gap < gap_minimum) {
    size_t offset = gap_minimum - gap > align ? gap_minimum - gap : align;
    aligned = (char *)alloy_ptr_align_up(aligned + offset, align);
    gap = (size_t)(aligned - ptr);
  }
  if (gap != 0) {
    ALLOY_ASSERT(gap >= gap_minimum);
    block = core_trim_free_leading(LAYOUT, &tlsf->lists, block, gap);
  }
  void *user = block_prepare_used(tlsf, block, adjusted);
  ALLOY_ASSERT(alloy_ptr_is_aligned(user, align));
  *out = alloy_block_make(user, block_size(block));
  return ALLOY_OK;
}

alloy_status alloy_tlsf_allocate(alloy_tlsf *tlsf, size_t size, size_t align, alloy_block *out) {
  alloy_status status = alloy_request_check(size, align);
  if (ALLOY_UNLIKELY(status != ALLOY_OK)) goto failed;
  if (ALLOY_UNLIKELY(size > BLOCK_SIZE_MAX)) {
    status = ALLOY_E_UNSUPPORTED;
    goto failed;
  }
  const size_t adjusted = adjust_request_size(size);
  if (ALLOY_LIKELY(align <= ALIGN_SIZE)) {
    tlsf_block *block = block_locate_free(tlsf, adjusted);
    if (ALLOY_UNLIKELY(block == NULL)) {
      status = locate_or_grow(tlsf, adjusted, align, &block);
      if (status != ALLOY_OK) goto failed;
    }
    void *ptr = block_prepare_used(tlsf, block, adjusted);
    *out = alloy_block_make(ptr, block_size(block));
    return ALLOY_OK;
  }
  if (align > alloy_vm_page_size()) {
    status = ALLOY_E_UNSUPPORTED;
    goto failed;
  }
  status = allocate_aligned(tlsf, adjusted, align, out);
  if (status == ALLOY_OK) return ALLOY_OK;
failed:
  tlsf->counts.failures++;
  return status;
}

/* ---- free ----------------------------------------------------------------- */

static ALLOY_COLD alloy_status report_fault(alloy_status kind, const void *ptr, size_t size, size_t expected,
                                            const char *detail) {
  alloy_fault fault = {kind, "tlsf", ptr, size, expected, 0, 0, detail};
  return alloy_fault_report(&fault);
}

/* Checks a block handed back by the caller; ALLOY_OK or the reported fault. */
static alloy_status validate_used_block(const alloy_tlsf *tlsf, alloy_block block) {
  uintptr_t address = (uintptr_t)block.ptr;
  if (ALLOY_UNLIKELY(address < tlsf->span_low || address >= tlsf->span_high ||
                     !alloy_is_aligned(address, ALIGN_SIZE)))
    return report_fault(ALLOY_E_NOT_OWNED, block.ptr, block.size, 0, "pointer is outside every pool");
#if ALLOY_DEBUG
  if (alloy_tlsf_pool_of(tlsf, block.ptr) == NULL)
    return report_fault(ALLOY_E_NOT_OWNED, block.ptr, block.size, 0, "pointer is between pools");
#endif
  const tlsf_block *header = block_from_ptr(block.ptr);
  if (ALLOY_UNLIKELY(block_is_free(header)))
    return report_fault(ALLOY_E_DOUBLE_FREE, block.ptr, block.size, 0, "block is already free");
  if (ALLOY_UNLIKELY(block.size > block_size(header)))
    return report_fault(ALLOY_E_SIZE_MISMATCH, block.ptr, block.size, block_size(header),
                        "size is larger than the block");
  /* A block a defragmentation pass moves: its move is cancelled, or refused when it is a destination. */
  if (ALLOY_UNLIKELY(tlsf->defrag_pass != NULL)) return defrag_on_free(tlsf->defrag_pass, block.ptr, 0);
  return ALLOY_OK;
}

/* Returns a used block to the free lists, merged with free neighbours. */
static void free_used_block(alloy_tlsf *tlsf, tlsf_block *block) {
  size_t usable = block_size(block);
  ALLOY_TRACK_FREE(tlsf, block_to_ptr(block), usable);
  tlsf_counts_freed(&tlsf->counts, usable);
  core_mark_as_free(LAYOUT, block);
  block = core_merge_prev(LAYOUT, &tlsf->lists, block);
  block = core_merge_next(LAYOUT, &tlsf->lists, block);
  /* A grown pool that is now one free block stays as a spare or goes back. */
  if (!block_is_prev_free(block)) {
    tlsf_block *next = block_next(block);
    if (ALLOY_UNLIKELY(block_is_last(next)) && !alloy_tlsf_pool_keep_or_release(tlsf, block, next)) return;
  }
  if (tlsf->purge_threshold != 0) alloy_tlsf_purge_if_large(tlsf, block);
  block_insert(tlsf, block);
  purge_after_free(tlsf);
  /* UINT64_MAX without a spare that can decay. */
  if (ALLOY_UNLIKELY(tlsf->counts.deallocations >= tlsf->spare_deadline)) alloy_tlsf_pool_spare_release_oldest(tlsf);
}

alloy_status alloy_tlsf_deallocate(alloy_tlsf *tlsf, alloy_block block) {
  if (block.ptr == NULL) return ALLOY_OK;
  ALLOY_TRY(validate_used_block(tlsf, block));
  free_used_block(tlsf, block_from_ptr(block.ptr));
  return ALLOY_OK;
}

/* ---- resize --------------------------------------------------------------- */

alloy_status alloy_tlsf_resize(alloy_tlsf *tlsf, alloy_block block, size_t new_size, alloy_block *out) {
  ALLOY_TRY(alloy_request_check(new_size, 1));
  if (new_size > BLOCK_SIZE_MAX) return ALLOY_E_UNSUPPORTED;
  ALLOY_TRY(validate_used_block(tlsf, block));
  tlsf_block *header = block_from_ptr(block.ptr);
  const size_t current = block_size(header);
  const size_t adjusted = adjust_request_size(new_size);
  size_t usable = current;
  if (adjusted <= current) {
    if (core_can_split(LAYOUT, header, adjusted)) {
      /* Tools first: the trim then exposes exactly the words it writes. */
      ALLOY_MEM_NOACCESS((char *)block.ptr + adjusted, current - adjusted);
      ALLOY_TRACK_RESIZE(tlsf, block.ptr, current, adjusted);
      core_trim_used(LAYOUT, &tlsf->lists, header, adjusted);
      usable = block_size(header);
    }
  } else {
    tlsf_block *next = block_next(header);
    if (!block_is_free(next) || current + block_size(next) + BLOCK_OVERHEAD < adjusted) return ALLOY_E_UNSUPPORTED;
    block_remove(tlsf, next);
    core_absorb(LAYOUT, &tlsf->lists, header, next);
    core_mark_as_used(LAYOUT, header);
    core_trim_used(LAYOUT, &tlsf->lists, header, adjusted);
    usable = block_size(header);
    ALLOY_MEM_UNDEFINED((char *)block.ptr + current, usable - current);
    ALLOY_TRACK_RESIZE(tlsf, block.ptr, current, usable);
  }
  tlsf_counts_live_changed(&tlsf->counts, current, usable);
  *out = alloy_block_make(block.ptr, usable);
  return ALLOY_OK;
}

alloy_status alloy_tlsf_reallocate(alloy_tlsf *tlsf, alloy_block block, size_t new_size, size_t align,
                                   alloy_block *out) {
  ALLOY_TRY(alloy_request_check(new_size, align));
  if (block.ptr == NULL) return alloy_tlsf_allocate(tlsf, new_size, align, out);
  if (alloy_ptr_is_aligned(block.ptr, align)) {
    alloy_status status = alloy_tlsf_resize(tlsf, block, new_size, out);
    if (status != ALLOY_E_UNSUPPORTED) return status;
  } else {
    ALLOY_TRY(validate_used_block(tlsf, block));
  }
  alloy_block moved;
  ALLOY_TRY(alloy_tlsf_allocate(tlsf, new_size, align, &moved));
  memcpy(moved.ptr, block.ptr, block.size < new_size ? block.size : new_size);
  free_used_block(tlsf, block_from_ptr(block.ptr));
  *out = moved;
  return ALLOY_OK;
}

/* ---- the resource --------------------------------------------------------- */

static alloy_status tlsf_op_allocate(alloy_resource *self, size_t size, size_t align, alloy_block *out) {
  return alloy_tlsf_allocate((alloy_tlsf *)self, size, align, out);
}

static alloy_status tlsf_op_deallocate(alloy_resource *self, alloy_block block, size_t align) {
  (void)align;
  return alloy_tlsf_deallocate((alloy_tlsf *)self, block);
}

static alloy_status tlsf_op_reallocate(alloy_resource *self, alloy_block block, size_t new_size, size_t align,
                                       alloy_block *out) {
  return alloy_tlsf_reallocate((alloy_tlsf *)self, block, new_size, align, out);
}

static alloy_status tlsf_op_resize(alloy_resource *self, alloy_block block, size_t new_size, size_t align,
                                   alloy_block *out) {
  if (!alloy_ptr_is_aligned(block.ptr, align)) return ALLOY_E_INVALID_ARGUMENT;
  return alloy_tlsf_resize((alloy_tlsf *)self, block, new_size, out);
}

static bool tlsf_op_owns(const alloy_resource *self, alloy_block block) {
  return alloy_tlsf_owns((const alloy_tlsf *)self, block.ptr);
}

static void tlsf_op_get_info(const alloy_resource *self, alloy_resource_info *info) {
  const alloy_tlsf *tlsf = (const alloy_tlsf *)self;
  info->thread_safety = ALLOY_THREAD_UNSAFE;
  info->max_alignment = alloy_vm_page_size();
  info->max_size = BLOCK_SIZE_MAX;
  info->has_stats = true;
  info->stats.live_bytes = tlsf->counts.live_bytes;
  info->stats.peak_live_bytes = tlsf->counts.peak_live_bytes;
  info->stats.reserved_bytes = tlsf->held_bytes + tlsf->caller_bytes;
  info->stats.committed_bytes = tlsf->held_bytes + tlsf->caller_bytes - tlsf->purged_bytes;
  info->stats.allocations = tlsf->counts.allocations;
  info->stats.deallocations = tlsf->counts.deallocations;
  info->stats.failures = tlsf->counts.failures;
}

static const alloy_resource_ops tlsf_ops = {
    .struct_size = sizeof(alloy_resource_ops),
    .name = "tlsf",
    .allocate = tlsf_op_allocate,
    .deallocate = tlsf_op_deallocate,
    .reallocate = tlsf_op_reallocate,
    .resize = tlsf_op_resize,
    .owns = tlsf_op_owns,
    .get_info = tlsf_op_get_info,
};

static void control_init(alloy_tlsf *tlsf) {
  memset(tlsf, 0, sizeof *tlsf);
  tlsf->resource.ops = &tlsf_ops;
  tlsf->span_low = UINTPTR_MAX;
  tlsf->span_high = 0;
  tlsf->numa_node = ALLOY_TLSF_NUMA_NONE;
  tlsf->spare_deadline = UINT64_MAX;
  tlsf->page_size = alloy_vm_page_size();
  ALLOY_TRACK_POOL_CREATE(tlsf, tlsf, 0);
}

alloy_resource *alloy_tlsf_resource(alloy_tlsf *tlsf) { return &tlsf->resource; }

/* ---- create and destroy --------------------------------------------------- */

size_t alloy_tlsf_control_size(void) { return CONTROL_SIZE; }
size_t alloy_tlsf_pool_overhead(void) { return POOL_OVERHEAD; }

alloy_tlsf_config alloy_tlsf_config_default(void) {
  alloy_tlsf_config config;
  memset(&config, 0, sizeof config);
  config.initial_pool_size = (size_t)1 << 20;
  config.growth = ALLOY_TLSF_GROW_PLATFORM;
  config.growth_size = ALLOY_TLSF_DEFAULT_GROWTH;
  config.numa_node = ALLOY_TLSF_NUMA_LOCAL;
  config.spare_bytes = ALLOY_TLSF_DEFAULT_SPARE;
  config.spare_decay = ALLOY_TLSF_DEFAULT_SPARE_DECAY;
  config.growth_divisor = ALLOY_TLSF_DEFAULT_GROWTH_DIVISOR;
  return config;
}

static alloy_status resolve_numa_node(int requested, int *out) {
  if (requested == ALLOY_TLSF_NUMA_NONE) {
    *out = ALLOY_TLSF_NUMA_NONE;
    return ALLOY_OK;
  }
  if (requested == ALLOY_TLSF_NUMA_LOCAL) return alloy_numa_current_node(out);
  if (requested < 0) return ALLOY_E_INVALID_ARGUMENT;
  if (requested >= alloy_numa_node_count()) return ALLOY_E_UNAVAILABLE;
  *out = requested;
  return ALLOY_OK;
}

alloy_status alloy_tlsf_create(const alloy_tlsf_config *config, alloy_tlsf **out) {
  if (config == NULL || out == NULL || (unsigned)config->growth > ALLOY_TLSF_GROW_PARENT)
    return ALLOY_E_INVALID_ARGUMENT;
  if (config->growth == ALLOY_TLSF_GROW_PARENT && config->parent == NULL) return ALLOY_E_INVALID_ARGUMENT;
  int node;
  ALLOY_TRY(resolve_numa_node(config->numa_node, &node));
  size_t initial = config->initial_pool_size;
  if (initial != 0 && initial < POOL_BYTES_MIN) initial = POOL_BYTES_MIN;
  if (initial > POOL_BYTES_MAX) return ALLOY_E_INVALID_ARGUMENT;
  initial = alloy_align_up(initial, ALIGN_SIZE);
  size_t bytes = CONTROL_SIZE + initial;
  if (config->max_bytes != 0 && bytes > config->max_bytes) return ALLOY_E_INVALID_ARGUMENT;

  const alloy_tlsf_growth source = config->growth == ALLOY_TLSF_GROW_PARENT ? ALLOY_TLSF_GROW_PARENT
                                                                              : ALLOY_TLSF_GROW_PLATFORM;
  void *memory;
  size_t source_bytes;
  ALLOY_TRY(alloy_tlsf_pool_obtain(source, config->parent, node, bytes, &memory, &source_bytes));
  char *start = (char *)alloy_ptr_align_up(memory, ALIGN_SIZE);
  alloy_tlsf *tlsf = (alloy_tlsf *)(void *)start;
  control_init(tlsf);
  tlsf->growth = config->growth;
  tlsf->growth_size = config->growth_size ? config->growth_size : ALLOY_TLSF_DEFAULT_GROWTH;
  tlsf->growth_divisor = config->growth_divisor;
  tlsf->max_bytes = config->max_bytes;
  tlsf->parent = config->parent;
  tlsf->numa_node = node;
  tlsf->spare_limit = config->keep_empty_pools ? SIZE_MAX : config->spare_bytes;
  tlsf->spare_decay = config->keep_empty_pools ? 0 : config->spare_decay;
  tlsf->purge_threshold = config->purge_threshold;
  tlsf->dirty_limit = config->dirty_limit;
  tlsf->dirty_age = config->dirty_age;
  /* An age alone still needs the dirty list, never its limit. */
  if (tlsf->dirty_age != 0 && tlsf->dirty_limit == 0) tlsf->dirty_limit = SIZE_MAX;
  tlsf->control_origin = source == ALLOY_TLSF_GROW_PARENT ? ORIGIN_PARENT : ORIGIN_PLATFORM;
  tlsf->control_memory = memory;
  tlsf->control_bytes = source_bytes;
  tlsf->held_bytes = source_bytes;
  if (initial != 0) {
    /* Whatever the rounding to pages added goes to the first pool too. */
    size_t pool_bytes = alloy_align_down(source_bytes - (size_t)(start - (char *)memory) - CONTROL_SIZE, ALIGN_SIZE);
    if (pool_bytes > POOL_BYTES_MAX) pool_bytes = POOL_BYTES_MAX;
    alloy_tlsf_pool_format(tlsf, (tlsf_pool *)(void *)(start + CONTROL_SIZE), start + CONTROL_SIZE, 0, pool_bytes,
                           ORIGIN_CONTROL, source == ALLOY_TLSF_GROW_PLATFORM);
  }
  *out = tlsf;
  return ALLOY_OK;
}

alloy_status alloy_tlsf_create_in_place(void *memory, size_t bytes, alloy_tlsf **out) {
  if (memory == NULL || out == NULL) return ALLOY_E_INVALID_ARGUMENT;
  char *start = (char *)alloy_ptr_align_up(memory, ALIGN_SIZE);
  size_t skipped = (size_t)(start - (char *)memory);
  if (bytes < skipped + CONTROL_SIZE + POOL_BYTES_MIN) return ALLOY_E_INVALID_ARGUMENT;
  size_t pool_bytes = alloy_align_down(bytes - skipped - CONTROL_SIZE, ALIGN_SIZE);
  if (pool_bytes > POOL_BYTES_MAX) return ALLOY_E_INVALID_ARGUMENT;
  alloy_tlsf *tlsf = (alloy_tlsf *)(void *)start;
  control_init(tlsf);
  tlsf->growth = ALLOY_TLSF_GROW_NONE;
  tlsf->control_origin = ORIGIN_CALLER;
  tlsf->control_memory = memory;
  tlsf->control_bytes = bytes;
  tlsf->caller_bytes = CONTROL_SIZE + pool_bytes;
  alloy_tlsf_pool_format(tlsf, (tlsf_pool *)(void *)(start + CONTROL_SIZE), start + CONTROL_SIZE, 0, pool_bytes,
                         ORIGIN_CONTROL, false);
  *out = tlsf;
  return ALLOY_OK;
}

void alloy_tlsf_destroy(alloy_tlsf *tlsf) {
  if (tlsf == NULL) return;
  alloy_tlsf_pool_release_all(tlsf);
  const tlsf_origin origin = tlsf->control_origin;
  alloy_resource *parent = tlsf->parent;
  void *memory = tlsf->control_memory;
  const size_t bytes = tlsf->control_bytes;
  ALLOY_TRACK_POOL_DESTROY(tlsf, tlsf, 0);
  if (origin == ORIGIN_PLATFORM) alloy_tlsf_pool_give_back(ALLOY_TLSF_GROW_PLATFORM, parent, memory, bytes);
  else if (origin == ORIGIN_PARENT) alloy_tlsf_pool_give_back(ALLOY_TLSF_GROW_PARENT, parent, memory, bytes);
}

/* ---- trim ----------------------------------------------------------------- */

size_t alloy_tlsf_trim(alloy_tlsf *tlsf) {
  const size_t released = alloy_tlsf_pool_release_spares(tlsf);
  return released + alloy_tlsf_purge_resident(tlsf);
}
