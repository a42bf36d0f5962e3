/* alloy/partition.h — partitions: isolated heaps per subsystem or object type.
 *
 * In the spirit of Chromium's PartitionAlloc. A root reserves one range of
 * address space and cuts it into slots of one power-of-two size. Each named
 * partition takes slots for itself: every slot belongs to exactly one
 * partition for the life of the root. Slab slots serve one size-class bucket
 * of their partition at a time (classes from alloy/size_class.h, 16 bytes
 * and up); requests above the buckets get a direct-mapped span of slots of
 * their own. Memory of one partition is never handed out by another, not
 * even after it is freed, so a use-after-free in one subsystem cannot
 * overwrite another subsystem's objects.
 *
 * Threads. Every partition is safe to use from any thread: any thread
 * allocates, any thread frees any block. Each thread gets its own cache of
 * each partition it uses (a bin of free blocks per bucket, bounded: about
 * 16 KiB or 256 blocks per bin, at least 8 blocks, so a bin keeps up to
 * max(16 KiB, 8 blocks): 512 KiB for a 64 KiB bucket; a bucket's spare
 * list, refills' leftovers of the blocks threads sent back, keeps up to four
 * bins' worth), so the common
 * allocation and free touch only the thread's cache and take no lock. A bin
 * that runs dry refills in a batch under the root's lock; a bin that fills
 * up (frees of blocks other threads allocated land here too) sends its
 * blocks back in one lock-free push, so a free never waits for the lock.
 * A thread's caches go back to the slabs when it exits, or at once with
 * alloy_partition_root_thread_detach(); alloy_partition_purge() empties the
 * calling thread's cache and gives back the memory of every empty slab.
 * The root's lock (one per root) is registered with alloy/fork_guard.h, so
 * a child after fork() allocates and frees every size; the caches of the
 * parent's other threads stay stranded in the child, like any memory they
 * held. Creating and destroying partitions and roots must not race with
 * other threads using them.
 *
 * Slabs are aligned to their size and the root keeps one 32-byte entry per
 * slot (owner, object size and its divisor), so a free checks ownership,
 * the object start and the size from the address and that entry alone,
 * without touching the slab header.
 *
 * Direct maps: sizes above max_bucket_size, and alignments above what a
 * bucket's objects have (up to half the reservation), take consecutive
 * slots; only the block's pages are committed, with at least one
 * inaccessible page before and after it. A freed span is decommitted and
 * kept for the same partition's later direct maps (first fit). A request
 * the reservation cannot hold is ALLOY_E_CAPACITY.
 *
 * Optional guard pages: a partition created with guard_pages leaves the last
 * page of each of its slab slots inaccessible, so an overrun off the end of a
 * slab faults instead of reaching the next slab.
 *
 * Misuse, reported through alloy_fault_report() (the call then returns the
 * status, and nothing is freed):
 *
 *   misuse                                     release  debug  asan  valgrind
 *   free through another partition or a       yes      yes    yes   yes
 *     pointer from outside the root: NOT_OWNED (the slot table; the detail
 *     names the owner, or says the partition was destroyed)
 *   pointer inside an object, or a size above  yes      yes    yes   yes
 *     the object's: NOT_OWNED / SIZE_MISMATCH (the slot's divisor)
 *   double free (block in a thread cache, on   yes      yes    yes   yes
 *     a return list, or back in its slab):
 *     DOUBLE_FREE (the free mark, below)
 *   double free of a direct-mapped block,      yes      yes    yes   yes
 *     or of a block whose slab emptied: DOUBLE_FREE (the slot entry)
 *   double free of a block written after its  no       no     (1)   (1)
 *     first free (the mark overwritten)
 *   double free of a block handed out again   no       no     no    no
 *     (it is a valid free of the new owner's block)
 *   use after free, overrun inside a slab      no       no     yes   yes
 *   overrun off a guarded slab or a direct     yes      yes    yes   yes
 *     block, underrun before a direct block      (a fault: the pages are inaccessible)
 *
 *   (1) the write after the free is reported as a use after free.
 *
 * The free mark: a free block's second word holds its address xor a random
 * key of the partition (with the top bit set, so no pointer and no zero
 * equals a mark); a block handed out has that word cleared. A free that
 * finds its block marked is a double free. This replaces a per-slab bitmap
 * (a dependent load of the slab header, then of the bitmap) with one load
 * of the block being freed. A live block whose user data holds exactly its
 * mark would be refused as a double free: with a random 64-bit key that
 * takes writing the mark on purpose.
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
  size_t max_bucket_size; /* largest request served from slabs (default 8 KiB; at most slab_size / 4);
                             larger ones are direct-mapped */
  bool guard_pages;       /* an inaccessible page after each slab */
  size_t max_bytes;       /* cap on committed bytes, slabs and direct maps (0: none): then ALLOY_E_CAPACITY */
  int numa_node;          /* node for the slabs, or ALLOY_PARTITION_NUMA_NONE / _LOCAL */
} alloy_partition_config;

