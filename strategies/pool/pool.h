/* alloy/pool.h — the pool strategy: fixed-size blocks from an intrusive free list.
 *
 * For many objects of one size (particles, nodes, handles): allocate and free
 * are O(1) — pop and push on a free list threaded through the free blocks
 * themselves, so no memory is spent on headers. Block size and alignment
 * are fixed at creation; a request larger than the block, or with a
 * stricter alignment, is ALLOY_E_UNSUPPORTED.
 *
 * Memory comes in slabs (64 KiB by default), taken from the platform layer
 * or from a parent resource the caller names, and each slab is aligned to
 * its own size: the slab that owns a block, and through its header the
 * owning pool, is found from the block pointer alone (ptr & ~(slab_size-1)).
 * Fresh slabs are carved lazily, so a new slab costs no walk over its
 * blocks. With `max_blocks` set, the pool never holds more blocks than that
 * (ALLOY_E_CAPACITY). Slabs are returned when the pool is destroyed.
 *
 * Checks: ownership (owns()) is answered from the pool's own registry of
 * slab addresses, never by reading the block. Every build checks each free
 * for the price of a few compares: the pointer must lie in the slabs' span
 * and be a block start (exact, from the block size through a precomputed
 * inverse, no divide), the size must fit the block, and the block must not
 * carry the pool's free mark (a random per-pool key a free block holds in
 * its second word; a match is confirmed by a walk of the free list before
 * it is called a double free). Free-list links are stored xor the key
 * (plain pools), and a block is handed out only if it lies in the span: a
 * use-after-free write into a free block's link yields ALLOY_E_CORRUPTION
 * and the rest of that list is dropped, never a wild pointer. Debug builds
 * (ALLOY_DEBUG) also check the exact slab through the registry and the
 * alignment. Freed blocks are poisoned for ASan and described to memcheck
 * as a mempool, so a use after free is reported by both tools. Every misuse
 * goes through the fault handler; the free then returns the status and
 * changes nothing.
 *
 *   bad free                             release          ALLOY_DEBUG      asan
 *   double free right after the free     DOUBLE_FREE      DOUBLE_FREE      DOUBLE_FREE
 *   double free after other frees        DOUBLE_FREE      DOUBLE_FREE      DOUBLE_FREE
 *   interior pointer (p + 16)            INTERIOR_POINTER NOT_OWNED (1)    INTERIOR_POINTER
 *   wrong size (4096 for a 64 B block)   SIZE_MISMATCH    SIZE_MISMATCH    SIZE_MISMATCH
 *   foreign pointer, outside the span    NOT_OWNED        NOT_OWNED        NOT_OWNED
 *   foreign pointer, in a gap of the span not detected (2) NOT_OWNED       not detected (2)
 *   use-after-free write into a free     CORRUPTION (3)   CORRUPTION (3)   reported by ASan
 *   block's link
 *
 *   (1) the registry check comes first in debug builds and names it so.
 *   (2) memory between the pool's slabs that is not the pool's: the block
 *       start check is all the fast path does there.
 *   (3) plain pools, when the block would be handed out. Concurrent pools
 *       keep plain links (other threads' frees arrive linked by the
 *       remote-free channel): a wild link outside the span is CORRUPTION, a
 *       link overwritten with the address of another block of the pool is
 *       not detected. A double free is detected for blocks of two words or
 *       more (one-word blocks hold only the link: only a double free of the
 *       list's last block is caught). A concurrent pool's owner confirms a
 *       double free after reclaiming the pending remote frees; another
 *       thread cannot walk the owner's lists, so its double free is
 *       reported on the mark alone.
 *
 * Hot loops that know they hold a pool call alloy_pool_allocate_fast and
 * alloy_pool_free_fast (below), which inline the pop and the push.
 *
 * Commit and placement: by default a slab is committed whole when it is
 * taken (ALLOY_POOL_COMMIT_BATCHED); ALLOY_POOL_COMMIT_LAZY reserves it and
 * commits `commit_chunk` bytes at a time as blocks are carved, so a large
 * slab costs only what was handed out. `prewarm_blocks` takes, commits and
 * touches the slabs for that many blocks at creation, so the first
 * allocations take no page fault. `numa_node` binds every slab (and the
 * pool's metadata) to one node. Commit policy and NUMA need slabs from the
 * platform layer (no parent).
 *
 * Threads. A plain pool is not thread-safe: one thread at a time, or wrap
 * it in the locked decorator. A pool created with `concurrent_free` has an
 * owner thread (the creating thread, or the last caller of
 * alloy_pool_adopt) and reports ALLOY_THREAD_SAFE_FREE:
 *   - only the owner allocates; an allocation from another thread is
 *     refused with ALLOY_E_UNSUPPORTED and changes nothing;
 *   - any thread frees. The owner's free is the local push. Another
 *     thread's free goes onto the block's slab through the remote-free
 *     channel (alloy/remote_free.h): one CAS, pushed at once, so a thread
 *     that exits strands nothing and needs no exit hook;
 *   - the owner takes those frees back one whole slab batch at a time when
 *     its local free list runs dry (one exchange per batch, no walk), or
 *     all at once with alloy_pool_collect(). The owner never blocks and
 *     never takes a lock.
 * Stats, collect, adopt and destroy belong to the owner; destroy only when
 * no other thread still frees. The inline fast paths below stay correct on
 * a concurrent pool: they always take the call. The resource's ops go to
 * the owner/remote code directly; alloy_pool_allocate and alloy_pool_free
 * reach it through the plain pool's slow branch (one call more), which
 * keeps the plain pool's fast paths exactly as they were.
 *
 * The pool object lives in memory from the platform layer (no heap).
 */
