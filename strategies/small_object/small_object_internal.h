/* Internals of the small-object heap, shared by its four sources. Calls go
 * down this list only; no file calls a function defined in a file above it:
 *
 *   small_object.c        the public API, the allocate and free fast paths,
 *                         the resource ops, statistics, trim.
 *                         Calls small_object_cache.c and small_object_page.c.
 *   small_object_cache.c  thread caches: the thread's binding
 *                         (alloy_small_object_cache_last), the allocation
 *                         slow path, remote frees in and out, thread exit,
 *                         adoption, collecting abandoned caches.
 *                         Calls small_object_page.c.
 *   small_object_page.c   the reservation, page supply, the central
 *                         recycler, page initialisation and carving.
 *                         Calls no other file of the package.
 *   small_object_check.c  alloy_small_object_check, the invariant walk
 *                         (nothing on the allocate and free paths).
 *                         Calls no other file of the package.
 *
 * What a file offers the files above it is declared below, marked
 * ALLOY_HIDDEN and named alloy_<file>_<what> after the file defining it; the
 * static inline pieces here (descriptors, counters, the hand-out fast path)
 * are everybody's.
 *
 * Layout of one heap: a single reservation, aligned to the page size,
 *   [ heap struct | max_threads cache slots | ... | page descriptors | pages ... ]
 * Cache slots are committed as caches are created, descriptors and pages as
 * pages are first used. The descriptors end where the pages begin and run
 * downwards, page i's at ((so_page *)pages_begin)[-1 - i], so a block's
 * descriptor is found from the pointer and pages_begin alone (no base of
 * its own to load): index (ptr - pages_begin) >> page_shift. Descriptors
 * live in one dense array rather than at the start of each page:
 * page-aligned headers would all fall into the same few cache sets and
 * evict each other.
 *
 * Ownership rules (who may touch what):
 *   - a page's owner-side fields (free, used, state, lists, unbuilt) belong
 *     to its owning cache's thread; the remote-free source is the only part
 *     other threads write.
 *   - page->owner only changes when the page is empty (used == 0): a thread
 *     holding a live block may therefore read it without synchronisation.
 *   - a cache belongs to one thread at a time; the heap lock hands it over
 *     (abandon, adopt), and abandoned caches are only touched under the lock.
 *   - a page's `used` (blocks handed out and not yet reclaimed by the owner,
 *     so blocks waiting in a remote channel keep their page alive) is not
 *     stored: it is allocations - frees - reclaimed, three counters the page
 *     keeps over all its lives. The fast paths move one of them each, and
 *     the heap's statistics are summed from them on query, so an allocation
 *     or a free stores no statistics counter of its own.
 *
 * fork(): the heap lock is the one lock allocation and free can take; it is
 * registered with //concurrency:fork_guard from create to destroy, so no
 * thread holds it at the fork and the child finds it free. In the child,
 * the caches of the parent's other threads stay as they were: those threads
 * may have stopped halfway through a fast path on their own cache (a list
 * splice, a batch half built), which no lock covers, so the child neither
 * adopts nor collects them, and their pages are stranded like any memory a
 * vanished thread held. Everything the child's thread needs is consistent:
 * its own cache (it was in fork(), not in the heap), the abandoned caches
 * and the recycler (only touched under the lock), fresh pages and cache
 * slots. So it allocates every size (from its cache, an adopted abandoned
 * cache, or a new one while max_threads allows), frees its own blocks
 * locally, and frees blocks of the vanished threads' pages through their
 * remote channels (lock-free; they are never reclaimed in the child).
 */
#ifndef ALLOY_SMALL_OBJECT_INTERNAL_H
#define ALLOY_SMALL_OBJECT_INTERNAL_H

#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alloy/compiler.h"
#include "alloy/fork_guard.h"
#include "alloy/remote_free.h"
#include "alloy/size_class.h"
#include "alloy/small_object.h"
#include "alloy/spin_lock.h"
#include "alloy/thread_exit.h"
#include "alloy/tool_hooks.h"

