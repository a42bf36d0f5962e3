/* The stack strategy: a LIFO discipline over an alloy_vm_arena.
 *
 * Invariant: the top is always a multiple of STACK_GRAIN past the (cache-line
 * aligned) base, because every size is rounded to the grain. A block of
 * alignment <= STACK_GRAIN therefore starts exactly at the old top, and
 * freeing it moves the top back to its start. A block of larger alignment
 * is placed at least one word past the old top, and that word (the "back
 * link", poisoned like free space) records the old top for the free.
 */
#include "alloy/stack.h"

#include <stddef.h>

#include "alloy/align.h"
#include "alloy/bits.h"
#include "alloy/fault.h"
#include "alloy/tool_hooks.h"
#include "alloy/vm_arena.h"

#define STACK_GRAIN ((size_t)ALLOY_DEFAULT_ALIGNMENT)
#define STACK_LINK sizeof(uintptr_t)

struct alloy_stack {
  alloy_stack_head head; /* first: the stack is its own resource (head.resource) */
  size_t peak_used;
  uint64_t failures;
};

static const alloy_resource_ops stack_ops;

static inline alloy_stack *stack_of(alloy_resource *resource) { return (alloy_stack *)resource; }
static inline const alloy_stack *const_stack_of(const alloy_resource *resource) {
  return (const alloy_stack *)resource;
}

/* Sizes were validated (<= ALLOY_MAX_REQUEST), so rounding cannot overflow. */
static ALLOY_ALWAYS_INLINE size_t stack_rounded(size_t size) { return alloy_align_up(size, STACK_GRAIN); }

alloy_stack_config alloy_stack_config_default(size_t reserve_size) {
  return (alloy_stack_config){.reserve_size = reserve_size, .numa_node = -1};
}

alloy_status alloy_stack_create(const alloy_stack_config *config, alloy_stack **out) {
  if (config == NULL || out == NULL) return ALLOY_E_INVALID_ARGUMENT;
  const alloy_vm_arena_config arena_config = {sizeof(alloy_stack), config->reserve_size, config->commit_chunk,
                                              config->numa_node};
  void *memory;
  ALLOY_TRY(alloy_vm_arena_create_owner(&arena_config, &config->commit, offsetof(alloy_stack, head.arena), &memory));
  alloy_stack *stack = memory;
  ALLOY_ASSERT(alloy_ptr_is_aligned(stack->head.arena.base, STACK_GRAIN));
  stack->head.resource.ops = &stack_ops;
  stack->peak_used = 0;
  stack->failures = 0;
  *out = stack;
  return ALLOY_OK;
}

void alloy_stack_destroy(alloy_stack *stack) {
  if (stack != NULL) alloy_vm_arena_destroy(&stack->head.arena); /* the stack lives inside it */
}

alloy_resource *alloy_stack_resource(alloy_stack *stack) { return &stack->head.resource; }

static alloy_status stack_allocate_over_aligned(alloy_stack *stack, size_t rounded, size_t align, void **out) {
  alloy_vm_arena *arena = &stack->head.arena;
  char *old_top = arena->top;
  arena->top = old_top + STACK_LINK; /* room for the back link below the block */
  void *ptr = alloy_vm_arena_bump(arena, rounded, align);
  if (ptr == NULL) {
    alloy_status status = alloy_vm_arena_grow(arena, rounded, align, &ptr);
    if (status != ALLOY_OK) {
      arena->top = old_top;
      return status;
    }
  }
  uintptr_t *link = (uintptr_t *)ptr - 1;
  ALLOY_MEM_UNDEFINED(link, STACK_LINK);
  *link = (uintptr_t)old_top;
  ALLOY_MEM_NOACCESS(link, STACK_LINK);
  *out = ptr;
  return ALLOY_OK;
}

static ALLOY_COLD alloy_status stack_allocate_slow(alloy_stack *stack, size_t rounded, size_t align,
                                                   alloy_block *out) {
  void *ptr;
  alloy_status status = align <= STACK_GRAIN ? alloy_vm_arena_grow(&stack->head.arena, rounded, 1, &ptr)
                                             : stack_allocate_over_aligned(stack, rounded, align, &ptr);
  if (status != ALLOY_OK) {
    stack->failures++;
    return status;
  }
  ALLOY_MEM_UNDEFINED(ptr, rounded);
  *out = alloy_block_make(ptr, rounded);
  return ALLOY_OK;
}

static ALLOY_ALWAYS_INLINE alloy_status stack_allocate_inline(alloy_stack *stack, size_t size, size_t align,
                                                              alloy_block *out) {
  ALLOY_TRY(alloy_request_check(size, align));
  const size_t rounded = stack_rounded(size);
  void *ptr;
  /* The top is grain-aligned, so small alignments need no rounding of it. */
  if (ALLOY_UNLIKELY(align > STACK_GRAIN || (ptr = alloy_vm_arena_bump(&stack->head.arena, rounded, 1)) == NULL))
    return stack_allocate_slow(stack, rounded, align, out);
  ALLOY_MEM_UNDEFINED(ptr, rounded);
  *out = alloy_block_make(ptr, rounded);
  return ALLOY_OK;
}