alloy_partition_root_config alloy_partition_root_config_default(void);
/* 8 KiB buckets, no guard pages, no cap, slabs on the calling thread's node. */
alloy_partition_config alloy_partition_config_default(void);

/* ALLOY_E_INVALID_ARGUMENT for a bad geometry, ALLOY_E_OUT_OF_MEMORY when the
 * reservation is refused. */
ALLOY_NODISCARD alloy_status alloy_partition_root_create(const alloy_partition_root_config *config,
                                                         alloy_partition_root **out);
/* Destroys every partition still alive, drops every thread's caches of
 * them and gives the address space back. No thread may use the root meanwhile. */
void alloy_partition_root_destroy(alloy_partition_root *root);

/* A new partition named `name` (copied; at most 31 characters are kept).
 * ALLOY_E_INVALID_ARGUMENT for a bad config, ALLOY_E_UNAVAILABLE for a NUMA
 * node the machine does not have. */
ALLOY_NODISCARD alloy_status alloy_partition_create(alloy_partition_root *root, const char *name,
                                                    const alloy_partition_config *config, alloy_partition **out);
/* Decommits the partition's slabs and direct maps. Their slots stay retired:
 * no other partition ever gets those addresses. Outstanding blocks, and the
 * blocks threads' caches hold, become invalid. No thread may use the
 * partition meanwhile. */
void alloy_partition_destroy(alloy_partition *partition);

alloy_resource *alloy_partition_resource(alloy_partition *partition);
const char *alloy_partition_name(const alloy_partition *partition);

/* The partition whose slab holds `ptr`, or NULL (address arithmetic only). */
alloy_partition *alloy_partition_of(const alloy_partition_root *root, const void *ptr);

/* The root's reservation: every slab and direct-mapped block lies in it
 * (for a caller that tells the root's addresses from others inline). */
void alloy_partition_root_range(const alloy_partition_root *root, alloy_block *out);

/* The block of the root that holds `ptr`, from the slot table alone (no
 * lock, address arithmetic and one or two entries): an object of a slab
 * that serves a bucket (handed out or free in a cache) or a live
 * direct-mapped block. Sets *out to the block's start and size (the
 * object's, or the direct block's committed bytes) and *owner to its
 * partition, and returns true; false when ptr lies in no such block (outside
 * the root, in an empty slab or a slab header, in a freed direct span). For
 * callers that route by address and keep no header: a usable size, or
 * telling a pointer into an object from its start before a free. */
bool alloy_partition_find(const alloy_partition_root *root, const void *ptr, alloy_partition **owner,
                          alloy_block *out);

/* Any thread. ALLOY_E_INVALID_ARGUMENT for an alignment that is not a power
 * of two or a size above ALLOY_MAX_REQUEST; ALLOY_E_CAPACITY when the root's
 * reservation or max_bytes cannot hold the block. */
ALLOY_NODISCARD alloy_status alloy_partition_allocate(alloy_partition *partition, size_t size, size_t align,
                                                      alloy_block *out);
/* Any thread, whichever allocated the block. */
alloy_status alloy_partition_deallocate(alloy_partition *partition, alloy_block block);

/* The calling thread's cache of the partition goes back to the slabs, so do
 * the blocks other threads sent back, and every empty slab's memory goes
 * back to the OS. Other threads' caches are theirs: they keep them. */
void alloy_partition_purge(alloy_partition *partition);

/* The calling thread's caches of every partition of the root go back, as
 * when the thread exits (a later call makes a new one). */
void alloy_partition_root_thread_detach(alloy_partition_root *root);

/* Taken under the root lock; counters of other threads' caches are read as
 * they are at that moment. */
typedef struct alloy_partition_stats {
  size_t live_bytes;       /* bytes of the objects and direct blocks handed out */
  size_t peak_live_bytes;  /* the highest live_bytes a stats call or a direct map saw */
  size_t committed_bytes;  /* bytes of committed slabs and direct blocks */
  size_t slab_count;       /* slabs taken from the root (committed or not) */
  size_t direct_mapped_bytes; /* committed bytes of live direct-mapped blocks */
  size_t direct_mapped_count;
  uint64_t allocations;
  uint64_t deallocations;
  uint64_t failures;
} alloy_partition_stats;

void alloy_partition_get_stats(const alloy_partition *partition, alloy_partition_stats *out);

ALLOY_EXTERN_C_END

#endif /* ALLOY_PARTITION_H */
