/* TLSF pools: memory from the configured source (NUMA placement of platform
 * memory), laying out, adding, growing, removing and giving back pools, the
 * spare pools, and ownership by address through the pool index. Lists and
 * unlists pool blocks through tlsf_purge.h; calls no other file. */
#include "strategies/tlsf/tlsf_pool.h"

#include "alloy/align.h"
#include "alloy/numa.h"
#include "alloy/vm.h"
#include "strategies/tlsf/tlsf_internal.h"
#include "strategies/tlsf/tlsf_purge.h"

/* Requests above growth_size / this grow by config.growth_divisor. */
#define LARGE_REQUEST_PART_OF_GROWTH 8u

/* [span_low, span_high) over the pools left. */
static void update_span(alloy_tlsf *tlsf) {
  tlsf->span_low = UINTPTR_MAX;
  tlsf->span_high = 0;
  for (const tlsf_pool *pool = tlsf->pools; pool != NULL; pool = pool->next) {
    uintptr_t start = (uintptr_t)pool, end = start + pool->bytes;
    if (start < tlsf->span_low) tlsf->span_low = start;
    if (end > tlsf->span_high) tlsf->span_high = end;
  }
}

/* ---- the pool index (invariant 12) ------------------------------------------ */

static tlsf_pool_range pool_range(const tlsf_pool *pool) {
  tlsf_pool_range range = {(uintptr_t)block_to_ptr(pool_first_block(pool)),
                           (uintptr_t)pool + pool->bytes - SENTINEL_SIZE};
  return range;
}

static tlsf_pool *pool_of_range(const tlsf_pool_range *range) {
  return (tlsf_pool *)(range->first - BLOCK_START_OFFSET - POOL_HEADER_SIZE);
}

static void index_add(alloy_tlsf *tlsf, tlsf_pool *pool) {
  if (tlsf->indexed_pools == POOL_INDEX_SLOTS) {
    pool->index_slot = POOL_INDEX_SLOTS;
    return;
  }
  pool->index_slot = tlsf->indexed_pools++;
  tlsf->pool_index[pool->index_slot] = pool_range(pool);
}

/* Drops an unlinked pool from the index; the last entry fills its slot, and
 * a pool left out (only on a heap of more than POOL_INDEX_SLOTS pools) the
 * last one. */
static void index_remove(alloy_tlsf *tlsf, const tlsf_pool *pool) {
  const unsigned slot = pool->index_slot;
  if (slot == POOL_INDEX_SLOTS) return;
  const unsigned last = --tlsf->indexed_pools;
  if (slot != last) {
    tlsf->pool_index[slot] = tlsf->pool_index[last];
    pool_of_range(&tlsf->pool_index[slot])->index_slot = slot;
  }
  if (tlsf->pool_count == tlsf->indexed_pools) return;
  for (tlsf_pool *other = tlsf->pools; other != NULL; other = other->next) {
    if (other->index_slot == POOL_INDEX_SLOTS) {
      index_add(tlsf, other);
      return;
    }
  }
}

/* ---- laying pools out and giving them back ------------------------------------ */

