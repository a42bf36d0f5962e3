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
 * slab addresses, never by reading the block. Freed blocks are poisoned for
 * ASan and described to memcheck as a mempool, so a use after free is
 * reported by both tools.
 *
 * Misuse. Every build checks each free by arithmetic on the pointer alone
 * (the freed block is never read on the free path): inside the pool's
 * span, at a block start (the offset times a constant made from the
 * stride, one compare: no divide), no larger than a block. A free block
 * carries the pool's random key in its second word (blocks of two words or
 * more); the pop, which reads that line for the link anyway, checks and
 * clears it, so a block met on the list a second time without a free in
 * between, which only a double free can cause, is never handed out twice.
 * Each misuse is reported through the fault handler and changes nothing
 * the pool would hand out again: a bad free returns its status; a bad list
 * entry is reported at the pop, the rest of that list is dropped (its free
 * blocks are leaked, never reused) and the pool carves on.
 *
 *   misuse                             release            ALLOY_DEBUG      ASan / memcheck
 *   pointer outside every slab's span  at the free        at the free      at the free
 *   in the span, in no slab of ours    no                 at the free      no
 *   interior pointer (p + 16)          at the free        at the free      at the free
 *   size larger than a block           at the free        at the free      at the free
 *   double free, right after the free  at the 2nd pop *   at the free      at the free (tool)
 *   double free after other frees      at the 2nd pop *   at the free      at the free (tool)
 *   write after free into the link     at the pop **      at the pop **    at the write (tool)
 *   write after free into the mark     at the pop *       at the pop *     at the write (tool)
 *   alignment the pool never served    no                 at the free      no
 *
 *   *  blocks of two words or more (one-word blocks have no room for the
 *      mark: there a double free is caught in debug builds only);
 *   ** when the written link points outside the span, or at a block whose
 *      mark is not the key.
 *   At the 2nd pop: the free returns ALLOY_OK; the block is handed out once,
 *   and where it would come off the list again the pop reports it:
 *   ALLOY_E_DOUBLE_FREE while the mark is still cleared, ALLOY_E_CORRUPTION
 *   once the block's user has written over it (a double free then looks
 *   like a write after free, and is named as either).
 *   Frees from other threads on a concurrent pool follow the same table
 *   (debug builds read the mark at the free); one more case is caught at
 *   the free in every build: the oldest block of the thread's open batch
 *   freed into it again.
 *
 * Hot loops that know they hold a pool call alloy_pool_allocate_fast and
 * alloy_pool_free_fast (below), which inline the pop and the push. A pool
 * of one-word blocks (no room for the mark), or one whose block size *
 * (slab_size + block size) reaches 2^64 (too large for the inline
 * block-start test), takes the call on both, with the same checks.
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
 *     thread's free joins that thread's open batch for the block's slab
 *     (plain stores, with the same every-build checks and the same mark as
 *     a local free), and the batch goes to the slab through the
 *     remote-free channel (alloy/remote_free.h) with one CAS: when it holds
 *     64 blocks, when the thread frees a block of another slab, calls
 *     alloy_pool_thread_detach, or exits. Up to 16 threads at a time hold
 *     a batch in a pool; the frees of any further thread are sent one at a
 *     time, and so are all of a pool's when the process had no
 *     thread-specific key left for it (each concurrent pool takes one).
 *     A block in an open batch counts as pending in the stats;
 *   - the owner takes those frees back one whole slab batch at a time when
 *     its local free list runs dry (one exchange per batch, no walk), or
 *     all it was sent with alloy_pool_collect(). The owner never blocks and
 *     never takes a lock, and no free waits for anything.
 * Stats, collect, adopt and destroy belong to the owner; destroy only when
 * no other thread frees into the pool or exits meanwhile (threads that freed
 * into it may go on running: their open batches are forgotten with the pool).
 * The inline fast paths below stay correct on a concurrent pool: they
 * always take the call. The resource's ops go to
 * the owner/remote code directly; alloy_pool_allocate and alloy_pool_free
 * reach it through the plain pool's slow branch (one call more), which
 * keeps the plain pool's fast paths exactly as they were.
 *
 * fork(): no mode of the pool takes a lock, so there is none to hold across
 * the fork (a plain pool shared through the locked decorator is covered by
 * that decorator's lock). A concurrent pool forked by its owner thread keeps
 * working in the child; frees another thread was sending or held in its
 * open batch at that moment stay pending there, never lost in the parent.
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
#include "alloy/divisor.h"
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
 * == live_blocks; remote frees still in open batches count as pending). */
