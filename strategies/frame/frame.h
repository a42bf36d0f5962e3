/* alloy/frame.h — the frame strategy: a linear arena reset once per frame.
 *
 * For per-frame scratch: thousands of short-lived records built during a
 * frame and dropped together. A frame reserves `reserve_size` bytes of
 * address space up front, commits it in `commit_chunk` steps as allocation
 * advances, and keeps one never-committed guard page after the reservation,
 * so an overrun faults instead of corrupting a neighbour. Allocation is a
 * pointer bump; it never grows past the reservation (ALLOY_E_CAPACITY).
 *
 * Page faults: `commit` chooses lazy (chunk by chunk, the default) or
 * batched commit and pre-warm. With commit.prewarm_bytes set to the size of
 * a typical frame, the first frame runs on pages faulted in at creation;
 * commit.prewarm_ahead makes the slow path fault in pages ahead of the top.
 * A reset keeps pre-warmed pages committed and warm even with
 * decommit_above below them: decommit never undoes pre-warm.
 *
 * Releasing memory:
 *   - alloy_frame_reset(): O(1), independent of the number of objects; the
 *     memory is not touched. With `decommit_above` set, committed pages
 *     above that many bytes go back to the OS on reset, so one spike frame
 *     does not pin its peak forever.
 *   - markers (alloy_frame_mark / alloy_frame_rewind, also the resource's
 *     mark/rewind slots and ALLOY_SCOPE): roll back to a position.
 *   - deallocate: freeing the most recent block rolls the top back (so a
 *     reallocate of the top block grows or shrinks in place); freeing any
 *     other block is accepted and reclaims nothing until reset.
 * Released memory is poisoned for ASan and made no-access for memcheck, so
 * a use after reset or rewind is reported by both.
 *
 * The frame object lives at the start of its own reservation (no heap).
 * Not thread-safe: one frame per thread, or wrap it in the locked decorator.
 *
 *   alloy_frame *frame;
 *   alloy_frame_config config = alloy_frame_config_default(64u << 20);
 *   if (alloy_frame_create(&config, &frame) != ALLOY_OK) ...;
 *   alloy_allocator a = alloy_allocator_of(alloy_frame_resource(frame));
 *   for (;;) { ... ALLOY_NEW(a, struct command, &cmd) ...; alloy_frame_reset(frame); }
 *
 * Through alloy_allocator every allocation is one indirect call; a hot loop
 * that knows it holds a frame calls alloy_frame_allocate_fast (below), which
 * inlines the bump.
 */
#ifndef ALLOY_FRAME_H
#define ALLOY_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "alloy/align.h"
#include "alloy/block.h"
#include "alloy/compiler.h"
#include "alloy/resource.h"
#include "alloy/status.h"
#include "alloy/vm_arena.h"

ALLOY_EXTERN_C_BEGIN

typedef struct alloy_frame alloy_frame;

typedef struct alloy_frame_config {
  size_t reserve_size;   /* bytes the frame may hand out (required, > 0) */
  size_t commit_chunk;   /* commit granularity; 0: 64 KiB; rounded up to pages */
  size_t decommit_above; /* on reset, return committed pages above this many bytes; 0: keep everything */
  int numa_node;         /* -1: no placement; else the pages are bound to this node */
  alloy_vm_commit_policy commit; /* lazy or batched commit, pre-warm (see alloy/vm_arena.h); zero: lazy */
} alloy_frame_config;

typedef struct alloy_frame_stats {
  size_t used;            /* bytes from the start to the top, alignment padding included */
  size_t peak_used;       /* the largest `used` seen at any reset or query */
  size_t last_frame_used; /* `used` just before the last reset */
  size_t capacity;        /* bytes the reservation can hand out */
  size_t committed;       /* bytes the OS backs now (the frame object included) */
  uint64_t failures;      /* allocations refused for capacity or commit failure */
  uint64_t resets;
} alloy_frame_stats;

/* reserve_size as given, everything else at its default (numa_node -1). */
alloy_frame_config alloy_frame_config_default(size_t reserve_size);

/* ALLOY_E_INVALID_ARGUMENT for a NULL argument, reserve_size 0 or too large
 * to reserve, numa_node below -1, an invalid commit policy (pre-warm above
 * reserve_size, commit_batch with lazy mode); ALLOY_E_UNAVAILABLE for a NUMA node the
 * machine lacks; ALLOY_E_OUT_OF_MEMORY when the OS refuses the reservation or the
 * pre-warm or batch commit. */
ALLOY_NODISCARD alloy_status alloy_frame_create(const alloy_frame_config *config, alloy_frame **out);

/* Releases the reservation; every block and the frame itself become invalid. */
void alloy_frame_destroy(alloy_frame *frame);

/* The frame as an alloy_resource (for alloy_allocator_of). */
alloy_resource *alloy_frame_resource(alloy_frame *frame);

/* The resource's allocate without the indirect call. */
ALLOY_NODISCARD alloy_status alloy_frame_allocate(alloy_frame *frame, size_t size, size_t align, alloy_block *out);

/* Frees every block at once in O(1). */
void alloy_frame_reset(alloy_frame *frame);

/* The current top, to roll back to later. */
alloy_marker alloy_frame_mark(const alloy_frame *frame);

/* Frees everything allocated after `marker`. ALLOY_E_INVALID_ARGUMENT for a
 * marker above the top (already rolled back past). */
alloy_status alloy_frame_rewind(alloy_frame *frame, alloy_marker marker);

void alloy_frame_get_stats(const alloy_frame *frame, alloy_frame_stats *out);

/* Verifies the frame's invariants (base <= top <= committed end <= limit,
 * whole pages, the guard page kept): ALLOY_OK, or ALLOY_E_CORRUPTION
 * reported through alloy_fault_report() with the broken rule as detail. O(1). */
alloy_status alloy_frame_check(const alloy_frame *frame);

/* The leading fields of every frame, public only for the inline fast path
 * below. Never touch them directly. */
typedef struct alloy_frame_head {
  alloy_resource resource;
  alloy_vm_arena arena;
} alloy_frame_head;

/* alloy_frame_allocate with the bump inlined into the caller: no call while
 * the committed range lasts. Same contract; see ALLOY_INLINE_FAST_PATHS. */
ALLOY_NODISCARD static ALLOY_ALWAYS_INLINE alloy_status alloy_frame_allocate_fast(alloy_frame *frame, size_t size,
                                                                                   size_t align, alloy_block *out) {
#if ALLOY_INLINE_FAST_PATHS
  alloy_frame_head *head = (alloy_frame_head *)(void *)frame;
  if (ALLOY_LIKELY(alloy_request_check(size, align) == ALLOY_OK)) {
    void *ptr = alloy_vm_arena_bump(&head->arena, size, align);
    if (ALLOY_LIKELY(ptr != NULL)) {
      *out = alloy_block_make(ptr, size);
      return ALLOY_OK;
    }
  }
#endif
  return alloy_frame_allocate(frame, size, align, out);
}

ALLOY_EXTERN_C_END

#endif /* ALLOY_FRAME_H */
