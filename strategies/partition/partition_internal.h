/* partition_internal.h — the root's slot table, partitions, buckets, slab
 * headers and thread caches, shared by the package's sources. Calls go down
 * this list only:
 *
 *   partition.c         the public API: the allocate and free fast paths
 *                       (thread cache hits), the resource ops, partition
 *                       create/destroy, stats, purge, root destroy.
 *                       Calls every file below.
 *   partition_cache.c   thread caches: binding a thread to its cache of a
 *                       partition, refill and overflow, the uncached path,
 *                       thread exit. Calls partition_slab.c, partition_root.c.
 *   partition_direct.c  direct-mapped blocks above the buckets: spans of
 *                       slots, committed with guard pages around them.
 *                       Calls partition_root.c.
 *   partition_slab.c    buckets over slabs, under the root lock: taking
 *                       blocks out of slabs in batches, putting them back,
 *                       empty slabs, the lock-free return lists.
 *                       Calls partition_root.c.
 *   partition_root.c    the root: one reservation cut into slots, the slot
 *                       table naming each slot's owner, the lock, the list
 *                       of partitions and caches. Calls no other file.
 *
 * What a file offers the files above it is declared below, marked
 * ALLOY_HIDDEN and named alloy_partition_<file>_<what>; the static inline
 * pieces here (layouts, the slot lookup, counters) are everybody's.
 *
 * Locking. Each root has one spin lock (root->lock), registered with
 * //concurrency:fork_guard from create to destroy. It guards everything
 * central: the slot table's writes, buckets' slab lists and spare lists,
 * slab headers, direct spans, the partitions' shared counters, the lists
 * of partitions and caches. What runs without it:
 *   - a thread's own cache (its bins: the thread alone writes them;
 *     get_stats reads their counters with relaxed atomic loads);
 *   - the slot table's reads on free (a live block's slot does not change
 *     while the block is live: a slab changes bucket only when empty);
 *   - pushes onto a bucket's `returned` list (one CAS per full bin, from
 *     any thread: alloy_partition_cache_overflow); only the lock holder
 *     takes the list (one exchange).
 * So a free from any thread never waits for the lock, and an allocation
 * takes it once per batch of blocks.
 *
 * fork(): the root lock is held across it, so the child finds every slab
 * list, slot and direct span consistent. The child's thread keeps its own
 * caches. Caches of the parent's other threads are stranded like memory
 * those threads held: their blocks stay out of the slabs and the child
 * never touches their bins (get_stats still reads their counters). A push
 * onto `returned` is one CAS, complete or not at the fork.
 *
 * Slab slot layout (slab_size bytes, aligned to slab_size):
 *
 *   [ objects ... | header ][ guard page, when the partition asks ]
 *   ^ slot base            ^ base + usable
 *
 * A direct-mapped span (one or more slots, all of its partition):
 *
 *   [ lead (>= 1 page, never committed) | block, committed | rest, never committed ]
 *
 * Free blocks: word 0 links the list the block is on (a thread cache bin, a
 * bucket's returned or spare list, its slab's free list); word 1 holds the
 * free mark, the block's address xor the partition's random free_key. A
 * block handed out has word 1 cleared. Every object is at least 16 bytes.
 *
 * Invariants:
 *   1. slots[i].owner names the partition that owns slot i from the moment
 *      it is taken until the root goes away (retired after its partition is
 *      destroyed): slots never change partition.
 *   2. A slab slot's entry has capacity > 0 and the bucket's object size and
 *      divisor exactly while the slab belongs to a bucket; 0 while empty.
 *   3. slab->live counts the slab's objects not on its free list (with
 *      users, in thread caches, on returned or spare lists).
 *   4. A slab is on its bucket's active list iff it has a free or uncarved
 *      object. Empty slabs leave their bucket and wait on the partition's
 *      empty list, decommitted beyond the first.
 *   5. Every free block carries its mark; no block handed out does (unless
 *      the user wrote it).
 */
#ifndef ALLOY_PARTITION_INTERNAL_H
#define ALLOY_PARTITION_INTERNAL_H

#include <stdalign.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alloy/compiler.h"
#include "alloy/divisor.h"
#include "alloy/fork_guard.h"
#include "alloy/partition.h"
#include "alloy/size_class.h"
#include "alloy/spin_lock.h"
#include "alloy/thread_exit.h"
#include "alloy/tool_hooks.h"

