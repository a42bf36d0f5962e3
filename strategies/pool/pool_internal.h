/* Internals of the pool, shared by its four sources. Calls go down this
 * list only; no file calls a function defined in a file above it:
 *
 *   pool.c             the public API: configuration and layout, creation,
 *                      the single-threaded fast paths, the resource ops, the
 *                      stats. Calls every file below.
 *   pool_concurrent.c  the owner/remote split of a concurrent_free pool
 *                      (and its public calls alloy_pool_adopt and
 *                      alloy_pool_collect). Calls pool_check.c, pool_slab.c.
 *   pool_check.c       refused requests, misuse reports, the debug build's
 *                      checks of a free. Calls pool_slab.c.
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
 *   - a free block's first word links to the next free block, and its second
 *     word holds head.free_key when the blocks have one (its tool state is
 *     no-access except while the pool reads or writes those words); a block
 *     off the lists never holds the key there, as far as the pool wrote it;
 *   - blocks of the current slab past `carve` were never handed out and are
 *     not on any free list (lazy carving); prewarmed slabs wait on `spare`;
 *   - [span_low, span_low + span_size) covers every slab, so a pointer outside it is
 *     foreign without a lookup;
 *   - lazy commit: [slab, slab->commit_end) is committed, and carving never
 *     passes commit_end.
 *
 * Concurrent pools (concurrent_free): head.free_list stays NULL and
 * head.block_span 0, so every public entry point lands in the out-of-line
 * code, which dispatches on `concurrent`. Pools of one-word blocks keep
 * head.block_span 0 too (their blocks have no room for the mark the fast
 * paths check), and so do pools whose slab and stride are too large for
 * the head's block-start test (alloy_pool_head_serves); they keep their
 * free list in head.free_list, and the out-of-line code serves them from
 * the real span with the exact test (`stride`). The owner's free list is
 * `local_free`. Only the slab's `remote` source, the pool's `inbox` and
 * the `senders` records are written by other threads; `shared_low`/
 * `shared_high` are the span as other threads read it (low only falls, high
 * only rises, so any pair of values a thread reads covers every block it
 * may legally hold).
 *
 * A sender record is claimed by one other thread on its first free into the
 * pool and held until that thread exits or detaches; only that thread
 * writes it (the owner reads `count` for its stats). Its open batch is a
 * list of freed blocks of one slab, linked and marked as on any free list,
 * newest first; `last` is the oldest, whose link the send writes.
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
#include "alloy/thread_exit.h"
#include "alloy/tool_hooks.h"
#include "alloy/vm_arena.h"

typedef struct pool_free_block {
  struct pool_free_block *next;
  uint64_t mark; /* head.free_key while listed (blocks of two words or more) */
} pool_free_block;

/* Records of other threads' open batches of remote frees in a pool (a
 * thread finding none free sends each free at once). */
#define POOL_SENDERS 16
/* Remote frees a thread batches before it sends them (one CAS). */
#define POOL_REMOTE_BATCH 64u

typedef struct pool_slab {
  alloy_pool *pool;                /* the owner, found from any block: ptr & ~(slab_size - 1) */
  size_t block_count;
  char *commit_end;                /* end of the committed prefix */
  struct pool_slab *next_spare;    /* prewarmed, waiting to be carved */
  alloy_remote_free_source remote; /* concurrent pools: other threads' frees of this slab */
} pool_slab;

typedef struct pool_sender {
  alignas(ALLOY_CACHE_LINE) _Atomic(uint32_t) claimed; /* held by a thread (0: free) */
  struct pool_slab *slab;   /* the open batch's slab; NULL while the batch is empty */
  pool_free_block *first;   /* newest block of the batch */
  pool_free_block *last;    /* oldest: its link is written by the send */
  _Atomic(size_t) count;    /* blocks in the batch (the owner's stats read it) */
  alloy_pool *pool;
} pool_sender;

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
  uintptr_t span_low; /* the real span (the head's block range is empty where the head does not serve) */
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
  size_t first_block_offset;
  size_t blocks_per_slab;
  alloy_divisor stride; /* the exact block-start test of every pool (the head's holds for most) */
  uint64_t owner; /* concurrent pools: alloy_thread_serial() of the owner */
  _Atomic(uintptr_t) shared_low;
  _Atomic(uintptr_t) shared_high;
  uint64_t serial;                   /* concurrent pools: never reused, names the pool in a thread's cache */
  alloy_thread_exit_key sender_exit; /* sends a thread's open batch when it exits */
  bool batching;                     /* whether sender_exit exists (else each remote free is sent at once) */
  alignas(ALLOY_CACHE_LINE) alloy_remote_free_inbox inbox; /* written by other threads */
  pool_sender senders[POOL_SENDERS];                       /* each written by the thread holding it */
};

/* The slab registry: sorted slab addresses, in the metadata arena. */
static inline uintptr_t *alloy_pool_registry(const alloy_pool *pool) { return (uintptr_t *)(void *)pool->meta.base; }

/* The words of a free block the pool reads and writes: the link, and the
 * mark when the blocks have room for it. */
static inline size_t alloy_pool_list_words(const alloy_pool_head *head) {
  return head->free_key != 0 ? sizeof(pool_free_block) : sizeof(void *);
}