void alloy_tlsf_pool_format(alloy_tlsf *tlsf, tlsf_pool *pool, void *memory, size_t source_bytes, size_t bytes,
                            tlsf_origin origin, bool fresh) {
  ALLOY_MEM_NOACCESS(pool, bytes);
  TLSF_EXPOSE(pool, POOL_HEADER_SIZE);
  pool->memory = memory;
  pool->bytes = bytes;
  pool->source_bytes = source_bytes;
  pool->origin = origin;
  pool->spare = false;

  tlsf_block *block = pool_first_block(pool);
  TLSF_EXPOSE(block, BLOCK_START_OFFSET);
  block->size = (bytes - POOL_OVERHEAD) | BLOCK_FREE; /* first block: PREV_FREE never set */
  tlsf_block *sentinel = block_next(block);
  ALLOY_ASSERT((char *)sentinel + SENTINEL_SIZE == (char *)pool + bytes);
  TLSF_EXPOSE(sentinel, SENTINEL_SIZE);
  sentinel->prev_phys = block;
  sentinel->size = BLOCK_PREV_FREE; /* size 0, used */
  *(tlsf_pool **)block_to_ptr(sentinel) = pool;
  /* Pages the OS just mapped are untouched: they hold no memory yet. */
  if (fresh) block->size |= BLOCK_PURGED;
  block_insert(tlsf, block);

  pool->prev = NULL;
  pool->next = tlsf->pools;
  if (tlsf->pools != NULL) tlsf->pools->prev = pool;
  tlsf->pools = pool;
  tlsf->pool_count++;
  index_add(tlsf, pool);
  uintptr_t start = (uintptr_t)pool, end = start + bytes;
  if (start < tlsf->span_low) tlsf->span_low = start;
  if (end > tlsf->span_high) tlsf->span_high = end;
}

static void pool_unlink(alloy_tlsf *tlsf, tlsf_pool *pool) {
  if (pool->prev != NULL) pool->prev->next = pool->next;
  else tlsf->pools = pool->next;
  if (pool->next != NULL) pool->next->prev = pool->prev;
  tlsf->pool_count--;
  index_remove(tlsf, pool);
  update_span(tlsf);
}

/* Gives an unlinked pool's memory back to its source. */
static void pool_release(alloy_tlsf *tlsf, tlsf_pool *pool) {
  const tlsf_origin origin = pool->origin;
  void *memory = pool->memory;
  const size_t source_bytes = pool->source_bytes, bytes = pool->bytes;
  /* The memory leaves the allocator: addressable again, contents meaningless. */
  ALLOY_MEM_UNDEFINED(pool, bytes);
  switch (origin) {
    case ORIGIN_PLATFORM:
      tlsf->held_bytes -= source_bytes;
      ALLOY_IGNORE_STATUS(alloy_vm_release(memory, source_bytes)); /* nothing to do if the OS refuses */
      break;
    case ORIGIN_PARENT:
      tlsf->held_bytes -= source_bytes;
      ALLOY_IGNORE_STATUS(alloy_resource_deallocate(tlsf->parent, alloy_block_make(memory, source_bytes), ALIGN_SIZE));
      break;
    case ORIGIN_CALLER:
      tlsf->caller_bytes -= bytes;
      break;
    case ORIGIN_CONTROL:
      break;
  }
}

void alloy_tlsf_pool_release_all(alloy_tlsf *tlsf) {
  while (tlsf->pools != NULL) {
    tlsf_pool *pool = tlsf->pools;
    pool_unlink(tlsf, pool);
    pool_release(tlsf, pool);
  }
}

/* ---- spare pools (invariant 11) ------------------------------------------- */

static void spare_update_deadline(alloy_tlsf *tlsf) {
  tlsf->spare_deadline =
      tlsf->spare_decay != 0 && tlsf->spare_oldest != NULL ? tlsf->spare_oldest->spare_until : UINT64_MAX;
}

static void spare_unlink(alloy_tlsf *tlsf, tlsf_pool *pool) {
  if (pool->spare_newer != NULL) pool->spare_newer->spare_older = pool->spare_older;
  else tlsf->spare_newest = pool->spare_older;
  if (pool->spare_older != NULL) pool->spare_older->spare_newer = pool->spare_newer;
  else tlsf->spare_oldest = pool->spare_newer;
  pool->spare = false;
  tlsf->spare_bytes -= pool->source_bytes;
  spare_update_deadline(tlsf);
}

static void release_grown_pool(alloy_tlsf *tlsf, tlsf_pool *pool) {
  pool_unlink(tlsf, pool);
  pool_release(tlsf, pool);
  tlsf->pools_released++;
}