#define PARTITION_NAME_MAX 32
#define PARTITION_MIN_OBJECT 16u     /* the link and the free mark */
#define PARTITION_RECENT 8u          /* thread-local (partition, cache) pairs behind the last one, by partition id */
#define PARTITION_CACHE_BYTES 16384u /* a bin keeps about this many bytes of free blocks... */
#define PARTITION_CACHE_MAX 256u     /* ...but at most this many blocks */
#define PARTITION_CACHE_MIN 8u       /* ...and at least this many (large buckets too: below) */
#define PARTITION_SPARE_BINS 4u      /* a bucket's spare list holds up to this many bins' worth */
/* Why large buckets keep 8 blocks a bin and 32 on the spare list: with
 * the drop-in malloc's buckets up to 64 KiB, a byte budget (bins of 2 - 8
 * blocks within 64 or 128 KiB, spare lists within 256 KiB or 1 MiB) took
 * rptest's peak RSS from 28-30 to 25.5-28.5 MiB but its speed down by 10-20%
 * (more lock trips, and slabs emptied, decommitted and faulted in again),
 * and left sqlite's (9.0 MiB) and python's (36.1 MiB) as they were: their
 * peaks are not in these bins (sqlite's medium blocks peak at 0.6 MB live). */

/* Tag on a slot's owner for the slots of a direct-mapped span, so the free
 * fast path's owner compare sends them to the slow path. */
#define PARTITION_SLOT_DIRECT ((uintptr_t)1)

typedef enum partition_slot_kind {
  SLOT_UNUSED = 0,  /* never taken */
  SLOT_SLAB,        /* a slab of its partition */
  SLOT_DIRECT,      /* the first slot of a live direct-mapped span */
  SLOT_DIRECT_FREE, /* the first slot of a freed span, kept for its partition */
  SLOT_DIRECT_TAIL, /* a later slot of a span */
} partition_slot_kind;

/* One entry per slot of the root: all a free reads before the block. */
typedef struct partition_slot {
  uintptr_t owner;   /* the owning partition's address (| PARTITION_SLOT_DIRECT), or 0 */
  uint64_t word;     /* SLAB: the object size's alloy_divisor inverse; DIRECT: the block's address;
                        DIRECT_TAIL: the span's first slot;
                        DIRECT_FREE: the next free span's first slot + 1 (0: none) */
  uint64_t size;     /* SLAB: object size (0 while empty); DIRECT: committed bytes of the block */
  uint32_t capacity; /* SLAB: objects per slab (0 while empty); DIRECT, DIRECT_FREE: slots of the span */
  uint8_t shift;     /* SLAB: the divisor's shift */
  uint8_t bucket;    /* SLAB: the bucket's index */
  uint8_t kind;      /* partition_slot_kind */
  uint8_t unused;
} partition_slot;

ALLOY_STATIC_ASSERT(sizeof(partition_slot) == 32, "a slot entry is half a cache line");

typedef struct partition_bucket {
  uint32_t object_size;
  uint32_t capacity;    /* objects per slab */
  uint32_t cache_limit; /* blocks a thread cache's bin holds before it sends them back */
  uint32_t spare_count;
  alloy_divisor divisor;
  struct partition_slab *active; /* slabs with a free or uncarved object */
  void *spare;                   /* free blocks out of their slabs, for the next refill (lock) */
  void *returned;                /* batches thread caches sent back (atomic push, exchange under the lock) */
} partition_bucket;

typedef struct partition_slab {
  partition_bucket *bucket;        /* NULL while the slab is empty */
  struct partition_slab *next;     /* on the bucket's active list or the empty list */
  struct partition_slab *prev;
  struct partition_slab *all_next; /* every slab of the partition */
  void *free_list;
  uint32_t carved; /* objects cut from the slab so far (the rest were never touched) */
  uint32_t live;
  uint32_t index;  /* the slab's slot */
  bool committed;
  bool listed;     /* on the bucket's active list */
} partition_slab;

#define SLAB_HEADER_SIZE ((sizeof(partition_slab) + 63) & ~(size_t)63)

/* A thread's bin of one bucket: free blocks linked through word 0. The bin
 * keeps no count of its own: it counts what it hands out and takes back
 * (the statistics read those), and its size follows from them:
 *   count = moved in - moved out + frees - allocations,
 * where blocks move in from the bucket (refills) and out to it (overflow,
 * flush). full_at is limit - (moved in - moved out), so a free finds the
 * bin full when frees - allocations reaches full_at (modular arithmetic).
 * allocations and frees are written by the owning thread only, with
 * relaxed atomic stores, and read by get_stats. */