/* Whether a listed block may be handed out (alloy_pool_head_can_pop for
 * any pool: the span the caller's list lives in, the mark only where the
 * blocks have one, and the tools told before the read). */
static ALLOY_ALWAYS_INLINE bool alloy_pool_listed_block_is_sound(const alloy_pool_head *head, uintptr_t span_low,
                                                                 size_t span_size, pool_free_block *block) {
  if (ALLOY_UNLIKELY((uintptr_t)block - span_low >= span_size)) return false;
  ALLOY_MEM_DEFINED(block, alloy_pool_list_words(head));
  return head->free_key == 0 || block->mark == head->free_key;
}

/* Whether a freed pointer is at a block start of the pool's layout and no
 * larger than a block (the span is the caller's test): the arithmetic of
 * alloy_pool_head_free_is_plain from the pool's own fields, for the pools
 * the head's fast paths do not serve. */
static ALLOY_ALWAYS_INLINE bool alloy_pool_is_block_shaped(const alloy_pool *pool, alloy_block block) {
  const uintptr_t offset = ((uintptr_t)block.ptr - pool->first_block_offset) & pool->head.slab_mask;
  const uint64_t index = alloy_divisor_exact_quotient(pool->stride, offset);
  return ((index < pool->blocks_per_slab) & (block.size <= pool->head.block_size)) != 0;
}

/* Whether the head's fast paths serve the pool: a plain pool whose blocks
 * carry the mark and whose head has the block-start constants. The head's
 * block range (see alloy_pool_head): from the first slab's block 0 to the
 * span's end on such a pool, empty on every other pool and before the
 * first slab. */
static inline bool alloy_pool_head_serves(const alloy_pool *pool) {
  return !pool->concurrent && pool->head.free_key != 0 && pool->head.block_limit != 0;
}

static inline void alloy_pool_head_range(const alloy_pool *pool, uintptr_t *low, size_t *span) {
  const bool served = alloy_pool_head_serves(pool) && pool->span_size != 0;
  *low = served ? pool->span_low + pool->first_block_offset : 0;
  *span = served ? pool->span_size - pool->first_block_offset : 0;
}

/* Takes the sound first block off a list: returns the next one. */
static ALLOY_ALWAYS_INLINE void *alloy_pool_unlist(const alloy_pool_head *head, pool_free_block *block) {
  void *next = block->next;
  if (head->free_key != 0) block->mark = 0; /* a live block never looks free */
  return next;
}

/* A block's push onto a list: link, and mark. */
static ALLOY_ALWAYS_INLINE void alloy_pool_list_push(const alloy_pool_head *head, void **list, pool_free_block *block) {
  block->next = (pool_free_block *)*list;
  if (head->free_key != 0) block->mark = head->free_key;
  *list = block;
}

/* Tools: a block goes to the caller. */
static ALLOY_ALWAYS_INLINE void alloy_pool_hand_out(alloy_pool *pool, pool_free_block *block, alloy_block *out) {
  ALLOY_TRACK_ALLOC(pool, block, pool->head.block_size);
  *out = alloy_block_make(block, pool->head.block_size);
}

/* pool_concurrent.c: a concurrent pool's owner and remote sides. */
ALLOY_HIDDEN void alloy_pool_concurrent_init(alloy_pool *pool);
ALLOY_HIDDEN void alloy_pool_concurrent_fini(alloy_pool *pool);
ALLOY_HIDDEN alloy_status alloy_pool_concurrent_allocate(alloy_pool *pool, size_t size, size_t align,
                                                         alloy_block *out);
ALLOY_HIDDEN alloy_status alloy_pool_concurrent_free(alloy_pool *pool, alloy_block block, size_t align);
ALLOY_HIDDEN uint64_t alloy_pool_concurrent_remote_pending(const alloy_pool *pool);

/* pool_check.c: refusals and misuse, through the fault handler. */
ALLOY_HIDDEN alloy_status alloy_pool_check_reject(size_t size, size_t align);
ALLOY_HIDDEN alloy_status alloy_pool_check_report(alloy_status kind, const alloy_pool *pool, alloy_block block,
                                                  size_t align, const char *detail);
ALLOY_HIDDEN alloy_status alloy_pool_check_free(alloy_pool *pool, alloy_block block, size_t align);
ALLOY_HIDDEN alloy_status alloy_pool_check_refused_free(alloy_pool *pool, alloy_block block, size_t align,
                                                        uintptr_t span_low, size_t span_size);
ALLOY_HIDDEN void alloy_pool_check_unsound_block(const alloy_pool *pool, const void *block, uintptr_t span_low,
                                                 size_t span_size);

/* pool_slab.c: slabs and the registry. */
ALLOY_HIDDEN alloy_status alloy_pool_slab_carve(alloy_pool *pool, alloy_block *out);
ALLOY_HIDDEN alloy_status alloy_pool_slab_prewarm(alloy_pool *pool, size_t blocks);
ALLOY_HIDDEN bool alloy_pool_slab_is_block_start(const alloy_pool *pool, const void *ptr);
ALLOY_HIDDEN void alloy_pool_slab_release_all(alloy_pool *pool);

#endif /* ALLOY_POOL_INTERNAL_H */
