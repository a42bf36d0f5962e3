/* alloy/tlsf.h — two-level segregated fit (Masmano, Ripoll, Crespo, Real).
 *
 * A general-purpose heap for variable-size requests (assets, buffers, medium
 * objects of 256 B – 64 KiB and beyond) whose allocate and free are O(1) in
 * the worst case: a first level indexed by the power of two of the size, a
 * second level dividing each power of two into 32 linear ranges, and one
 * bitmap per level searched with bit-scan instructions. Free blocks are
 * coalesced with their physical neighbours immediately, so there is never a
 * deferred pass.
 *
 * Memory comes in pools: the instance may start with one, grow by new pools
 * from the platform layer or from a parent resource the caller names, and the
 * caller may add its own memory with alloy_tlsf_add_pool(). Caller pools are
 * removed with alloy_tlsf_remove_pool() once empty.
 *
 * Spare pools. A grown pool that becomes empty stays, still on the free
 * lists, while the empty grown pools total at most config.spare_bytes;
 * past that it goes back at once. A spare that no allocation has taken
 * after config.spare_decay more frees goes back too (the oldest first, one
 * per free), and alloy_tlsf_trim() gives every spare back. Without spares, a
 * heap whose live bytes hover around a pool boundary maps and unmaps a pool,
 * and faults its pages in again, at every crossing (asset loading: a block
 * larger than growth_size gets a pool of its own, which empties when it is
 * freed); the decay keeps a heap that has shrunk for good from holding idle
 * pools. The default keeps up to ALLOY_TLSF_DEFAULT_SPARE for
 * ALLOY_TLSF_DEFAULT_SPARE_DECAY frees. config.keep_empty_pools keeps every
 * empty pool for good. A purge setting still applies to a spare's pages.
 * Spares count against config.max_bytes; when the cap or the source would
 * refuse a new pool, growth gives the spares back first and tries again.
 * On the report's loading trace (//bench:report loading, --scale=4) the
 * default spares take alloy/tlsf from 330-383 to 540-734 k loads per CPU
 * second (1.8x, three runs each; giving pools back at once mapped ~290
 * pools per 80k loads, now ~120-160), with the medium trace's fragmentation
 * unchanged on 5 of 6 replayed seeds (+1.1 points on the sixth). Larger
 * pools (2-8 MiB growth) load faster still but hold 1-18 points more on the
 * medium trace, whose 1 MiB pools then rarely empty: growth stays 1 MiB for
 * requests up to growth_size / 8. Larger ones (assets) that find no room
 * grow the heap by config.growth_divisor's share of the bytes held
 * (ALLOY_TLSF_DEFAULT_GROWTH_DIVISOR: 1/16), so the pools mapped grow with
 * the logarithm of the footprint: on report_traces' loading (scale 4, three
 * seeds) ~150 pools grown -> ~50, 0.5 -> 0.3 page faults per load, held
 * 82-86 -> 84-93 MiB; in the report (--scale=4, three runs alternating)
 * 609-672 -> 703-888 k loads per CPU second, 0.86-0.92x -> 1.27-1.69x
 * glibc's in the same runs. Growing every request by the share instead
 * holds 0.9 points more on bench/tlsf:fragmentation (12.6 % not 11.7 %).
 * (The figures above are from the loading case as first written, timed
 * from the first eviction. Timed at the heap's steady state, after as many
 * evicting loads again, spares decaying after 1024 frees went back and were
 * mapped again within the timed loads: 454-741 k loads per CPU second,
 * against 1013-1574 k with the default decay of 16384 frees, 1.5-2.1x, at
 * --scale=4, three runs alternating; glibc 300-620 k, mimalloc 1832-2659 k
 * in the same runs. The longer decay holds 0.25 points more on
 * bench/tlsf:fragmentation, seed 42, and nothing more on the report's medium
 * trace, seeds 1-3: at most spare_bytes stay, only for longer.)
 *
 * Memory held is what the pools hold minus the whole pages inside free
 * blocks that were never touched or were purged: those pages stay mapped and
 * read as zero when reused (each reused page costs a page fault then).
 *
 * Purging. Without it, what the pools hold beyond the live bytes is almost
 * all free blocks between live ones (external fragmentation; headers and
 * rounding cost 8-23 bytes a block): on bench/tlsf:fragmentation (random
 * 256 B - 64 KiB blocks, 64 MiB live) 12.2-13.0 % of the live bytes over
 * four seeds, within 0.3 points of glibc's either way (12.2-12.9 %), of
 * which ~9.9 points are whole free pages and 2.5 points the partial pages
 * at the ends of the ~1600 free blocks. The default purges nothing:
 * allocate and free make no system call, the bound a TLSF user counts on.
 * Four ways to give free pages back, each costing a system call per purged
 * block and a page fault per purged page that is reused later:
 *   - config.dirty_limit: the free blocks holding whole pages are kept on a
 *     list in the order they were freed; a free that leaves more than
 *     dirty_limit bytes of such pages resident purges the oldest ones down
 *     to 3/4 of the limit, at most 4 blocks (4 system calls, each as long
 *     as the pages it returns) per free, so allocate and free stay O(1) and
 *     blocks reused soon after their free are never purged. Free lists serve resident blocks before purged ones.
 *     On the trace above: 4 MiB -> 8.3 % (worst 9.9 % instead of 20.1 %),
 *     1 MiB -> 4.1 %. It bounds the resident free memory of a large heap.
 *   - config.purge_threshold: every free of a block with at least that many
 *     bytes of whole pages purges it at once (64 KiB -> 7.1 %). It is the
 *     wrong tool for loading: a freed asset is purged and every page of the
 *     next one faults in again (report loading, --scale=4, 3 seeds: 64 KiB
 *     to 512 KiB thresholds cut loads per second from 590-690k to 26-46k,
 *     10-18 page faults per load instead of 0.5; 1 MiB, the growth size,
 *     changes nothing on either trace).
 *   - config.dirty_age: a free block whose pages stayed resident and
 *     unused for that many frees is purged, oldest first, at most 4 per free
 *     (the dirty list kept in free order). Blocks reused soon are never
 *     purged. With 4096 the trace above (seeds 42 and 7) holds 11.1-11.2 %
 *     instead of 12.6-13.0 % (9.5 % instead of 12.6-12.9 % by resident
 *     pages) with ~1 purge per 900 frees, but at 2.5-3.3x the time per
 *     operation (150-200 -> 370-490 ns; every purged page that is reused
 *     faults back in: ~46k more faults per 3M operations, each costly in a
 *     VM) and a free P99.9 of 24-28 us instead of 0.7-0.8 us. On the
 *     report's medium trace it purges ~5 blocks per run. It suits a heap
 *     that shrinks for good and can afford the faults; 0 (the default)
 *     keeps no dirty list.
 *   - alloy_tlsf_trim(): everything, on demand, at a quiet moment.
 * dirty_limit, purge_threshold and dirty_age are 0 by default: allocate
 * and free make no system call and track nothing. Only whole pages can go
 * back, so no policy gets below the partial pages (2.5 % on the trace
 * above, where the spec asks for 1.5 %), and no placement either:
 * bench/tlsf:placement_floor replays that trace on a model in which every
 * free page is purged at once and each request is placed wherever in any
 * free block leaves the fewest partial bytes, and still finds 1.9 %
 * (1.85 points of partial pages; seeds 42, 7 and 99).
 *
 * The report's medium trace (//bench:report medium_trace: 2048 live blocks,
 * half of them 256-512 B, 12 MiB live, random replacement; replayed with a
 * breakdown by bench/tlsf:report_traces) is harder: 26-33 % by default, of
 * which 0.3 points are headers and rounding, 0.15 pool bookkeeping, 5.0-5.4
 * partial pages around ~650 free blocks and 21-27 whole free pages, 12-17
 * of those only because the live bytes are below the most they ever were.
 * Purging every free page (purge_threshold 4 KiB) leaves 5.2-5.7 % at about
 * 20x the time per free+allocate (refaults included); a 256 KiB dirty limit
 * 6.8-7.2 % at 18x. Looking at more than the head of the exact list when
 * allocating (1 block, the default, against 4 or 16) moves the partial pages
 * by under 0.4 points; pure good fit (no look) adds 0.6. So 1.5 % is out of
 * reach of any page-granular policy here: the partial pages alone are 5 %.
 *
 * Blocks carry a one-word header (size and two flags) before the payload: the
 * usable size reported by allocate is exact, free needs only the pointer.
 * Alignment: any power of two up to the page size; larger is
 * ALLOY_E_UNSUPPORTED. Not thread-safe (wrap in the locked decorator).
 *
 * Misuse detected in every build and reported through alloy_fault_report():
 * freeing a block that is already free (ALLOY_E_DOUBLE_FREE), a pointer
 * outside the address span of every pool (ALLOY_E_NOT_OWNED), a size larger
 * than the block (ALLOY_E_SIZE_MISMATCH). With ALLOY_DEBUG a pointer inside
 * the span but in no pool is ALLOY_E_NOT_OWNED too. alloy_tlsf_check() walks
 * every pool and free list and reports ALLOY_E_CORRUPTION with what it found.
 */
