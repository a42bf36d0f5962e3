/* Internals of the pool, shared by its four sources. Calls go down this
 * list only; no file calls a function defined in a file above it:
 *
 *   pool.c             the public API: configuration and layout, creation,
 *                      the single-threaded fast paths, the resource ops, the
 *                      stats. Calls every file below.
 *   pool_concurrent.c  the owner/remote split of a concurrent_free pool
 *                      (and its public calls alloy_pool_adopt and
 *                      alloy_pool_collect). Calls pool_check.c, pool_slab.c.
 *   pool_check.c       refused requests, the per-pool key, misuse reports:
 *                      the closer look at a free the fast checks found
 *                      suspect (with the confirming walk of a free list), a
 *                      corrupted link, the debug build's checks of a free.
 *                      Calls pool_slab.c.
 *   pool_slab.c        slabs: taking, committing, prewarming, the registry,
 *                      carving, giving back. Calls no other file.
 *
 * What a file offers the files above it is declared below, marked
 * ALLOY_HIDDEN and named alloy_<file>_<what> after the file defining it; the
 * static inline pieces here (free block and slab layout, the registry, the
 * hand-out fast path) are everybody's.
 *
 * Slab layout (slab_size bytes, aligned to slab_size):
 *
 *   | pool_slab header | padding to block_align | block 0 | block 1 | ... | tail |
 *
 * Invariants:
 *   - every block lies in a slab listed in the registry, a sorted array of
 *     slab addresses kept in the metadata arena after the pool object;
 *   - a free block's first word links to the next free block, xor the
 *     pool's key on plain pools (its tool state is no-access except while
 *     the pool reads or writes that word), and its word at mark_offset holds
 *     the key; a block handed out has 0 there, so only a block whose owner
 *     wrote the key itself looks free without being free;
 *   - blocks of the current slab past `carve` were never handed out and are
 *     not on any free list (lazy carving); prewarmed slabs wait on `spare`;
 *   - [span_low, span_low + span_size) covers every slab, so a pointer outside it is
 *     foreign without a lookup;
 *   - lazy commit: [slab, slab->commit_end) is committed, and carving never
 *     passes commit_end.
 *
 * Concurrent pools (concurrent_free): head.free_list stays NULL and
 * head.span_size 0, so every public entry point lands in the out-of-line
 * code, which dispatches on `concurrent`. The owner's free list is
 * `local_free`. Only the slab's `remote` source and the pool's `inbox` are
 * written by other threads; `shared_low`/`shared_high` are the span as
 * other threads read it (low only falls, high only rises, so any pair of
 * values a thread reads covers every block it may legally hold).
 */
#ifndef ALLOY_POOL_INTERNAL_H
#define ALLOY_POOL_INTERNAL_H

#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alloy/compiler.h"
#include "alloy/fault.h"
#include "alloy/pool.h"
#include "alloy/remote_free.h"
#include "alloy/tool_hooks.h"
#include "alloy/vm_arena.h"

/* A free block: its first word is the link (xor key on plain pools); the
 * key itself sits at head.mark_offset (the second word, or the first for
 * one-word blocks). */
typedef struct pool_free_block {
  struct pool_free_block *next;
} pool_free_block;

typedef struct pool_slab {
  alloy_pool *pool;                /* the owner, found from any block: ptr & ~(slab_size - 1) */
  size_t block_count;
  char *commit_end;                /* end of the committed prefix */
  struct pool_slab *next_spare;    /* prewarmed, waiting to be carved */
  alloy_remote_free_source remote; /* concurrent pools: other threads' frees of this slab */
} pool_slab;

struct alloy_pool {
  alloy_pool_head head; /* first: the pool is its own resource; the fast paths touch only this line */
  /* Slow path. */
  char *carve;     /* next never-used block of the current slab */
  char *carve_end; /* end of the current slab's block area */
  pool_slab *current;
  pool_slab *spare; /* prewarmed slabs, in address order */
  size_t max_blocks;
  size_t carved_blocks;
  size_t max_slabs;
  alloy_resource *parent;
  alloy_vm_arena meta; /* holds this object (its header) and the slab registry */
  size_t slab_count;
  uintptr_t span_low; /* the real span (head's copy is 0-sized on concurrent pools) */
  size_t span_size;
  size_t committed_bytes;
  size_t commit_chunk; /* 0: batched */
  int numa_node;
  bool concurrent;
  /* Concurrent pools, owner side: written on every owner call. */
  void *local_free;
  alloy_remote_free_source *received; /* received sources not yet taken */
  uint64_t allocations;
  uint64_t local_frees;
  uint64_t remote_reclaimed;
  uint64_t remote_batches;
  /* What a remote free reads: fixed at creation, or written only when a
   * slab is added or the pool is adopted. A line of its own, so that the
   * owner's allocations never take it away from the freeing threads (when
   * it shared a line with the counters above, every remote free missed:
   * 200-290 ns at P50 on the report's xthread_64). */
  alignas(ALLOY_CACHE_LINE) size_t slab_size;
  uint64_t owner; /* concurrent pools: alloy_thread_serial() of the owner */
  _Atomic(uintptr_t) shared_low;
  _Atomic(uintptr_t) shared_high;
  alignas(ALLOY_CACHE_LINE) alloy_remote_free_inbox inbox; /* written by other threads */
};

