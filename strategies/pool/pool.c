/* The pool strategy: the public API, configuration and layout, the
 * single-threaded fast paths, the resource ops and the stats. Slabs live in
 * pool_slab.c, misuse reports in pool_check.c, the owner/remote-free mode in
 * pool_concurrent.c; none of them calls back into this file. Layout,
 * invariants and the call graph: pool_internal.h. */
#include "alloy/pool.h"

#include <string.h>

#include "alloy/align.h"
#include "alloy/bits.h"
#include "alloy/random.h"
#include "alloy/vm.h"
#include "pool_internal.h"

#define POOL_DEFAULT_SLAB ((size_t)64 << 10)
#define POOL_MIN_BLOCKS_PER_DEFAULT_SLAB 8
#define POOL_MAX_SLAB ((size_t)1 << 40)
/* Without max_blocks the registry may list this many slabs (address space only). */
#define POOL_DEFAULT_MAX_SLABS ((size_t)1 << 20)

static const alloy_resource_ops pool_ops;
static const alloy_resource_ops pool_concurrent_ops;

static inline alloy_pool *pool_of(alloy_resource *resource) { return (alloy_pool *)resource; }
static inline const alloy_pool *const_pool_of(const alloy_resource *resource) {
  return (const alloy_pool *)resource;
}

alloy_pool_config alloy_pool_config_default(size_t block_size) {
  alloy_pool_config config;
  config.block_size = block_size;
  config.block_align = 0;
  config.slab_size = 0;
  config.max_blocks = 0;
  config.parent = NULL;
  config.commit = ALLOY_POOL_COMMIT_BATCHED;
  config.commit_chunk = 0;
  config.prewarm_blocks = 0;
  config.numa_node = -1;
  config.concurrent_free = false;
  return config;
}

/* The head's block-start constants (see alloy_pool_head), or none (0, 0:
 * every offset fails and the exact test runs) where the product test does
 * not hold: stride * (slab_size + stride) of 2^64 or more. */
static void pool_block_start_magic(size_t stride, size_t slab, size_t blocks_per_slab, alloy_pool_head *head) {
  head->stride_magic = 0;
  head->block_limit = 0;
  /* stride * (slab + stride) < 2^64, the bound under which no offset's
   * product wraps past a block start's (stride < slab, so no overflow). */
  if (stride > UINT64_MAX / (slab + stride)) return;
  /* floor(2^64 / stride) + 1; UINT64_MAX / stride is one short of the
   * quotient for a power of two. */
  const uint64_t magic = UINT64_MAX / stride + (alloy_is_power_of_two(stride) ? 2 : 1);
  const uint64_t excess = magic * stride; /* mod 2^64: stride * magic - 2^64, in [1, stride] */
  head->stride_magic = magic;
  head->block_limit = blocks_per_slab * excess;
}

/* Derives the layout from the config; false for a config no pool can serve. */
static bool pool_layout(const alloy_pool_config *config, alloy_pool *layout) {
  const size_t align = config->block_align ? config->block_align : ALLOY_DEFAULT_ALIGNMENT;
  if (config->block_size == 0 || !alloy_is_valid_alignment(align) || align > POOL_MAX_SLAB) return false;
  size_t stride;
  if (!alloy_align_up_checked(config->block_size < sizeof(void *) ? sizeof(void *) : config->block_size, align,
                              &stride) ||
      stride > POOL_MAX_SLAB / 2)
    return false;
  stride = alloy_align_up(stride, sizeof(void *) <= align ? align : sizeof(void *));
  const size_t offset = alloy_align_up(sizeof(pool_slab), align);
  size_t slab = config->slab_size;
  if (slab == 0) {
    slab = POOL_DEFAULT_SLAB;
    size_t wanted = offset + POOL_MIN_BLOCKS_PER_DEFAULT_SLAB * stride;
    if (wanted > slab && !alloy_next_power_of_two(wanted, &slab)) return false;
  } else if (!alloy_is_power_of_two(slab) || slab < alloy_vm_page_size() || slab > POOL_MAX_SLAB) {
    return false;
  }
  if (offset >= slab || (slab - offset) / stride == 0) return false;
  if (config->numa_node < -1 || (config->commit != ALLOY_POOL_COMMIT_BATCHED && config->commit != ALLOY_POOL_COMMIT_LAZY))
    return false;
  if (config->parent != NULL && (config->numa_node >= 0 || config->commit == ALLOY_POOL_COMMIT_LAZY)) return false;
  /* Every block of a slab may be pending in its remote-free source at once. */
  if (config->concurrent_free && (slab - offset) / stride > ALLOY_REMOTE_FREE_MAX_PENDING) return false;
  size_t chunk = 0;
  if (config->commit == ALLOY_POOL_COMMIT_LAZY) {
    const size_t wanted = config->commit_chunk ? config->commit_chunk : alloy_vm_page_size();
    if (!alloy_align_up_checked(wanted, alloy_vm_page_size(), &chunk)) return false;
    if (chunk > slab) chunk = slab;
  }
  layout->commit_chunk = chunk;
  layout->numa_node = config->numa_node;
  layout->concurrent = config->concurrent_free;
  layout->head.block_size = stride;
  layout->head.block_align = align;
  layout->slab_size = slab;
  layout->first_block_offset = offset;
  layout->blocks_per_slab = (slab - offset) / stride;
  layout->head.slab_mask = slab - 1;
  layout->stride = alloy_divisor_make(stride);
  pool_block_start_magic(stride, slab, layout->blocks_per_slab, &layout->head);
  layout->max_blocks = config->max_blocks;
  layout->max_slabs = config->max_blocks ? (config->max_blocks + layout->blocks_per_slab - 1) / layout->blocks_per_slab
                                         : POOL_DEFAULT_MAX_SLABS;
  return true;
}