typedef struct partition_bin {
  void *head;
  uint64_t allocations;
  uint64_t frees;
  uint64_t full_at;
  void *tail;          /* the oldest block: the whole bin goes back in one push */
  uint32_t object_size;
  uint32_t limit;
  uint64_t unused[2]; /* pads the bin to its own cache line */
} partition_bin;

ALLOY_STATIC_ASSERT(sizeof(partition_bin) == 64, "a bin is one cache line");

static ALLOY_ALWAYS_INLINE uint64_t partition_bin_count(const partition_bin *bin) {
  return bin->limit - bin->full_at + bin->frees - bin->allocations;
}

/* One thread's cache of one partition. */
typedef struct partition_cache {
  alloy_partition *partition;
  uint64_t partition_id;
  alloy_partition_root *root;
  struct partition_cache *thread_next;            /* the thread's caches of this root */
  struct partition_cache *root_next, *root_prev;  /* the root's caches (lock) */
  bool orphaned;     /* its partition was destroyed (lock) */
  size_t self_bytes;
  size_t bin_count;
  alignas(ALLOY_CACHE_LINE) partition_bin bins[];
} partition_cache;

typedef struct partition_recent {
  uint64_t id;
  partition_cache *cache;
} partition_recent;

/* What a thread knows of its caches without walking its list: the cache of
 * the partition it used last (the fast paths' one compare, at a fixed
 * thread-local address), then a few recent ones, direct-mapped by partition
 * id. Ids are never reused, so an entry naming a destroyed partition, or a
 * cache another thread released at root destroy, is never matched again. */
typedef struct partition_thread_caches {
  partition_recent last;
  partition_recent recent[PARTITION_RECENT];
} partition_thread_caches;

struct alloy_partition_root {
  char *base;
  size_t reserve_bytes;
  size_t slab_size;
  unsigned slab_shift;
  partition_slot *slots;
  size_t slot_count;
  size_t self_bytes;        /* the mapping holding this struct and the slot table */
  alloy_thread_exit_key key; /* per thread: its first cache of this root (invalid: no caches) */
  alloy_fork_guard fork_guard;
  /* Guarded by lock. */
  alloy_spin_lock lock;
  size_t next_slot;
  alloy_partition *partitions;
  partition_cache *caches;
};

struct alloy_partition {
  alloy_resource resource; /* first: the partition is a resource */
  /* Read by every fast path, written at creation only. */
  uint64_t id;             /* unique in the process, never 0 */
  char *base;              /* the root's */
  partition_slot *slots;   /* the root's */
  size_t reserve_bytes;    /* the root's */
  uintptr_t slab_mask;     /* slab_size - 1 */
  uintptr_t free_key;      /* random: a free block's word 1 is its address ^ free_key */
  size_t max_bucket_size;
  size_t table_max_size;     /* bucket_for serves sizes up to this: max_bucket_size rounded down to 16 */
  const uint8_t *bucket_for; /* [(size + 15) / 16]: the bucket of a request aligned to at most 16 */
  unsigned slab_shift;
  alloy_partition_root *root;
  alloy_partition *next, *prev; /* the root's partitions */
  char name[PARTITION_NAME_MAX];
  size_t usable;          /* bytes of each slab that may be committed */
  size_t max_alignment;   /* of a bucket's objects */
  size_t max_bytes;
  int numa_node;          /* resolved: a node or ALLOY_PARTITION_NUMA_NONE */
  bool guard_pages;
  size_t self_bytes;
  uint64_t failures;      /* atomic */
  /* Guarded by the root lock. */
  partition_slab *empty;  /* empty slabs, committed ones first */
  size_t empty_committed;
  partition_slab *all;
  size_t direct_free;     /* first slot + 1 of the first free direct span (0: none) */
  /* Counters of the blocks that went through no live cache (the uncached
   * path, direct maps, caches folded in at thread exit). */
  uint64_t allocations, deallocations, live_bytes;
  size_t peak_live_bytes, committed_bytes, slab_count, direct_bytes, direct_count;
  size_t bucket_count;
  partition_bucket buckets[]; /* one per size class up to max_bucket_size (class 0 aliases class 1) */
};

