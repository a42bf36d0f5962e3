/* The frame strategy: a bump pointer over an alloy_vm_arena.
 *
 * Fast path: validate, bump, tell the tools the block is addressable. Every
 * release (reset, rewind, freeing the top block) is a rewind of the arena,
 * which is where released memory is poisoned.
 */
#include "alloy/frame.h"

#include <stddef.h>

#include "alloy/align.h"
#include "alloy/bits.h"
#include "alloy/fault.h"
#include "alloy/tool_hooks.h"
#include "alloy/vm_arena.h"

struct alloy_frame {
  alloy_frame_head head; /* first: the frame is its own resource (head.resource) */
  size_t decommit_above;
  size_t peak_used;
  size_t last_frame_used;
  uint64_t failures;
  uint64_t resets;
};

static const alloy_resource_ops frame_ops;

static inline alloy_frame *frame_of(alloy_resource *resource) { return (alloy_frame *)resource; }
static inline const alloy_frame *const_frame_of(const alloy_resource *resource) {
  return (const alloy_frame *)resource;
}

alloy_frame_config alloy_frame_config_default(size_t reserve_size) {
  return (alloy_frame_config){.reserve_size = reserve_size, .numa_node = -1};
}

alloy_status alloy_frame_create(const alloy_frame_config *config, alloy_frame **out) {
  if (config == NULL || out == NULL) return ALLOY_E_INVALID_ARGUMENT;
  const alloy_vm_arena_config arena_config = {sizeof(alloy_frame), config->reserve_size, config->commit_chunk,
                                              config->numa_node};
  void *memory;
  ALLOY_TRY(alloy_vm_arena_create_owner(&arena_config, &config->commit, offsetof(alloy_frame, head.arena), &memory));
  alloy_frame *frame = memory;
  frame->head.resource.ops = &frame_ops;
  frame->decommit_above = config->decommit_above;
  frame->peak_used = 0;
  frame->last_frame_used = 0;
  frame->failures = 0;
  frame->resets = 0;
  *out = frame;
  return ALLOY_OK;
}

void alloy_frame_destroy(alloy_frame *frame) {
  if (frame != NULL) alloy_vm_arena_destroy(&frame->head.arena); /* the frame lives inside it */
}

alloy_resource *alloy_frame_resource(alloy_frame *frame) { return &frame->head.resource; }

static ALLOY_COLD alloy_status frame_allocate_slow(alloy_frame *frame, size_t size, size_t align, alloy_block *out) {
  void *ptr;
  alloy_status status = alloy_vm_arena_grow(&frame->head.arena, size, align, &ptr);
  if (status != ALLOY_OK) {
    frame->failures++;
    return status;
  }
  ALLOY_MEM_UNDEFINED(ptr, size);
  *out = alloy_block_make(ptr, size);
  return ALLOY_OK;
}

static ALLOY_ALWAYS_INLINE alloy_status frame_allocate_inline(alloy_frame *frame, size_t size, size_t align,
                                                              alloy_block *out) {
  ALLOY_TRY(alloy_request_check(size, align));
  void *ptr = alloy_vm_arena_bump(&frame->head.arena, size, align);
  if (ALLOY_UNLIKELY(ptr == NULL)) return frame_allocate_slow(frame, size, align, out);
  ALLOY_MEM_UNDEFINED(ptr, size);
  *out = alloy_block_make(ptr, size);
  return ALLOY_OK;
}

alloy_status alloy_frame_allocate(alloy_frame *frame, size_t size, size_t align, alloy_block *out) {
  return frame_allocate_inline(frame, size, align, out);
}

static alloy_status frame_allocate(alloy_resource *self, size_t size, size_t align, alloy_block *out) {
  return frame_allocate_inline(frame_of(self), size, align, out);
}

/* A block that is not live: above the top (released by reset, rewind or an
 * earlier free) or outside the reservation altogether. */
