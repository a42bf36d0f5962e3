/* Slabs of the pool: taking them (from the parent or the OS, bound to a
 * node, committed whole or lazily), the sorted slab registry, prewarming,
 * carving never-used blocks, and giving the slabs back. The bottom of the
 * package: calls no other file of it. Layout and invariants: pool_internal.h. */
#include <string.h>

#include "alloy/align.h"
#include "alloy/numa.h"
#include "alloy/vm.h"
#include "pool_internal.h"

/* Index of the first registry entry >= slab. */
static size_t pool_registry_lower_bound(const alloy_pool *pool, uintptr_t slab) {
  const uintptr_t *registry = alloy_pool_registry(pool);
  size_t low = 0, high = pool->slab_count;
  while (low < high) {
    size_t mid = low + (high - low) / 2;
    if (registry[mid] < slab)
      low = mid + 1;
    else
      high = mid;
  }
  return low;
}

/* Whether ptr is the start of a block in one of our slabs. Reads only our metadata. */
bool alloy_pool_slab_is_block_start(const alloy_pool *pool, const void *ptr) {
  const uintptr_t p = (uintptr_t)ptr;
  if (p - pool->span_low >= pool->span_size) return false;
  const uintptr_t slab = p & ~(uintptr_t)(pool->slab_size - 1);
  const size_t index = pool_registry_lower_bound(pool, slab);
  if (index == pool->slab_count || alloy_pool_registry(pool)[index] != slab) return false;
  const uintptr_t offset = p - slab;
  return offset >= pool->first_block_offset && (offset - pool->first_block_offset) % pool->head.block_size == 0 &&
         (offset - pool->first_block_offset) / pool->head.block_size < pool->blocks_per_slab;
}

/* A slab's memory: from the parent, or mapped whole (batched), or reserved
 * with its first `initial` bytes committed (lazy); bound to the NUMA node
 * before anything touches it. */
static alloy_status pool_take_slab(alloy_pool *pool, size_t initial, void **out) {
  if (pool->parent != NULL) {
    alloy_block block;
    ALLOY_TRY(alloy_resource_allocate(pool->parent, pool->slab_size, pool->slab_size, &block));
    if (!alloy_ptr_is_aligned(block.ptr, pool->slab_size)) { /* a parent breaking its contract */
      ALLOY_IGNORE_STATUS(alloy_resource_deallocate(pool->parent, block, pool->slab_size));
      return ALLOY_E_UNSUPPORTED;
    }
    *out = block.ptr;
    return ALLOY_OK;
  }
  void *memory;
  if (pool->commit_chunk != 0)
    ALLOY_TRY(alloy_vm_reserve(pool->slab_size, pool->slab_size, &memory));
  else
    ALLOY_TRY(alloy_vm_map(pool->slab_size, pool->slab_size, &memory));
  alloy_status status = ALLOY_OK;
  if (pool->numa_node >= 0) status = alloy_numa_bind(memory, pool->slab_size, pool->numa_node);
  if (status == ALLOY_OK && pool->commit_chunk != 0) status = alloy_vm_commit(memory, initial);
  if (status != ALLOY_OK) {
    ALLOY_IGNORE_STATUS(alloy_vm_release(memory, pool->slab_size));
    return status;
  }
  *out = memory;
  return ALLOY_OK;
}

static void pool_return_slab(alloy_pool *pool, void *slab) {
  ALLOY_ASAN_UNPOISON(slab, pool->slab_size); /* the memory goes on living elsewhere */
  if (pool->parent != NULL)
    ALLOY_IGNORE_STATUS(alloy_resource_deallocate(pool->parent, alloy_block_make(slab, pool->slab_size),
                                                  pool->slab_size));
  else
    ALLOY_IGNORE_STATUS(alloy_vm_release(slab, pool->slab_size));
}

/* Bytes from the slab start that cover the header and `blocks` blocks,
 * rounded to what a lazy slab commits. */
static size_t pool_commit_span(const alloy_pool *pool, size_t blocks) {
  size_t bytes = pool->first_block_offset + blocks * pool->head.block_size;
  if (pool->commit_chunk == 0) return pool->slab_size;
  bytes = alloy_align_up(bytes, pool->commit_chunk);
  return bytes < pool->slab_size ? bytes : pool->slab_size;
}

/* Hands the widened span to the readers that use it: the fast paths' copy
 * in the head on plain pools; on concurrent pools (whose head keeps an empty
 * span) the bounds other threads' frees read. Low only falls and high only
 * rises: whatever pair another thread reads covers every slab that existed
 * when its block was handed to it. */
static void publish_span(alloy_pool *pool) {
  if (pool->concurrent) {
    atomic_store_explicit(&pool->shared_low, pool->span_low, memory_order_relaxed);
    atomic_store_explicit(&pool->shared_high, pool->span_low + pool->span_size, memory_order_relaxed);
  } else {
    alloy_pool_head_range(pool, &pool->head.block_low, &pool->head.block_span);
  }
}

/* Takes a slab whose first `blocks` blocks are committed, lists it in the
 * registry and widens the span. The slab is neither carved nor spare yet.
 * With `prefault`, those blocks are touched before the tools poison them. */
