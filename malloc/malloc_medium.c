/* The drop-in malloc's medium blocks above the partition's
 * (ALLOY_MALLOC_PARTITION_MAX; malloc_partition.c says why the line is
 * there) up to ALLOY_MALLOC_MEDIUM_MAX, aligned up to a page, and any
 * smaller request the partition could not serve (it is full, or could not
 * be made), from TLSF heaps.
 *
 * TLSF is O(1) and coalesces at once, but it is single-threaded, so the
 * medium path is a set of arenas, each a TLSF heap behind a spin lock. A
 * thread starts at the arena its serial number picks and stays with the
 * last arena it found free: when its arena is held by another thread it
 * tries the others before it waits, so two threads that collide once part
 * ways for good. A free goes to the block's own arena, named in the block
 * header, from any thread; when another thread holds that arena, the free
 * does not wait: it pushes the block on the arena's pending list (one
 * compare-and-swap), which whoever takes the lock next frees into TLSF.
 *
 * Each block is TLSF's block with the malloc header (malloc_internal.h) in
 * front of the payload: the arena, the offset back to TLSF's block and the
 * usable size. Pages return to the OS on their own: an arena keeps at most
 * MEDIUM_DIRTY_LIMIT of resident free pages (the oldest free blocks are
 * purged past it) and MEDIUM_SPARE_BYTES of empty pools, which decay after
 * TLSF's default number of frees. On //bench/malloc:rptest (16 B - 64 KiB,
 * cross-thread frees), when the arenas served all of it above 8 KiB, a
 * 4 MiB limit purged ~4500 times in a quarter second and ran at half the
 * speed of 16 MiB (1.2-1.45 against 2.6-3.4 M ops per
 * CPU second, five runs alternating), whose peak RSS (51-67 MiB) stayed
 * below the C library's (53-105) and mimalloc's (94-139) in the same runs. */
#include <stdalign.h>
#include <stdatomic.h>
#include <stdint.h>

#include "alloy/align.h"
#include "alloy/fork_guard.h"
#include "alloy/spin_lock.h"
#include "alloy/thread.h"
#include "alloy/tlsf.h"
#include "alloy/vm.h"
#include "malloc_internal.h"

#define MEDIUM_ARENAS 8u
#define MEDIUM_DIRTY_LIMIT ((size_t)16 << 20)
#define MEDIUM_SPARE_BYTES ((size_t)4 << 20)

typedef struct medium_arena {
  alignas(ALLOY_CACHE_LINE) alloy_spin_lock lock;
  alloy_tlsf *tlsf;  /* created on the arena's first allocation, under the lock */
  bool failed;       /* creation failed: the arena serves nothing */
  alloy_fork_guard fork_guard;
  /* Blocks freed while the lock was held elsewhere, linked through their
   * payload's first word; taken whole by the next holder. */
  alignas(ALLOY_CACHE_LINE) void *_Atomic pending;
} medium_arena;

static medium_arena arenas[MEDIUM_ARENAS];

/* The arena this thread tries first, plus one (0: not chosen yet). */
static ALLOY_THREAD_LOCAL unsigned arena_hint __attribute__((tls_model("initial-exec")));

void alloy_malloc_medium_init(void) {
  for (unsigned i = 0; i < MEDIUM_ARENAS; ++i) alloy_fork_guard_register_lock(&arenas[i].fork_guard, &arenas[i].lock);
}

static bool arena_ready(medium_arena *arena) {
  if (ALLOY_LIKELY(arena->tlsf != NULL)) return true;
  if (arena->failed) return false;
  alloy_tlsf_config config = alloy_tlsf_config_default();
  config.initial_pool_size = 0; /* an arena no thread allocates from holds nothing */
  config.spare_bytes = MEDIUM_SPARE_BYTES;
  config.dirty_limit = MEDIUM_DIRTY_LIMIT;
  config.numa_node = ALLOY_TLSF_NUMA_NONE;
  if (alloy_tlsf_create(&config, &arena->tlsf) != ALLOY_OK) arena->failed = true;
  return !arena->failed;
}

/* Locks an arena for this thread: its own when free, else the first other
 * one that is (which becomes its own), else it waits for its own. */
static unsigned lock_some_arena(void) {
  unsigned hint = arena_hint;
  unsigned first = hint != 0 ? hint - 1 : (unsigned)(alloy_thread_serial() % MEDIUM_ARENAS);
  for (unsigned step = 0; step < MEDIUM_ARENAS; ++step) {
    unsigned index = (first + step) % MEDIUM_ARENAS;
    if (alloy_spin_lock_try_acquire(&arenas[index].lock)) {
      arena_hint = index + 1;
      return index;
    }
  }
  alloy_spin_lock_acquire(&arenas[first].lock);
  arena_hint = first + 1;
  return first;
}

