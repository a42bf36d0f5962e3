/* alloy/small_object.h — the small-object heap: size classes, per-thread
 * caches, lock-free remote free.
 *
 * For many tiny objects (8 B up to max_size, 256 B by default, at most
 * 8 KiB) allocated and freed from many threads. Blocks come in the shared
 * size classes of alloy/size_class.h (waste at most 12.5 % above 64 B),
 * carved from pages (64 KiB by default) of one reservation, so a block's
 * page descriptor — its size class and its owning thread cache — is found
 * from the pointer alone: one subtraction and one shift, no lookup.
 *
 * Each heap *instance* gives every thread that uses it a cache of its own
 * (several heaps coexist; each has its own caches):
 *   - local allocate and free (the block's page belongs to the calling
 *     thread's cache) pop and push a per-page free list: no lock, no atomic
 *     read-modify-write;
 *   - a free from another thread goes through the remote-free channel
 *     (alloy/remote_free.h) to the owner, batched per page on the freeing
 *     side, and is reclaimed a whole batch at a time on the owner's next
 *     slow path; the owner is never blocked;
 *   - when a thread exits (or calls alloy_small_object_thread_detach), its
 *     empty pages go back to the heap's central recycler and its cache, with
 *     the pages that still hold live blocks, is marked abandoned; the next
 *     thread that needs a cache adopts it. Remote frees into an abandoned
 *     cache's pages stay safe and are reclaimed by the adopter, or by any
 *     thread that runs short of pages.
 *
 * Requests above max_size, or aligned beyond the largest power of two not
 * above max_size, return ALLOY_E_UNSUPPORTED (a fallback chain routes them).
 *
 * Bad frees. Every build checks each free from the page descriptor it loads
 * anyway, never reading the block (a block start: one multiply and one
 * compare; a size no larger than the block's), and marks each free block:
 * a random per-heap key in its second word, written with the free-list link
 * and checked and cleared when the block is handed out. A bad free found at
 * the free is reported through the fault handler (alloy/fault.h) and
 * returns its status with nothing changed. A double free is found later,
 * when its block would be handed out a second time: it is reported, the rest
 * of that page's free list is dropped (those free blocks leak), the page is
 * never reused, and the allocation gets another block, so no block is ever
 * handed out twice. What each build detects:
 *
 *   bad free                  release                    ALLOY_DEBUG          asan / valgrind
 *   double free right after   DOUBLE_FREE at the later   at the free, by the  the tool reports the
 *   the free (A, A)           hand-out (1)(2)            owner (A heads its   free itself (a write
 *                                                        page's list); else   into freed memory)
 *                                                        as release
 *   double free after other   DOUBLE_FREE at the later   as release           as above
 *   frees (A, B, A)           hand-out (1)(2)
 *   interior pointer          INTERIOR_POINTER at the free, naming the       as release
 *                             block's start (or past the last whole block)
 *   wrong size                larger than the block: SIZE_MISMATCH at the    as release
 *                             free; a smaller size is accepted (the block
 *                             keeps its class). ALLOY_DEBUG: also the
 *                             alignment (ALIGN_MISMATCH)
 *   foreign pointer           outside this heap's pages (another heap's,     as release
 *                             the stack, NULL): NOT_OWNED at the free
 *   use-after-free write      over the mark (the second  as release           the tool reports
 *   into a freed block        word): CORRUPTION at the                        the write itself
 *                             hand-out (1), the list
 *                             dropped; over the link
 *                             alone: not detected (the
 *                             heap follows it); beyond
 *                             16 bytes: harmless, unseen
 *
 *   (1) Blocks of 16 B and more. 8-byte blocks have no room for the mark:
 *       their double frees and overwritten links are not detected at hand-out
 *       (only by the empty-page check of (2) and the batch count of (3)).
 *   (2) A double free can make a page's count say "empty" while one of its
 *       blocks is live: an emptied page's lists are walked (bounded by its
 *       block count) before it is reused, and a page whose lists do not hold
 *       every block, each marked free, is reported (DOUBLE_FREE) and kept.
 *       A free into a page whose blocks are all free already is DOUBLE_FREE
 *       at the free.
 *   (3) Frees by other threads travel in batches; the owner checks each
 *       batch when it takes it (count and marks): a block freed twice into
 *       batches, or freed by its owner and by another thread, is reported
 *       there (or at the later hand-out) and the batch dropped (its blocks
 *       leak).
 *
 * Memory comes from the platform layer only: one address-space reservation
 * per heap (config.capacity), committed a page at a time. Destroying the
 * heap releases all of it at once, live blocks included (like an arena);
 * no thread may use the heap during or after destroy, but threads that used
 * it may still be running (their caches are simply forgotten).
 *
 * A block freed by a thread that is not its owner may wait in that thread's
 * outgoing batch for its size class (fewer than ALLOY_SMALL_OBJECT_REMOTE_BATCH
 * blocks of one page per class) until that thread allocates on a slow path,
 * frees another page's block of that class, calls alloy_small_object_collect,
 * or exits: one message carries a whole batch to the owner.
 */
