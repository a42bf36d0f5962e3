/* Concurrent pools: the owner allocates and frees locally; other threads'
 * frees travel through each slab's remote-free source to the pool's inbox.
 *
 * Owner side (never blocks, no lock): allocation pops `local_free`; when it
 * runs dry the slow path takes one source from the received list (one
 * exchange on the inbox when that list is empty, one on the source) and
 * its whole batch becomes the free list as it came, with no walk. Only
 * when no batch is pending does it carve. alloy_pool_collect() takes every
 * batch and splices each in front of the free list (that walk is the price
 * of asking for everything at once).
 *
 * Other threads: one CAS on the block's slab source (plus one push of the
 * source on the inbox when it was empty). Nothing is batched on the
 * freeing thread, so its exit strands nothing.
 *
 * Who may read what: other threads read `owner` (atomic: alloy_pool_adopt
 * may change it), the span bounds (`shared_low`/`shared_high`, atomic) and
 * fields fixed at creation (block and slab sizes). Counters are owner-only.
 *
 * The owner is a thread serial number (alloy_thread_serial), never reused:
 * a thread started after the owner exited is never taken for it, even when
 * it gets the owner's thread-local storage.
 *
 * Called by pool.c (creation, the dispatch of a concurrent pool's calls,
 * stats); calls only pool_slab.c and pool_check.c. Also defines the
 * concurrent mode's own public calls, alloy_pool_adopt and alloy_pool_collect.
 */
#include <stdatomic.h>

#include "alloy/align.h"
#include "alloy/thread.h"
#include "pool_internal.h"

/* `owner` is written by adopt while others may read it. */
static ALLOY_ALWAYS_INLINE uint64_t owner_of(const alloy_pool *pool) {
  return atomic_load_explicit((_Atomic(uint64_t) *)&pool->owner, memory_order_relaxed);
}

/* Whether the calling thread owns the pool. The owner took its serial when
 * it became the owner, so a thread without one is not the owner. */
static ALLOY_ALWAYS_INLINE bool caller_owns(const alloy_pool *pool) {
  return alloy_thread_serial_if_taken() == owner_of(pool);
}

void alloy_pool_concurrent_init(alloy_pool *pool) {
  atomic_init((_Atomic(uint64_t) *)&pool->owner, alloy_thread_serial());
  pool->local_free = NULL;
  pool->received = NULL;
  pool->allocations = 0;
  pool->local_frees = 0;
  pool->remote_reclaimed = 0;
  pool->remote_batches = 0;
  atomic_init(&pool->shared_low, UINTPTR_MAX);
  atomic_init(&pool->shared_high, (uintptr_t)0);
  alloy_remote_free_inbox_init(&pool->inbox);
}

alloy_status alloy_pool_adopt(alloy_pool *pool) {
  if (!pool->concurrent) return ALLOY_E_UNSUPPORTED;
  atomic_store_explicit((_Atomic(uint64_t) *)&pool->owner, alloy_thread_serial(), memory_order_relaxed);
  return ALLOY_OK;
}

uint64_t alloy_pool_concurrent_remote_pending(const alloy_pool *pool) {
  const uintptr_t *registry = alloy_pool_registry(pool);
  uint64_t pending = 0;
  for (size_t i = 0; i < pool->slab_count; ++i)
    pending += alloy_remote_free_pending(&((const pool_slab *)registry[i])->remote);
  return pending;
}

/* Reads a free-list link the tools consider freed memory. */
static ALLOY_ALWAYS_INLINE pool_free_block *link_read(pool_free_block *block) {
  ALLOY_MEM_DEFINED(&block->next, sizeof block->next);
  return block->next;
}

/* A batch's links were written by the senders and left addressable; make
 * them no-access again so a use after free of a link is reported. */
static void seal_links(pool_free_block *block) {
#if ALLOY_HAS_ASAN || (defined(ALLOY_WITH_VALGRIND) && ALLOY_WITH_VALGRIND)
  while (block != NULL) {
    pool_free_block *next = link_read(block);
    ALLOY_MEM_NOACCESS(&block->next, sizeof block->next);
    block = next;
  }
#else
  (void)block;
#endif
}

/* One whole slab batch of remote frees (NULL when none is pending). */
static pool_free_block *take_batch(alloy_pool *pool, size_t *out_count) {
  for (;;) {
    alloy_remote_free_source *source = pool->received;
    if (source == NULL) {
      source = alloy_remote_free_receive(&pool->inbox);
      if (source == NULL) return NULL;
    }
    /* The link before the take: afterwards a sender may reuse it. */
    pool->received = alloy_remote_free_source_next(source);
    size_t count;
    pool_free_block *blocks = alloy_remote_free_take(source, &count);
    if (blocks != NULL) {
      pool->remote_reclaimed += count;
      pool->remote_batches++;
      *out_count = count;
      return blocks;
    }
  }
}

static ALLOY_NOINLINE alloy_status allocate_slow(alloy_pool *pool, alloy_block *out) {
  size_t count;
  pool_free_block *block = take_batch(pool, &count);
  if (block != NULL) {
    pool->local_free = link_read(block);
    seal_links(pool->local_free);
    alloy_pool_hand_out(pool, block, out);
  } else {
    ALLOY_TRY(alloy_pool_slab_carve(pool, out));
  }
  pool->allocations++;
  return ALLOY_OK;
}

