/* tlsf_internal.h — the TLSF block and pool layout, the size mapping and
 * the control structure, shared by the files of the tlsf package: inline
 * pieces and constants only; no file's functions are declared here.
 *
 * The files, top down; each calls only files listed below it, so the calls
 * form no cycle. Each helper's offer is declared in the header named after
 * it (tlsf_pool.h, tlsf_purge.h) and marked ALLOY_HIDDEN.
 *
 *   file               owns                                            calls
 *   tlsf_defrag.c      defragmentation passes for both layouts:       tlsf, virtual (their
 *                      planning, reserving, ending                    public free), core,
 *                                                                     pool, purge, records
 *   tlsf.c             the instance, allocate, free, resize, trim,     pool, purge, core, defrag.h
 *                      the resource
 *   tlsf_virtual.c     the virtual mode (out-of-band metadata):        records, core, defrag.h
 *                      the instance, allocate, free, the resource
 *   tlsf_check.c       the integrity walk, the block walk, statistics  pool, purge
 *   tlsf_virtual_check.c  the same for the virtual mode               records
 *   tlsf_pool.c        memory sources, pools, growth, spare pools,     purge
 *                      the pool index
 *   tlsf_core.h        the shared algorithm over a block handle:       purge, records, free lists
 *                      search, split, merge, trim (inline)
 *   tlsf_records.c     the virtual mode's metadata: source, record     nobody
 *                      chunks, the offset map (hot paths inline in
 *                      tlsf_records.h)
 *   tlsf_purge.c       the purge hook, the dirty list, purging         free lists
 *   tlsf_free_lists.h  the free lists and their bitmaps (inline)       nobody
 *   tlsf_defrag.h      the look-up a free makes during a pass (inline) nobody
 *   tlsf_internal.h    this file (inline pieces and constants)         nobody
 *
 * Blocks of the in-band heap go on and off the free lists only through
 * block_insert / block_remove (tlsf_purge.h), which the core's
 * core_list_insert / core_list_remove call for TLSF_IN_BAND: the list work
 * plus the one purge hook, alloy_tlsf_purge_on_insert / alloy_tlsf_purge_on_remove.
 *
 * Block layout (addresses grow to the right; one row is a 16-byte stride):
 *
 *     block ->  [ prev_phys ][ size|flags ]   header: prev_phys overlaps the
 *     ptr   ->  [ next_free ][ prev_free ]    last word of the previous block
 *               [ ...  payload  ...      ]
 *     next  ->  [ prev_phys ][ size|flags ]   (next = block + size + 8)
 *
 * The subtle invariants (alloy_tlsf_check verifies each):
 *   1. prev_phys is only valid when the previous block is free (PREV_FREE set
 *      in this block's size word). While the previous block is used, that word
 *      is the last word of its payload and belongs to the user.
 *   2. next_free and prev_free are only valid while the block is free.
 *   3. The size field counts the payload including that borrowed last word, so
 *      block sizes are 8 mod 16 and every payload starts 16-byte aligned.
 *   4. No two physically adjacent blocks are both free (immediate coalescing).
 *   5. A free block is on exactly the list mapping_insert(size) names, and a
 *      list's bit is set in sl_bitmap[fl] (and fl in fl_bitmap) exactly when
 *      the list is not empty.
 *   6. Every pool ends with a zero-size used sentinel block, so block_next of
 *      the last real block is always a valid header and never leaves the pool.
 *   7. The first block of a pool never has PREV_FREE set, so nothing reads
 *      before the pool.
 *   8. PURGED is only set on free blocks and means the whole pages strictly
 *      inside the block (after its links, before the next block's prev_phys:
 *      alloy_tlsf_purge_block_interior) hold no memory. purged_bytes is the sum of those
 *      interiors over the PURGED blocks on the free lists. A split keeps the
 *      flag on both parts (each interior lies inside the old one); a merge
 *      drops it (the other part's pages are resident).
 *   9. With a dirty limit or age configured, every free block whose interior holds
 *      at least one page carries two more links after its free-list links
 *      (tlsf_dirty_links). It is on the dirty list, newest first, exactly
 *      when it is not purged; dirty_bytes is the sum of the interiors on that
 *      list, and `since` never decreases from the oldest to the newest. A block whose purge failed stays off the list with prev == NULL
 *      (and is not the newest), so "on the list" is read from the links alone.
 *  10. On every free list the resident blocks come first and the PURGED ones
 *      last (tails[fl][sl] is the last block): allocation takes the head, so
 *      it reuses resident pages before it faults purged ones back in. A
 *      resident block joins at the head when its address is below the
 *      head's or the list already ends in purged blocks, else at the tail.
 *  11. A pool is marked spare exactly when it is a grown pool that became
 *      empty and was kept; it is then one free block on the free lists and on
 *      the spare list (newest first, so the oldest decays first), and
 *      spare_bytes is the sum of the spare pools' source_bytes, at most
 *      spare_limit. spare_deadline is the oldest spare's spare_until, or
 *      UINT64_MAX without spares or decay. Allocating the block clears the
 *      mark; nothing else takes a whole-pool block off the lists without
 *      giving the pool back.
 *  12. The first indexed_pools entries of pool_index are the ranges of
 *      distinct pools, each naming its entry in index_slot; indexed_pools is
 *      the smaller of pool_count and POOL_INDEX_SLOTS (a pool left out takes
 *      the slot an indexed one frees).
 *
 * Tool visibility: header words (size) lie outside every payload and stay
 * addressable. A free block's payload is poisoned except the words the
 * allocator keeps there (the two links and the next block's prev_phys),
 * which are made addressable right before they are written.
 */