alloy_status alloy_pool_create(const alloy_pool_config *config, alloy_pool **out) {
  if (config == NULL || out == NULL) return ALLOY_E_INVALID_ARGUMENT;
  alloy_pool layout;
  memset(&layout, 0, sizeof layout);
  if (!pool_layout(config, &layout)) return ALLOY_E_INVALID_ARGUMENT;

  alloy_vm_arena_config meta_config;
  meta_config.header_size = sizeof(alloy_pool);
  meta_config.capacity = layout.max_slabs * sizeof(uintptr_t);
  meta_config.commit_chunk = alloy_vm_page_size();
  meta_config.numa_node = config->numa_node; /* also proves the node exists */
  alloy_vm_arena meta;
  ALLOY_TRY(alloy_vm_arena_create(&meta_config, &meta));

  alloy_pool *pool = (alloy_pool *)(void *)meta.reservation;
  memcpy(pool, &layout, sizeof layout);
  pool->head.resource.ops = config->concurrent_free ? &pool_concurrent_ops : &pool_ops;
  pool->head.free_list = NULL;
  pool->head.block_low = 0;
  pool->head.block_span = 0;
  pool->head.free_key = pool->head.block_size >= sizeof(pool_free_block) ? alloy_random_key(pool) : 0;
  pool->parent = config->parent;
  pool->meta = meta;
  alloy_pool_concurrent_init(pool);
  ALLOY_VG_POOL_CREATE(pool);
  size_t prewarm = config->prewarm_blocks;
  if (pool->max_blocks != 0 && prewarm > pool->max_blocks) prewarm = pool->max_blocks;
  if (prewarm != 0) {
    alloy_status status = alloy_pool_slab_prewarm(pool, prewarm);
    if (status != ALLOY_OK) {
      alloy_pool_destroy(pool);
      return status;
    }
  }
  *out = pool;
  return ALLOY_OK;
}

alloy_resource *alloy_pool_resource(alloy_pool *pool) { return &pool->head.resource; }

alloy_pool *alloy_pool_of_block(const void *ptr, size_t slab_size) {
  const pool_slab *slab = (const pool_slab *)(uintptr_t)((uintptr_t)ptr & ~(uintptr_t)(slab_size - 1));
  return slab->pool;
}

static ALLOY_COLD alloy_status pool_reject(const alloy_pool *pool, size_t size, size_t align) {
  (void)pool;
  return alloy_pool_check_reject(size, align);
}

/* Everything but a pop of a marked block: a concurrent pool, a pool the
 * head's fast paths leave to this code (one-word blocks, or a slab and
 * stride too large for the head's block-start test), an empty list, or a
 * first block that failed the checks: then that is reported and the list
 * dropped (its free blocks are never handed out). */
static ALLOY_NOINLINE alloy_status pool_allocate_slow(alloy_pool *pool, size_t size, size_t align,
                                                      alloy_block *out) {
  if (ALLOY_UNLIKELY(pool->concurrent)) return alloy_pool_concurrent_allocate(pool, size, align, out);
  pool_free_block *block = (pool_free_block *)pool->head.free_list;
  if (block != NULL) {
    if (!alloy_pool_head_serves(pool) &&
        alloy_pool_listed_block_is_sound(&pool->head, pool->span_low, pool->span_size, block)) {
      pool->head.free_list = alloy_pool_unlist(&pool->head, block);
      alloy_pool_hand_out(pool, block, out);
      return ALLOY_OK;
    }
    alloy_pool_check_unsound_block(pool, block, pool->span_low, pool->span_size);
    pool->head.free_list = NULL;
  }
  return alloy_pool_slab_carve(pool, out);
}

