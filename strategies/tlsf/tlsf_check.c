/* TLSF introspection: the integrity walk, the block walk, statistics. Reads
 * the pools through tlsf_pool.h and the purge state through tlsf_purge.h. */
#include <string.h>

#include "alloy/align.h"
#include "alloy/fault.h"
#include "strategies/tlsf/tlsf_internal.h"
#include "strategies/tlsf/tlsf_pool.h"
#include "strategies/tlsf/tlsf_purge.h"

static ALLOY_COLD alloy_status corruption(const void *where, size_t size, const char *rule) {
  alloy_fault fault = {ALLOY_E_CORRUPTION, "tlsf", where, size, 0, 0, 0, rule};
  return alloy_fault_report(&fault);
}

#define EXPECT(cond, where, size, rule)                             \
  do {                                                              \
    if (ALLOY_UNLIKELY(!(cond))) return corruption((where), (size), (rule)); \
  } while (0)

/* Physical walk of one pool: invariants 1, 3, 4, 6, 7; counts what it saw. */
static alloy_status check_pool(const alloy_tlsf *tlsf, const tlsf_pool *pool, size_t *free_blocks,
                               size_t *used_bytes, size_t *used_blocks) {
  (void)tlsf;
  const tlsf_block *block = pool_first_block(pool);
  const char *end = (const char *)pool + pool->bytes;
  EXPECT(!block_is_prev_free(block), block, 0, "first block of a pool claims a free predecessor");
  int prev_free = 0;
  const tlsf_block *prev = NULL;
  for (;;) {
    EXPECT((const char *)block >= (const char *)pool && (const char *)block + SENTINEL_SIZE <= end, block, 0,
           "block header lies outside its pool");
    const size_t size = block_size(block);
    EXPECT(!!block_is_prev_free(block) == prev_free, block, size, "PREV_FREE flag disagrees with the previous block");
    if (prev_free) EXPECT(block->prev_phys == prev, block, size, "prev_phys does not point at the previous block");
    if (block_is_last(block)) {
      EXPECT((const char *)block + SENTINEL_SIZE == end, block, size, "sentinel is not at the end of its pool");
      EXPECT(!block_is_free(block), block, size, "sentinel is marked free");
      EXPECT(sentinel_pool(block) == pool, block, size, "sentinel does not name its pool");
      return ALLOY_OK;
    }
    EXPECT(size >= BLOCK_SIZE_MIN && size <= BLOCK_SIZE_MAX && size % ALIGN_SIZE == BLOCK_OVERHEAD, block, size,
           "block size out of range or misaligned");
    EXPECT(alloy_ptr_is_aligned(block_to_ptr(block), ALIGN_SIZE), block, size, "payload is misaligned");
    EXPECT(block_is_free(block) || !block_is_purged(block), block, size, "used block marked purged");
    if (block_is_free(block)) {
      EXPECT(!prev_free, block, size, "two adjacent free blocks (missed coalescing)");
      ++*free_blocks;
    } else {
      *used_bytes += size;
      ++*used_blocks;
    }
    prev_free = block_is_free(block);
    prev = block;
    block = block_next(block);
  }
}

/* Dirty-list walk (invariant 9): links agree both ways, every block is a
 * tracked free block; counts them. */
static alloy_status check_dirty_list(const alloy_tlsf *tlsf, size_t *count) {
  const tlsf_block *newer = NULL;
  for (const tlsf_block *block = tlsf->dirty_newest; block != NULL; newer = block, block = block_dirty_links(block)->older) {
    EXPECT(tlsf->dirty_limit != 0, tlsf, 0, "dirty list without a dirty limit");
    EXPECT(alloy_tlsf_pool_of(tlsf, block_to_ptr(block)) != NULL, block, 0, "dirty list links outside every pool");
    EXPECT(block_is_free(block), block, block_size(block), "used block on the dirty list");
    size_t interior;
    EXPECT(alloy_tlsf_purge_is_tracked(tlsf, block, &interior), block, block_size(block), "dirty block has no whole page");
    EXPECT(block_dirty_links(block)->newer == newer, block, block_size(block), "dirty list back link is broken");
    EXPECT(block_dirty_links(block)->since <= tlsf->counts.deallocations &&
               (newer == NULL || block_dirty_links(block)->since <= block_dirty_links(newer)->since),
           block, block_size(block), "dirty list is out of age order");
    EXPECT(++*count <= tlsf->counts.used_blocks + tlsf->pool_count + 1, block, 0, "dirty list has a cycle");
  }
  EXPECT(tlsf->dirty_oldest == newer, tlsf, 0, "dirty list tail is wrong");
  return ALLOY_OK;
}