/* ---- shared inline pieces --------------------------------------------------------- */

/* A counter one thread writes and others read: relaxed atomic load and
 * store, plain moves on x86 (no read-modify-write instruction). */
static ALLOY_ALWAYS_INLINE void partition_counter_add(uint64_t *counter, uint64_t delta) {
  __atomic_store_n(counter, __atomic_load_n(counter, __ATOMIC_RELAXED) + delta, __ATOMIC_RELAXED);
}

static ALLOY_ALWAYS_INLINE uint64_t partition_counter_read(const uint64_t *counter) {
  return __atomic_load_n(counter, __ATOMIC_RELAXED);
}

static ALLOY_ALWAYS_INLINE uintptr_t partition_free_mark(const alloy_partition *partition, const void *block) {
  return (uintptr_t)block ^ partition->free_key;
}

static ALLOY_ALWAYS_INLINE alloy_partition *partition_slot_owner(const partition_slot *slot) {
  return (alloy_partition *)(slot->owner & ~PARTITION_SLOT_DIRECT);
}

/* Word 0 of a free block, the link of whatever list it is on; the tools
 * see it only for the moment it is read or written. */
static ALLOY_ALWAYS_INLINE void *partition_link_of(void *block) {
  ALLOY_MEM_DEFINED(block, sizeof(void *));
  void *next = *(void **)block;
  ALLOY_MEM_NOACCESS(block, sizeof(void *));
  return next;
}

static ALLOY_ALWAYS_INLINE void partition_set_link(void *block, void *next) {
  ALLOY_MEM_UNDEFINED(block, sizeof(void *));
  *(void **)block = next;
  ALLOY_MEM_NOACCESS(block, sizeof(void *));
}

/* The slot entry of `ptr`, or NULL when it lies outside the root. */
static ALLOY_ALWAYS_INLINE partition_slot *partition_slot_of(const alloy_partition_root *root, const void *ptr) {
  uintptr_t offset = (uintptr_t)ptr - (uintptr_t)root->base;
  if (offset >= root->reserve_bytes) return NULL;
  return &root->slots[offset >> root->slab_shift];
}

static ALLOY_ALWAYS_INLINE char *partition_slot_base(const alloy_partition_root *root, const partition_slot *slot) {
  return root->base + ((size_t)(slot - root->slots) << root->slab_shift);
}

static ALLOY_ALWAYS_INLINE partition_slab *partition_slab_header(const alloy_partition *partition, char *base) {
  return (partition_slab *)(void *)(base + partition->usable - SLAB_HEADER_SIZE);
}

/* ---- partition_root.c: slots, owners, the lists ----------------------------------- */

/* The owner recorded for slots of a destroyed partition. */
extern ALLOY_HIDDEN alloy_partition *const alloy_partition_root_retired;

/* Lock held. Takes `count` fresh consecutive slots for `partition` (owner
 * recorded, tagged direct when `direct`): the first one's index, or SIZE_MAX
 * when the root has not that many left. */
ALLOY_HIDDEN size_t alloy_partition_root_take_slots(alloy_partition_root *root, alloy_partition *partition,
                                                    size_t count, bool direct);
/* Lock held. */
ALLOY_HIDDEN void alloy_partition_root_retire_slot(alloy_partition_root *root, size_t index);
ALLOY_HIDDEN void alloy_partition_root_link(alloy_partition_root *root, alloy_partition *partition);
ALLOY_HIDDEN void alloy_partition_root_unlink(alloy_partition_root *root, alloy_partition *partition);
ALLOY_HIDDEN void alloy_partition_root_link_cache(alloy_partition_root *root, partition_cache *cache);
ALLOY_HIDDEN void alloy_partition_root_unlink_cache(alloy_partition_root *root, partition_cache *cache);
/* Gives the root's reservation and its own mapping back (no partition is left). */
ALLOY_HIDDEN void alloy_partition_root_unmap(alloy_partition_root *root);
/* Commits `bytes` at `base` for `partition` (and binds them to its node). */
ALLOY_HIDDEN alloy_status alloy_partition_root_commit(const alloy_partition *partition, char *base, size_t bytes);

/* ---- partition_slab.c: buckets over slabs (root lock held) ----------------------- */

/* Takes up to `want` (>= 1) free blocks of `bucket` out of the spare list,
 * the returned batches, the bucket's slabs or a new slab, each marked free
 * and linked through word 0, first..last. Returns how many (0: *status says
 * why). */