static ALLOY_ALWAYS_INLINE alloy_status pool_allocate_inline(alloy_pool *pool, size_t size, size_t align,
                                                             alloy_block *out) {
  /* One test covers: too large, too aligned, alignment 0 (align - 1 wraps) and not a power of two. */
  if (ALLOY_UNLIKELY(size > pool->head.block_size || align - 1 >= pool->head.block_align ||
                     (align & (align - 1)) != 0))
    return pool_reject(pool, size, align);
  void *block = pool->head.free_list;
  if (ALLOY_UNLIKELY((uintptr_t)block - pool->head.block_low >= pool->head.block_span))
    return pool_allocate_slow(pool, size, align, out);
  ALLOY_MEM_DEFINED(block, sizeof(pool_free_block));
  if (ALLOY_UNLIKELY(((const pool_free_block *)block)->mark != pool->head.free_key))
    return pool_allocate_slow(pool, size, align, out);
  const size_t block_size = pool->head.block_size; /* read before the pop's stores, which may alias it */
  alloy_pool_head_pop(&pool->head, block);
  ALLOY_TRACK_ALLOC(pool, block, block_size);
  *out = alloy_block_make(block, block_size);
  return ALLOY_OK;
}

alloy_status alloy_pool_allocate(alloy_pool *pool, size_t size, size_t align, alloy_block *out) {
  return pool_allocate_inline(pool, size, align, out);
}

static alloy_status pool_allocate(alloy_resource *self, size_t size, size_t align, alloy_block *out) {
  return pool_allocate_inline(pool_of(self), size, align, out);
}

/* A free the head's test turned away: NULL, a concurrent pool or a pool
 * the head does not serve (whose head spans nothing), or misuse. */
static ALLOY_NOINLINE alloy_status pool_free_refused(alloy_pool *pool, alloy_block block, size_t align) {
  if (pool->concurrent) return alloy_pool_concurrent_free(pool, block, align);
  if (block.ptr == NULL) return ALLOY_OK;
  if (!alloy_pool_head_serves(pool) && (uintptr_t)block.ptr - pool->span_low < pool->span_size &&
      alloy_pool_is_block_shaped(pool, block)) {
    if (ALLOY_DEBUG) ALLOY_TRY(alloy_pool_check_free(pool, block, align));
    alloy_pool_list_push(&pool->head, &pool->head.free_list, block.ptr);
    ALLOY_TRACK_FREE(pool, block.ptr, pool->head.block_size);
    return ALLOY_OK;
  }
  return alloy_pool_check_refused_free(pool, block, align, pool->span_low, pool->span_size);
}

static ALLOY_ALWAYS_INLINE alloy_status pool_free_inline(alloy_pool *pool, alloy_block block, size_t align) {
  if (ALLOY_UNLIKELY(!alloy_pool_head_free_is_plain(&pool->head, block))) return pool_free_refused(pool, block, align);
  if (ALLOY_DEBUG) ALLOY_TRY(alloy_pool_check_free(pool, block, align));
  alloy_pool_head_push(&pool->head, block.ptr);
  ALLOY_TRACK_FREE(pool, block.ptr, pool->head.block_size);
  return ALLOY_OK;
}

alloy_status alloy_pool_free(alloy_pool *pool, alloy_block block, size_t align) {
  return pool_free_inline(pool, block, align);
}

static alloy_status pool_deallocate(alloy_resource *self, alloy_block block, size_t align) {
  return pool_free_inline(pool_of(self), block, align);
}

static alloy_status pool_concurrent_allocate(alloy_resource *self, size_t size, size_t align, alloy_block *out) {
  return alloy_pool_concurrent_allocate(pool_of(self), size, align, out);
}

static alloy_status pool_concurrent_deallocate(alloy_resource *self, alloy_block block, size_t align) {
  return alloy_pool_concurrent_free(pool_of(self), block, align);
}

static alloy_status pool_resize(alloy_resource *self, alloy_block block, size_t new_size, size_t align,
                                alloy_block *out) {
  const alloy_pool *pool = pool_of(self);
  if (new_size > pool->head.block_size || align > pool->head.block_align) return ALLOY_E_UNSUPPORTED;
  *out = alloy_block_make(block.ptr, pool->head.block_size); /* every block is already full size */
  return ALLOY_OK;
}