/* The slab registry: sorted slab addresses, in the metadata arena. */
static inline uintptr_t *alloy_pool_registry(const alloy_pool *pool) { return (uintptr_t *)(void *)pool->meta.base; }

/* Free-list links: stored xor the key on plain pools; a concurrent pool's
 * lists keep plain links (batches from other threads arrive linked by the
 * remote-free channel and are spliced as they come). */
static ALLOY_ALWAYS_INLINE uintptr_t alloy_pool_link_key(const alloy_pool *pool) {
  return pool->concurrent ? 0 : pool->head.key;
}

/* Whether a block the free list yields may be handed out: in the span
 * (which also turns away NULL). */
static ALLOY_ALWAYS_INLINE bool alloy_pool_in_span(uintptr_t span_low, size_t span_size, const void *block) {
  return (uintptr_t)block - span_low < span_size;
}

/* Whether a free may go ahead without a closer look: a block start, a size
 * that fits, no free mark. Reads the mark only at a block start. */
static ALLOY_ALWAYS_INLINE bool alloy_pool_free_looks_right(const alloy_pool *pool, alloy_block block) {
  const alloy_pool_head *head = &pool->head;
  if (ALLOY_UNLIKELY(alloy_pool_block_index(head, (uintptr_t)block.ptr) >= head->blocks_per_slab ||
                     block.size > head->block_size))
    return false;
  uintptr_t *mark = alloy_pool_mark_of(head, block.ptr);
  ALLOY_MEM_DEFINED(mark, sizeof *mark); /* tools: the block may be free already */
  return *mark != head->key;
}

/* Makes `block` free: the mark, then the link xor `link_key` (one-word
 * blocks: the link overwrites the mark). The callers know which kind of
 * pool they serve, so the key comes from them, not from `concurrent`. */
static ALLOY_ALWAYS_INLINE void alloy_pool_mark_free(alloy_pool *pool, pool_free_block *block, void *next,
                                                     uintptr_t link_key) {
  *alloy_pool_mark_of(&pool->head, block) = pool->head.key;
  block->next = (pool_free_block *)((uintptr_t)next ^ link_key);
}

/* Tools: a block leaves the free list for the caller, its mark cleared (a
 * live block must not look free). */
static ALLOY_ALWAYS_INLINE void alloy_pool_hand_out(alloy_pool *pool, pool_free_block *block, alloy_block *out) {
  uintptr_t *mark = alloy_pool_mark_of(&pool->head, block);
  ALLOY_MEM_UNDEFINED(mark, sizeof *mark);
  *mark = 0;
  ALLOY_TRACK_ALLOC(pool, block, pool->head.block_size);
  ALLOY_MEM_DEFINED(mark, sizeof *mark);
  *out = alloy_block_make(block, pool->head.block_size);
}

/* pool_concurrent.c: a concurrent pool's owner and remote sides. */
ALLOY_HIDDEN void alloy_pool_concurrent_init(alloy_pool *pool);
ALLOY_HIDDEN alloy_status alloy_pool_concurrent_allocate(alloy_pool *pool, size_t size, size_t align,
                                                         alloy_block *out);
ALLOY_HIDDEN alloy_status alloy_pool_concurrent_free(alloy_pool *pool, alloy_block block, size_t align);
ALLOY_HIDDEN uint64_t alloy_pool_concurrent_remote_pending(const alloy_pool *pool);

/* pool_check.c: refusals and misuse, through the fault handler. */
ALLOY_HIDDEN void alloy_pool_check_arm(alloy_pool *pool);
ALLOY_HIDDEN alloy_status alloy_pool_check_reject(size_t size, size_t align);
ALLOY_HIDDEN alloy_status alloy_pool_check_report(alloy_status kind, const alloy_pool *pool, alloy_block block,
                                                  size_t align, const char *detail);
ALLOY_HIDDEN alloy_status alloy_pool_check_free(alloy_pool *pool, alloy_block block, size_t align);
ALLOY_HIDDEN ALLOY_COLD alloy_status alloy_pool_check_suspect_free(alloy_pool *pool, alloy_block block, size_t align,
                                                                   const pool_free_block *free_list, bool confirm);
ALLOY_HIDDEN ALLOY_COLD void alloy_pool_check_corrupt_link(const alloy_pool *pool, const void *link);

/* pool_slab.c: slabs and the registry. */
ALLOY_HIDDEN alloy_status alloy_pool_slab_carve(alloy_pool *pool, alloy_block *out);
ALLOY_HIDDEN alloy_status alloy_pool_slab_prewarm(alloy_pool *pool, size_t blocks);
ALLOY_HIDDEN bool alloy_pool_slab_is_block_start(const alloy_pool *pool, const void *ptr);
ALLOY_HIDDEN void alloy_pool_slab_release_all(alloy_pool *pool);

#endif /* ALLOY_POOL_INTERNAL_H */