alloy_status alloy_stack_allocate(alloy_stack *stack, size_t size, size_t align, alloy_block *out) {
  return stack_allocate_inline(stack, size, align, out);
}

static alloy_status stack_allocate(alloy_resource *self, size_t size, size_t align, alloy_block *out) {
  return stack_allocate_inline(stack_of(self), size, align, out);
}

static inline void stack_note_peak(alloy_stack *stack) {
  size_t used = alloy_vm_arena_used(&stack->head.arena);
  if (used > stack->peak_used) stack->peak_used = used;
}

/* Why `block` cannot be freed (or resized) as the top block. */
static ALLOY_COLD alloy_status stack_report_misuse(const alloy_stack *stack, alloy_block block, size_t align) {
  const alloy_vm_arena *arena = &stack->head.arena;
  const char *ptr = block.ptr;
  alloy_fault fault = {ALLOY_E_OUT_OF_ORDER, "stack", block.ptr, block.size, 0, align, 0,
                       "the block is not the top of the stack"};
  if (ptr < arena->base || ptr >= arena->limit) {
    fault.kind = ALLOY_E_NOT_OWNED;
    fault.detail = "the block is not in this stack's reservation";
  } else if (ptr >= arena->top) {
    fault.kind = ALLOY_E_DOUBLE_FREE;
    fault.detail = "the block lies above the top: already freed or rolled back";
  } else if (block.size > ALLOY_MAX_REQUEST || stack_rounded(block.size) > (size_t)(arena->top - ptr)) {
    fault.kind = ALLOY_E_SIZE_MISMATCH;
    fault.expected_size = (size_t)(arena->top - ptr); /* the most it could be */
    fault.detail = "the block reaches past the top";
  } else {
    fault.expected_size = (size_t)(arena->top - ptr); /* the size that would make it the top */
  }
  return alloy_fault_report(&fault);
}

static ALLOY_ALWAYS_INLINE bool stack_is_top(const alloy_stack *stack, alloy_block block) {
  return block.size <= ALLOY_MAX_REQUEST && alloy_vm_arena_holds(&stack->head.arena, block.ptr, block.size) &&
         (char *)block.ptr + stack_rounded(block.size) == stack->head.arena.top;
}

/* Where the top was before the over-aligned block at `ptr` was allocated. */
static char *stack_read_back_link(const alloy_stack *stack, char *ptr) {
  uintptr_t *link = (uintptr_t *)(void *)ptr - 1;
  ALLOY_MEM_DEFINED(link, STACK_LINK);
  char *old_top = (char *)*link;
  ALLOY_MEM_NOACCESS(link, STACK_LINK);
  /* A link outside [base, link] means the block was not allocated with this alignment. */
  if (old_top < stack->head.arena.base || old_top > (char *)link) return NULL;
  return old_top;
}

alloy_status alloy_stack_free(alloy_stack *stack, alloy_block block, size_t align) {
  if (block.ptr == NULL) return ALLOY_OK;
  if (ALLOY_UNLIKELY(!stack_is_top(stack, block))) return stack_report_misuse(stack, block, align);
  char *new_top = block.ptr;
  if (ALLOY_UNLIKELY(align > STACK_GRAIN)) {
    new_top = stack_read_back_link(stack, block.ptr);
    if (new_top == NULL) {
      alloy_fault fault = {ALLOY_E_ALIGN_MISMATCH, "stack", block.ptr, block.size, 0, align, 0,
                           "the block was not allocated with this alignment"};
      return alloy_fault_report(&fault);
    }
  }
  stack_note_peak(stack);
  alloy_vm_arena_rewind(&stack->head.arena, new_top);
  return ALLOY_OK;
}

static alloy_status stack_deallocate(alloy_resource *self, alloy_block block, size_t align) {
  return alloy_stack_free(stack_of(self), block, align);
}