#ifndef ALLOY_SMALL_OBJECT_H
#define ALLOY_SMALL_OBJECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alloy/block.h"
#include "alloy/compiler.h"
#include "alloy/resource.h"
#include "alloy/status.h"

ALLOY_EXTERN_C_BEGIN

#define ALLOY_SMALL_OBJECT_DEFAULT_MAX_SIZE 256u
#define ALLOY_SMALL_OBJECT_MAX_CLASS_SIZE 8192u     /* the largest max_size accepted */
#define ALLOY_SMALL_OBJECT_DEFAULT_PAGE_SIZE (64u * 1024u)
#define ALLOY_SMALL_OBJECT_REMOTE_BATCH 64u         /* remote frees sent in one message */

typedef struct alloy_small_object alloy_small_object;

/* Zero in a field means its default. */
typedef struct alloy_small_object_config {
  size_t max_size;    /* largest block; 0: 256. Rounded up to its size class; at most 8 KiB */
  size_t page_size;   /* page (span) size, a power of two in [16 KiB, 256 KiB]; 0: 64 KiB */
  size_t capacity;    /* address space reserved for pages; 0: 4 GiB. Reserved, not committed */
  size_t max_threads; /* thread caches that can exist at once; 0: 1024 */
  /* Optional: called after a thread's cache took a page for a size class or
   * gave back a page that emptied, with no lock of the heap held, on the
   * thread that allocates or frees. Those events come every page's worth of
   * blocks, so they suit periodic housekeeping without a thread of its own
   * (the drop-in malloc's decay calls alloy_small_object_trim from here). */
  void (*on_page_event)(void *context);
  void *page_event_context;
} alloy_small_object_config;

typedef struct alloy_small_object_stats {
  size_t live_bytes;      /* block bytes handed out and not freed (a snapshot) */
  size_t peak_live_bytes; /* the largest live_bytes a snapshot has seen */
  size_t committed_bytes; /* pages and metadata the OS backs */
  uint64_t allocations;
  uint64_t deallocations;
  uint64_t remote_deallocations; /* the frees that went through the remote channel */
  size_t pages_committed;   /* pages taken from the reservation */
  size_t pages_recycled;    /* empty pages waiting in the central recycler */
  size_t thread_caches;     /* caches created */
  size_t abandoned_caches;  /* caches whose thread left, waiting for adoption */
  uint64_t adoptions;       /* caches taken over by a new thread */
} alloy_small_object_stats;

/* Creates a heap (config may be NULL for the defaults). Bad configuration is
 * ALLOY_E_INVALID_ARGUMENT; a refused reservation ALLOY_E_OUT_OF_MEMORY. */
ALLOY_NODISCARD alloy_status alloy_small_object_create(const alloy_small_object_config *config,
                                                       alloy_small_object **out);