#define SO_MAX_CLASSES 64u                                  /* alloy_size_class_count(8192) */
#define SO_SIZE_STEPS (ALLOY_SMALL_OBJECT_MAX_CLASS_SIZE / 8u + 1u) /* table index (size + 7) / 8 */
#define SO_ROW_SHIFT 11u /* class table rows are 2^11 entries apart: the index is a shift and an add */
#define SO_TABLE_ALIGNS 17u /* the class table is indexed by the alignment itself, 0 .. 16 */
#define SO_DIRECT_ALIGN 8u  /* alignments up to this one use so_cache.direct as they are */
/* Alignments up to this one use so_cache.direct too, the size rounded up to
 * the alignment first (malloc's 16): every class of alloy/size_class.h that
 * is the smallest one holding a multiple of 16 is a multiple of 16 itself
 * (the classes 8 mod 16 all lie where classes are 8 B apart), so its blocks,
 * carved from page-aligned pages, are 16-aligned. */
#define SO_DIRECT_ALIGN_MAX 16u
#define SO_DIRECT_ALIGNS ((1u << 1) | (1u << 2) | (1u << 4) | (1u << 8) | (1u << 16)) /* bit a: a direct alignment */
#define SO_NO_CLASS SO_MAX_CLASSES       /* table entry for (size, align) pairs no class serves */
#define SO_BAD_ALIGN (SO_MAX_CLASSES + 1u) /* table entry for alignments that are not powers of two */
#define SO_MIN_PAGE_SIZE (16u * 1024u)
#define SO_MAX_PAGE_SIZE (256u * 1024u) /* keeps a page's blocks below the channel's pending limit */
#define SO_STASH_MAX 2u                 /* empty pages a cache keeps before giving them back */
#define SO_CARVE_BYTES 4096u            /* how much of a fresh page becomes free list at once */

ALLOY_STATIC_ASSERT(SO_SIZE_STEPS <= (1u << SO_ROW_SHIFT), "a class table row holds every size step");
ALLOY_STATIC_ASSERT(SO_MAX_CLASSES <= 64u, "outgoing batches are tracked in a 64-bit mask");
ALLOY_STATIC_ASSERT(SO_MAX_PAGE_SIZE / 8u <= ALLOY_REMOTE_FREE_MAX_PENDING, "a page's blocks must fit the channel");

typedef struct so_cache so_cache;

/* A counter one thread writes and get_stats reads from any thread
 * (alloy_so_counter_read). Every access goes through the __atomic builtins
 * with relaxed order: the writer's load-add-store is no read-modify-write
 * instruction (plain moves on x86), and the reader never sees a torn value. */
typedef uint64_t so_counter;

typedef enum so_page_state {
  SO_PAGE_FULL,     /* owned, every block handed out or pending; in no list */
  SO_PAGE_CURRENT,  /* owned, the class's allocation page */
  SO_PAGE_PARTIAL,  /* owned, has free or deferred blocks; in its class's partial list */
  SO_PAGE_STASHED,  /* empty, kept by a cache for reuse */
  SO_PAGE_RECYCLED, /* empty, in the heap's central recycler */
} so_page_state;

/* The descriptor of one page. The first line is written by the owner on
 * every allocation and free; everything another thread's free reads (owner,
 * size class) is on the second line, which only changes in the owner's slow
 * paths (the page changes hands or lists, a batch of remote frees arrives),
 * so a thread freeing another's blocks does not pull the owner's hot line
 * away from it. */
