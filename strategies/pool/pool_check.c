/* Misuse and refusals of the pool: requests no block can serve, the frees
 * and listed blocks the every-build checks turned away (named here, off the
 * fast paths), the checks a free gets in debug builds (exact ownership
 * through the slab registry, size, alignment, double free), all reported
 * through the fault handler; and alloy_pool_check, the walk of every
 * invariant of pool_internal.h. Calls only pool_slab.c. */
#include "alloy/align.h"
#include "pool_internal.h"

/* A request no block of the pool serves: invalid, or too large or too aligned. */
alloy_status alloy_pool_check_reject(size_t size, size_t align) {
  ALLOY_TRY(alloy_request_check(size, align));
  return ALLOY_E_UNSUPPORTED; /* larger than a block or more aligned than the blocks */
}

alloy_status alloy_pool_check_report(alloy_status kind, const alloy_pool *pool, alloy_block block, size_t align,
                                     const char *detail) {
  alloy_fault fault = {kind,  "pool", block.ptr, block.size, pool->head.block_size,
                       align, pool->head.block_align, detail};
  return alloy_fault_report(&fault);
}

/* A free that failed the every-build test (outside the span, not a block
 * start, or larger than a block): which of them, reported. */
alloy_status alloy_pool_check_refused_free(alloy_pool *pool, alloy_block block, size_t align, uintptr_t span_low,
                                           size_t span_size) {
  const uintptr_t p = (uintptr_t)block.ptr;
  if (p - span_low >= span_size)
    return alloy_pool_check_report(ALLOY_E_NOT_OWNED, pool, block, align, "the block is outside every slab of this pool");
  const size_t offset = (size_t)(p & pool->head.slab_mask);
  const size_t area_end = pool->first_block_offset + pool->blocks_per_slab * pool->head.block_size;
  if (alloy_divisor_exact_quotient(pool->stride, offset - pool->first_block_offset) >= pool->blocks_per_slab) {
    if (offset < pool->first_block_offset || offset >= area_end)
      return alloy_pool_check_report(ALLOY_E_NOT_OWNED, pool, block, align, "not in the block area of a slab");
    return alloy_pool_check_report(ALLOY_E_INTERIOR_POINTER, pool, block, align,
                                   "inside a block, not at its start");
  }
  return alloy_pool_check_report(ALLOY_E_SIZE_MISMATCH, pool, block, align, "larger than the pool's blocks");
}

/* The first block of a list failed alloy_pool_listed_block_is_sound: a link
 * written after its block was freed, or a block met on the list a second
 * time (its mark went when it was handed out). */
void alloy_pool_check_unsound_block(const alloy_pool *pool, const void *block, uintptr_t span_low, size_t span_size) {
  const alloy_block listed = alloy_block_make((void *)(uintptr_t)block, pool->head.block_size);
  if ((uintptr_t)block - span_low >= span_size) {
    alloy_pool_check_report(ALLOY_E_CORRUPTION, pool, listed, pool->head.block_align,
                            "a free-list link points outside the pool: a block was written after its free");
    return;
  }
  const uint64_t mark = ((const pool_free_block *)block)->mark;
  ALLOY_MEM_NOACCESS((void *)(uintptr_t)block, sizeof(pool_free_block));
  if (mark == 0) {
    alloy_pool_check_report(ALLOY_E_DOUBLE_FREE, pool, listed, pool->head.block_align,
                            "the block is on the free list again after it was handed out: it was freed twice");
    return;
  }
  /* Handed out and written by its user since, or written while free: the
   * two cannot be told apart once the user's data covers the mark. */
  alloy_pool_check_report(ALLOY_E_CORRUPTION, pool, listed, pool->head.block_align,
                          "a block on the free list is not marked free: it was freed twice and written in between, "
                          "or written after its free");
}

/* The debug build's checks of a free: exact ownership, size, alignment, double free. */
alloy_status alloy_pool_check_free(alloy_pool *pool, alloy_block block, size_t align) {
  if (!alloy_pool_slab_is_block_start(pool, block.ptr))
    return alloy_pool_check_report(ALLOY_E_NOT_OWNED, pool, block, align, "the block is not a block of this pool");
  if (block.size > pool->head.block_size)
    return alloy_pool_check_report(ALLOY_E_SIZE_MISMATCH, pool, block, align, "larger than the pool's blocks");
  if (!alloy_is_valid_alignment(align) || align > pool->head.block_align)
    return alloy_pool_check_report(ALLOY_E_ALIGN_MISMATCH, pool, block, align,
                                   "the pool never served this alignment");
  if (pool->head.free_key != 0) {
    pool_free_block *freed = block.ptr;
    ALLOY_MEM_DEFINED(freed, sizeof *freed);
    if (freed->mark == pool->head.free_key) {
      ALLOY_MEM_NOACCESS(freed, sizeof *freed);
      return alloy_pool_check_report(ALLOY_E_DOUBLE_FREE, pool, block, align,
                                     "the block is already on the free list");
    }
  }
  return ALLOY_OK;
}