#ifndef ALLOY_POOL_H
#define ALLOY_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alloy/block.h"
#include "alloy/compiler.h"
#include "alloy/resource.h"
#include "alloy/status.h"
#include "alloy/vm_arena.h"

ALLOY_EXTERN_C_BEGIN

typedef struct alloy_pool alloy_pool;

typedef enum alloy_pool_commit {
  ALLOY_POOL_COMMIT_BATCHED, /* a slab is committed whole when taken */
  ALLOY_POOL_COMMIT_LAZY,    /* committed commit_chunk bytes at a time as blocks are carved */
} alloy_pool_commit;

typedef struct alloy_pool_config {
  size_t block_size;      /* required, > 0; rounded up to block_align (and to at least a pointer) */
  size_t block_align;     /* a power of two; 0: ALLOY_DEFAULT_ALIGNMENT */
  size_t slab_size;       /* a power of two >= the page size; 0: 64 KiB, or more for large blocks */
  size_t max_blocks;      /* 0: unlimited */
  alloy_resource *parent; /* NULL: slabs come from the platform layer */
  /* Appended options; alloy_pool_config_default() sets each to its default. */
  alloy_pool_commit commit; /* BATCHED (default) or LAZY; LAZY needs no parent */
  size_t commit_chunk;      /* LAZY: bytes per commit, rounded up to pages; 0: one page */
  size_t prewarm_blocks;    /* slabs for this many blocks are committed and touched at creation */
  int numa_node;            /* -1 (default): no binding; else slabs live on this node (no parent) */
  bool concurrent_free;     /* owner allocates, any thread frees (see the header comment) */
} alloy_pool_config;

typedef struct alloy_pool_stats {
  size_t block_size;      /* the usable size of every block */
  size_t block_align;
  size_t slab_size;
  size_t blocks_per_slab;
  size_t slab_count;
  size_t live_blocks;     /* handed out and not freed (counted by walking the free list) */
  size_t capacity_blocks; /* blocks the current slabs can hold (bounded by max_blocks) */
  size_t max_blocks;      /* 0: unlimited */
  size_t committed_bytes; /* slab memory committed (lazy pools: what carving reached) */
  /* Concurrent pools only (zero otherwise). */
  uint64_t allocations;    /* blocks handed out */
  uint64_t local_frees;    /* frees by the owner */
  uint64_t remote_frees;   /* frees by other threads: reclaimed plus pending */
  uint64_t remote_pending; /* sent by other threads, not reclaimed yet */
  uint64_t remote_batches; /* slab batches the owner reclaimed */
} alloy_pool_stats;

/* block_size as given, everything else at its default. */
alloy_pool_config alloy_pool_config_default(size_t block_size);

/* ALLOY_E_INVALID_ARGUMENT for a NULL argument, block_size 0, an alignment
 * or slab size that is not a power of two, a slab too small for one block,
 * a NUMA node below -1, LAZY or a NUMA node with a parent, or a concurrent
 * pool whose slabs hold more than ALLOY_REMOTE_FREE_MAX_PENDING blocks.
 * ALLOY_E_UNAVAILABLE for a NUMA node the machine lacks. Without
 * prewarm_blocks no slab is taken until the first allocation; a prewarm
 * that cannot be had fails the create with its status. */
ALLOY_NODISCARD alloy_status alloy_pool_create(const alloy_pool_config *config, alloy_pool **out);

/* Returns every slab (to the platform or the parent); all blocks become invalid. */
void alloy_pool_destroy(alloy_pool *pool);

alloy_resource *alloy_pool_resource(alloy_pool *pool);

/* The resource's allocate and deallocate without the indirect call. */
ALLOY_NODISCARD alloy_status alloy_pool_allocate(alloy_pool *pool, size_t size, size_t align, alloy_block *out);
alloy_status alloy_pool_free(alloy_pool *pool, alloy_block block, size_t align);

/* On a concurrent pool: from the owner; counters are exact once the other
 * threads' frees have returned (allocations - local_frees - remote_frees
 * == live_blocks). */
void alloy_pool_get_stats(const alloy_pool *pool, alloy_pool_stats *out);

/* Concurrent pools, owner only: reclaims every pending remote free now;
 * returns how many blocks came back (0 on a plain pool or another thread). */
size_t alloy_pool_collect(alloy_pool *pool);