static bool pool_owns(const alloy_resource *self, alloy_block block) {
  const alloy_pool *pool = const_pool_of(self);
  return block.size <= pool->head.block_size && alloy_pool_slab_is_block_start(pool, block.ptr);
}

static size_t pool_capacity_blocks(const alloy_pool *pool) {
  size_t capacity = pool->slab_count * pool->blocks_per_slab;
  return pool->max_blocks != 0 && capacity > pool->max_blocks ? pool->max_blocks : capacity;
}

/* Plain pools: carved blocks minus free ones. The fast paths keep no
 * counter, so this walks the free list: O(free blocks), for diagnostics
 * only. Concurrent pools count on their slow owner paths instead. */
static size_t pool_live_blocks(const alloy_pool *pool) {
  if (pool->concurrent)
    return (size_t)(pool->allocations - pool->local_frees - pool->remote_reclaimed -
                    alloy_pool_concurrent_remote_pending(pool));
  /* A double free can make the list cycle and a write after free can send
   * it anywhere: the walk stops at a link outside the span and after as
   * many blocks as were ever carved. */
  size_t free_blocks = 0;
  for (pool_free_block *block = (pool_free_block *)pool->head.free_list;
       block != NULL && free_blocks < pool->carved_blocks && (uintptr_t)block - pool->span_low < pool->span_size;) {
    ALLOY_MEM_DEFINED(&block->next, sizeof block->next);
    pool_free_block *next = block->next;
    ALLOY_MEM_NOACCESS(&block->next, sizeof block->next);
    block = next;
    ++free_blocks;
  }
  return pool->carved_blocks - free_blocks;
}

void alloy_pool_get_stats(const alloy_pool *pool, alloy_pool_stats *out) {
  memset(out, 0, sizeof *out);
  out->block_size = pool->head.block_size;
  out->block_align = pool->head.block_align;
  out->slab_size = pool->slab_size;
  out->blocks_per_slab = pool->blocks_per_slab;
  out->slab_count = pool->slab_count;
  out->live_blocks = pool_live_blocks(pool);
  out->capacity_blocks = pool_capacity_blocks(pool);
  out->max_blocks = pool->max_blocks;
  out->committed_bytes = pool->committed_bytes;
  if (pool->concurrent) {
    const uint64_t pending = alloy_pool_concurrent_remote_pending(pool);
    out->allocations = pool->allocations;
    out->local_frees = pool->local_frees;
    out->remote_frees = pool->remote_reclaimed + pending;
    out->remote_pending = pending;
    out->remote_batches = pool->remote_batches;
  }
}

static void pool_get_info(const alloy_resource *self, alloy_resource_info *info) {
  const alloy_pool *pool = const_pool_of(self);
  info->thread_safety = pool->concurrent ? ALLOY_THREAD_SAFE_FREE : ALLOY_THREAD_UNSAFE;
  info->max_alignment = pool->head.block_align;
  info->max_size = pool->head.block_size;
  info->size_class_count = 1;
  info->size_classes = &pool->head.block_size;
  info->has_stats = true;
  info->stats.live_bytes = pool_live_blocks(pool) * pool->head.block_size;
  info->stats.reserved_bytes = pool->slab_count * pool->slab_size + pool->meta.reserved_size;
  info->stats.committed_bytes = pool->committed_bytes + alloy_vm_arena_committed(&pool->meta);
}

void alloy_pool_destroy(alloy_pool *pool) {
  if (pool == NULL) return;
  alloy_pool_concurrent_fini(pool);
  alloy_pool_slab_release_all(pool);
  ALLOY_VG_POOL_DESTROY(pool);
  alloy_vm_arena meta = pool->meta; /* the pool lives inside it */
  alloy_vm_arena_destroy(&meta);
}

static const alloy_resource_ops pool_ops = {
    .struct_size = sizeof(alloy_resource_ops),
    .name = "pool",
    .allocate = pool_allocate,
    .deallocate = pool_deallocate,
    .resize = pool_resize,
    .owns = pool_owns,
    .get_info = pool_get_info,
};

/* owns() reads the slab registry: on a concurrent pool, ask from the owner. */
static const alloy_resource_ops pool_concurrent_ops = {
    .struct_size = sizeof(alloy_resource_ops),
    .name = "pool",
    .allocate = pool_concurrent_allocate,
    .deallocate = pool_concurrent_deallocate,
    .resize = pool_resize,
    .owns = pool_owns,
    .get_info = pool_get_info,
};