/* Adds an empty grown pool as the newest spare. */
static void spare_push(alloy_tlsf *tlsf, tlsf_pool *pool) {
  pool->spare = true;
  pool->spare_until = tlsf->counts.deallocations + tlsf->spare_decay;
  pool->spare_newer = NULL;
  pool->spare_older = tlsf->spare_newest;
  if (tlsf->spare_newest != NULL) tlsf->spare_newest->spare_newer = pool;
  else tlsf->spare_oldest = pool;
  tlsf->spare_newest = pool;
  tlsf->spare_bytes += pool->source_bytes;
  spare_update_deadline(tlsf);
}

/* The free path's question about a block just before a sentinel. Only a
 * grown pool whose every block was just freed (its one free block not on the
 * lists yet) is kept as a spare or given back: a caller's pool, or the one
 * sharing the control structure's memory, stays as it is. */
bool alloy_tlsf_pool_keep_or_release(alloy_tlsf *tlsf, tlsf_block *block, tlsf_block *sentinel) {
  tlsf_pool *pool = sentinel_pool(sentinel);
  if ((pool->origin != ORIGIN_PLATFORM && pool->origin != ORIGIN_PARENT) || pool_first_block(pool) != block)
    return true;
  if (pool->source_bytes > tlsf->spare_limit - tlsf->spare_bytes) {
    release_grown_pool(tlsf, pool);
    return false;
  }
  spare_push(tlsf, pool);
  return true;
}

void alloy_tlsf_pool_spare_reuse(alloy_tlsf *tlsf, tlsf_block *sentinel) {
  tlsf_pool *pool = sentinel_pool(sentinel);
  if (pool->spare) spare_unlink(tlsf, pool);
}

/* Also when growth needs the memory the spares hold. */
void alloy_tlsf_pool_spare_release_oldest(alloy_tlsf *tlsf) {
  tlsf_pool *pool = tlsf->spare_oldest;
  block_remove(tlsf, pool_first_block(pool));
  spare_unlink(tlsf, pool);
  release_grown_pool(tlsf, pool);
}

/* alloy_tlsf_trim's first half. */
size_t alloy_tlsf_pool_release_spares(alloy_tlsf *tlsf) {
  size_t released = 0;
  while (tlsf->spare_oldest != NULL) {
    released += tlsf->spare_oldest->source_bytes;
    alloy_tlsf_pool_spare_release_oldest(tlsf);
  }
  return released;
}

/* ---- ownership -------------------------------------------------------------- */

tlsf_pool *alloy_tlsf_pool_of(const alloy_tlsf *tlsf, const void *ptr) {
  uintptr_t address = (uintptr_t)ptr;
  if (address < tlsf->span_low || address >= tlsf->span_high) return NULL;
  for (unsigned i = 0; i < tlsf->indexed_pools; ++i) {
    const tlsf_pool_range *range = &tlsf->pool_index[i];
    if (address - range->first < range->end - range->first) return pool_of_range(range);
  }
  if (tlsf->pool_count == tlsf->indexed_pools) return NULL;
  for (tlsf_pool *pool = tlsf->pools; pool != NULL; pool = pool->next) {
    if (pool->index_slot != POOL_INDEX_SLOTS) continue;
    tlsf_pool_range range = pool_range(pool);
    if (address - range.first < range.end - range.first) return pool;
  }
  return NULL;
}

bool alloy_tlsf_owns(const alloy_tlsf *tlsf, const void *ptr) { return alloy_tlsf_pool_of(tlsf, ptr) != NULL; }

/* ---- memory sources ------------------------------------------------------- */