/* ---- The invariant walk (alloy_pool_check) ------------------------------------ */

static alloy_status corrupt(const alloy_pool *pool, const void *where, const char *detail) {
  alloy_fault fault = {ALLOY_E_CORRUPTION, "pool", where, 0, pool->head.block_size, 0, pool->head.block_align,
                       detail};
  ALLOY_IGNORE_STATUS(alloy_fault_report(&fault));
  return ALLOY_E_CORRUPTION;
}

/* The registry is sorted, self-aligned, inside the span, and every slab
 * header names this pool. */
static alloy_status check_slabs(const alloy_pool *pool) {
  const uintptr_t *registry = alloy_pool_registry(pool);
  if (pool->max_slabs != 0 && pool->slab_count > pool->max_slabs)
    return corrupt(pool, pool, "more slabs than the registry holds");
  for (size_t i = 0; i < pool->slab_count; ++i) {
    const uintptr_t slab = registry[i];
    if (i > 0 && slab <= registry[i - 1]) return corrupt(pool, (void *)slab, "the slab registry is not sorted");
    if ((slab & (pool->slab_size - 1)) != 0) return corrupt(pool, (void *)slab, "a slab is not aligned to its size");
    if (slab - pool->span_low >= pool->span_size || pool->span_size - (slab - pool->span_low) < pool->slab_size)
      return corrupt(pool, (void *)slab, "a slab lies outside the pool's span");
    if (((const pool_slab *)slab)->pool != pool)
      return corrupt(pool, (void *)slab, "a slab header names another pool");
  }
  return ALLOY_OK;
}

/* The current slab's never-carved tail lies inside it. */
static alloy_status check_carving(const alloy_pool *pool) {
  if (pool->current == NULL) return ALLOY_OK;
  const char *area = (const char *)pool->current + pool->first_block_offset;
  if (pool->carve < area || pool->carve > pool->carve_end ||
      pool->carve_end != area + pool->blocks_per_slab * pool->head.block_size ||
      (size_t)(pool->carve - area) % pool->head.block_size != 0)
    return corrupt(pool, pool->carve, "the carving cursor is outside the current slab's blocks");
  if (pool->max_blocks != 0 && pool->carved_blocks > pool->max_blocks)
    return corrupt(pool, pool, "more blocks carved than the pool's maximum");
  return ALLOY_OK;
}

/* The calling thread's free list: block starts of listed slabs, carved,
 * marked, no more of them than were carved (so no cycle). */
static alloy_status check_free_list(const alloy_pool *pool, size_t *free_blocks) {
  const pool_free_block *block = pool->concurrent ? pool->local_free : pool->head.free_list;
  size_t count = 0;
  while (block != NULL) {
    if (++count > pool->carved_blocks)
      return corrupt(pool, block, "the free list is longer than the blocks carved: it cycles (a double free)");
    if (!alloy_pool_slab_is_block_start(pool, block))
      return corrupt(pool, block, "a free-list link points outside every block of the pool");
    if ((const char *)block >= pool->carve && (const char *)block < pool->carve_end)
      return corrupt(pool, block, "a free-list link points into blocks never carved");
    ALLOY_MEM_DEFINED((void *)(uintptr_t)block, alloy_pool_list_words(&pool->head));
    const pool_free_block *next = block->next;
    const bool marked = pool->head.free_key == 0 || block->mark == pool->head.free_key;
    ALLOY_MEM_NOACCESS((void *)(uintptr_t)block, alloy_pool_list_words(&pool->head));
    if (!marked) return corrupt(pool, block, "a block on the free list is not marked free");
    block = next;
  }
  *free_blocks = count;
  return ALLOY_OK;
}

alloy_status alloy_pool_check(const alloy_pool *pool) {
  ALLOY_TRY(check_slabs(pool));
  ALLOY_TRY(check_carving(pool));
  size_t free_blocks = 0;
  ALLOY_TRY(check_free_list(pool, &free_blocks));
  uintptr_t block_low;
  size_t block_span;
  alloy_pool_head_range(pool, &block_low, &block_span);
  if (pool->head.block_low != block_low || pool->head.block_span != block_span)
    return corrupt(pool, pool, "the head's span is not the pool's");
  return ALLOY_OK;
}
