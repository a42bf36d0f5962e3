/* Misuse and refusals of the pool: requests no block can serve, and the
 * checks a free gets in debug builds (exact ownership through the slab
 * registry, size, alignment, double free), all reported through the fault
 * handler. Calls only pool_slab.c. */
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

/* The debug build's checks of a free: exact ownership, size, alignment, double free. */
alloy_status alloy_pool_check_free(alloy_pool *pool, alloy_block block, size_t align) {
  if (!alloy_pool_slab_is_block_start(pool, block.ptr))
    return alloy_pool_check_report(ALLOY_E_NOT_OWNED, pool, block, align, "the block is not a block of this pool");
  if (block.size > pool->head.block_size)
    return alloy_pool_check_report(ALLOY_E_SIZE_MISMATCH, pool, block, align, "larger than the pool's blocks");
  if (!alloy_is_valid_alignment(align) || align > pool->head.block_align)
    return alloy_pool_check_report(ALLOY_E_ALIGN_MISMATCH, pool, block, align,
                                   "the pool never served this alignment");
  if (alloy_pool_tags_frees(pool)) {
    pool_free_block *freed = block.ptr;
    ALLOY_MEM_DEFINED(freed, sizeof *freed);
    const bool already_free = freed->free_tag == ((uintptr_t)freed ^ POOL_FREE_TAG);
    if (already_free) {
      ALLOY_MEM_NOACCESS(freed, sizeof *freed);
      return alloy_pool_check_report(ALLOY_E_DOUBLE_FREE, pool, block, align,
                                     "the block is already on the free list");
    }
  }
  return ALLOY_OK;
}