alloy_status alloy_tlsf_pool_obtain(alloy_tlsf_growth source, alloy_resource *parent, int numa_node, size_t bytes,
                                    void **memory, size_t *source_bytes) {
  if (source == ALLOY_TLSF_GROW_PARENT) {
    alloy_block block;
    ALLOY_TRY(alloy_resource_allocate(parent, bytes, ALIGN_SIZE, &block));
    *memory = block.ptr;
    *source_bytes = bytes; /* what deallocate will be told */
    return ALLOY_OK;
  }
  size_t mapped;
  if (!alloy_align_up_checked(bytes, alloy_vm_page_size(), &mapped)) return ALLOY_E_OUT_OF_MEMORY;
  void *base;
  ALLOY_TRY(alloy_vm_map(mapped, alloy_vm_page_size(), &base));
  if (numa_node >= 0) {
    /* Before the first touch, so the kernel places every page there. */
    alloy_status status = alloy_numa_bind(base, mapped, numa_node);
    if (status != ALLOY_OK) {
      ALLOY_IGNORE_STATUS(alloy_vm_release(base, mapped));
      return status;
    }
  }
  *memory = base;
  *source_bytes = mapped;
  return ALLOY_OK;
}

void alloy_tlsf_pool_give_back(alloy_tlsf_growth source, alloy_resource *parent, void *memory, size_t source_bytes) {
  if (source == ALLOY_TLSF_GROW_PARENT)
    ALLOY_IGNORE_STATUS(alloy_resource_deallocate(parent, alloy_block_make(memory, source_bytes), ALIGN_SIZE));
  else
    ALLOY_IGNORE_STATUS(alloy_vm_release(memory, source_bytes));
}

/* ---- growth ---------------------------------------------------------------- */

/* Pool bytes whose first block serves a `search`-byte request (rounded up as
 * mapping_search rounds, so the new block lands in a list the search visits). */
static bool pool_bytes_for(size_t search, size_t *out) {
  size_t rounded = search;
  if (search >= SMALL_BLOCK_SIZE) rounded += (size_t)1 << (alloy_bit_scan_reverse(search) - SL_INDEX_COUNT_LOG2);
  if (rounded > BLOCK_SIZE_MAX) return false;
  return alloy_size_add(rounded, POOL_OVERHEAD + ALIGN_SIZE, out);
}

/* Bytes config.max_bytes still allows, in whole pages for platform pools. */
static size_t cap_room(const alloy_tlsf *tlsf) {
  size_t room = tlsf->max_bytes > tlsf->held_bytes ? tlsf->max_bytes - tlsf->held_bytes : 0;
  return tlsf->growth == ALLOY_TLSF_GROW_PLATFORM ? alloy_align_down(room, alloy_vm_page_size()) : room;
}

alloy_status alloy_tlsf_pool_grow(alloy_tlsf *tlsf, size_t search, size_t align) {
  (void)align; /* already part of `search` */
  if (tlsf->growth == ALLOY_TLSF_GROW_NONE) return ALLOY_E_CAPACITY;
  size_t needed;
  if (!pool_bytes_for(search, &needed)) return ALLOY_E_UNSUPPORTED;
  size_t bytes = needed > tlsf->growth_size ? needed : tlsf->growth_size;
  /* A large request that finds no room grows the heap by a share of what it
   * holds, so a heap that keeps loading large blocks maps a pool count that
   * grows with the logarithm of its footprint, not a pool (a mapping and a
   * first touch of every page) for nearly each block. Small requests keep
   * growth_size pools: they share them well, and larger pools empty less
   * often (bench/tlsf:fragmentation holds ~1 point more with 1/16 pools). */
  if (tlsf->growth_divisor != 0 && needed > tlsf->growth_size / LARGE_REQUEST_PART_OF_GROWTH &&
      tlsf->held_bytes / tlsf->growth_divisor > bytes)
    bytes = tlsf->held_bytes / tlsf->growth_divisor;
  if (tlsf->growth == ALLOY_TLSF_GROW_PLATFORM) bytes = alloy_align_up(bytes, alloy_vm_page_size());
  if (tlsf->max_bytes != 0) {
    /* Spares count against the cap, and none can serve this request (the
     * search before growing would have found it): they go back first. */
    size_t room = cap_room(tlsf);
    while (room < bytes && tlsf->spare_oldest != NULL) {
      alloy_tlsf_pool_spare_release_oldest(tlsf);
      room = cap_room(tlsf);
    }
    if (bytes > room) bytes = room;
    if (bytes < needed) return ALLOY_E_CAPACITY;
  }
  void *memory;
  size_t source_bytes;
  alloy_status status = alloy_tlsf_pool_obtain(tlsf->growth, tlsf->parent, tlsf->numa_node, bytes, &memory, &source_bytes);
  if (status == ALLOY_E_OUT_OF_MEMORY && tlsf->spare_oldest != NULL) {
    /* The source is short: the spares' memory may be what it lacks. */
    while (tlsf->spare_oldest != NULL) alloy_tlsf_pool_spare_release_oldest(tlsf);
    status = alloy_tlsf_pool_obtain(tlsf->growth, tlsf->parent, tlsf->numa_node, bytes, &memory, &source_bytes);
  }
  ALLOY_TRY(status);
  char *start = (char *)alloy_ptr_align_up(memory, ALIGN_SIZE);
  size_t usable = alloy_align_down(source_bytes - (size_t)(start - (char *)memory), ALIGN_SIZE);
  if (usable > POOL_BYTES_MAX) usable = POOL_BYTES_MAX;
  tlsf->held_bytes += source_bytes;
  tlsf->pools_grown++;
  alloy_tlsf_pool_format(tlsf, (tlsf_pool *)(void *)start, memory, source_bytes, usable,
                         tlsf->growth == ALLOY_TLSF_GROW_PARENT ? ORIGIN_PARENT : ORIGIN_PLATFORM,
                         tlsf->growth == ALLOY_TLSF_GROW_PLATFORM);
  return ALLOY_OK;
}