/* TLSF's block of a payload, from its header. */
static alloy_block tlsf_block_of(void *ptr, const alloy_malloc_header *header) {
  size_t offset = alloy_malloc_header_offset(header);
  alloy_block block = {(char *)ptr - offset, header->extent + offset};
  return block;
}

/* Lock held: frees the blocks other threads left pending. A block TLSF
 * refuses (freed twice, so perhaps on the list twice, which makes the list
 * a cycle) has been reported; the rest of the list is dropped, never
 * followed further. */
static ALLOY_NOINLINE void free_pending(medium_arena *arena) {
  void *ptr = atomic_exchange_explicit(&arena->pending, NULL, memory_order_acquire);
  while (ptr != NULL) {
    void *next = *(void **)ptr;
    if (alloy_tlsf_deallocate(arena->tlsf, tlsf_block_of(ptr, alloy_malloc_header_of(ptr))) != ALLOY_OK) return;
    ptr = next;
  }
}

static ALLOY_ALWAYS_INLINE void take_pending(medium_arena *arena) {
  if (ALLOY_UNLIKELY(atomic_load_explicit(&arena->pending, memory_order_relaxed) != NULL)) free_pending(arena);
}

void *alloy_malloc_medium_allocate(size_t size, size_t align) {
  if (align < ALLOY_MALLOC_ALIGN) align = ALLOY_MALLOC_ALIGN;
  if (size > ALLOY_MALLOC_MEDIUM_MAX || align > alloy_vm_page_size()) return NULL;
  /* The payload starts `align` into TLSF's block, so the header fits before
   * it, and holds at least the pending list's link. */
  size_t payload_size = size < sizeof(void *) ? sizeof(void *) : size;
  unsigned index = lock_some_arena();
  medium_arena *arena = &arenas[index];
  alloy_block block = {NULL, 0};
  bool served = arena_ready(arena);
  if (served) {
    take_pending(arena);
    served = alloy_tlsf_allocate(arena->tlsf, payload_size + align, align, &block) == ALLOY_OK;
  }
  alloy_spin_lock_release(&arena->lock);
  if (!served) return NULL;
  char *payload = (char *)block.ptr + align;
  alloy_malloc_header_write(payload, alloy_malloc_header_tag(ALLOY_MALLOC_KIND_MEDIUM, index, align),
                            block.size - align);
  return payload;
}

/* The arena of a block whose header says MEDIUM, or NULL (and a report)
 * when the rest of the header cannot be a medium block's. */
static medium_arena *arena_of(const void *ptr, const alloy_malloc_header *header) {
  unsigned index = alloy_malloc_header_arena(header);
  size_t offset = alloy_malloc_header_offset(header);
  if (ALLOY_LIKELY(index < MEDIUM_ARENAS && arenas[index].tlsf != NULL && offset >= sizeof(*header) &&
                   offset <= alloy_vm_page_size() && header->extent <= ALLOY_MALLOC_MEDIUM_MAX + offset))
    return &arenas[index];
  alloy_malloc_header_report(ALLOY_E_NOT_OWNED, ptr, "not a block of this malloc (a medium header that names no arena)");
  return NULL;
}

/* Another thread holds the arena: the block waits on the pending list. */
static ALLOY_NOINLINE void defer_free(medium_arena *arena, void *ptr) {
  void *head = atomic_load_explicit(&arena->pending, memory_order_relaxed);
  do {
    *(void **)ptr = head;
  } while (!atomic_compare_exchange_weak_explicit(&arena->pending, &head, ptr, memory_order_release,
                                                  memory_order_relaxed));
}

void alloy_malloc_medium_free(void *ptr) {
  const alloy_malloc_header *header = alloy_malloc_header_of(ptr);
  medium_arena *arena = arena_of(ptr, header);
  if (arena == NULL) return;
  if (!alloy_spin_lock_try_acquire(&arena->lock)) {
    defer_free(arena, ptr);
    return;
  }
  take_pending(arena);
  /* A block freed twice is found by TLSF and reported through the fault handler. */
  ALLOY_IGNORE_STATUS(alloy_tlsf_deallocate(arena->tlsf, tlsf_block_of(ptr, header)));
  alloy_spin_lock_release(&arena->lock);
}

/* The usable bytes, or 0 (and a report) for a bad header. */
size_t alloy_malloc_medium_usable_size(const void *ptr) {
  const alloy_malloc_header *header = alloy_malloc_header_of(ptr);
  return arena_of(ptr, header) != NULL ? header->extent : 0;
}

/* Grows or shrinks the block where it lies when TLSF can (a free next
 * neighbour, or any shrink); false when it cannot and the caller moves it. */