/* Releases every page and cache of the heap (see the header comment). NULL is a no-op. */
void alloy_small_object_destroy(alloy_small_object *heap);

/* The heap as an alloy_resource (valid until destroy). */
alloy_resource *alloy_small_object_resource(alloy_small_object *heap);

/* The same operations as the resource, called directly (no ops-table hop). */
ALLOY_NODISCARD alloy_status alloy_small_object_allocate(alloy_small_object *heap, size_t size, size_t align,
                                                         alloy_block *out);
alloy_status alloy_small_object_deallocate(alloy_small_object *heap, alloy_block block, size_t align);

/* The size of the block of `heap` that starts at `ptr`, or 0 when `ptr` is
 * not a block start inside the heap's pages (NULL and foreign pointers
 * included). O(1) from any thread: one compare and the page descriptor,
 * never the block, so it does not tell a live block from a free one. For a
 * pointer-only free: the result is the size alloy_small_object_deallocate
 * takes, and the block's usable size. */
size_t alloy_small_object_block_size(const alloy_small_object *heap, const void *ptr);

/* A pointer-only free (malloc's free) with the one page lookup of
 * alloy_small_object_deallocate: `ptr` is freed with its block's own size.
 * False, with nothing done or reported, when `ptr` lies outside the heap's
 * pages (NULL and other allocators' blocks: the caller frees it elsewhere);
 * true otherwise: the block was freed, or the bad free (an interior
 * pointer, a double free found at the free) was reported through the fault
 * handler as by alloy_small_object_deallocate, nothing changed. */
bool alloy_small_object_free(alloy_small_object *heap, void *ptr);

/* Calling thread: sends its pending outgoing remote frees and reclaims the
 * frees other threads sent it. */
void alloy_small_object_collect(alloy_small_object *heap);

/* Calling thread: hands its cache back now, as thread exit would. It gets a
 * cache again the next time it uses the heap. */
void alloy_small_object_thread_detach(alloy_small_object *heap);

/* Any thread: reclaims the frees sent to abandoned caches (whose threads
 * exited), puts every page that became empty back in the recycler, and
 * gives the memory of recycled pages back to the OS (they are committed
 * again when reused). The heap reclaims abandoned pages by itself when it
 * runs short; only trim decommits. */
void alloy_small_object_trim(alloy_small_object *heap);

/* Counters and page accounting (a consistent snapshot once threads are quiet). */
void alloy_small_object_get_stats(const alloy_small_object *heap, alloy_small_object_stats *out);

/* Walks the heap's bookkeeping and verifies its invariants: the page area
 * and descriptor counts; every page on the calling thread's lists and on an
 * abandoned cache's (its current pages, partial lists, stash) a page of this
 * heap, owned by that cache, in the state its list implies, carrying that
 * list's class, with the block size, block count and block-start test its
 * class gives; each such page's free lists made of carved block starts of
 * the page, each marked free, no longer than its carved blocks (so no
 * cycle), and with the blocks in use adding up to the blocks carved; the
 * fast path's size table mirroring the current pages; the calling thread's
 * unsent remote frees; the recycler and the abandoned list against their
 * counts; the remote frees sent, taken back and in flight against the
 * blocks the pages count in use. ALLOY_OK, or ALLOY_E_CORRUPTION reported
 * through alloy_fault_report() with the first broken rule as detail.
 *
 * Not for hot paths: O(pages + free blocks of the pages walked + caches),
 * with the heap lock held (other threads' slow paths wait for it). Call it
 * from a thread of the heap (each thread sees its own lists; a thread
 * without a cache checks the rest) while no other thread allocates from the
 * heap. Other threads may free meanwhile, into any page: blocks in flight
 * are on no list the walk reads. The pages other live threads own are not
 * walked; only their counters are read. */
alloy_status alloy_small_object_check(const alloy_small_object *heap);

ALLOY_EXTERN_C_END

#endif /* ALLOY_SMALL_OBJECT_H */