#ifndef ALLOY_TLSF_INTERNAL_H
#define ALLOY_TLSF_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alloy/bits.h"
#include "alloy/compiler.h"
#include "alloy/fault.h"
#include "alloy/tlsf.h"
#include "alloy/tool_hooks.h"

/* Payload alignment: every block starts 16 bytes apart. */
#define ALIGN_SIZE_LOG2 4
#define ALIGN_SIZE ((size_t)1 << ALIGN_SIZE_LOG2)

/* Second level: 32 linear subdivisions of each power of two. */
#define SL_INDEX_COUNT_LOG2 5
#define SL_INDEX_COUNT (1u << SL_INDEX_COUNT_LOG2)

/* First level: sizes below SMALL_BLOCK_SIZE share first-level list 0, split
 * linearly in ALIGN_SIZE steps; above, one first-level list per power of two
 * up to 2^FL_INDEX_MAX (exclusive). */
#define FL_INDEX_MAX 40
#define FL_INDEX_SHIFT (SL_INDEX_COUNT_LOG2 + ALIGN_SIZE_LOG2)
#define FL_INDEX_COUNT (FL_INDEX_MAX - FL_INDEX_SHIFT + 1)
#define SMALL_BLOCK_SIZE ((size_t)1 << FL_INDEX_SHIFT)

ALLOY_STATIC_ASSERT(SL_INDEX_COUNT <= 32, "sl_bitmap is 32 bits wide");
ALLOY_STATIC_ASSERT(FL_INDEX_COUNT <= 32, "fl_bitmap is 32 bits wide");
ALLOY_STATIC_ASSERT(SMALL_BLOCK_SIZE / SL_INDEX_COUNT == ALIGN_SIZE, "small lists are one alignment step apart");
ALLOY_STATIC_ASSERT(ALIGN_SIZE >= 2 * sizeof(size_t), "a stride holds the two header words");
ALLOY_STATIC_ASSERT(sizeof(size_t) == 8, "the block layout assumes 64-bit words");

typedef struct tlsf_block {
  struct tlsf_block *prev_phys; /* valid only when the previous block is free */
  size_t size;                  /* payload bytes | BLOCK_FREE | BLOCK_PREV_FREE */
  struct tlsf_block *next_free; /* valid only when this block is free */
  struct tlsf_block *prev_free;
} tlsf_block;

#define BLOCK_FREE ((size_t)1)
#define BLOCK_PREV_FREE ((size_t)2)
#define BLOCK_PURGED ((size_t)4) /* free block whose interior pages hold no memory */
#define BLOCK_FLAGS (BLOCK_FREE | BLOCK_PREV_FREE | BLOCK_PURGED)

/* The header words a used block costs: its size word (prev_phys is borrowed). */
#define BLOCK_OVERHEAD sizeof(size_t)
/* Payload starts after prev_phys and size. */
#define BLOCK_START_OFFSET offsetof(tlsf_block, next_free)
/* A free block must hold its links plus the next block's prev_phys. */
#define BLOCK_SIZE_MIN (sizeof(tlsf_block) - sizeof(tlsf_block *))
#define BLOCK_SIZE_MAX (((size_t)1 << FL_INDEX_MAX) - ALIGN_SIZE)