bool alloy_malloc_medium_resize(void *ptr, size_t size) {
  if (size > ALLOY_MALLOC_MEDIUM_MAX) return false;
  alloy_malloc_header *header = alloy_malloc_header_of(ptr);
  medium_arena *arena = arena_of(ptr, header);
  if (arena == NULL) return false;
  size_t offset = alloy_malloc_header_offset(header);
  alloy_block resized;
  alloy_spin_lock_acquire(&arena->lock);
  take_pending(arena);
  bool done = alloy_tlsf_resize(arena->tlsf, tlsf_block_of(ptr, header), size + offset, &resized) == ALLOY_OK;
  if (done) header->extent = resized.size - offset;
  alloy_spin_lock_release(&arena->lock);
  return done;
}

/* ---- Misuse ------------------------------------------------------------------ */

typedef struct bad_free_search {
  uintptr_t address;
  alloy_status found; /* ALLOY_E_NOT_OWNED until a block holds the address */
} bad_free_search;

/* A payload starts a power of two (16 .. a page) past TLSF's block start. */
static bool is_payload_offset(uintptr_t offset) {
  return offset >= sizeof(alloy_malloc_header) && offset <= alloy_vm_page_size() && alloy_is_power_of_two(offset);
}

static bool find_block_holding(void *ptr, size_t size, bool used, void *context) {
  bad_free_search *search = context;
  uintptr_t start = (uintptr_t)ptr;
  if (search->address < start || search->address - start >= size) return true;
  if (!used) search->found = ALLOY_E_DOUBLE_FREE; /* freed already, perhaps merged with a neighbour since */
  else if (is_payload_offset(search->address - start)) search->found = ALLOY_E_CORRUPTION; /* its header overwritten */
  else search->found = ALLOY_E_INTERIOR_POINTER;
  return false;
}

/* A pointer with no valid header: which arena block, if any, holds it,
 * found by walking the arena (O(blocks), on misuse only), and reported. */
void alloy_malloc_medium_report_bad_free(const void *ptr) {
  bad_free_search search = {(uintptr_t)ptr, ALLOY_E_NOT_OWNED};
  for (unsigned i = 0; i < MEDIUM_ARENAS && search.found == ALLOY_E_NOT_OWNED; ++i) {
    medium_arena *arena = &arenas[i];
    alloy_spin_lock_acquire(&arena->lock);
    if (arena->tlsf != NULL && alloy_tlsf_owns(arena->tlsf, ptr)) alloy_tlsf_walk(arena->tlsf, find_block_holding, &search);
    alloy_spin_lock_release(&arena->lock);
  }
  switch (search.found) {
    case ALLOY_E_DOUBLE_FREE:
      alloy_malloc_header_report(search.found, ptr, "a medium block freed already");
      break;
    case ALLOY_E_INTERIOR_POINTER:
      alloy_malloc_header_report(search.found, ptr, "a pointer inside a live medium block, not its start");
      break;
    case ALLOY_E_CORRUPTION:
      alloy_malloc_header_report(search.found, ptr, "a live medium block whose header was overwritten");
      break;
    default:
      alloy_malloc_header_report(ALLOY_E_NOT_OWNED, ptr, "not a block of this malloc (no block header)");
      break;
  }
}

/* ---- Decay ----------------------------------------------------------------------- */

/* Gives back the spare pools and the whole free pages of every arena that
 * no other thread holds at the moment (one system call per free block). */
void alloy_malloc_medium_trim(void) {
  for (unsigned i = 0; i < MEDIUM_ARENAS; ++i) {
    medium_arena *arena = &arenas[i];
    if (!alloy_spin_lock_try_acquire(&arena->lock)) continue;
    if (arena->tlsf != NULL) {
      take_pending(arena);
      (void)alloy_tlsf_trim(arena->tlsf);
    }
    alloy_spin_lock_release(&arena->lock);
  }
}

/* ---- The exit report ----------------------------------------------------------- */

void alloy_malloc_medium_get_stats(alloy_malloc_tier_stats *out) {
  *out = (alloy_malloc_tier_stats){0};
  for (unsigned i = 0; i < MEDIUM_ARENAS; ++i) {
    medium_arena *arena = &arenas[i];
    alloy_tlsf_stats stats;
    alloy_spin_lock_acquire(&arena->lock);
    bool created = arena->tlsf != NULL;
    if (created) alloy_tlsf_get_stats(arena->tlsf, &stats);
    alloy_spin_lock_release(&arena->lock);
    if (!created) continue;
    out->allocations += stats.allocations;
    out->frees += stats.deallocations;
    out->live_bytes += stats.live_bytes;
    out->peak_live_bytes += stats.peak_live_bytes; /* each arena's own peak: an upper bound of the sum's */
    out->held_bytes += stats.held_bytes;
  }
}