#ifndef ALLOY_TLSF_H
#define ALLOY_TLSF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alloy/block.h"
#include "alloy/compiler.h"
#include "alloy/resource.h"
#include "alloy/status.h"

ALLOY_EXTERN_C_BEGIN

typedef struct alloy_tlsf alloy_tlsf;

/* numa_node values besides a node number. */
#define ALLOY_TLSF_NUMA_NONE (-1)  /* leave placement to the kernel */
#define ALLOY_TLSF_NUMA_LOCAL (-2) /* the node of the thread that creates the instance */

typedef enum alloy_tlsf_growth {
  ALLOY_TLSF_GROW_NONE,     /* only the initial pool and pools the caller adds */
  ALLOY_TLSF_GROW_PLATFORM, /* new pools mapped from the platform layer (alloy_vm_map) */
  ALLOY_TLSF_GROW_PARENT,   /* new pools allocated from config.parent */
} alloy_tlsf_growth;

typedef struct alloy_tlsf_config {
  size_t initial_pool_size;  /* bytes of the first pool, allocated with the instance (0: none) */
  alloy_tlsf_growth growth;
  size_t growth_size;        /* smallest pool added on growth (0: ALLOY_TLSF_DEFAULT_GROWTH) */
  size_t growth_divisor;     /* growth for a request above growth_size / 8 is also at least the bytes held
                                / this (0: growth_size only; see "Spare pools" above) */
  size_t max_bytes;          /* cap on the bytes of initial and grown pools (0: none) */
  alloy_resource *parent;    /* where the instance and its pools come from under GROW_PARENT */
  int numa_node;             /* node for platform memory, or ALLOY_TLSF_NUMA_NONE / _LOCAL */
  bool keep_empty_pools;     /* keep every grown pool that becomes empty (spare_bytes then does not apply) */
  size_t spare_bytes;        /* bytes of grown pools kept while empty, for reuse (0: give them back at once) */
  uint64_t spare_decay;      /* frees after which a spare pool not reused goes back (0: it stays) */
  size_t purge_threshold;    /* a freed block with at least this many bytes of whole pages inside gives
                                them back to the OS at once (0: never; alloy_tlsf_trim does it on demand) */
  size_t dirty_limit;        /* resident bytes of whole free pages kept for reuse; a free that leaves more
                                purges the longest-unused free blocks (0: no limit; see "Purging" above) */
  uint64_t dirty_age;        /* frees after which the whole pages of a free block still unused are purged
                                (0: never; see "Purging" above) */
} alloy_tlsf_config;