ALLOY_HIDDEN size_t alloy_partition_slab_take(alloy_partition *partition, partition_bucket *bucket, size_t want,
                                              void **first, void **last, alloy_status *status);
/* Puts one free block (marked) back into its slab. */
ALLOY_HIDDEN void alloy_partition_slab_put(alloy_partition *partition, void *block);
/* Puts a chain of free blocks linked through word 0 (NULL-terminated) back. */
ALLOY_HIDDEN void alloy_partition_slab_put_chain(alloy_partition *partition, void *first);
/* Puts the batches threads sent back into their slabs. */
ALLOY_HIDDEN void alloy_partition_slab_drain(alloy_partition *partition);
/* Empties every bucket's spare and returned lists into the slabs and gives
 * back the memory of every empty slab. */
ALLOY_HIDDEN void alloy_partition_slab_purge(alloy_partition *partition);
/* Decommits every slab of the partition and retires their slots (destroy). */
ALLOY_HIDDEN void alloy_partition_slab_release_all(alloy_partition *partition);

/* ---- partition_direct.c: direct-mapped blocks ------------------------------------- */

ALLOY_HIDDEN alloy_status alloy_partition_direct_allocate(alloy_partition *partition, size_t size, size_t align,
                                                          alloy_block *out);
/* `slot` is the entry of block.ptr, owned by the partition and tagged direct. */
ALLOY_HIDDEN alloy_status alloy_partition_direct_free(alloy_partition *partition, alloy_block block,
                                                      partition_slot *slot);
/* The committed size of the direct block starting at ptr, or 0. */
ALLOY_HIDDEN size_t alloy_partition_direct_size(const alloy_partition *partition, const void *ptr);
/* Decommits and retires every span (destroy, lock held). */
ALLOY_HIDDEN void alloy_partition_direct_release_all(alloy_partition *partition);

/* ---- partition_cache.c: thread caches --------------------------------------------- */

extern ALLOY_THREAD_LOCAL partition_thread_caches alloy_partition_cache_thread ALLOY_HIDDEN
    __attribute__((tls_model("initial-exec")));

/* The calling thread's cache of `partition`, created if need be, and now its
 * last one; NULL when none can be had (then the uncached path serves the
 * thread). */
ALLOY_HIDDEN ALLOY_NOINLINE partition_cache *alloy_partition_cache_bind(alloy_partition *partition);
/* The bin of bucket `index` is empty, or the thread has no cache. */
ALLOY_HIDDEN ALLOY_NOINLINE alloy_status alloy_partition_cache_allocate_slow(alloy_partition *partition,
                                                                            partition_cache *cache, size_t index,
                                                                            alloy_block *out);
/* The bin of bucket `index` reached its limit: its blocks go back. */
ALLOY_HIDDEN ALLOY_NOINLINE void alloy_partition_cache_overflow(alloy_partition *partition, partition_cache *cache,
                                                               size_t index);
/* A checked free of a thread without a cache: straight back to the slab. */
ALLOY_HIDDEN ALLOY_NOINLINE alloy_status alloy_partition_cache_free_uncached(alloy_partition *partition,
                                                                            void *block, size_t object_size);
/* The calling thread's cache of `partition` goes back to the slabs (kept, empty). */
ALLOY_HIDDEN void alloy_partition_cache_flush_own(alloy_partition *partition);
/* The calling thread's caches of every partition of the root are released. */
ALLOY_HIDDEN void alloy_partition_cache_detach(alloy_partition_root *root);
/* Lock held: the partition goes away; its caches keep nothing of it. */
ALLOY_HIDDEN void alloy_partition_cache_orphan(alloy_partition *partition);
/* Every cache of the root is unmapped (root destroy, key deleted). */
ALLOY_HIDDEN void alloy_partition_cache_release_all(alloy_partition_root *root);
/* The root key's exit callback (the root names it at creation): the
 * exiting thread's caches of the root, first_cache onwards, go back. */
ALLOY_HIDDEN void alloy_partition_cache_thread_exit(void *first_cache);
/* Lock held: adds the counters of the partition's live caches to *out. */
ALLOY_HIDDEN void alloy_partition_cache_sum(const alloy_partition *partition, uint64_t *allocations,
                                            uint64_t *deallocations, uint64_t *live_bytes);

#endif /* ALLOY_PARTITION_INTERNAL_H */