typedef struct so_page {
  /* Owner-side, first line. */
  void *free;          /* free blocks, linked through their first word */
  so_counter allocations; /* blocks handed out, over all the page's lives */
  so_counter frees;    /* blocks the owner freed locally, over all lives */
  uint32_t slow_at;    /* low half of `frees` after a local free at which the owner must act (see set_state) */
  uint32_t block_size;
  uint8_t state;       /* so_page_state; set with alloy_so_page_set_state */
  bool decommitted;    /* recycled and given back to the OS by trim */
  bool suspect;        /* a double free was found here: `used` cannot be trusted, so the page never retires */
  uint32_t reclaimed;  /* blocks taken back from other threads, over all lives, modulo 2^32 */
  void *deferred;      /* blocks reclaimed from other threads while free was not empty */
  char *unbuilt;       /* first block never carved into the free list */
  struct so_page *prev; /* partial list */
  /* Second line: read by every free, written in the owner's slow paths;
   * and the one word other threads write. */
  alignas(ALLOY_CACHE_LINE) so_cache *owner; /* the cache whose thread allocates here (NULL when empty and unowned) */
  alloy_small_object *heap;
  char *base;          /* the page's memory */
  struct so_page *next; /* partial list, stash, recycler */
  /* What every free checks, set when the page gets its class: the
   * block-start constants of alloy_so_block_start_test, so that one
   * multiply and one compare of (ptr - base) say "a block start"; and the
   * block size again, so that a free by another thread need not touch the
   * owner's first line for the size check. */
  uint32_t block_magic;
  uint32_t block_limit;
  uint8_t size_class;
  uint16_t block_count;  /* whole blocks in the page (at most 256 KiB / 8) */
  uint16_t free_size_max; /* the block size */
  uint8_t mark_offset;    /* where a free block's mark goes: 8, or 0 for 8-byte blocks (see alloy_so_mark_free_at) */
  alloy_remote_free_source remote; /* other threads push freed blocks here */
} so_page;

ALLOY_STATIC_ASSERT(sizeof(so_page) == 2 * ALLOY_CACHE_LINE, "a page descriptor is two cache lines");
ALLOY_STATIC_ASSERT(SO_MAX_PAGE_SIZE / 8u <= UINT16_MAX, "a page's block count fits block_count");
ALLOY_STATIC_ASSERT((uint64_t)ALLOY_SMALL_OBJECT_MAX_CLASS_SIZE * (SO_MAX_PAGE_SIZE + ALLOY_SMALL_OBJECT_MAX_CLASS_SIZE) <=
                        ((uint64_t)1 << 32),
                    "the 32-bit block-start test holds for every block size and page size");

/* Per-class state of a thread cache; the fast path touches one entry. */
typedef struct so_class_cache {
  so_page *current;                   /* never NULL: the heap's empty page when none */
  so_page *partial;                   /* pages with free blocks, besides current */
  /* The frees that went through the remote channel: those this thread sent,
   * and those it took back into its own pages. The difference is in flight,
   * freed but still counted in their pages' `used`. */
  so_counter remote_sent;
  so_counter remote_reclaimed;
} so_class_cache;

/* Blocks this thread freed into one page of another cache, not yet sent. */
typedef struct so_outgoing {
  so_page *page;
  void *first, *last;
  uint32_t count;
} so_outgoing;

struct so_cache {
  /* direct[(size + 7) / 8]: the current page of the class a request for
   * `size` bytes aligned to at most 8 maps to (every class's blocks are
   * 8-aligned, so such alignments need no class of their own; a 16-aligned
   * request looks up its size rounded up to 16, see SO_DIRECT_ALIGN_MAX), the heap's
   * empty page above max_size. The allocation fast path's one lookup: no
   * class number between the size and the page. Mirrors classes[].current;
   * set_current (small_object_cache.c) keeps the two in step. */
  so_page *direct[SO_SIZE_STEPS];
  so_class_cache classes[SO_MAX_CLASSES + 2]; /* the last two, SO_NO_CLASS and SO_BAD_ALIGN, are always slow */
  alloy_small_object *heap;
  so_page *stash;          /* empty pages kept for reuse */
  uint32_t stash_count;
  bool abandoned;          /* guarded by the heap lock */
  so_cache *next_abandoned;
  /* Outgoing remote frees, batched per size class (one page at a time each). */
  uint64_t out_pending;    /* bit c: out[c] holds blocks */
  so_outgoing out[SO_MAX_CLASSES];
  /* Incoming: pages with blocks other threads freed. */
  alignas(ALLOY_CACHE_LINE) alloy_remote_free_inbox inbox;
};

