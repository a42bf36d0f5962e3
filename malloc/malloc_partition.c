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
 * request is rounded to its class only (medium_class below).
 *
 * The root reserves address space and commits slabs as buckets need them;
 * its slabs are 256 KiB so that the largest bucket (a quarter slab) is
 * 64 KiB, where the TLSF arenas take over (malloc_medium.c). Measured
 * against the arenas alone (the drop-in comparison's rptest, 16 B - 64 KiB
 * with a quarter of the frees remote, seven runs alternating): 4.6-4.7
 * against 3.1 M ops/s, peak RSS 29-31 against 49 MiB; with the partition
 * only up to 16 KiB, 3.6 M ops/s and 49 MiB. Above 64 KiB the arenas stay:
 * two threads churning 64 KiB - 1 MiB blocks took 0.36 s of CPU and 38 MiB
 * with them, 0.45 s and 52 MiB with buckets up to 256 KiB (1 MiB slabs),
 * 111 MiB with buckets up to 1 MiB (each class's bins keep whole blocks),
 * 2.0-2.5 s with a mapping per block (a page fault per page, every time). */
#include <stdint.h>

#include "alloy/align.h"
#include "alloy/bits.h"
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

/* A medium request rounded up to a quarter of its power of two (10, 12,
 * 14, 16, 20, 24 ... 64 KiB): every other class of the partition's, so a
 * thread's cache spreads its bins (each keeps up to 8 blocks) over 12
 * classes between 8 and 64 KiB instead of 24, and a freed block serves
 * more of the next requests. Two threads churning 8 - 64 KiB blocks peaked
 * at 9.1 MiB resident instead of 12.4, python at 0.3 MiB less, rptest's
 * speed unchanged; the waste (under a quarter) is address space the
 * program does not touch. */
static size_t medium_class(size_t size) {
  if (size <= ALLOY_MALLOC_SMALL_MAX) return size;
  const size_t step = (size_t)1 << (alloy_log2_floor(size - 1) - 2);
  return alloy_align_up(size, step);
}

void *alloy_malloc_partition_allocate(size_t size, size_t align) {
  if (partition == NULL || size > ALLOY_MALLOC_PARTITION_MAX || align > alloy_vm_page_size()) return NULL;
  alloy_block block;
  if (alloy_partition_allocate(partition, medium_class(size), align < ALLOY_MALLOC_ALIGN ? ALLOY_MALLOC_ALIGN : align,
                               &block) != ALLOY_OK)
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