ALLOY_STATIC_ASSERT(BLOCK_START_OFFSET == ALIGN_SIZE, "payload starts one stride after the block");
ALLOY_STATIC_ASSERT(BLOCK_SIZE_MIN % ALIGN_SIZE == BLOCK_OVERHEAD, "sizes are 8 mod 16");
ALLOY_STATIC_ASSERT((BLOCK_SIZE_MIN & BLOCK_FLAGS) == 0, "flags live in bits sizes never use");

/* The second pair of links of a free block tracked for purging (invariant
 * 9), right after next_free / prev_free in its payload. */
typedef struct tlsf_dirty_links {
  tlsf_block *newer; /* towards dirty_newest */
  tlsf_block *older; /* towards dirty_oldest */
  uint64_t since;    /* deallocations count when it joined the list (dirty_age) */
} tlsf_dirty_links;

/* Words a free block keeps at the start of its payload: the free-list links
 * and the dirty links. Purging leaves them (and the page they are on) alone. */
#define FREE_BLOCK_WORDS_BYTES (2 * sizeof(tlsf_block *) + sizeof(tlsf_dirty_links))

/* Blocks the dirty-limit slow path purges at most per free: bounds the work
 * any one deallocate does (the rest waits for the next frees). */
#define PURGE_BATCH_BLOCKS 4u

typedef enum tlsf_origin {
  ORIGIN_CALLER,   /* add_pool / create_in_place: never freed by us */
  ORIGIN_PLATFORM, /* alloy_vm_map */
  ORIGIN_PARENT,   /* config.parent */
  ORIGIN_CONTROL,  /* shares the control structure's memory; goes with the instance */
} tlsf_origin;

/* The first bytes of every pool. */
typedef struct tlsf_pool {
  struct tlsf_pool *next;
  struct tlsf_pool *prev;
  void *memory;      /* what the caller gave, or the mapping / parent block */
  size_t bytes;      /* bytes of [this header, end of the sentinel) */
  size_t source_bytes; /* size of the mapping or parent block (to give it back) */
  tlsf_origin origin;
  bool spare;          /* an empty grown pool kept for reuse (invariant 11) */
  struct tlsf_pool *spare_newer, *spare_older; /* the spare list, while spare */
  uint64_t spare_until;                         /* deallocations count at which it decays */
  unsigned index_slot; /* its entry in pool_index, or POOL_INDEX_SLOTS (invariant 12) */
} tlsf_pool;

/* Pools whose payload ranges sit in one array of the control structure, so
 * that ownership (alloy_tlsf_owns, which a fallback chain asks on every
 * free) scans a few cache lines instead of chasing a header per pool; pools
 * beyond that are found on the list. */
#define POOL_INDEX_SLOTS 64u

typedef struct tlsf_pool_range {
  uintptr_t first; /* the first block's payload */
  uintptr_t end;   /* the sentinel */
} tlsf_pool_range;

#define POOL_HEADER_SIZE ((sizeof(tlsf_pool) + ALIGN_SIZE - 1) & ~(ALIGN_SIZE - 1))
/* The sentinel ending a pool: a zero-size used block whose payload slot holds
 * the pool's address, so freeing the last block finds its pool in O(1). */
#define SENTINEL_SIZE (2 * ALIGN_SIZE)
/* Header, the unused prev_phys of the first block, its size word, the sentinel. */
#define POOL_OVERHEAD (POOL_HEADER_SIZE + ALIGN_SIZE + SENTINEL_SIZE - BLOCK_OVERHEAD)
#define POOL_BYTES_MIN (POOL_OVERHEAD + BLOCK_SIZE_MIN)
#define POOL_BYTES_MAX (POOL_OVERHEAD + BLOCK_SIZE_MAX)

/* The segregated free lists and their bitmaps (invariant 5), one set per
 * heap of either layout (tlsf_core.h). */
typedef struct tlsf_lists {
  uint32_t fl_bitmap;
  uint32_t sl_bitmap[FL_INDEX_COUNT];
  tlsf_block *blocks[FL_INDEX_COUNT][SL_INDEX_COUNT];
  tlsf_block *tails[FL_INDEX_COUNT][SL_INDEX_COUNT]; /* invariant 10 */
} tlsf_lists;

/* Where a block's metadata lives. The shared core (tlsf_core.h) takes it as
 * a constant argument, so each heap compiles to its own layout's code only. */
typedef enum tlsf_layout {
  TLSF_IN_BAND,     /* a header in front of each payload, inside the pools (alloy_tlsf) */
  TLSF_OUT_OF_BAND, /* a record per block, outside the range it manages (alloy_tlsf_virtual) */
} tlsf_layout;