struct alloy_small_object {
  alloy_resource resource; /* first: the resource pointer is the heap pointer */
  /* Read by every fast path; written only at creation (pages_carved: rarely). */
  uint64_t id;             /* unique per heap in the process; 0 is never used */
  size_t max_size;
  size_t max_align;
  unsigned page_shift;     /* log2(page_size) */
  char *pages_begin;
  _Atomic(size_t) pages_bytes; /* committed prefix of the page area: owns() and free check against it */
  uint64_t free_key;       /* random, never 0: the mark of a free block (see alloy_so_mark_free) */
  uint8_t class_for[SO_TABLE_ALIGNS][1u << SO_ROW_SHIFT]; /* [align][(size + 7) / 8] for align <= 16 */
  /* Configuration. */
  size_t page_size;
  void (*on_page_event)(void *context); /* may be NULL */
  void *page_event_context;
  size_t class_count;
  size_t class_sizes[SO_MAX_CLASSES];
  size_t page_capacity;    /* pages the reservation holds */
  char *arena;
  size_t arena_size;
  size_t meta_size;
  size_t descriptors_reserved; /* bytes below pages_begin kept for descriptors, whole OS pages */
  alloy_thread_exit_key key;
  alloy_fork_guard fork_guard; /* holds `lock` across fork() (see the note above) */
  /* Everything below is guarded by lock. */
  alloy_spin_lock lock;
  size_t meta_committed;
  size_t descriptors_committed; /* bytes */
  size_t pages_carved;
  so_page *recycled;
  size_t recycled_count;
  size_t decommitted_count; /* recycled pages whose memory went back to the OS */
  so_cache *caches;        /* slots in the metadata area */
  size_t max_caches;
  size_t caches_created;
  so_cache *abandoned;
  size_t abandoned_count;
  uint64_t adoptions;
  size_t peak_live_bytes;
  /* The page every empty class points at, and the cache of threads that
   * could get none (it owns no page; its counters take atomic adds). */
  so_page empty_page;
  so_cache orphan;
};

/* The calling thread's most recent (heap, cache) pair. */
typedef struct so_thread_slot {
  uint64_t heap_id;
  so_cache *cache;
} so_thread_slot;

/* small_object_cache.c: the calling thread's binding, and its caches. */
extern ALLOY_THREAD_LOCAL so_thread_slot alloy_small_object_cache_last ALLOY_HIDDEN
    __attribute__((tls_model("initial-exec")));
ALLOY_HIDDEN ALLOY_NOINLINE so_cache *alloy_small_object_cache_bind(alloy_small_object *heap);
ALLOY_HIDDEN ALLOY_NOINLINE alloy_status alloy_small_object_cache_allocate_slow(alloy_small_object *heap,
                                                                                so_cache *cache, size_t cls,
                                                                                alloy_block *out);
ALLOY_HIDDEN ALLOY_NOINLINE alloy_status alloy_small_object_cache_local_free_slow(so_cache *cache, so_page *page);
ALLOY_HIDDEN ALLOY_NOINLINE alloy_status alloy_small_object_cache_remote_free_slow(alloy_small_object *heap,
                                                                                   so_cache *cache, so_page *page,
                                                                                   void *block);