static ALLOY_COLD alloy_status frame_report_dead_block(const alloy_frame *frame, alloy_block block, size_t align) {
  const alloy_vm_arena *arena = &frame->head.arena;
  const char *ptr = block.ptr;
  alloy_fault fault = {ALLOY_E_NOT_OWNED, "frame", block.ptr, block.size, 0, align, 0,
                       "the block is not in this frame's reservation"};
  if (ptr >= arena->base && ptr < arena->top) {
    fault.kind = ALLOY_E_SIZE_MISMATCH;
    fault.expected_size = (size_t)(arena->top - ptr); /* the most it could be */
    fault.detail = "the block reaches past the top";
  } else if (ptr >= arena->base && ptr < arena->limit) {
    fault.kind = ALLOY_E_DOUBLE_FREE;
    fault.detail = "the block lies above the top: already released by reset, rewind or free";
  }
  return alloy_fault_report(&fault);
}

/* A zero-size block sits at the top it was given; freeing the block below
 * it rolls the top back under it while it is still live. It covers no
 * byte, so its own free has nothing to release and it can only stay empty. */
static bool frame_is_zero_size_above_top(const alloy_frame *frame, alloy_block block) {
  const alloy_vm_arena *arena = &frame->head.arena;
  return block.size == 0 && (char *)block.ptr > arena->top && (char *)block.ptr <= arena->limit;
}

/* Its free has nothing to release. */
static alloy_status frame_free_outside_top(alloy_frame *frame, alloy_block block, size_t align) {
  if (frame_is_zero_size_above_top(frame, block)) return ALLOY_OK;
  return frame_report_dead_block(frame, block, align);
}

static alloy_status frame_deallocate(alloy_resource *self, alloy_block block, size_t align) {
  alloy_frame *frame = frame_of(self);
  if (block.ptr == NULL) return ALLOY_OK;
  if (ALLOY_UNLIKELY(!alloy_vm_arena_holds(&frame->head.arena, block.ptr, block.size)))
    return frame_free_outside_top(frame, block, align);
  char *ptr = block.ptr;
  if (ptr + block.size == frame->head.arena.top) {
    alloy_vm_arena_rewind(&frame->head.arena, ptr); /* the most recent block: reclaim it */
  } else {
    ALLOY_MEM_NOACCESS(ptr, block.size); /* kept until reset, but no longer usable */
  }
  return ALLOY_OK;
}

static alloy_status frame_resize(alloy_resource *self, alloy_block block, size_t new_size, size_t align,
                                 alloy_block *out) {
  alloy_frame *frame = frame_of(self);
  alloy_vm_arena *arena = &frame->head.arena;
  if (block.ptr == NULL || !alloy_ptr_is_aligned(block.ptr, align)) return ALLOY_E_UNSUPPORTED;
  if (ALLOY_UNLIKELY(!alloy_vm_arena_holds(arena, block.ptr, block.size))) {
    if (!frame_is_zero_size_above_top(frame, block)) return frame_report_dead_block(frame, block, align);
    if (new_size > 0) return ALLOY_E_UNSUPPORTED; /* the bytes after it may be another block's */
    *out = block;
    return ALLOY_OK;
  }
  char *ptr = block.ptr;
  if (ptr + block.size == arena->top) { /* the top block moves its end freely */
    if (new_size > (size_t)(arena->limit - ptr)) return ALLOY_E_CAPACITY;
    char *new_end = ptr + new_size;
    ALLOY_TRY(alloy_vm_arena_commit_to(arena, new_end));
    if (new_size > block.size) {
      ALLOY_MEM_UNDEFINED(ptr + block.size, new_size - block.size);
      arena->top = new_end;
    } else {
      alloy_vm_arena_rewind(arena, new_end);
    }
  } else if (new_size <= block.size) {
    ALLOY_MEM_NOACCESS(ptr + new_size, block.size - new_size);
  } else {
    return ALLOY_E_UNSUPPORTED; /* another block follows this one */
  }
  *out = alloy_block_make(ptr, new_size);
  return ALLOY_OK;
}