void alloy_pool_get_stats(const alloy_pool *pool, alloy_pool_stats *out);

/* Walks the pool's metadata and the calling thread's free list (the
 * owner's, on a concurrent pool) and verifies the invariants: the slab
 * registry sorted, self-aligned, inside the span, each slab header naming
 * this pool; the carving cursor inside the current slab; every listed block
 * a carved block start, marked free, and no more of them than were carved.
 * ALLOY_OK, or ALLOY_E_CORRUPTION reported through alloy_fault_report()
 * with the first broken rule as detail. O(slabs + free blocks); no other
 * thread may allocate from the pool meanwhile. */
alloy_status alloy_pool_check(const alloy_pool *pool);

/* Concurrent pools, owner only: reclaims every remote free sent so far
 * (not those still in other threads' open batches); returns how many
 * blocks came back (0 on a plain pool or another thread). */
size_t alloy_pool_collect(alloy_pool *pool);

/* Concurrent pools, any thread but the owner: sends the calling thread's
 * open batch of frees to the owner now and gives up its batch record, so
 * nothing of this pool is left to run when the thread exits. For a thread
 * that is done with the pool but lives on. No-op on a plain pool. */
void alloy_pool_thread_detach(alloy_pool *pool);

/* Concurrent pools: the calling thread becomes the owner. The previous
 * owner must have stopped using the pool, and the hand-over must be
 * synchronised by the caller (a join, a mutex, a release/acquire pair).
 * ALLOY_E_UNSUPPORTED on a plain pool. */
ALLOY_NODISCARD alloy_status alloy_pool_adopt(alloy_pool *pool);

/* The pool that owns `ptr`, a block of some pool whose slabs are `slab_size`
 * bytes: read from the slab header, so `ptr` must be a live pool block. */
alloy_pool *alloy_pool_of_block(const void *ptr, size_t slab_size);

/* The leading fields of every pool, public only for the inline fast paths
 * below. Never touch them directly. The fast paths serve only plain pools
 * whose blocks carry the mark (two words or more): a concurrent pool, a
 * pool of one-word blocks and one too large for the block-start test keep
 * block_span 0 here (their real state lives further in), so every inline
 * test fails there and takes the call. */
typedef struct alloy_pool_head {
  alloy_resource resource;
  void *free_list;     /* first free block; its first word links to the next, its second holds free_key */
  uintptr_t block_low; /* the first slab's block 0: every block lies in [block_low, block_low + block_span) */
  size_t block_span;
  uint64_t free_key;   /* a listed block's second word; 0: one-word blocks, not marked */
  uintptr_t slab_mask; /* slab_size - 1 */
  /* The block-start test: an offset x into a slab's block area is a block
   * start exactly when (x * stride_magic) mod 2^64 < block_limit, with
   * stride_magic = 2^64 / stride + 1 (rounded down, plus one) and
   * block_limit = blocks_per_slab * (stride * stride_magic - 2^64): a
   * multiple k * stride comes out as k times that small excess, anything
   * else at or above stride_magic (Lemire, Kaser and Kurz, "Faster
   * remainder by direct computation", 2019, section 4). One multiply and
   * one compare check "on a boundary" and "inside the block area" at once;
   * it holds while stride * (slab_size + stride) < 2^64, and a pool beyond that
   * keeps its head's block range empty (the exact test of alloy/divisor.h
   * then runs out of line). */
  uint64_t stride_magic;
  uint64_t block_limit;
  size_t block_size;   /* usable size: the stride between blocks */
  size_t block_align;
} alloy_pool_head;