ALLOY_HIDDEN void alloy_small_object_cache_collect(so_cache *cache);
ALLOY_HIDDEN void alloy_small_object_cache_collect_abandoned(alloy_small_object *heap); /* lock held */
ALLOY_HIDDEN void alloy_small_object_cache_release(so_cache *cache);
ALLOY_HIDDEN void alloy_small_object_cache_thread_exit(void *cache);
ALLOY_HIDDEN void alloy_small_object_cache_init(alloy_small_object *heap, so_cache *cache);
ALLOY_HIDDEN ALLOY_COLD void alloy_small_object_cache_refuse_list(alloy_small_object *heap, so_page *page);

/* small_object_page.c: pages and the reservation. */
/* With the heap lock held: */
ALLOY_HIDDEN alloy_status alloy_small_object_page_take_recycled(alloy_small_object *heap, so_page **out);
ALLOY_HIDDEN alloy_status alloy_small_object_page_carve_fresh(alloy_small_object *heap, so_page **out);
ALLOY_HIDDEN void alloy_small_object_page_decommit_recycled(alloy_small_object *heap);
ALLOY_HIDDEN void alloy_small_object_page_release_locked(alloy_small_object *heap, so_page *page);
/* Without it: */
ALLOY_HIDDEN void alloy_small_object_page_release(alloy_small_object *heap, so_page *page);
ALLOY_HIDDEN void alloy_small_object_page_init(alloy_small_object *heap, so_page *page, so_cache *owner, size_t cls);
ALLOY_HIDDEN void alloy_small_object_page_carve(alloy_small_object *heap, so_page *page);
ALLOY_HIDDEN alloy_status alloy_small_object_page_commit_meta(alloy_small_object *heap, size_t bytes);

/* The block-start test. An offset x into a page (x < 256 KiB) is a block
 * start exactly when (x * magic) mod 2^32 < limit, with magic =
 * 2^32 / block_size + 1 (rounded down, plus one) and limit = block_count *
 * (block_size * magic - 2^32): a multiple k * block_size comes out as k
 * times that small excess, any other offset at or above magic (Lemire,
 * Kaser and Kurz, "Faster remainder by direct computation", 2019, section
 * 4; it holds while block_size * (page_size + block_size) <= 2^32, which
 * 8 KiB blocks in 256 KiB pages keep). One multiply and one compare check
 * "on a boundary" and "inside the block area" at once, in 32-bit registers.
 * A descriptor without a class has limit 0: nothing passes. */
typedef struct so_block_start_test {
  uint32_t magic;
  uint32_t limit;
} so_block_start_test;

static inline so_block_start_test alloy_so_block_start_test(size_t block_size, size_t block_count) {
  so_block_start_test test;
  test.magic = (uint32_t)((((uint64_t)1 << 32) / block_size) + 1);
  test.limit = (uint32_t)block_count * (uint32_t)((uint64_t)test.magic * block_size - ((uint64_t)1 << 32));
  return test;
}

static ALLOY_ALWAYS_INLINE bool alloy_so_is_block_start(const so_page *page, const void *ptr) {
  uint32_t offset = (uint32_t)((uintptr_t)ptr - (uintptr_t)page->base);
  return offset * page->block_magic < page->block_limit;
}

/* Whether the page has blocks never carved into its free list (never for
 * the heap's empty page, which has no memory). */
static ALLOY_ALWAYS_INLINE bool alloy_so_page_has_unbuilt(const so_page *page) {
  return page->unbuilt != NULL && page->unbuilt < page->base + (size_t)page->block_count * page->block_size;
}

/* Blocks of the page handed out and not reclaimed by the owner (owner only). */
static ALLOY_ALWAYS_INLINE uint32_t alloy_so_page_used(const so_page *page) {
  return (uint32_t)(page->allocations - page->frees) - page->reclaimed;
}

/* Moves a page to `state` and sets the one value of `frees` (its low half) at
 * which a local free leaves the fast path: the first free into a full page
 * (it becomes partial), the last one out of a partial page (it retires).
 * Only the current page allocates, so `allocations` stands still in both
 * states; whoever changes `reclaimed` sets the state again. The current page
 * never needs the slow path (it is not retired while current), nor do empty
 * pages (no block of theirs is live): their slow_at is one local free behind,
 * a value `frees` only comes back to after 2^32 frees into the page, and the
 * slow path then finds nothing to do. */