#define ALLOY_TLSF_DEFAULT_GROWTH ((size_t)1 << 20)
#define ALLOY_TLSF_DEFAULT_SPARE ((size_t)8 << 20)
#define ALLOY_TLSF_DEFAULT_SPARE_DECAY 16384u
#define ALLOY_TLSF_DEFAULT_GROWTH_DIVISOR 16u

/* Platform growth, 1 MiB initial pool, up to ALLOY_TLSF_DEFAULT_SPARE of
 * empty pools kept, no purging, pools on the calling thread's node. */
alloy_tlsf_config alloy_tlsf_config_default(void);

/* Creates an instance as configured. ALLOY_E_INVALID_ARGUMENT for a bad config
 * (GROW_PARENT without parent, numa_node below -2), ALLOY_E_UNAVAILABLE for a
 * NUMA node the machine does not have, ALLOY_E_OUT_OF_MEMORY when the memory
 * cannot be had. *out is written only on success. */
ALLOY_NODISCARD alloy_status alloy_tlsf_create(const alloy_tlsf_config *config, alloy_tlsf **out);

/* Creates an instance inside `bytes` of caller memory: the control structure
 * first (alloy_tlsf_control_size()), the rest becomes the first pool. The
 * instance never grows and never frees the memory. */
ALLOY_NODISCARD alloy_status alloy_tlsf_create_in_place(void *memory, size_t bytes, alloy_tlsf **out);

/* Gives back every pool the instance obtained itself. Caller pools are simply
 * forgotten. Outstanding blocks become invalid. */
void alloy_tlsf_destroy(alloy_tlsf *tlsf);

/* The instance as an alloy_resource (valid until destroy). */
alloy_resource *alloy_tlsf_resource(alloy_tlsf *tlsf);