alloy_status alloy_pool_concurrent_allocate(alloy_pool *pool, size_t size, size_t align, alloy_block *out) {
  if (ALLOY_UNLIKELY(size > pool->head.block_size || align - 1 >= pool->head.block_align ||
                     (align & (align - 1)) != 0))
    return alloy_pool_check_reject(size, align);
  if (ALLOY_UNLIKELY(!caller_owns(pool))) return ALLOY_E_UNSUPPORTED; /* owner only */
  pool_free_block *block = pool->local_free;
  if (ALLOY_UNLIKELY(block == NULL)) return allocate_slow(pool, out);
  pool->local_free = link_read(block);
  pool->allocations++;
  alloy_pool_hand_out(pool, block, out);
  return ALLOY_OK;
}

static ALLOY_ALWAYS_INLINE alloy_status free_local(alloy_pool *pool, alloy_block block, size_t align) {
  pool_free_block *freed = block.ptr;
  if (ALLOY_UNLIKELY((uintptr_t)freed - pool->span_low >= pool->span_size)) {
    if (freed == NULL) return ALLOY_OK;
    return alloy_pool_check_report(ALLOY_E_NOT_OWNED, pool, block, align,
                                   "the block is outside every slab of this pool");
  }
  if (ALLOY_DEBUG) ALLOY_TRY(alloy_pool_check_free(pool, block, align));
  freed->next = pool->local_free;
  if (alloy_pool_tags_frees(pool)) freed->free_tag = (uintptr_t)freed ^ POOL_FREE_TAG;
  pool->local_free = freed;
  pool->local_frees++;
  ALLOY_TRACK_FREE(pool, freed, pool->head.block_size);
  return ALLOY_OK;
}

/* What a non-owner can check without the registry (which the owner edits):
 * the span, and in debug builds the block boundary, size and alignment. */
static ALLOY_COLD alloy_status check_remote_free(alloy_pool *pool, alloy_block block, size_t align) {
  const uintptr_t p = (uintptr_t)block.ptr;
  const uintptr_t offset = p & (uintptr_t)(pool->slab_size - 1);
  if (offset < pool->first_block_offset || (offset - pool->first_block_offset) % pool->head.block_size != 0 ||
      (offset - pool->first_block_offset) / pool->head.block_size >= pool->blocks_per_slab)
    return alloy_pool_check_report(ALLOY_E_NOT_OWNED, pool, block, align, "not at a block boundary of this pool");
  if (block.size > pool->head.block_size)
    return alloy_pool_check_report(ALLOY_E_SIZE_MISMATCH, pool, block, align, "larger than the pool's blocks");
  if (!alloy_is_valid_alignment(align) || align > pool->head.block_align)
    return alloy_pool_check_report(ALLOY_E_ALIGN_MISMATCH, pool, block, align, "the pool never served this alignment");
  return ALLOY_OK;
}

static ALLOY_NOINLINE alloy_status free_remote(alloy_pool *pool, alloy_block block, size_t align) {
  pool_free_block *freed = block.ptr;
  const uintptr_t p = (uintptr_t)freed;
  if (ALLOY_UNLIKELY(p < atomic_load_explicit(&pool->shared_low, memory_order_relaxed) ||
                     p >= atomic_load_explicit(&pool->shared_high, memory_order_relaxed))) {
    if (freed == NULL) return ALLOY_OK;
    return alloy_pool_check_report(ALLOY_E_NOT_OWNED, pool, block, align,
                                   "the block is outside every slab of this pool");
  }
  if (ALLOY_DEBUG) ALLOY_TRY(check_remote_free(pool, block, align));
  pool_slab *slab = (pool_slab *)(p & ~(uintptr_t)(pool->slab_size - 1));
  ALLOY_TRACK_FREE(pool, freed, pool->head.block_size);
  if (alloy_pool_tags_frees(pool)) {
    ALLOY_MEM_UNDEFINED(freed, sizeof *freed);
    freed->free_tag = p ^ POOL_FREE_TAG;
  } else {
    ALLOY_MEM_UNDEFINED(&freed->next, sizeof freed->next); /* the link travels with the block */
  }
  alloy_remote_free_send(&pool->inbox, &slab->remote, freed, freed, 1);
  return ALLOY_OK;
}

alloy_status alloy_pool_concurrent_free(alloy_pool *pool, alloy_block block, size_t align) {
  if (ALLOY_LIKELY(caller_owns(pool))) return free_local(pool, block, align);
  return free_remote(pool, block, align);
}

size_t alloy_pool_collect(alloy_pool *pool) {
  if (!pool->concurrent || !caller_owns(pool)) return 0;
  size_t total = 0, count;
  pool_free_block *batch;
  while ((batch = take_batch(pool, &count)) != NULL) {
    pool_free_block *tail = batch;
    for (size_t i = 1; i < count; ++i) tail = link_read(tail);
    seal_links(batch);
    ALLOY_MEM_DEFINED(&tail->next, sizeof tail->next);
    tail->next = pool->local_free;
    ALLOY_MEM_NOACCESS(&tail->next, sizeof tail->next);
    pool->local_free = batch;
    total += count;
  }
  return total;
}