static ALLOY_ALWAYS_INLINE void alloy_so_page_set_state(so_page *page, so_page_state state) {
  uint32_t frees = (uint32_t)page->frees;
  page->state = (uint8_t)state;
  if (state == SO_PAGE_FULL) page->slow_at = frees + 1;
  else if (state == SO_PAGE_PARTIAL) page->slow_at = frees + alloy_so_page_used(page);
  else page->slow_at = frees;
}

/* The cache of the calling thread for `heap` (the orphan cache if none can exist). */
static ALLOY_ALWAYS_INLINE so_cache *alloy_so_cache_of(alloy_small_object *heap) {
  if (ALLOY_LIKELY(alloy_small_object_cache_last.heap_id == heap->id)) return alloy_small_object_cache_last.cache;
  return alloy_small_object_cache_bind(heap);
}

/* The descriptor of page `index` of the page area that starts at
 * `pages_begin` (see the layout above). */
static ALLOY_ALWAYS_INLINE so_page *alloy_so_descriptor(char *pages_begin, size_t index) {
  return (so_page *)(void *)pages_begin - 1 - index;
}

static ALLOY_ALWAYS_INLINE so_page *alloy_so_page_by_index(const alloy_small_object *heap, size_t index) {
  return alloy_so_descriptor(heap->pages_begin, index);
}

/* The descriptor of the page at `offset` bytes into the page area. */
static ALLOY_ALWAYS_INLINE so_page *alloy_so_page_at(const alloy_small_object *heap, size_t offset) {
  return alloy_so_page_by_index(heap, offset >> heap->page_shift);
}

/* n more, from the writing thread only: no atomic read-modify-write. Returns
 * the new value, so a caller that tests it need not load it again (the
 * compiler does not forward an atomic store to a later load). */
static ALLOY_ALWAYS_INLINE uint64_t alloy_so_add(so_counter *counter, uint64_t n) {
  uint64_t value = __atomic_load_n(counter, __ATOMIC_RELAXED) + n;
  __atomic_store_n(counter, value, __ATOMIC_RELAXED);
  return value;
}

/* One more, from the writing thread only; on the fast paths. Relaxed load and
 * store (plain moves on x86) keep get_stats' concurrent read race-free. */
static ALLOY_ALWAYS_INLINE uint64_t alloy_so_count(so_counter *counter) { return alloy_so_add(counter, 1); }

/* One more, from a thread that shares the counter (the orphan cache's). */
static ALLOY_ALWAYS_INLINE void alloy_so_count_shared(so_counter *counter) {
  __atomic_fetch_add(counter, 1, __ATOMIC_RELAXED);
}

static ALLOY_ALWAYS_INLINE uint64_t alloy_so_counter_read(const so_counter *counter) {
  return __atomic_load_n(counter, __ATOMIC_RELAXED);
}

/* A page's counters as a reader outside its owner sees them, each read
 * once: the owner and remote frees may move them meanwhile, so `used` can
 * come out beyond the page's capacity, and then means nothing. */
typedef struct so_page_counts {
  uint64_t allocations;
  uint64_t frees;
  uint32_t used;       /* allocations - frees - reclaimed */
  uint32_t block_size; /* 0 while the page has no class */
} so_page_counts;

static inline so_page_counts alloy_so_page_counts(const so_page *page) {
  so_page_counts counts;
  counts.allocations = alloy_so_counter_read(&page->allocations);
  counts.frees = alloy_so_counter_read(&page->frees);
  uint32_t reclaimed = __atomic_load_n(&page->reclaimed, __ATOMIC_RELAXED);
  counts.block_size = __atomic_load_n(&page->block_size, __ATOMIC_RELAXED);
  counts.used = (uint32_t)(counts.allocations - counts.frees) - reclaimed;
  return counts;
}