/* Bytes the control structure takes (alloy_tlsf_create_in_place) and the
 * bookkeeping bytes a pool loses to its header and end marker. */
size_t alloy_tlsf_control_size(void);
size_t alloy_tlsf_pool_overhead(void);

/* Adds `bytes` of caller memory as a pool. The memory stays the caller's: it
 * must outlive the pool and is never freed by the instance.
 * ALLOY_E_INVALID_ARGUMENT when it is too small, too large or overlaps a pool. */
ALLOY_NODISCARD alloy_status alloy_tlsf_add_pool(alloy_tlsf *tlsf, void *memory, size_t bytes);

/* Removes a pool the caller added, by the address given to add_pool.
 * ALLOY_E_NOT_OWNED when it is not one of the caller's pools,
 * ALLOY_E_UNSUPPORTED while it still holds live blocks. */
ALLOY_NODISCARD alloy_status alloy_tlsf_remove_pool(alloy_tlsf *tlsf, void *memory);

/* The allocation interface without the resource indirection. */
ALLOY_NODISCARD alloy_status alloy_tlsf_allocate(alloy_tlsf *tlsf, size_t size, size_t align, alloy_block *out);
alloy_status alloy_tlsf_deallocate(alloy_tlsf *tlsf, alloy_block block);
/* In place when a neighbour allows, else moves (inside this instance). */
ALLOY_NODISCARD alloy_status alloy_tlsf_reallocate(alloy_tlsf *tlsf, alloy_block block, size_t new_size, size_t align,
                                                   alloy_block *out);
/* In place only: shrinks always, grows into a free next neighbour, else ALLOY_E_UNSUPPORTED. */
ALLOY_NODISCARD alloy_status alloy_tlsf_resize(alloy_tlsf *tlsf, alloy_block block, size_t new_size,
                                               alloy_block *out);
/* Whether the block lies in one of the pools (address comparison only). */
bool alloy_tlsf_owns(const alloy_tlsf *tlsf, const void *ptr);

/* Gives the spare pools back, then the whole pages inside every free block
 * to the OS (they stay mapped and come back zero-filled on use); returns the
 * bytes given back (spare pools) and newly purged.
 * O(free blocks), one system call per block: call it at quiet moments (a
 * loading screen, every few seconds), or set config.purge_threshold. */
size_t alloy_tlsf_trim(alloy_tlsf *tlsf);

/* Walks every pool and free list and verifies the invariants listed in
 * tlsf_internal.h. ALLOY_OK, or ALLOY_E_CORRUPTION reported through
 * alloy_fault_report() with the first broken rule as detail. */
alloy_status alloy_tlsf_check(const alloy_tlsf *tlsf);

/* Calls `visit` for every block of every pool in address order; stops when
 * it returns false. */
typedef bool (*alloy_tlsf_visitor)(void *ptr, size_t size, bool used, void *context);
void alloy_tlsf_walk(const alloy_tlsf *tlsf, alloy_tlsf_visitor visit, void *context);

typedef struct alloy_tlsf_stats {
  size_t pool_count;
  size_t pool_bytes;          /* bytes of every pool plus the control structure when self-obtained */
  size_t purged_bytes;        /* whole pages inside free blocks that hold no memory (never touched or purged) */
  size_t held_bytes;          /* pool_bytes - purged_bytes: the memory the allocator holds */
  size_t dirty_bytes;         /* whole pages inside free blocks that hold memory (could be purged) */
  size_t live_bytes;          /* usable bytes of the blocks handed out */
  size_t peak_live_bytes;
  size_t free_bytes;          /* usable bytes of the free blocks */
  size_t largest_free_block;  /* usable bytes of the largest free block */
  size_t used_blocks;
  size_t free_blocks;
  uint64_t allocations;
  uint64_t deallocations;
  uint64_t failures;
  uint64_t purge_calls;       /* purge system calls made (threshold, dirty limit and trim) */
  size_t spare_bytes;         /* bytes of the empty grown pools kept for reuse */
  uint64_t pools_grown;       /* pools obtained on growth */
  uint64_t pools_released;    /* grown pools given back before destroy (empty past the spares, decayed, trimmed) */
} alloy_tlsf_stats;

/* O(1) counters plus, for free_blocks and largest_free_block, a walk of the free lists. */
void alloy_tlsf_get_stats(const alloy_tlsf *tlsf, alloy_tlsf_stats *out);