static bool frame_owns(const alloy_resource *self, alloy_block block) {
  return alloy_vm_arena_holds(&const_frame_of(self)->head.arena, block.ptr, block.size);
}

static size_t frame_used(const alloy_frame *frame) { return alloy_vm_arena_used(&frame->head.arena); }

static size_t frame_peak(const alloy_frame *frame) {
  size_t used = frame_used(frame);
  return used > frame->peak_used ? used : frame->peak_used;
}

alloy_status alloy_frame_check(const alloy_frame *frame) {
  const char *rule = alloy_vm_arena_broken_rule(&frame->head.arena);
  if (rule == NULL) return ALLOY_OK;
  alloy_fault fault = {ALLOY_E_CORRUPTION, "frame", frame->head.arena.top, 0, 0, 0, 0, rule};
  ALLOY_IGNORE_STATUS(alloy_fault_report(&fault));
  return ALLOY_E_CORRUPTION;
}

void alloy_frame_get_stats(const alloy_frame *frame, alloy_frame_stats *out) {
  out->used = frame_used(frame);
  out->peak_used = frame_peak(frame);
  out->last_frame_used = frame->last_frame_used;
  out->capacity = alloy_vm_arena_capacity(&frame->head.arena);
  out->committed = alloy_vm_arena_committed(&frame->head.arena);
  out->failures = frame->failures;
  out->resets = frame->resets;
}

static void frame_get_info(const alloy_resource *self, alloy_resource_info *info) {
  const alloy_frame *frame = const_frame_of(self);
  const size_t capacity = alloy_vm_arena_capacity(&frame->head.arena);
  info->thread_safety = ALLOY_THREAD_UNSAFE;
  info->max_alignment = (size_t)1 << alloy_log2_floor(capacity);
  info->max_size = capacity;
  info->has_stats = true;
  info->stats.live_bytes = frame_used(frame);
  info->stats.peak_live_bytes = frame_peak(frame);
  info->stats.reserved_bytes = frame->head.arena.reserved_size;
  info->stats.committed_bytes = alloy_vm_arena_committed(&frame->head.arena);
  info->stats.failures = frame->failures;
}

void alloy_frame_reset(alloy_frame *frame) {
  alloy_vm_arena *arena = &frame->head.arena;
  const size_t used = frame_used(frame);
  frame->last_frame_used = used;
  if (used > frame->peak_used) frame->peak_used = used;
  frame->resets++;
  alloy_vm_arena_rewind(arena, arena->base);
  /* Only after a spike is there anything above the mark: steady frames pay one compare. */
  if (frame->decommit_above != 0 && (size_t)(arena->committed_end - arena->base) > frame->decommit_above)
    alloy_vm_arena_decommit_above(arena, arena->base + frame->decommit_above);
}

alloy_marker alloy_frame_mark(const alloy_frame *frame) {
  alloy_marker marker;
  marker.position = frame_used(frame);
  return marker;
}

alloy_status alloy_frame_rewind(alloy_frame *frame, alloy_marker marker) {
  if (marker.position > frame_used(frame)) return ALLOY_E_INVALID_ARGUMENT;
  alloy_vm_arena_rewind(&frame->head.arena, frame->head.arena.base + marker.position);
  return ALLOY_OK;
}

static alloy_status frame_mark(alloy_resource *self, alloy_marker *out) {
  *out = alloy_frame_mark(frame_of(self));
  return ALLOY_OK;
}

static alloy_status frame_rewind(alloy_resource *self, alloy_marker marker) {
  return alloy_frame_rewind(frame_of(self), marker);
}

static const alloy_resource_ops frame_ops = {
    .struct_size = sizeof(alloy_resource_ops),
    .name = "frame",
    .allocate = frame_allocate,
    .deallocate = frame_deallocate,
    .resize = frame_resize,
    .owns = frame_owns,
    .get_info = frame_get_info,
    .mark = frame_mark,
    .rewind = frame_rewind,
};