/* Whether `offset`, from the first slab's block 0, is a block start: the
 * offset masked to the slab is the offset from block 0 of the block's own
 * slab (slabs are aligned to their size) or, for a pointer into a slab's
 * header, past its last block. */
static ALLOY_ALWAYS_INLINE bool alloy_pool_head_is_block_start(const alloy_pool_head *head, uintptr_t offset) {
  return (uint64_t)(offset & head->slab_mask) * head->stride_magic < head->block_limit;
}

/* Whether a free can be a plain push: inside the block range, at a block
 * start and no larger than a block. Pure arithmetic on the pointer and the
 * head; the block is never read. */
static ALLOY_ALWAYS_INLINE bool alloy_pool_head_free_is_plain(const alloy_pool_head *head, alloy_block block) {
  const uintptr_t offset = (uintptr_t)block.ptr - head->block_low;
  if (ALLOY_UNLIKELY(offset >= head->block_span)) return false;
  if (ALLOY_UNLIKELY(!alloy_pool_head_is_block_start(head, offset))) return false;
  return ALLOY_LIKELY(block.size <= head->block_size);
}

/* Whether the list's first block can be handed out: inside the block range
 * (a link overwritten after a free points elsewhere; NULL, the empty list,
 * too) and marked free (a block met a second time on the list was freed
 * twice). Reads only the line the pop reads for the link anyway. */
static ALLOY_ALWAYS_INLINE bool alloy_pool_head_can_pop(const alloy_pool_head *head, const void *block) {
  if (ALLOY_UNLIKELY((uintptr_t)block - head->block_low >= head->block_span)) return false;
  return ALLOY_LIKELY(((const uint64_t *)block)[1] == head->free_key);
}

/* A block leaves the list: its mark goes, so a live block never looks free. */
static ALLOY_ALWAYS_INLINE void *alloy_pool_head_pop(alloy_pool_head *head, void *block) {
  head->free_list = *(void **)block;
  ((uint64_t *)block)[1] = 0;
  return block;
}

/* A freed block joins the list: link, then mark. */
static ALLOY_ALWAYS_INLINE void alloy_pool_head_push(alloy_pool_head *head, void *block) {
  *(void **)block = head->free_list;
  ((uint64_t *)block)[1] = head->free_key;
  head->free_list = block;
}

/* alloy_pool_allocate with the free-list pop inlined into the caller. Same
 * contract; anything but a pop (empty list, a block that fails the checks,
 * a bad request) takes the call. See ALLOY_INLINE_FAST_PATHS. */
ALLOY_NODISCARD static ALLOY_ALWAYS_INLINE alloy_status alloy_pool_allocate_fast(alloy_pool *pool, size_t size,
                                                                                  size_t align, alloy_block *out) {
#if ALLOY_INLINE_FAST_PATHS
  alloy_pool_head *head = (alloy_pool_head *)(void *)pool;
  void *block = head->free_list;
  if (ALLOY_LIKELY(size <= head->block_size && align - 1 < head->block_align && (align & (align - 1)) == 0 &&
                   alloy_pool_head_can_pop(head, block))) {
    *out = alloy_block_make(alloy_pool_head_pop(head, block), head->block_size);
    return ALLOY_OK;
  }
#endif
  return alloy_pool_allocate(pool, size, align, out);
}

/* alloy_pool_free with the free-list push inlined into the caller. Same
 * contract and the same every-build checks. */
static ALLOY_ALWAYS_INLINE alloy_status alloy_pool_free_fast(alloy_pool *pool, alloy_block block, size_t align) {
#if ALLOY_INLINE_FAST_PATHS
  alloy_pool_head *head = (alloy_pool_head *)(void *)pool;
  if (ALLOY_LIKELY(alloy_pool_head_free_is_plain(head, block))) {
    alloy_pool_head_push(head, block.ptr);
    return ALLOY_OK;
  }
#endif
  return alloy_pool_free(pool, block, align);
}

ALLOY_EXTERN_C_END

#endif /* ALLOY_POOL_H */