/* Bytes in use on a page by those counts; 0 when they cannot be right. */
static inline uint64_t alloy_so_page_bytes_in_use(so_page_counts counts, size_t page_size) {
  if (counts.block_size == 0 || counts.used > page_size / counts.block_size) return 0;
  return (uint64_t)counts.used * counts.block_size;
}

/* Free blocks and their mark.
 *
 * A block on any free list (the page's free and deferred lists, an outgoing
 * batch, a remote channel) holds the link in its first word and, when it has
 * room (16 B and more), the heap's free_key in its second: every path that
 * puts a block on a list writes both, in the one line it writes anyway, and
 * never reads the block. Hand-out, which loads that line for the link,
 * checks the mark and clears it, so a block handed out again without a free
 * in between (a double free made the list cycle) or overwritten after its
 * free is refused instead (alloy_small_object_cache_refuse_list). A list
 * may cycle after a double free: every walk of one is bounded by a count. */
static ALLOY_ALWAYS_INLINE bool alloy_so_has_mark(size_t block_size) { return block_size > sizeof(void *); }

/* The bytes of a free block the heap writes (for the tools). */
static ALLOY_ALWAYS_INLINE size_t alloy_so_free_bytes(size_t block_size) {
  return alloy_so_has_mark(block_size) ? 2 * sizeof(void *) : sizeof(void *);
}

/* Writes the link and the mark of a block going onto a free list. */
static ALLOY_ALWAYS_INLINE void alloy_so_mark_free(void *block, void *next, size_t block_size, uint64_t key) {
  *(void **)block = next;
  if (ALLOY_LIKELY(alloy_so_has_mark(block_size))) ((uint64_t *)block)[1] = key;
}

/* The same for the free fast paths, without a branch: the mark goes to
 * `mark_offset` (alloy_so_mark_offset) before the link, which overwrites
 * it in an 8-byte block. */
static ALLOY_ALWAYS_INLINE size_t alloy_so_mark_offset(size_t block_size) {
  return alloy_so_has_mark(block_size) ? sizeof(void *) : 0;
}

static ALLOY_ALWAYS_INLINE void alloy_so_mark_free_at(void *block, void *next, size_t mark_offset, uint64_t key) {
  *(uint64_t *)(void *)((char *)block + mark_offset) = key;
  *(void **)block = next;
}

/* Free-list links live in the blocks, which the tools see as freed memory. */
static ALLOY_ALWAYS_INLINE void *alloy_so_link_read(void *block) {
  ALLOY_MEM_DEFINED(block, sizeof(void *));
  void *next = *(void **)block;
  return next;
}

/* Hands out `block`, the head of `page`'s free list: the tools see it
 * allocated. False, with nothing changed, when its mark says it is not a
 * free block (the caller's slow path refuses the list). */
static ALLOY_ALWAYS_INLINE bool alloy_so_hand_out(alloy_small_object *heap, so_page *page, void *block,
                                                  alloy_block *out) {
  uint32_t block_size = page->block_size;
  ALLOY_MEM_DEFINED(block, alloy_so_free_bytes(block_size));
  void *next = *(void **)block;
  if (ALLOY_LIKELY(alloy_so_has_mark(block_size))) {
    uint64_t *mark = (uint64_t *)block + 1;
    if (ALLOY_UNLIKELY(*mark != heap->free_key)) return false;
    *mark = 0; /* a live block must not look free */
  }
  page->free = next;
  /* The next hand-out reads the next block's link and mark: start loading
   * that line now (a free list that went cold misses on every block). */
  __builtin_prefetch(next, 1);
  alloy_so_count(&page->allocations);
  ALLOY_TRACK_ALLOC(heap, block, block_size);
  out->ptr = block;
  out->size = block_size;
  return true;
}

#endif /* ALLOY_SMALL_OBJECT_INTERNAL_H */