/* Free-list walk: invariants 2 and 5. */
static alloy_status check_lists(const alloy_tlsf *tlsf, size_t *listed, size_t *purged, size_t *dirty,
                                size_t *dirty_listed) {
  for (unsigned fl = 0; fl < FL_INDEX_COUNT; ++fl) {
    EXPECT(!!(tlsf->lists.fl_bitmap & (1u << fl)) == (tlsf->lists.sl_bitmap[fl] != 0), tlsf, fl,
           "first-level bit disagrees with its second-level map");
    for (unsigned sl = 0; sl < SL_INDEX_COUNT; ++sl) {
      const tlsf_block *block = tlsf->lists.blocks[fl][sl];
      EXPECT(!!(tlsf->lists.sl_bitmap[fl] & (1u << sl)) == (block != NULL), tlsf, sl,
             "second-level bit disagrees with its list");
      const tlsf_block *prev = NULL;
      for (; block != NULL; prev = block, block = block->next_free) {
        EXPECT(prev == NULL || !block_is_purged(prev) || block_is_purged(block), block, block_size(block),
               "resident free block behind a purged one");
        EXPECT(alloy_tlsf_pool_of(tlsf, block_to_ptr(block)) != NULL, block, 0, "free list links outside every pool");
        EXPECT(block_is_free(block), block, block_size(block), "used block on a free list");
        EXPECT(block->prev_free == prev, block, block_size(block), "free list back link is broken");
        EXPECT(!block_is_free(block_next(block)), block, block_size(block), "free block followed by a free block");
        unsigned f, s;
        mapping_insert(block_size(block), &f, &s);
        EXPECT(f == fl && s == sl, block, block_size(block), "free block is on the wrong list");
        if (block_is_purged(block)) {
          char *begin;
          *purged += alloy_tlsf_purge_block_interior(block, &begin);
        }
        size_t interior;
        if (alloy_tlsf_purge_is_tracked(tlsf, block, &interior) && alloy_tlsf_purge_dirty_contains(tlsf, block)) {
          EXPECT(!block_is_purged(block), block, block_size(block), "purged block on the dirty list");
          *dirty += interior;
          ++*dirty_listed;
        }
        ++*listed;
      }
      EXPECT(tlsf->lists.tails[fl][sl] == prev, tlsf, sl, "free list tail is wrong");
    }
  }
  return ALLOY_OK;
}

/* Spare-list walk (invariant 11): links agree both ways, every pool on it is
 * spare, the list holds exactly the spare bytes, decays oldest first. */
static alloy_status check_spare_list(const alloy_tlsf *tlsf, size_t spare) {
  const tlsf_pool *newer = NULL;
  size_t listed = 0, count = 0;
  for (const tlsf_pool *pool = tlsf->spare_newest; pool != NULL; newer = pool, pool = pool->spare_older) {
    EXPECT(pool->spare, pool, pool->bytes, "pool on the spare list is not spare");
    EXPECT(pool->spare_newer == newer, pool, pool->bytes, "spare list back link is broken");
    EXPECT(newer == NULL || newer->spare_until >= pool->spare_until, pool, pool->bytes,
           "spare list is not oldest last");
    EXPECT(++count <= tlsf->pool_count, pool, 0, "spare list has a cycle");
    listed += pool->source_bytes;
  }
  EXPECT(tlsf->spare_oldest == newer, tlsf, 0, "spare list tail is wrong");
  EXPECT(listed == spare, tlsf, listed, "spare list and spare pools disagree");
  const uint64_t deadline = tlsf->spare_decay != 0 && newer != NULL ? newer->spare_until : UINT64_MAX;
  EXPECT(tlsf->spare_deadline == deadline, tlsf, 0, "spare deadline is not the oldest spare's");
  return ALLOY_OK;
}