/* ---- caller pools ------------------------------------------------------------ */

static bool overlaps_a_pool(const alloy_tlsf *tlsf, uintptr_t start, uintptr_t end) {
  for (const tlsf_pool *pool = tlsf->pools; pool != NULL; pool = pool->next) {
    uintptr_t pool_start = (uintptr_t)pool, pool_end = pool_start + pool->bytes;
    if (start < pool_end && pool_start < end) return true;
  }
  uintptr_t control = (uintptr_t)tlsf;
  return start < control + CONTROL_SIZE && control < end;
}

alloy_status alloy_tlsf_add_pool(alloy_tlsf *tlsf, void *memory, size_t bytes) {
  if (tlsf == NULL || memory == NULL) return ALLOY_E_INVALID_ARGUMENT;
  char *start = (char *)alloy_ptr_align_up(memory, ALIGN_SIZE);
  size_t skipped = (size_t)(start - (char *)memory);
  if (bytes < skipped + POOL_BYTES_MIN) return ALLOY_E_INVALID_ARGUMENT;
  size_t pool_bytes = alloy_align_down(bytes - skipped, ALIGN_SIZE);
  if (pool_bytes > POOL_BYTES_MAX) return ALLOY_E_INVALID_ARGUMENT;
  if (overlaps_a_pool(tlsf, (uintptr_t)start, (uintptr_t)start + pool_bytes)) return ALLOY_E_INVALID_ARGUMENT;
  tlsf->caller_bytes += pool_bytes;
  alloy_tlsf_pool_format(tlsf, (tlsf_pool *)(void *)start, memory, bytes, pool_bytes, ORIGIN_CALLER, false);
  return ALLOY_OK;
}

alloy_status alloy_tlsf_remove_pool(alloy_tlsf *tlsf, void *memory) {
  if (tlsf == NULL || memory == NULL) return ALLOY_E_INVALID_ARGUMENT;
  for (tlsf_pool *pool = tlsf->pools; pool != NULL; pool = pool->next) {
    if (pool->origin != ORIGIN_CALLER || pool->memory != memory) continue;
    if (!pool_is_empty(pool)) return ALLOY_E_UNSUPPORTED;
    block_remove(tlsf, pool_first_block(pool));
    pool_unlink(tlsf, pool);
    pool_release(tlsf, pool);
    return ALLOY_OK;
  }
  return ALLOY_E_NOT_OWNED;
}
