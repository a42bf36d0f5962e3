/* Misuse and refusals of the pool: requests no block can serve, the key
 * the every-build checks use, the closer look at a free the fast path found
 * suspect (interior pointer, wrong size, double free confirmed by a walk of
 * the free list), a corrupted free-list link, and the checks a free gets in
 * debug builds (exact ownership through the slab registry, size,
 * alignment); all reported through the fault handler. Calls only
 * pool_slab.c. */
#include <sys/random.h>

#include "alloy/align.h"
#include "pool_internal.h"

/* A 64-bit finaliser (splitmix64): every input bit reaches every output bit. */
static uint64_t pool_mix(uint64_t x) {
  x ^= x >> 30;
  x *= 0xBF58476D1CE4E5B9ull;
  x ^= x >> 27;
  x *= 0x94D049BB133111EBull;
  x ^= x >> 31;
  return x;
}

/* The pool's key: random where the OS gives randomness without blocking,
 * else the cycle counter; mixed with the pool's address, never 0. */
void alloy_pool_check_arm(alloy_pool *pool) {
  uint64_t seed = 0;
  if (getrandom(&seed, sizeof seed, GRND_NONBLOCK) != (ssize_t)sizeof seed) {
#if defined(__x86_64__) || defined(__i386__)
    seed = __builtin_ia32_rdtsc();
#else
    seed = (uint64_t)(uintptr_t)&seed;
#endif
  }
  uint64_t key = pool_mix(seed ^ pool_mix((uint64_t)(uintptr_t)pool));
  pool->head.key = (uintptr_t)(key != 0 ? key : 0x9E3779B97F4A7C15ull);
}

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

/* Whether `block` is on the list that starts at `free_list` (links xor the
 * pool's link key). The walk stops at a link outside the span and after as
 * many blocks as were ever carved, so a corrupted list cannot trap it. */
static bool pool_listed(const alloy_pool *pool, const pool_free_block *free_list, const void *block) {
  const uintptr_t key = alloy_pool_link_key(pool);
  size_t steps = 0;
  for (pool_free_block *at = (pool_free_block *)(uintptr_t)free_list;
       alloy_pool_in_span(pool->span_low, pool->span_size, at) && steps <= pool->carved_blocks; ++steps) {
    if (at == block) return true;
    ALLOY_MEM_DEFINED(&at->next, sizeof at->next);
    pool_free_block *next = (pool_free_block *)((uintptr_t)at->next ^ key);
    ALLOY_MEM_NOACCESS(&at->next, sizeof at->next);
    at = next;
  }
  return false;
}

/* A free the fast path turned away: not a block start, larger than a block,
 * or marked free. The mark is confirmed by a walk of `free_list` when
 * `confirm` (a block whose data happens to equal the key is freed as
 * usual); without it (a thread that may not read the owner's lists) the
 * mark alone decides. ALLOY_OK: the free goes ahead. */
alloy_status alloy_pool_check_suspect_free(alloy_pool *pool, alloy_block block, size_t align,
                                           const pool_free_block *free_list, bool confirm) {
  const alloy_pool_head *head = &pool->head;
  if (alloy_pool_block_index(head, (uintptr_t)block.ptr) >= head->blocks_per_slab) {
    const uintptr_t offset = ((uintptr_t)block.ptr & head->slab_mask) - head->first_block_offset;
    if (offset < head->blocks_per_slab * head->block_size)
      return alloy_pool_check_report(ALLOY_E_INTERIOR_POINTER, pool, block, align,
                                     "the pointer is inside a block, not at its start");
    return alloy_pool_check_report(ALLOY_E_NOT_OWNED, pool, block, align, "the pointer is in no block of this pool");
  }
  if (block.size > head->block_size)
    return alloy_pool_check_report(ALLOY_E_SIZE_MISMATCH, pool, block, align, "larger than the pool's blocks");
  uintptr_t *mark = alloy_pool_mark_of(head, block.ptr);
  if (*mark == head->key && (!confirm || pool_listed(pool, free_list, block.ptr))) {
    ALLOY_MEM_NOACCESS(mark, sizeof *mark); /* free memory stays poisoned */
    return alloy_pool_check_report(ALLOY_E_DOUBLE_FREE, pool, block, align, "the block is already free");
  }
  return ALLOY_OK;
}

/* A free list yielded `link`, outside every slab: a freed block was written to. */
void alloy_pool_check_corrupt_link(const alloy_pool *pool, const void *link) {
  alloy_block block = alloy_block_make((void *)(uintptr_t)link, 0);
  ALLOY_IGNORE_STATUS(alloy_pool_check_report(
      ALLOY_E_CORRUPTION, pool, block, 0,
      "a free-list link points outside the pool: a freed block was written to; its list is dropped"));
}

/* The debug build's checks of a free: exact ownership, size, alignment. */
alloy_status alloy_pool_check_free(alloy_pool *pool, alloy_block block, size_t align) {
  if (!alloy_pool_slab_is_block_start(pool, block.ptr))
    return alloy_pool_check_report(ALLOY_E_NOT_OWNED, pool, block, align, "the block is not a block of this pool");
  if (block.size > pool->head.block_size)
    return alloy_pool_check_report(ALLOY_E_SIZE_MISMATCH, pool, block, align, "larger than the pool's blocks");
  if (!alloy_is_valid_alignment(align) || align > pool->head.block_align)
    return alloy_pool_check_report(ALLOY_E_ALIGN_MISMATCH, pool, block, align,
                                   "the pool never served this alignment");
  return ALLOY_OK;
}