static ALLOY_COLD alloy_status pool_new_slab(alloy_pool *pool, size_t blocks, bool prefault, pool_slab **out) {
  if (pool->slab_count == pool->max_slabs) return ALLOY_E_CAPACITY;
  void *entry;
  ALLOY_TRY(alloy_vm_arena_grow(&pool->meta, sizeof(uintptr_t), sizeof(uintptr_t), &entry));
  ALLOY_MEM_UNDEFINED(entry, sizeof(uintptr_t));
  const size_t committed = pool_commit_span(pool, blocks);
  void *memory = NULL; /* set by pool_take_slab on success */
  alloy_status status = pool_take_slab(pool, committed, &memory);
  if (status != ALLOY_OK) {
    alloy_vm_arena_rewind(&pool->meta, entry);
    return status;
  }
  if (prefault) {
    const size_t touched = alloy_align_up(pool->first_block_offset + blocks * pool->head.block_size,
                                          alloy_vm_page_size());
    alloy_vm_prefault(memory, touched < committed ? touched : committed);
  }

  pool_slab *slab = memory;
  slab->pool = pool;
  slab->block_count = pool->blocks_per_slab;
  slab->commit_end = (char *)memory + committed;
  slab->next_spare = NULL;
  alloy_remote_free_source_init(&slab->remote);
  char *first = (char *)memory + pool->first_block_offset;
  ALLOY_MEM_NOACCESS(first, (size_t)((char *)memory + pool->slab_size - first));
  pool->committed_bytes += committed;

  uintptr_t *registry = alloy_pool_registry(pool);
  const uintptr_t address = (uintptr_t)memory;
  const size_t index = pool_registry_lower_bound(pool, address);
  memmove(&registry[index + 1], &registry[index], (pool->slab_count - index) * sizeof(uintptr_t));
  registry[index] = address;
  pool->slab_count++;
  const uintptr_t low = registry[0];
  pool->span_low = low;
  pool->span_size = registry[pool->slab_count - 1] + pool->slab_size - low;
  publish_span(pool);
  *out = slab;
  return ALLOY_OK;
}

static void pool_start_carving(alloy_pool *pool, pool_slab *slab) {
  pool->current = slab;
  pool->carve = (char *)slab + pool->first_block_offset;
  pool->carve_end = pool->carve + pool->blocks_per_slab * pool->head.block_size;
}

/* Takes, commits and touches the slabs for `blocks` blocks (the first
 * becomes the current slab, the others wait on the spare list). */
alloy_status alloy_pool_slab_prewarm(alloy_pool *pool, size_t blocks) {
  pool_slab *last = NULL;
  while (blocks != 0) {
    const size_t share = blocks < pool->blocks_per_slab ? blocks : pool->blocks_per_slab;
    pool_slab *slab;
    ALLOY_TRY(pool_new_slab(pool, share, true, &slab));
    if (pool->current == NULL)
      pool_start_carving(pool, slab);
    else if (last == NULL)
      pool->spare = slab;
    else
      last->next_spare = slab;
    if (pool->current != slab) last = slab;
    blocks -= share;
  }
  return ALLOY_OK;
}

/* Lazy slabs: commits the chunks the next block reaches into. */
static ALLOY_COLD alloy_status pool_commit_more(alloy_pool *pool, char *block_end) {
  pool_slab *slab = pool->current;
  char *slab_end = (char *)slab + pool->slab_size;
  char *new_end = (char *)slab + alloy_align_up((size_t)(block_end - (char *)slab), pool->commit_chunk);
  if (new_end > slab_end) new_end = slab_end;
  const size_t grown = (size_t)(new_end - slab->commit_end);
  ALLOY_TRY(alloy_vm_commit(slab->commit_end, grown));
  ALLOY_MEM_NOACCESS(slab->commit_end, grown); /* committed, not handed out */
  slab->commit_end = new_end;
  pool->committed_bytes += grown;
  return ALLOY_OK;
}

/* The next never-used block, from the current slab, a spare one or a new
 * one; counts against max_blocks. */
alloy_status alloy_pool_slab_carve(alloy_pool *pool, alloy_block *out) {
  if (pool->max_blocks != 0 && pool->carved_blocks >= pool->max_blocks) return ALLOY_E_CAPACITY;
  if (pool->carve == pool->carve_end) {
    pool_slab *slab = pool->spare;
    if (slab != NULL) {
      pool->spare = slab->next_spare;
    } else {
      ALLOY_TRY(pool_new_slab(pool, 1, false, &slab));
    }
    pool_start_carving(pool, slab);
  }
  char *block_end = pool->carve + pool->head.block_size;
  if (ALLOY_UNLIKELY(block_end > pool->current->commit_end)) ALLOY_TRY(pool_commit_more(pool, block_end));
  pool_free_block *block = (pool_free_block *)(void *)pool->carve;
  pool->carve = block_end;
  pool->carved_blocks++;
  alloy_pool_hand_out(pool, block, out);
  return ALLOY_OK;
}

/* Gives every slab back to the parent or the OS (the pool is destroyed). */
void alloy_pool_slab_release_all(alloy_pool *pool) {
  const uintptr_t *registry = alloy_pool_registry(pool);
  for (size_t i = 0; i < pool->slab_count; ++i) pool_return_slab(pool, (void *)registry[i]);
}
