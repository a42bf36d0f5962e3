/* alloy/partition.h — partitions: isolated heaps per subsystem or object type.
 *
 * In the spirit of Chromium's PartitionAlloc. A root reserves one range of
 * address space and cuts it into slab slots of one power-of-two size. Each
 * named partition takes slots for itself: every slab belongs to exactly one
 * partition for the life of the root and serves one size-class bucket of it
 * (classes from alloy/size_class.h). Memory of one partition is never handed
 * out by another, not even after it is freed, so a use-after-free in one
 * subsystem cannot overwrite another subsystem's objects.
 *
 * Slabs are aligned to their size, so the slab of a pointer is found by
 * masking; the root's slot table records the owning partition of every slot,
 * so ownership is answered from the address alone, without touching the block.
 *
 * Optional guard pages: a partition created with guard_pages leaves the last
 * page of each of its slab slots inaccessible, so an overrun off the end of a
 * slab faults instead of reaching the next slab.
 *
 * Misuse, detected in every build and reported through alloy_fault_report():
 *   - a block freed through a partition other than the one that allocated it,
 *     or not from this root at all: ALLOY_E_NOT_OWNED (the detail names the
 *     owning partition); nothing is freed;
 *   - a block freed twice: ALLOY_E_DOUBLE_FREE (each slab keeps a bitmap of
 *     its live objects);
 *   - a pointer into the middle of an object or a size larger than the
 *     object's class: ALLOY_E_NOT_OWNED / ALLOY_E_SIZE_MISMATCH.
 * When the fault handler returns, the call returns that status.
 *
 * Sizes above the partition's max_bucket_size, and alignments above the page
 * size or above the request's bucket size, are ALLOY_E_UNSUPPORTED: compose a
 * partition with tlsf or system in a fallback chain for large blocks. Not
 * thread-safe (wrap in the locked decorator, whose lock is also the one held
 * across fork(): a partition takes no lock of its own).
 */
#ifndef ALLOY_PARTITION_H
#define ALLOY_PARTITION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alloy/block.h"
#include "alloy/compiler.h"
#include "alloy/resource.h"
#include "alloy/status.h"

ALLOY_EXTERN_C_BEGIN

typedef struct alloy_partition_root alloy_partition_root;
typedef struct alloy_partition alloy_partition;

#define ALLOY_PARTITION_NUMA_NONE (-1)  /* leave placement to the kernel */
#define ALLOY_PARTITION_NUMA_LOCAL (-2) /* the node of the thread that creates the partition */

typedef struct alloy_partition_root_config {
  size_t reserve_bytes; /* address space for every partition's slabs (default 1 GiB) */
  size_t slab_size;     /* power of two, at least 4 pages (default 64 KiB) */
} alloy_partition_root_config;

typedef struct alloy_partition_config {
  size_t max_bucket_size; /* largest request served (default 8 KiB; at most slab_size / 4) */
  bool guard_pages;       /* an inaccessible page after each slab */
  size_t max_bytes;       /* cap on committed slab bytes (0: none): then ALLOY_E_CAPACITY */
  int numa_node;          /* node for the slabs, or ALLOY_PARTITION_NUMA_NONE / _LOCAL */
} alloy_partition_config;

alloy_partition_root_config alloy_partition_root_config_default(void);
/* 8 KiB buckets, no guard pages, no cap, slabs on the calling thread's node. */
alloy_partition_config alloy_partition_config_default(void);

/* ALLOY_E_INVALID_ARGUMENT for a bad geometry, ALLOY_E_OUT_OF_MEMORY when the
 * reservation is refused. */
ALLOY_NODISCARD alloy_status alloy_partition_root_create(const alloy_partition_root_config *config,
                                                         alloy_partition_root **out);
/* Destroys every partition still alive and gives the address space back. */
void alloy_partition_root_destroy(alloy_partition_root *root);

/* A new partition named `name` (copied; at most 31 characters are kept).
 * ALLOY_E_INVALID_ARGUMENT for a bad config, ALLOY_E_UNAVAILABLE for a NUMA
 * node the machine does not have. */
ALLOY_NODISCARD alloy_status alloy_partition_create(alloy_partition_root *root, const char *name,
                                                    const alloy_partition_config *config, alloy_partition **out);
/* Decommits the partition's slabs. Their slots stay retired: no other
 * partition ever gets those addresses. Outstanding blocks become invalid. */
void alloy_partition_destroy(alloy_partition *partition);

alloy_resource *alloy_partition_resource(alloy_partition *partition);
const char *alloy_partition_name(const alloy_partition *partition);

/* The partition whose slab holds `ptr`, or NULL (address arithmetic only). */
alloy_partition *alloy_partition_of(const alloy_partition_root *root, const void *ptr);

ALLOY_NODISCARD alloy_status alloy_partition_allocate(alloy_partition *partition, size_t size, size_t align,
                                                      alloy_block *out);
alloy_status alloy_partition_deallocate(alloy_partition *partition, alloy_block block);

typedef struct alloy_partition_stats {
  size_t live_bytes;       /* bucket bytes of the objects handed out */
  size_t peak_live_bytes;
  size_t committed_bytes;  /* bytes of committed slabs */
  size_t slab_count;       /* slabs taken from the root (committed or not) */
  uint64_t allocations;
  uint64_t deallocations;
  uint64_t failures;
} alloy_partition_stats;

void alloy_partition_get_stats(const alloy_partition *partition, alloy_partition_stats *out);

ALLOY_EXTERN_C_END

#endif /* ALLOY_PARTITION_H */
