/* The drop-in malloc's medium blocks up to ALLOY_MALLOC_PARTITION_MAX: one
 * partition of a process-wide partition root (alloy/partition.h), which is
 * thread-safe by itself. Each thread allocates from and frees into its own
 * cache of the partition without a lock; a cache refills in batches under
 * the root's lock and sends full bins back with one compare-and-swap, so a
 * free never waits. The caches go back when their thread exits (the root's
 * thread-exit key), and the root's lock is registered with the fork guard.
 *
 * Blocks carry no header: the root's slot table gives a block's start and
 * size from its address (alloy_partition_find), so a pointer-only free,
 * malloc_usable_size and realloc need nothing in front of the block, and a
 * request is rounded to its size class (at most 1/8 above it) only.
 *
 * The root reserves address space and commits slabs as buckets need them;
 * its slabs are 256 KiB so that the largest bucket (a quarter slab) is
 * 64 KiB. On //bench/malloc:rptest (16 B - 64 KiB, a quarter of the frees
 * remote) this took the medium path off the arenas' locks. */
#include <stdint.h>

#include "alloy/partition.h"
#include "alloy/vm.h"
#include "malloc_internal.h"

#define PARTITION_SLAB_BYTES ((size_t)256 << 10)
#define PARTITION_RESERVE ((size_t)64 << 30)
#define PARTITION_RESERVE_FALLBACK ((size_t)4 << 30) /* under an address-space limit */

ALLOY_STATIC_ASSERT(ALLOY_MALLOC_PARTITION_MAX <= PARTITION_SLAB_BYTES / 4, "the partition's buckets reach the limit");

alloy_malloc_partition_range alloy_malloc_partition_where;

static alloy_partition_root *root;
static alloy_partition *partition;

static bool create_root(size_t reserve) {
  alloy_partition_root_config config = alloy_partition_root_config_default();
  config.reserve_bytes = reserve;
  config.slab_size = PARTITION_SLAB_BYTES;
  return alloy_partition_root_create(&config, &root) == ALLOY_OK;
}

void alloy_malloc_partition_init(void) {
  if (!create_root(PARTITION_RESERVE) && !create_root(PARTITION_RESERVE_FALLBACK)) return;
  alloy_partition_config config = alloy_partition_config_default();
  config.max_bucket_size = ALLOY_MALLOC_PARTITION_MAX;
  config.numa_node = ALLOY_PARTITION_NUMA_NONE; /* no libnuma in the preload library */
  if (alloy_partition_create(root, "alloy_malloc", &config, &partition) != ALLOY_OK) {
    alloy_partition_root_destroy(root);
    root = NULL;
    partition = NULL;
    return;
  }
  /* The address range last: a free routes here only once the partition exists. */
  alloy_block reserved = {NULL, 0};
  alloy_partition_root_range(root, &reserved);
  alloy_malloc_partition_where.base = (uintptr_t)reserved.ptr;
  alloy_malloc_partition_where.bytes = reserved.size;
}

void *alloy_malloc_partition_allocate(size_t size, size_t align) {
  if (partition == NULL || size > ALLOY_MALLOC_PARTITION_MAX || align > alloy_vm_page_size()) return NULL;
  alloy_block block;
  if (alloy_partition_allocate(partition, size, align < ALLOY_MALLOC_ALIGN ? ALLOY_MALLOC_ALIGN : align, &block) !=
      ALLOY_OK)
    return NULL;
  return block.ptr;
}

/* A pointer of the root that starts no block: inside one, or at one whose
 * slab emptied since (then the partition reports a double free). */
static ALLOY_NOINLINE void free_not_a_start(void *ptr, bool inside) {
  if (inside) {
    alloy_malloc_header_report(ALLOY_E_INTERIOR_POINTER, ptr, "a pointer inside a live medium block, not its start");
    return;
  }
  ALLOY_IGNORE_STATUS(alloy_partition_deallocate(partition, alloy_block_make(ptr, 0)));
}

void alloy_malloc_partition_free(void *ptr) {
  alloy_partition *owner;
  alloy_block block;
  bool found = alloy_partition_find(root, ptr, &owner, &block);
  if (ALLOY_LIKELY(found && block.ptr == ptr)) {
    /* A block freed twice carries the partition's free mark: reported there. */
    ALLOY_IGNORE_STATUS(alloy_partition_deallocate(owner, block));
    return;
  }
  free_not_a_start(ptr, found);
}

size_t alloy_malloc_partition_usable_size(const void *ptr) {
  alloy_partition *owner;
  alloy_block block;
  if (ALLOY_LIKELY(alloy_partition_find(root, ptr, &owner, &block) && block.ptr == ptr)) return block.size;
  alloy_malloc_header_report(ALLOY_E_NOT_OWNED, ptr, "not the start of a medium block");
  return 0;
}

void alloy_malloc_partition_trim(void) {
  if (partition != NULL) alloy_partition_purge(partition);
}

void alloy_malloc_partition_get_stats(alloy_malloc_tier_stats *out) {
  *out = (alloy_malloc_tier_stats){0};
  if (partition == NULL) return;
  alloy_partition_stats stats;
  alloy_partition_get_stats(partition, &stats);
  out->allocations = stats.allocations;
  out->frees = stats.deallocations;
  out->live_bytes = stats.live_bytes;
  out->peak_live_bytes = stats.peak_live_bytes;
  out->held_bytes = stats.committed_bytes;
}
