/* Internals of the drop-in malloc, shared by its sources:
 *
 *   malloc_api.c    the C library's allocation functions (malloc, free,
 *                   calloc, realloc, the aligned family, usable size, the
 *                   sized frees): routing by size and by address.
 *                   Calls the other files.
 *   malloc_heap.c   the process-wide small-object heap, created on first
 *                   use (before main too) without allocating through libc,
 *                   and the bootstrap buffer that serves the initialising
 *                   thread's own re-entrant calls while it runs.
 *   malloc_partition.c medium blocks up to ALLOY_MALLOC_PARTITION_MAX: a
 *                   thread-safe partition root (per-thread caches, no
 *                   lock in the common case), no header.
 *   malloc_medium.c medium blocks above that: TLSF arenas behind spin
 *                   locks, with the header below before each block.
 *   malloc_large.c  page-granular mappings for what neither serves, with the
 *                   same header before the block.
 *   malloc_header.c the header of medium and large blocks (malloc_header.h).
 *   malloc_stats.c  the report at exit that ALLOY_MALLOC_STATS asks for.
 *   malloc_decay.c  freed memory back to the OS a second or so later.
 *   malloc_once.c   creating a process-wide heap once (malloc_once.h), for
 *                   this heap and the checked variant's.
 *
 * Where a block lives follows from its address alone: the bootstrap buffer
 * (a static range), the small-object heap (its pages are one range:
 * alloy_small_object_free frees what lies there, alloy_small_object_block_size
 * answers a block start with its size), the partition root (one range: its
 * slot table knows the block), else the header just below the block says
 * medium or large.
 */
#ifndef ALLOY_MALLOC_INTERNAL_H
#define ALLOY_MALLOC_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alloy/compiler.h"
#include "alloy/small_object.h"
#include "malloc_header.h"
#include "malloc_once.h"

/* The largest block the small-object heap serves: its largest class, so
 * strings and nodes of a few hundred bytes never cost a mapping each. */
#define ALLOY_MALLOC_SMALL_MAX ALLOY_SMALL_OBJECT_MAX_CLASS_SIZE

/* The largest block from the partition (its largest bucket); larger medium
 * blocks come from the TLSF arenas. */
#define ALLOY_MALLOC_PARTITION_MAX ((size_t)64 << 10)

/* The largest block from the medium arenas; larger ones are mappings of
 * their own, which go back to the OS at their free. */
#define ALLOY_MALLOC_MEDIUM_MAX ((size_t)1 << 20)

/* malloc_heap.c: the small-object heap, created on first use; NULL when it
 * could not be created (everything then goes to large mappings) or, with
 * *reentrant set, while the calling thread is the one creating it. */
ALLOY_HIDDEN alloy_small_object *alloy_malloc_heap_get(bool *reentrant);

/* The heap's creation (written by malloc_heap.c only); its made pointer is
 * the one word the fast paths read. */
extern alloy_malloc_once alloy_malloc_heap_once ALLOY_HIDDEN;

/* The heap if it exists already, without creating it (for frees). */
static inline alloy_small_object *alloy_malloc_heap_existing(void) {
  return (alloy_small_object *)alloy_malloc_once_existing(&alloy_malloc_heap_once);
}

/* The bootstrap buffer: blocks for the initialising thread's re-entrant
 * calls. Never freed; NULL when it is used up. */
ALLOY_HIDDEN void *alloy_malloc_heap_bootstrap_allocate(size_t size, size_t align);
ALLOY_HIDDEN bool alloy_malloc_heap_is_bootstrap(const void *ptr);
ALLOY_HIDDEN size_t alloy_malloc_heap_bootstrap_usable_size(const void *ptr);

/* malloc_partition.c: medium blocks of the partition. init creates the
 * root and its partition (from the heap's creation; the root registers its
 * lock with the fork guard); allocate returns NULL when the request is not
 * the partition's (above ALLOY_MALLOC_PARTITION_MAX, aligned beyond a
 * page) or it is full. free and usable_size take a pointer in the range
 * below; a pointer that starts no block is reported, never freed. */