/* An out-of-band block: the core's handle first, then what the in-band
 * layout reads from addresses. Its size counts only the block's bytes of
 * the range (no header), a multiple of ALIGN_SIZE; prev_phys is always
 * valid. Records live in metadata chunks (tlsf_records.h), never in the
 * range. */
typedef struct tlsf_record {
  tlsf_block block;
  struct tlsf_record *next_phys; /* the sentinel after the last block */
  size_t offset;                 /* where the block starts in the range */
} tlsf_record;

static ALLOY_ALWAYS_INLINE tlsf_record *record_of(const tlsf_block *block) {
  return (tlsf_record *)(uintptr_t)block;
}

/* What both modes count of their used blocks, for their stats and checks. */
typedef struct tlsf_counts {
  size_t live_bytes; /* usable bytes of the used blocks */
  size_t peak_live_bytes;
  size_t used_blocks;
  uint64_t allocations;
  uint64_t deallocations;
  uint64_t failures;
} tlsf_counts;

static inline void tlsf_counts_live_changed(tlsf_counts *counts, size_t old_bytes, size_t new_bytes) {
  counts->live_bytes = counts->live_bytes - old_bytes + new_bytes;
  if (counts->live_bytes > counts->peak_live_bytes) counts->peak_live_bytes = counts->live_bytes;
}

/* A block of `bytes` usable bytes handed out. */
static inline void tlsf_counts_allocated(tlsf_counts *counts, size_t bytes) {
  tlsf_counts_live_changed(counts, 0, bytes);
  counts->used_blocks++;
  counts->allocations++;
}

static inline void tlsf_counts_freed(tlsf_counts *counts, size_t bytes) {
  counts->live_bytes -= bytes;
  counts->used_blocks--;
  counts->deallocations++;
}

struct alloy_tlsf {
  alloy_resource resource; /* first: the instance is its own resource */
  tlsf_lists lists;        /* second: fl_bitmap right after the resource */

  tlsf_pool *pools;
  size_t pool_count;
  unsigned indexed_pools;                      /* invariant 12 */
  tlsf_pool_range pool_index[POOL_INDEX_SLOTS];
  uintptr_t span_low, span_high; /* [lowest pool start, highest pool end) */

  /* Configuration. */
  alloy_tlsf_growth growth;
  size_t growth_size;
  size_t growth_divisor; /* 0: pools of growth_size only */
  size_t max_bytes;
  alloy_resource *parent;
  int numa_node; /* resolved: a node, or ALLOY_TLSF_NUMA_NONE */
  size_t spare_limit;     /* bytes of empty grown pools kept (SIZE_MAX: keep_empty_pools) */
  uint64_t spare_decay;   /* 0: spares never decay */
  size_t purge_threshold; /* 0: only alloy_tlsf_trim purges */
  size_t dirty_limit;     /* 0: no dirty list (invariant 9 does not apply); SIZE_MAX: only dirty_age */
  uint64_t dirty_age;     /* 0: pages never purged for their age */
  size_t page_size;

  /* Where the control structure itself came from. */
  tlsf_origin control_origin;
  void *control_memory;
  size_t control_bytes;

  /* Counters. */
  size_t held_bytes;  /* pools obtained on growth + initial (not caller pools) + control */
  size_t purged_bytes; /* invariant 8 */
  size_t dirty_bytes;  /* invariant 9 */
  size_t spare_bytes;  /* invariant 11 */
  tlsf_pool *spare_newest, *spare_oldest;
  uint64_t spare_deadline;
  uint64_t pools_grown, pools_released;
  tlsf_block *dirty_newest, *dirty_oldest;
  uint64_t purge_calls;
  size_t caller_bytes;
  tlsf_counts counts;

  /* The open defragmentation pass, or NULL (tlsf_defrag.c; frees look it up). */
  alloy_tlsf_pass *defrag_pass;
};

/* The control structure, rounded up so that a pool right behind it is aligned. */
#define CONTROL_SIZE ((sizeof(alloy_tlsf) + ALIGN_SIZE - 1) & ~(ALIGN_SIZE - 1))

/* ---- block header access ---------------------------------------------- */

static ALLOY_ALWAYS_INLINE size_t block_size(const tlsf_block *block) { return block->size & ~BLOCK_FLAGS; }

static ALLOY_ALWAYS_INLINE void block_set_size(tlsf_block *block, size_t size) {
  block->size = size | (block->size & BLOCK_FLAGS);
}