static alloy_status stack_resize(alloy_resource *self, alloy_block block, size_t new_size, size_t align,
                                 alloy_block *out) {
  alloy_stack *stack = stack_of(self);
  alloy_vm_arena *arena = &stack->head.arena;
  if (block.ptr == NULL || new_size > ALLOY_MAX_REQUEST || !alloy_ptr_is_aligned(block.ptr, align))
    return ALLOY_E_UNSUPPORTED;
  const size_t rounded = stack_rounded(new_size);
  char *ptr = block.ptr;
  if (!stack_is_top(stack, block)) {
    if (block.size <= ALLOY_MAX_REQUEST && alloy_vm_arena_holds(arena, block.ptr, block.size) &&
        rounded == stack_rounded(block.size)) {
      *out = alloy_block_make(ptr, rounded); /* same footprint: nothing moves */
      return ALLOY_OK;
    }
    return ALLOY_E_UNSUPPORTED; /* blocks above it pin its end */
  }
  if (rounded > (size_t)(arena->limit - ptr)) return ALLOY_E_CAPACITY;
  char *new_end = ptr + rounded;
  char *old_end = arena->top;
  ALLOY_TRY(alloy_vm_arena_commit_to(arena, new_end));
  if (new_end >= old_end) {
    ALLOY_MEM_UNDEFINED(old_end, (size_t)(new_end - old_end));
    arena->top = new_end;
  } else {
    stack_note_peak(stack);
    alloy_vm_arena_rewind(arena, new_end);
  }
  *out = alloy_block_make(ptr, rounded);
  return ALLOY_OK;
}

/* Only the top block can change size; moving any other block would free it out of order. */
static alloy_status stack_reallocate(alloy_resource *self, alloy_block block, size_t new_size, size_t align,
                                     alloy_block *out) {
  if (block.ptr == NULL) return stack_allocate(self, new_size, align, out);
  return stack_resize(self, block, new_size, align, out);
}

static bool stack_owns(const alloy_resource *self, alloy_block block) {
  return alloy_vm_arena_holds(&const_stack_of(self)->head.arena, block.ptr, block.size);
}

static size_t stack_peak(const alloy_stack *stack) {
  size_t used = alloy_vm_arena_used(&stack->head.arena);
  return used > stack->peak_used ? used : stack->peak_used;
}

alloy_status alloy_stack_check(const alloy_stack *stack) {
  const char *rule = alloy_vm_arena_broken_rule(&stack->head.arena);
  if (rule == NULL) return ALLOY_OK;
  alloy_fault fault = {ALLOY_E_CORRUPTION, "stack", stack->head.arena.top, 0, 0, 0, 0, rule};
  ALLOY_IGNORE_STATUS(alloy_fault_report(&fault));
  return ALLOY_E_CORRUPTION;
}

void alloy_stack_get_stats(const alloy_stack *stack, alloy_stack_stats *out) {
  out->used = alloy_vm_arena_used(&stack->head.arena);
  out->peak_used = stack_peak(stack);
  out->capacity = alloy_vm_arena_capacity(&stack->head.arena);
  out->committed = alloy_vm_arena_committed(&stack->head.arena);
  out->failures = stack->failures;
}

static void stack_get_info(const alloy_resource *self, alloy_resource_info *info) {
  const alloy_stack *stack = const_stack_of(self);
  const size_t capacity = alloy_vm_arena_capacity(&stack->head.arena);
  info->thread_safety = ALLOY_THREAD_UNSAFE;
  info->max_alignment = (size_t)1 << alloy_log2_floor(capacity);
  info->max_size = capacity;
  info->has_stats = true;
  info->stats.live_bytes = alloy_vm_arena_used(&stack->head.arena);
  info->stats.peak_live_bytes = stack_peak(stack);
  info->stats.reserved_bytes = stack->head.arena.reserved_size;
  info->stats.committed_bytes = alloy_vm_arena_committed(&stack->head.arena);
  info->stats.failures = stack->failures;
}

alloy_marker alloy_stack_mark(const alloy_stack *stack) {
  alloy_marker marker;
  marker.position = alloy_vm_arena_used(&stack->head.arena);
  return marker;
}

alloy_status alloy_stack_rewind(alloy_stack *stack, alloy_marker marker) {
  if (marker.position > alloy_vm_arena_used(&stack->head.arena) || !alloy_is_aligned(marker.position, STACK_GRAIN))
    return ALLOY_E_INVALID_ARGUMENT;
  stack_note_peak(stack);
  alloy_vm_arena_rewind(&stack->head.arena, stack->head.arena.base + marker.position);
  return ALLOY_OK;
}

void alloy_stack_reset(alloy_stack *stack) {
  stack_note_peak(stack);
  alloy_vm_arena_rewind(&stack->head.arena, stack->head.arena.base);
}

static alloy_status stack_mark(alloy_resource *self, alloy_marker *out) {
  *out = alloy_stack_mark(stack_of(self));
  return ALLOY_OK;
}

static alloy_status stack_rewind(alloy_resource *self, alloy_marker marker) {
  return alloy_stack_rewind(stack_of(self), marker);
}

static const alloy_resource_ops stack_ops = {
    .struct_size = sizeof(alloy_resource_ops),
    .name = "stack",
    .allocate = stack_allocate,
    .deallocate = stack_deallocate,
    .reallocate = stack_reallocate,
    .resize = stack_resize,
    .owns = stack_owns,
    .get_info = stack_get_info,
    .mark = stack_mark,
    .rewind = stack_rewind,
};