/* ==== Virtual mode: TLSF over a range it never touches ====================
 *
 * The same algorithm (tlsf_core.h) with its bookkeeping out of band, as
 * Vulkan Memory Allocator's virtual blocks: a record per block and an
 * offset -> record map, kept in metadata of their own, so the range can be
 * memory the CPU cannot or should not touch (a GPU heap, a mapped file, a
 * ring of descriptor slots, a region of another process, an address range
 * mapped PROT_NONE). The range is never read or written.
 *
 * The range: [0, range_bytes) of offsets, and, when config.base is not 0,
 * the addresses [base, base + range_bytes) (base 16-aligned; offset 0 is
 * base). range_bytes is rounded down to 16 and is at most
 * ALLOY_TLSF_VIRTUAL_RANGE_MAX. Blocks start at multiples of 16 and their
 * sizes are the request rounded up to 16 (at least 16): free takes back
 * the offset and the size asked for or given.
 *
 * Alignment: any power of two. The offset (or, with a base, the address)
 * is a multiple of it; above 16 the first search reserves size + align
 * and, when that finds nothing, every free block is tried (O(free
 * blocks), before a failure only).
 *
 * Where the metadata comes from: the instance, its records (48 bytes per
 * block) and its offset map (a table of 16-byte slots at most half full)
 * are allocated from config.metadata, or mapped from the platform in whole
 * pages when it is NULL; never from the range. It grows when an allocation
 * needs it (record chunks doubling from 4 KiB to 1 MiB; the table
 * doubling), is reused after frees, is kept until destroy, and is capped
 * by config.max_metadata_bytes. A range holds at most 2 * used + 1 blocks,
 * so the metadata follows the peak of live blocks, not the range's size.
 *
 * Statuses of allocate: ALLOY_E_INVALID_ARGUMENT for an alignment that is
 * not a power of two (0 included) or a size past ALLOY_MAX_REQUEST;
 * ALLOY_E_UNSUPPORTED for a size larger than the range; ALLOY_E_OUT_OF_MEMORY
 * when no free block holds it (the range is exhausted or too fragmented);
 * ALLOY_E_CAPACITY when the metadata would pass max_metadata_bytes, and the
 * metadata source's own refusal as it gives it. Size 0 succeeds with a
 * 16-byte block. Nothing changes on failure.
 *
 * Misuse, reported through alloy_fault_report() in every build and returned
 * when the handler returns: freeing an offset outside the range or one no
 * block starts at inside free space (ALLOY_E_NOT_OWNED: not handed out),
 * an offset inside a used block (ALLOY_E_INTERIOR_POINTER), a block that
 * is free (ALLOY_E_DOUBLE_FREE; once a freed block merged into a free
 * predecessor its offset is simply free space, ALLOY_E_NOT_OWNED), a size
 * whose rounding is not the block's (ALLOY_E_SIZE_MISMATCH). The look-up is
 * one hash probe; telling the kinds apart walks the blocks (faults only).
 *
 * Speed: allocation touches only records, the lists and the map. In the
 * report (//bench:report, alloy/tlsf_virtual over a 256 MiB mapped range;
 * medians of 7 runs alternating with the in-band heap and the peers on a
 * busy 2-CPU VM, cycle-counter ticks of ~10 ns) allocate on the medium
 * trace is P50 61 ns, P99 343 ns (in band: 71, 726; glibc 30, 981;
 * mimalloc 30, 477), on loading P50 119 ns, P99 451 ns (in band: 201, 726;
 * glibc 119, 1321; mimalloc 119, 778).
 *
 * Not thread-safe (wrap the resource in the locked decorator).
 */

typedef struct alloy_tlsf_virtual alloy_tlsf_virtual;

#define ALLOY_TLSF_VIRTUAL_RANGE_MAX ((((size_t)1) << 40) - 16)

typedef struct alloy_tlsf_virtual_config {
  uintptr_t base;             /* address of offset 0, 16-aligned; 0: an offset range (no resource face) */
  size_t range_bytes;         /* bytes of the range (rounded down to 16) */
  alloy_resource *metadata;   /* where the metadata comes from (NULL: platform pages) */
  size_t max_metadata_bytes;  /* cap on the metadata held, the instance included (0: none) */
} alloy_tlsf_virtual_config;

/* Creates an instance over the range: one free block. ALLOY_E_INVALID_ARGUMENT
 * for a range below 16 or above ALLOY_TLSF_VIRTUAL_RANGE_MAX, a misaligned
 * base, or a range that wraps the address space; the metadata source's
 * status or ALLOY_E_CAPACITY when the first metadata cannot be had. */
ALLOY_NODISCARD alloy_status alloy_tlsf_virtual_create(const alloy_tlsf_virtual_config *config,
                                                       alloy_tlsf_virtual **out);