alloy_status alloy_tlsf_check(const alloy_tlsf *tlsf) {
  if (tlsf == NULL) return ALLOY_E_INVALID_ARGUMENT;
  size_t free_blocks = 0, used_bytes = 0, used_blocks = 0, listed = 0, pools = 0, purged = 0;
  size_t dirty = 0, dirty_listed = 0, dirty_walked = 0, spare = 0, indexed = 0;
  for (const tlsf_pool *pool = tlsf->pools; pool != NULL; pool = pool->next) {
    if (pool->spare) { /* invariant 11 */
      EXPECT(pool->origin == ORIGIN_PLATFORM || pool->origin == ORIGIN_PARENT, pool, pool->bytes,
             "spare pool was not grown");
      EXPECT(pool_is_empty(pool), pool, pool->bytes, "spare pool holds a used block");
      spare += pool->source_bytes;
    }
    EXPECT(pool->next == NULL || pool->next->prev == pool, pool, 0, "pool list back link is broken");
    EXPECT((uintptr_t)pool >= tlsf->span_low && (uintptr_t)pool + pool->bytes <= tlsf->span_high, pool,
           pool->bytes, "pool lies outside the recorded span");
    ALLOY_TRY(check_pool(tlsf, pool, &free_blocks, &used_bytes, &used_blocks));
    if (pool->index_slot != POOL_INDEX_SLOTS) { /* invariant 12 */
      EXPECT(pool->index_slot < tlsf->indexed_pools, pool, pool->index_slot, "pool index slot out of range");
      const tlsf_pool_range *range = &tlsf->pool_index[pool->index_slot];
      EXPECT(range->first == (uintptr_t)block_to_ptr(pool_first_block(pool)) &&
                 range->end == (uintptr_t)pool + pool->bytes - SENTINEL_SIZE,
             pool, pool->index_slot, "pool index entry does not match its pool");
      ++indexed;
    }
    ++pools;
  }
  EXPECT(pools == tlsf->pool_count, tlsf, pools, "pool count disagrees with the pool list");
  EXPECT(indexed == tlsf->indexed_pools && indexed == (pools < POOL_INDEX_SLOTS ? pools : POOL_INDEX_SLOTS), tlsf,
         indexed, "pool index does not hold as many pools as it can");
  EXPECT(spare == tlsf->spare_bytes && spare <= tlsf->spare_limit, tlsf, spare,
         "spare byte count disagrees with the spare pools");
  ALLOY_TRY(check_spare_list(tlsf, spare));
  ALLOY_TRY(check_dirty_list(tlsf, &dirty_walked));
  ALLOY_TRY(check_lists(tlsf, &listed, &purged, &dirty, &dirty_listed));
  EXPECT(dirty == tlsf->dirty_bytes, tlsf, dirty, "dirty byte count disagrees with the dirty blocks");
  EXPECT(dirty_listed == dirty_walked, tlsf, dirty_walked, "dirty list and free lists disagree on the dirty blocks");
  EXPECT(purged == tlsf->purged_bytes, tlsf, purged, "purged byte count disagrees with the purged blocks");
  EXPECT(listed == free_blocks, tlsf, listed, "free lists and pools disagree on the free blocks");
  EXPECT(used_bytes == tlsf->counts.live_bytes, tlsf, used_bytes, "live byte count disagrees with the used blocks");
  EXPECT(used_blocks == tlsf->counts.used_blocks, tlsf, used_blocks, "used block count disagrees with the used blocks");
  return ALLOY_OK;
}

void alloy_tlsf_walk(const alloy_tlsf *tlsf, alloy_tlsf_visitor visit, void *context) {
  for (const tlsf_pool *pool = tlsf->pools; pool != NULL; pool = pool->next) {
    for (const tlsf_block *block = pool_first_block(pool); !block_is_last(block); block = block_next(block))
      if (!visit(block_to_ptr(block), block_size(block), !block_is_free(block), context)) return;
  }
}

void alloy_tlsf_get_stats(const alloy_tlsf *tlsf, alloy_tlsf_stats *out) {
  memset(out, 0, sizeof *out);
  out->pool_count = tlsf->pool_count;
  out->pool_bytes = tlsf->held_bytes + tlsf->caller_bytes;
  out->purged_bytes = tlsf->purged_bytes;
  out->held_bytes = out->pool_bytes - tlsf->purged_bytes;
  out->live_bytes = tlsf->counts.live_bytes;
  out->peak_live_bytes = tlsf->counts.peak_live_bytes;
  out->used_blocks = tlsf->counts.used_blocks;
  out->allocations = tlsf->counts.allocations;
  out->deallocations = tlsf->counts.deallocations;
  out->failures = tlsf->counts.failures;
  out->purge_calls = tlsf->purge_calls;
  out->spare_bytes = tlsf->spare_bytes;
  out->pools_grown = tlsf->pools_grown;
  out->pools_released = tlsf->pools_released;
  for (unsigned fl = 0; fl < FL_INDEX_COUNT; ++fl) {
    for (unsigned sl = 0; sl < SL_INDEX_COUNT; ++sl) {
      for (const tlsf_block *block = tlsf->lists.blocks[fl][sl]; block != NULL; block = block->next_free) {
        size_t size = block_size(block);
        char *begin;
        if (!block_is_purged(block)) out->dirty_bytes += alloy_tlsf_purge_block_interior(block, &begin);
        out->free_bytes += size;
        out->free_blocks++;
        if (size > out->largest_free_block) out->largest_free_block = size;
      }
    }
  }
}