ALLOY_HIDDEN void alloy_malloc_partition_init(void);
ALLOY_HIDDEN void *alloy_malloc_partition_allocate(size_t size, size_t align);
ALLOY_HIDDEN void alloy_malloc_partition_free(void *ptr);
ALLOY_HIDDEN size_t alloy_malloc_partition_usable_size(const void *ptr);
/* The calling thread's cache and every empty slab, back to the OS. */
ALLOY_HIDDEN void alloy_malloc_partition_trim(void);

/* The partition root's reservation (bytes 0 until it exists), written once
 * by init before the heap is published. */
typedef struct alloy_malloc_partition_range {
  uintptr_t base;
  size_t bytes;
} alloy_malloc_partition_range;

extern alloy_malloc_partition_range alloy_malloc_partition_where ALLOY_HIDDEN;

static inline bool alloy_malloc_partition_holds(const void *ptr) {
  return (uintptr_t)ptr - alloy_malloc_partition_where.base < alloy_malloc_partition_where.bytes;
}

/* malloc_medium.c: blocks of the medium arenas. init registers the arenas'
 * locks with the fork guard (from the heap's creation); allocate returns
 * NULL when the request is not medium (above ALLOY_MALLOC_MEDIUM_MAX,
 * aligned beyond a page) or memory ran out. free and resize take a block
 * whose header says MEDIUM; resize is in place only and false when TLSF
 * cannot do it there. */
ALLOY_HIDDEN void alloy_malloc_medium_init(void);
ALLOY_HIDDEN void *alloy_malloc_medium_allocate(size_t size, size_t align);
ALLOY_HIDDEN void alloy_malloc_medium_free(void *ptr);
ALLOY_HIDDEN bool alloy_malloc_medium_resize(void *ptr, size_t size);
ALLOY_HIDDEN size_t alloy_malloc_medium_usable_size(const void *ptr);

/* Reports a pointer that has no valid header: a medium block freed already
 * (ALLOY_E_DOUBLE_FREE), a pointer inside a live one (INTERIOR_POINTER) or
 * at one whose header was overwritten (CORRUPTION), else NOT_OWNED. Walks
 * the arena that spans it: for misuse only. */
ALLOY_HIDDEN void alloy_malloc_medium_report_bad_free(const void *ptr);

/* Spare pools and whole free pages of the arenas not busy, back to the OS. */
ALLOY_HIDDEN void alloy_malloc_medium_trim(void);

/* malloc_decay.c: called on every slow-path event (a medium or large
 * allocation or free); now and then gives freed memory back to the OS. */
ALLOY_HIDDEN void alloy_malloc_decay_tick(void);
/* The same for the small-object heap's page events (its on_page_event). */
ALLOY_HIDDEN void alloy_malloc_decay_page_event(void *context);

/* What one tier did, for the exit report (malloc_stats.c). */
typedef struct alloy_malloc_tier_stats {
  uint64_t allocations;
  uint64_t frees;
  size_t live_bytes;      /* handed out and not freed */
  size_t peak_live_bytes;
  size_t held_bytes;      /* memory the OS backs for the tier */
} alloy_malloc_tier_stats;

/* Sums over the medium arenas (each arena's lock taken in turn). */
ALLOY_HIDDEN void alloy_malloc_medium_get_stats(alloy_malloc_tier_stats *out);
/* The partition's (its root lock taken). */
ALLOY_HIDDEN void alloy_malloc_partition_get_stats(alloy_malloc_tier_stats *out);

/* malloc_large.c: a mapping of its own for one block, fresh from the OS (so
 * it reads as zero). NULL when the OS refuses or the size overflows. */
ALLOY_HIDDEN void *alloy_malloc_large_allocate(size_t size, size_t align);
ALLOY_HIDDEN void alloy_malloc_large_free(void *ptr);
ALLOY_HIDDEN size_t alloy_malloc_large_usable_size(const void *ptr);
ALLOY_HIDDEN void alloy_malloc_large_get_stats(alloy_malloc_tier_stats *out);

#endif /* ALLOY_MALLOC_INTERNAL_H */
