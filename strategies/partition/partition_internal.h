/* partition_internal.h — the root's slot table, partitions, buckets and slab
 * headers, shared by the package's two sources. Calls go one way:
 *
 *   partition.c       the public API of partitions (create, allocate, free,
 *                     stats, destroy) and alloy_partition_root_destroy,
 *                     which destroys the root's partitions first.
 *                     Calls partition_root.c.
 *   partition_root.c  the root: one reservation cut into slab slots, the
 *                     table naming each slot's owner, the list of
 *                     partitions; root creation and alloy_partition_of.
 *                     Calls no other file of the package.
 *
 * What partition_root.c offers partition.c is declared below, marked
 * ALLOY_HIDDEN and named alloy_partition_root_<what>; the static inline
 * pieces here (layouts, the slot owner lookup) are both files'.
 *
 * Slab slot layout (slab_size bytes, aligned to slab_size):
 *
 *   [ objects ... | bitmap | header ][ guard page, when the partition asks ]
 *   ^ slot base                     ^ base + usable
 *
 * Invariants:
 *   1. slot_owner[i] names the partition that owns slot i from the moment it
 *      is taken until the root goes away (RETIRED after its partition is
 *      destroyed): slots never change partition.
 *   2. The header sits at the same place in every slab of a partition
 *      (usable - SLAB_HEADER_SIZE), so it is found from any pointer into the
 *      slab by masking; the slot table is consulted first, so a foreign
 *      pointer is never dereferenced.
 *   3. A slab with a bucket has exactly `live` bits set in its bitmap, one per
 *      object handed out; free_list links only objects whose bit is clear.
 *   4. A slab is on its bucket's active list iff it has a free object
 *      (live < capacity). Empty slabs leave their bucket (bucket == NULL) and
 *      wait on the partition's empty list, decommitted beyond the first.
 */
#ifndef ALLOY_PARTITION_INTERNAL_H
#define ALLOY_PARTITION_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alloy/compiler.h"
#include "alloy/partition.h"

#define PARTITION_NAME_MAX 32

typedef struct partition_bucket {
  uint32_t object_size;
  uint32_t capacity;     /* objects per slab */
  uint32_t bitmap_bytes; /* bytes of the live bitmap below the header */
  struct partition_slab *active; /* slabs with at least one free object */
} partition_bucket;

typedef struct partition_slab {
  alloy_partition *partition;
  partition_bucket *bucket;        /* NULL while the slab is empty */
  struct partition_slab *next;     /* on the bucket's active list or the empty list */
  struct partition_slab *prev;
  struct partition_slab *all_next; /* every slab of the partition */
  void *free_list;
  uint32_t carved; /* objects cut from the slab so far (the rest were never touched) */
  uint32_t live;
  bool committed;
  bool listed;     /* on the bucket's active list */
} partition_slab;

#define SLAB_HEADER_SIZE ((sizeof(partition_slab) + 63) & ~(size_t)63)

struct alloy_partition_root {
  char *base;
  size_t reserve_bytes;
  size_t slab_size;
  unsigned slab_shift;
  size_t slot_count;
  size_t next_slot;
  alloy_partition **slot_owner;
  size_t self_bytes; /* the mapping holding this struct and slot_owner */
  alloy_partition *partitions;
};

struct alloy_partition {
  alloy_resource resource; /* first: the partition is a resource */
  alloy_partition_root *root;
  alloy_partition *next, *prev; /* the root's partitions */
  char name[PARTITION_NAME_MAX];
  size_t usable;          /* bytes of each slab that may be committed */
  size_t max_bucket_size;
  size_t max_alignment;
  size_t max_bytes;
  int numa_node;          /* resolved: a node or ALLOY_PARTITION_NUMA_NONE */
  bool guard_pages;
  partition_slab *empty;  /* empty slabs, committed ones first */
  size_t empty_committed;
  partition_slab *all;
  size_t self_bytes;
  /* Counters. */
  size_t live_bytes, peak_live_bytes, committed_bytes, slab_count;
  uint64_t allocations, deallocations, failures;
  size_t bucket_count;
  partition_bucket buckets[]; /* one per size class up to max_bucket_size */
};

/* partition_root.c: slots, their owners and the list of partitions. */

/* The owner recorded for slots of a destroyed partition. */
extern ALLOY_HIDDEN alloy_partition *const alloy_partition_root_retired;

/* Takes a fresh slot for `partition` (recording it as owner): its base, or NULL when the root is full. */
ALLOY_HIDDEN char *alloy_partition_root_take_slot(alloy_partition_root *root, alloy_partition *partition);
ALLOY_HIDDEN void alloy_partition_root_retire_slot(alloy_partition_root *root, const void *slot_base);
ALLOY_HIDDEN void alloy_partition_root_link(alloy_partition_root *root, alloy_partition *partition);
ALLOY_HIDDEN void alloy_partition_root_unlink(alloy_partition_root *root, alloy_partition *partition);
/* Gives the root's reservation and its own mapping back (no partition is left). */
ALLOY_HIDDEN void alloy_partition_root_unmap(alloy_partition_root *root);

/* Slot owner of `ptr`, or NULL when it lies outside the root (no dereference of ptr). */
static inline alloy_partition *alloy_partition_root_owner(const alloy_partition_root *root, const void *ptr) {
  uintptr_t offset = (uintptr_t)ptr - (uintptr_t)root->base;
  if ((uintptr_t)ptr < (uintptr_t)root->base || offset >= root->next_slot << root->slab_shift) return NULL;
  return root->slot_owner[offset >> root->slab_shift];
}

#endif /* ALLOY_PARTITION_INTERNAL_H */