/* Concurrent pools: the calling thread becomes the owner. The previous
 * owner must have stopped using the pool, and the hand-over must be
 * synchronised by the caller (a join, a mutex, a release/acquire pair).
 * ALLOY_E_UNSUPPORTED on a plain pool. */
ALLOY_NODISCARD alloy_status alloy_pool_adopt(alloy_pool *pool);

/* The pool that owns `ptr`, a block of some pool whose slabs are `slab_size`
 * bytes: read from the slab header, so `ptr` must be a live pool block. */
alloy_pool *alloy_pool_of_block(const void *ptr, size_t slab_size);

/* The leading fields of every pool, public only for the inline fast paths
 * below. Never touch them directly. A concurrent pool keeps free_list NULL
 * and span_size 0 here (its real state lives further in), so both inline
 * paths always take the call there. */
typedef struct alloy_pool_head {
  alloy_resource resource;
  void *free_list;    /* first free block; its first word links to the next, xor key */
  size_t block_size;  /* usable size: the stride between blocks */
  size_t block_align;
  uintptr_t span_low; /* every slab lies in [span_low, span_low + span_size) */
  size_t span_size;
  /* The every-build free checks; fixed at creation. */
  uintptr_t key;             /* random, never 0: links are stored xor key; a free block's mark */
  size_t mark_offset;        /* where a free block holds the key: the second word (the first for one-word blocks) */
  uintptr_t slab_mask;       /* slab_size - 1 */
  size_t first_block_offset; /* of block 0 from its slab's start */
  uint64_t index_inverse;    /* the inverse of block_size's odd part, modulo 2^64 */
  unsigned index_shift;      /* block_size's trailing zero bits */
  size_t blocks_per_slab;
} alloy_pool_head;

/* The index of the block `ptr` starts, for a pointer in the pool's span;
 * a value >= blocks_per_slab when `ptr` is not a block start (inside a
 * block, in the slab header or its tail). Exact division by the odd part's
 * inverse: a multiple of block_size comes out as the quotient, anything else
 * above every quotient (Granlund and Montgomery's divisibility test). */
static ALLOY_ALWAYS_INLINE uint64_t alloy_pool_block_index(const alloy_pool_head *head, uintptr_t ptr) {
  const uint64_t offset = (uint64_t)((ptr & head->slab_mask) - head->first_block_offset);
  const uint64_t scaled = offset * head->index_inverse;
  return (scaled >> head->index_shift) | (scaled << ((64u - head->index_shift) & 63u));
}

/* The word of a free block that holds the pool's key. */
static ALLOY_ALWAYS_INLINE uintptr_t *alloy_pool_mark_of(const alloy_pool_head *head, void *block) {
  return (uintptr_t *)(void *)((char *)block + head->mark_offset);
}

/* alloy_pool_allocate with the free-list pop inlined into the caller. Same
 * contract; anything but a pop (empty list, bad request) takes the call.
 * See ALLOY_INLINE_FAST_PATHS. */
ALLOY_NODISCARD static ALLOY_ALWAYS_INLINE alloy_status alloy_pool_allocate_fast(alloy_pool *pool, size_t size,
                                                                                  size_t align, alloy_block *out) {
#if ALLOY_INLINE_FAST_PATHS
  alloy_pool_head *head = (alloy_pool_head *)(void *)pool;
  uintptr_t *block = (uintptr_t *)head->free_list;
  /* The span test also turns away NULL (an empty list) and a wild link. */
  if (ALLOY_LIKELY((uintptr_t)block - head->span_low < head->span_size && size <= head->block_size &&
                   align - 1 < head->block_align && (align & (align - 1)) == 0)) {
    head->free_list = (void *)(*block ^ head->key);
    *alloy_pool_mark_of(head, block) = 0; /* a live block must not look free */
    *out = alloy_block_make(block, head->block_size);
    return ALLOY_OK;
  }
#endif
  return alloy_pool_allocate(pool, size, align, out);
}

/* alloy_pool_free with the free-list push inlined into the caller. Same
 * contract and the same always-on checks: in the span, a block start, a
 * size that fits, not marked free; anything else takes the call. */
static ALLOY_ALWAYS_INLINE alloy_status alloy_pool_free_fast(alloy_pool *pool, alloy_block block, size_t align) {
#if ALLOY_INLINE_FAST_PATHS
  alloy_pool_head *head = (alloy_pool_head *)(void *)pool;
  const uintptr_t ptr = (uintptr_t)block.ptr;
  if (ALLOY_LIKELY(ptr - head->span_low < head->span_size &&
                   alloy_pool_block_index(head, ptr) < head->blocks_per_slab && block.size <= head->block_size &&
                   *alloy_pool_mark_of(head, block.ptr) != head->key)) {
    *alloy_pool_mark_of(head, block.ptr) = head->key;
    *(uintptr_t *)block.ptr = (uintptr_t)head->free_list ^ head->key;
    head->free_list = block.ptr;
    return ALLOY_OK;
  }
#endif
  return alloy_pool_free(pool, block, align);
}

ALLOY_EXTERN_C_END

#endif /* ALLOY_POOL_H */
