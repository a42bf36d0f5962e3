/* alloy/stack.h — the stack strategy: LIFO allocation with markers.
 *
 * For nested temporaries whose lifetimes form a stack (a recursive solver,
 * a parser, a job's scratch): blocks are freed in the reverse order of
 * allocation, and freeing the top block reclaims it at once. Markers roll
 * back to a position, freeing everything allocated after it.
 *
 * Like the frame, a stack reserves `reserve_size` bytes up front, commits
 * them in `commit_chunk` steps, keeps a guard page after the reservation and
 * never grows past it (ALLOY_E_CAPACITY). Sizes are rounded up to
 * ALLOY_DEFAULT_ALIGNMENT and no block carries a header: the caller's size
 * tells where a block ends, which must be the top. Over-aligned blocks
 * (alignment above ALLOY_DEFAULT_ALIGNMENT) keep one word before the block
 * that remembers the top before them, so their padding is reclaimed too.
 *
 * Freeing a block that is not the top is a programming error, reported in
 * every build through alloy_fault_report as ALLOY_E_OUT_OF_ORDER (the
 * check is one compare); when the handler returns, the free returns that
 * status and changes nothing. A block above the top (already freed or
 * rolled back) is ALLOY_E_DOUBLE_FREE, a size that reaches past the top
 * ALLOY_E_SIZE_MISMATCH, a block outside the reservation ALLOY_E_NOT_OWNED. A non-top block cannot be resized or moved
 * (ALLOY_E_UNSUPPORTED). Released memory is poisoned for ASan and made
 * no-access for memcheck.
 *
 * Hot loops call alloy_stack_allocate_fast / alloy_stack_free_fast (below),
 * which inline the common case.
 *
 * The stack object lives at the start of its own reservation (no heap).
 * Not thread-safe: one stack per thread, or wrap it in the locked decorator.
 */
#ifndef ALLOY_STACK_H
#define ALLOY_STACK_H

#include <stddef.h>
#include <stdint.h>

#include "alloy/align.h"
#include "alloy/block.h"
#include "alloy/compiler.h"
#include "alloy/resource.h"
#include "alloy/status.h"
#include "alloy/vm_arena.h"

ALLOY_EXTERN_C_BEGIN

typedef struct alloy_stack alloy_stack;

typedef struct alloy_stack_config {
  size_t reserve_size; /* bytes the stack may hand out (required, > 0) */
  size_t commit_chunk; /* commit granularity; 0: 64 KiB; rounded up to pages */
  int numa_node;       /* -1: no placement; else the pages are bound to this node */
  alloy_vm_commit_policy commit; /* lazy or batched commit, pre-warm (see alloy/vm_arena.h); zero: lazy */
} alloy_stack_config;

typedef struct alloy_stack_stats {
  size_t used;          /* bytes below the top, padding included */
  size_t peak_used;     /* the largest `used` seen at a free, rewind or query */
  size_t capacity;      /* bytes the reservation can hand out */
  size_t committed;     /* bytes the OS backs now (the stack object included) */
  uint64_t failures;    /* allocations refused for capacity or commit failure */
} alloy_stack_stats;

/* reserve_size as given, everything else at its default (numa_node -1). */
alloy_stack_config alloy_stack_config_default(size_t reserve_size);

/* Same statuses as alloy_frame_create. */
ALLOY_NODISCARD alloy_status alloy_stack_create(const alloy_stack_config *config, alloy_stack **out);

void alloy_stack_destroy(alloy_stack *stack);

alloy_resource *alloy_stack_resource(alloy_stack *stack);

/* The resource's allocate and deallocate without the indirect call. */
ALLOY_NODISCARD alloy_status alloy_stack_allocate(alloy_stack *stack, size_t size, size_t align, alloy_block *out);
alloy_status alloy_stack_free(alloy_stack *stack, alloy_block block, size_t align);

alloy_marker alloy_stack_mark(const alloy_stack *stack);

/* Frees everything allocated after `marker`. ALLOY_E_INVALID_ARGUMENT for a
 * marker above the top or not taken by alloy_stack_mark. */
alloy_status alloy_stack_rewind(alloy_stack *stack, alloy_marker marker);

/* Frees every block. */
void alloy_stack_reset(alloy_stack *stack);

void alloy_stack_get_stats(const alloy_stack *stack, alloy_stack_stats *out);

/* Verifies the stack's invariants (base <= top <= committed end <= limit,
 * whole pages, the guard page kept): ALLOY_OK, or ALLOY_E_CORRUPTION
 * reported through alloy_fault_report() with the broken rule as detail. O(1). */
alloy_status alloy_stack_check(const alloy_stack *stack);

/* The leading fields of every stack, public only for the inline fast paths
 * below. Never touch them directly. */
typedef struct alloy_stack_head {
  alloy_resource resource;
  alloy_vm_arena arena;
} alloy_stack_head;

/* alloy_stack_allocate with the bump inlined into the caller (alignments up
 * to ALLOY_DEFAULT_ALIGNMENT; others take the call). See ALLOY_INLINE_FAST_PATHS. */
ALLOY_NODISCARD static ALLOY_ALWAYS_INLINE alloy_status alloy_stack_allocate_fast(alloy_stack *stack, size_t size,
                                                                                   size_t align, alloy_block *out) {
#if ALLOY_INLINE_FAST_PATHS
  alloy_stack_head *head = (alloy_stack_head *)(void *)stack;
  if (ALLOY_LIKELY(alloy_request_check(size, align) == ALLOY_OK && align <= ALLOY_DEFAULT_ALIGNMENT)) {
    const size_t rounded = alloy_align_up(size, ALLOY_DEFAULT_ALIGNMENT);
    void *ptr = alloy_vm_arena_bump(&head->arena, rounded, 1); /* the top is always grain-aligned */
    if (ALLOY_LIKELY(ptr != NULL)) {
      *out = alloy_block_make(ptr, rounded);
      return ALLOY_OK;
    }
  }
#endif
  return alloy_stack_allocate(stack, size, align, out);
}

/* alloy_stack_free with the common case (the top block, alignment up to
 * ALLOY_DEFAULT_ALIGNMENT) inlined; everything else, errors included, takes the call. */
static ALLOY_ALWAYS_INLINE alloy_status alloy_stack_free_fast(alloy_stack *stack, alloy_block block, size_t align) {
#if ALLOY_INLINE_FAST_PATHS
  alloy_stack_head *head = (alloy_stack_head *)(void *)stack;
  char *ptr = (char *)block.ptr;
  if (ALLOY_LIKELY(align <= ALLOY_DEFAULT_ALIGNMENT && block.size <= ALLOY_MAX_REQUEST &&
                   ptr >= head->arena.base && ptr <= head->arena.top &&
                   alloy_align_up(block.size, ALLOY_DEFAULT_ALIGNMENT) == (size_t)(head->arena.top - ptr) &&
                   ptr != NULL)) {
    head->arena.top = ptr;
    return ALLOY_OK;
  }
#endif
  return alloy_stack_free(stack, block, align);
}

ALLOY_EXTERN_C_END

#endif /* ALLOY_STACK_H */