static ALLOY_ALWAYS_INLINE int block_is_last(const tlsf_block *block) { return block_size(block) == 0; }
static ALLOY_ALWAYS_INLINE int block_is_free(const tlsf_block *block) { return (block->size & BLOCK_FREE) != 0; }
static ALLOY_ALWAYS_INLINE void block_set_free(tlsf_block *block) { block->size |= BLOCK_FREE; }
static ALLOY_ALWAYS_INLINE void block_set_used(tlsf_block *block) { block->size &= ~BLOCK_FREE; }
static ALLOY_ALWAYS_INLINE int block_is_prev_free(const tlsf_block *block) {
  return (block->size & BLOCK_PREV_FREE) != 0;
}
static ALLOY_ALWAYS_INLINE void block_set_prev_free(tlsf_block *block) { block->size |= BLOCK_PREV_FREE; }
static ALLOY_ALWAYS_INLINE void block_set_prev_used(tlsf_block *block) { block->size &= ~BLOCK_PREV_FREE; }
static ALLOY_ALWAYS_INLINE int block_is_purged(const tlsf_block *block) { return (block->size & BLOCK_PURGED) != 0; }

static ALLOY_ALWAYS_INLINE tlsf_block *block_from_ptr(const void *ptr) {
  return (tlsf_block *)(void *)((char *)(uintptr_t)ptr - BLOCK_START_OFFSET);
}
static ALLOY_ALWAYS_INLINE void *block_to_ptr(const tlsf_block *block) {
  return (void *)((char *)(uintptr_t)block + BLOCK_START_OFFSET);
}
static ALLOY_ALWAYS_INLINE tlsf_block *offset_to_block(const void *ptr, size_t offset) {
  return (tlsf_block *)(void *)((char *)(uintptr_t)ptr + offset);
}

/* The next physical block: its prev_phys is our payload's last word. */
static ALLOY_ALWAYS_INLINE tlsf_block *block_next(const tlsf_block *block) {
  return offset_to_block(block_to_ptr(block), block_size(block) - BLOCK_OVERHEAD);
}

/* ---- the block handle ---------------------------------------------------- */

/* Where a block lies, for the free lists' address order (invariant 10). */
static ALLOY_ALWAYS_INLINE uintptr_t block_position(tlsf_layout layout, const tlsf_block *block) {
  return layout == TLSF_IN_BAND ? (uintptr_t)block : record_of(block)->offset;
}

/* ---- size mapping ------------------------------------------------------ */

/* The list (fl, sl) whose range holds `size`. */
static ALLOY_ALWAYS_INLINE void mapping_insert(size_t size, unsigned *fli, unsigned *sli) {
  if (size < SMALL_BLOCK_SIZE) {
    *fli = 0;
    *sli = (unsigned)(size >> ALIGN_SIZE_LOG2);
  } else {
    unsigned fl = alloy_bit_scan_reverse(size);
    *sli = (unsigned)(size >> (fl - SL_INDEX_COUNT_LOG2)) ^ SL_INDEX_COUNT;
    *fli = fl - (FL_INDEX_SHIFT - 1);
  }
}

/* The first list whose every block can hold `size` (rounds up to the next
 * second-level boundary: "good fit"). */
static ALLOY_ALWAYS_INLINE void mapping_search(size_t size, unsigned *fli, unsigned *sli) {
  if (size >= SMALL_BLOCK_SIZE) size += ((size_t)1 << (alloy_bit_scan_reverse(size) - SL_INDEX_COUNT_LOG2)) - 1;
  mapping_insert(size, fli, sli);
}

/* ---- pool layout ------------------------------------------------------- */

/* The pool a sentinel block ends. */
static ALLOY_ALWAYS_INLINE tlsf_pool *sentinel_pool(const tlsf_block *sentinel) {
  return *(tlsf_pool *const *)block_to_ptr(sentinel);
}

static inline tlsf_block *pool_first_block(const tlsf_pool *pool) { return offset_to_block(pool, POOL_HEADER_SIZE); }

/* Whether every block of the pool is free: it is one free block. */
static inline bool pool_is_empty(const tlsf_pool *pool) {
  const tlsf_block *first = pool_first_block(pool);
  return block_is_free(first) && block_is_last(block_next(first));
}

/* Makes a word the allocator is about to write addressable to the tools. */
#define TLSF_EXPOSE(addr, bytes) ALLOY_MEM_UNDEFINED((addr), (bytes))

static ALLOY_ALWAYS_INLINE tlsf_dirty_links *block_dirty_links(const tlsf_block *block) {
  return (tlsf_dirty_links *)(void *)((char *)block_to_ptr(block) + 2 * sizeof(tlsf_block *));
}

#endif /* ALLOY_TLSF_INTERNAL_H */