/* Gives every piece of metadata back. Outstanding blocks are forgotten. */
void alloy_tlsf_virtual_destroy(alloy_tlsf_virtual *v);

/* A block of at least `size` bytes at a multiple of `align`: its offset and
 * its usable size (the size rounded up to 16). */
ALLOY_NODISCARD alloy_status alloy_tlsf_virtual_allocate(alloy_tlsf_virtual *v, size_t size, size_t align,
                                                         size_t *offset, size_t *usable);
/* Takes a block back by its offset and the size asked for or given. */
alloy_status alloy_tlsf_virtual_free(alloy_tlsf_virtual *v, size_t offset, size_t size);
/* Whether the offset lies in the range (no block is looked at). */
bool alloy_tlsf_virtual_owns(const alloy_tlsf_virtual *v, size_t offset);

/* The instance as an alloy_resource over its address range: block.ptr is
 * base + offset, deallocate takes the block's pointer and size, owns asks
 * whether the pointer lies in the range, stats are live bytes, reserved the
 * range plus the metadata, committed the range's prefix up to the end of
 * its last used block plus the metadata. NULL for an offset range. */
alloy_resource *alloy_tlsf_virtual_resource(alloy_tlsf_virtual *v);

/* Walks the blocks, the map and the free lists and verifies the invariants
 * of tlsf_records.h; ALLOY_OK or ALLOY_E_CORRUPTION reported as
 * alloy_tlsf_check does. */
alloy_status alloy_tlsf_virtual_check(const alloy_tlsf_virtual *v);

/* Calls `visit` for every block in offset order; stops when it returns false. */
typedef bool (*alloy_tlsf_virtual_visitor)(size_t offset, size_t size, bool used, void *context);
void alloy_tlsf_virtual_walk(const alloy_tlsf_virtual *v, alloy_tlsf_virtual_visitor visit, void *context);

typedef struct alloy_tlsf_virtual_stats {
  size_t range_bytes;
  size_t live_bytes;         /* bytes of the blocks handed out */
  size_t peak_live_bytes;
  size_t free_bytes;         /* range_bytes - live_bytes */
  size_t largest_free_block;
  size_t used_blocks;
  size_t free_blocks;
  size_t metadata_bytes;     /* the instance, record chunks and map held from the metadata source */
  size_t records;            /* records held, in use or spare */
  uint64_t allocations;
  uint64_t deallocations;
  uint64_t failures;
} alloy_tlsf_virtual_stats;

/* O(1) counters plus, for free_blocks and largest_free_block, a walk of the free lists. */
void alloy_tlsf_virtual_get_stats(const alloy_tlsf_virtual *v, alloy_tlsf_virtual_stats *out);

/* ==== Defragmentation: moving blocks their owner allows to move ==========
 *
 * No heap that never moves a block gets below the partial pages around its
 * free blocks (see "Purging" and the medium trace above). When the owner of
 * the blocks can update its references (an asset cache, GPU memory,
 * handles), a budgeted pass moves blocks out of the top of the heap into
 * the best free places below them, so holes fill, whole pages empty and go
 * back, and (virtual mode) the used prefix of the range shrinks; as the
 * defragmentation of Vulkan Memory Allocator (begin, pass, end, a list of
 * moves) and Unreal's defragmenting GPU allocator do. One implementation
 * (strategies/tlsf/tlsf_defrag.c) serves both modes.
 *
 * A pass:
 *   1. The caller fills an alloy_tlsf_pass: room for the moves (its own
 *      array), the budget (bytes and moves per pass), which blocks may move
 *      (all of them, or a `movable` callback asked for each block looked
 *      at: a per-block mark that costs nothing on allocate and free and
 *      cannot outlive the block), and (in-band only) whether alloy copies.
 *   2. alloy_tlsf_defrag_begin (alloy_tlsf_virtual_defrag_begin) plans the
 *      moves. First the short runs (1-3 used blocks) that lie between two
 *      free blocks (up to 256, found from the free lists: each free block
 *      and the blocks after it, at most 8192 blocks read, so a pass reads
 *      about as many blocks as there are free ones), the runs of fewest
 *      bytes first: moving a run out merges
 *      the free blocks on both sides with its space, so free blocks (and
 *      the partial pages around them) go away. Then, in a virtual range
 *      only, the used blocks from the top down (the highest offsets
 *      first), so the used prefix shrinks. Each movable block gets the
 *      first free block of the smallest size class that holds it and lies
 *      below it (pools kept empty as spares are never destinations); a
 *      block of a run that finds none below may go to one above (never to
 *      the free block right after its run, which would only shift the run
 *      up, nor, in a virtual range, to the free end of the range): its run
 *      still merges the free blocks around it. The destination is reserved
 *      at once: it is a used block until end, counted in the live
 *      bytes and blocks, so alloy_tlsf_check stays clean during the pass.
 *      Blocks looked at and left say why, counted in the pass and, when
 *      `left` is set, one call each: not movable, no better place (no free
 *      block below holds it), budget (it would pass max_bytes). The pass
 *      stops when its moves or bytes are used up (a run that would pass
 *      them is not started), after 512 blocks looked at from the top, or
 *      after 32 of them in a row left for no better place or the
 *      budget (tlsf_defrag.c). The callbacks must not call into the heap.
 *   3. The caller copies moves[i].size bytes from `from` to `to` (or sets
 *      pass.copy, in-band, and lets end copy) and updates its references;
 *      a move it refuses or could not do gets moves[i].refuse = true.
 *   4. alloy_tlsf_defrag_end frees the source of every accepted move (the
 *      block now lives at `to`), gives a refused move's destination back
 *      (the block stays at `from`), and gives the pages the moves freed back
 *      to the OS (in-band: the whole pages of each freed source, merged
 *      with its free neighbours, are purged as alloy_tlsf_trim would; a
 *      pool left empty becomes a spare as on any free; with pass.purge_free
 *      also the whole pages of every other free block still resident, as
 *      alloy_tlsf_trim does, one system call each). Each move's `result`
 *      says what happened.
 * Passes may run every frame within their budget; each leaves the heap as
 * any sequence of allocate and free would (a move counts as one allocation
 * and one deallocation in the stats).
 *
 * During a pass (between begin and end) the heap serves allocate and free
 * of other blocks as usual; allocations never take a reserved destination.
 * Freeing (or resizing, reallocating) a block that is the source of a
 * planned move is allowed: the move is cancelled (result
 * ALLOY_TLSF_MOVE_CANCELLED, its destination given back at end, nothing
 * copied). Freeing or resizing a destination before end is misuse: the
 * caller does not own it yet (ALLOY_E_NOT_OWNED, reported through
 * alloy_fault_report(), nothing changes). Each free during a pass costs
 * O(moves) to look the block up. Trim, check, walk and stats work (walk
 * shows destinations as used blocks). Destroying the heap abandons the pass.
 * The caller must not change the moves array's from / to / size, nor free
 * the pass or its array, before end.
 *
 * Statuses of begin: ALLOY_E_INVALID_ARGUMENT for a NULL heap or pass, no
 * room for moves (moves NULL or capacity 0), a zero budget (max_bytes or
 * max_moves 0; SIZE_MAX means no cap), no movable marking (neither
 * all_movable nor movable); ALLOY_E_UNSUPPORTED for copy in the virtual
 * mode; ALLOY_E_OUT_OF_ORDER when a pass is already open on the heap
 * (begin twice). A pass that plans no move is still open until end.
 * Statuses of end: ALLOY_E_INVALID_ARGUMENT for a NULL heap or pass,
 * ALLOY_E_OUT_OF_ORDER when no pass is open (end without begin, end
 * twice), ALLOY_E_NOT_OWNED when the pass is not the one open on this heap
 * (another heap's, or a copy) or a move's destination is no longer the
 * block begin reserved (reported through alloy_fault_report(); nothing
 * changes and the pass stays open).
 *
 * Measured on the report's medium trace (//bench:report, alloy/tlsf_defrag:
 * the default heap, a pass of at most 64 KiB / 32 moves after every 4
 * replacements (a free and an allocate), alloy copying, purge_free set;
 * three runs, a fourth at 1.500 %): 1.35-1.37 % held beyond live against
 * 28-32 % for alloy/tlsf, moving ~2.2 KB per allocate or free, at 30-37 us per
 * operation against 0.84-1.15 us for alloy/tlsf in the same runs (a busy
 * machine; the purges, the faults when purged pages are reused and the
 * reading of the blocks around the free ones cost it). With the earlier
 * budget (128 KiB / 64 moves every 32 replacements) the same passes hold
 * 2.0-2.1 % at ~1.67 KB; runs moved only below themselves held 2.5-2.9 %
 * (a third of them found no place below); passes that took blocks from
 * the top down in band held 9.1-10.9 % at ~1.76 KB: the blocks at the top
 * are mostly large ones (small requests fill the holes below), so few
 * holes fitted them, and allocations kept landing in the space they
 * freed. What stays (bench/tlsf:report_traces defrag_every=4
 * defrag_kib=64 defrag_moves=32, seeds 1-3: 1.36-1.42 %): ~205 free
 * blocks, whose bytes outside whole pages are ~1.1 points of live,
 * headers and rounding 0.3, pool bookkeeping 0.16.
 *
 * Moved blocks land 16-byte aligned (the heap's own alignment): a block
 * allocated with a larger alignment must be left unmovable (the callback
 * says no). Not thread-safe, as the heap.
 */

typedef enum alloy_tlsf_move_result {
  ALLOY_TLSF_MOVE_PLANNED,   /* after begin: to be copied */
  ALLOY_TLSF_MOVE_DONE,      /* after end: the block lives at `to`, `from` was freed */
  ALLOY_TLSF_MOVE_REFUSED,   /* the caller refused: the block stays at `from`, `to` went back */
  ALLOY_TLSF_MOVE_CANCELLED, /* the source was freed or resized during the pass: `to` went back */
} alloy_tlsf_move_result;

typedef struct alloy_tlsf_move {
  void *from, *to;               /* in-band: the payloads; virtual: base + offset (NULL for an offset range) */
  size_t from_offset, to_offset; /* virtual: the offsets (in-band: 0) */
  size_t size;                   /* bytes to copy: the block's usable size */
  bool refuse;                   /* set by the caller before end to keep the block where it is */
  alloy_tlsf_move_result result;
} alloy_tlsf_move;

/* Why a block looked at was left where it is. */
typedef enum alloy_tlsf_left_reason {
  ALLOY_TLSF_LEFT_NOT_MOVABLE,   /* the movable callback said no */
  ALLOY_TLSF_LEFT_NO_BETTER_PLACE, /* no free block below it holds it */
  ALLOY_TLSF_LEFT_BUDGET,        /* it would pass max_bytes */
} alloy_tlsf_left_reason;

/* The per-block mark: whether the block at ptr (in-band; virtual: base +
 * offset or NULL) / offset (virtual; in-band 0) may move. */
typedef bool (*alloy_tlsf_movable_fn)(void *ptr, size_t offset, size_t size, void *context);
typedef void (*alloy_tlsf_left_fn)(void *ptr, size_t offset, size_t size, alloy_tlsf_left_reason why,
                                   void *context);

typedef struct alloy_tlsf_pass {
  /* Set by the caller before begin. */
  alloy_tlsf_move *moves; /* room for `capacity` moves (the caller's; untouched past `count`) */
  size_t capacity;
  size_t max_bytes;       /* budget: bytes moved per pass (SIZE_MAX: no cap; 0 is invalid) */
  size_t max_moves;       /* budget: moves per pass, at most capacity (SIZE_MAX: capacity; 0 is invalid) */
  bool all_movable;       /* every used block may move (then `movable` is not asked) */
  alloy_tlsf_movable_fn movable; /* else asked per block */
  alloy_tlsf_left_fn left;       /* optional: told about each block looked at and left */
  void *context;          /* passed to movable and left */
  bool copy;              /* in-band: end copies each accepted move's bytes before freeing its source */
  bool purge_free;        /* in-band: end also purges the whole pages of every free block still resident,
                             as alloy_tlsf_trim does (spares stay); virtual: ALLOY_E_UNSUPPORTED */

  /* Written by begin. */
  size_t count;           /* moves planned, in moves[0, count) */
  size_t planned_bytes;   /* bytes they move */
  size_t left_not_movable, left_no_better_place, left_budget;

  /* Written by end. */
  size_t moved, moved_bytes, refused, cancelled;
  size_t released_bytes;  /* in-band: bytes newly purged; virtual: how much the used prefix shrank */

  /* The heap's: which heap the pass is open on. */
  const void *open_on;
} alloy_tlsf_pass;

ALLOY_NODISCARD alloy_status alloy_tlsf_defrag_begin(alloy_tlsf *tlsf, alloy_tlsf_pass *pass);
alloy_status alloy_tlsf_defrag_end(alloy_tlsf *tlsf, alloy_tlsf_pass *pass);
ALLOY_NODISCARD alloy_status alloy_tlsf_virtual_defrag_begin(alloy_tlsf_virtual *v, alloy_tlsf_pass *pass);
alloy_status alloy_tlsf_virtual_defrag_end(alloy_tlsf_virtual *v, alloy_tlsf_pass *pass);

ALLOY_EXTERN_C_END

#endif /* ALLOY_TLSF_H */
