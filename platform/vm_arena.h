/* alloy/vm_arena.h — a bump region over reserved virtual memory.
 *
 * The one mechanism behind every linear strategy (frame, stack) and behind
 * metadata that grows in place: a contiguous address range is reserved up
 * front, committed from its start in chunks as the top advances, and handed
 * out by moving `top` forward. Rewinding moves `top` back and makes the
 * released bytes inaccessible to ASan and memcheck, so a use after rewind is
 * reported by both tools. It never grows past the reservation: a request
 * beyond `limit` is ALLOY_E_CAPACITY.
 *
 * Layout of a reservation:
 *
 *   reservation        base                  committed_end       limit
 *   | header (caller's) | handed out ... top  | committed, free     | reserved | guard page |
 *
 * Everything from committed_end on is inaccessible, and one page past `limit`
 * is never committed, so an overrun of the top faults instead of corrupting
 * a neighbour. The header (the owning strategy object, typically) is
 * committed at creation and never poisoned.
 *
 * Commit policy (alloy_vm_commit_policy, optional at creation):
 *   - ALLOY_COMMIT_LAZY (default): commit `commit_chunk` bytes at a time as
 *     the top crosses the committed end. Pages are faulted in on first touch.
 *   - ALLOY_COMMIT_BATCHED: commit `commit_batch` bytes per step instead, or
 *     the whole reservation at creation when commit_batch is 0: fewer commit
 *     calls for arenas that fill linearly and quickly.
 *   - prewarm_bytes: the first N bytes after `base` are committed and touched
 *     at creation, so the first frames take no page fault there.
 *   - prewarm_ahead: creation warms the first N bytes, and whenever the slow
 *     path commits, it commits N bytes past the new top too and touches every
 *     page it commits, so the fast path that follows runs on warm pages. The
 *     fast path itself never changes.
 * Touching goes through alloy_vm_populate (one madvise where the kernel has
 * MADV_POPULATE_WRITE), so pre-warm costs no trap per page.
 * Decommit never undoes pre-warm: alloy_vm_arena_decommit_above keeps the
 * first prewarm_bytes and prewarm_ahead bytes past the top committed (and so
 * warm); only pages above that go back to the OS, and they come back warm
 * only if prewarm_ahead re-touches them on the next slow path.
 *
 * Not thread-safe; the owner serialises access. The struct is a plain value:
 * the owner embeds it (usually in the header of its own reservation).
 */
#ifndef ALLOY_VM_ARENA_H
#define ALLOY_VM_ARENA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alloy/compiler.h"
#include "alloy/status.h"

ALLOY_EXTERN_C_BEGIN

/* Strategies built on the arena may offer inline fast paths in their public
 * headers (a bump or a free-list pop without a call). Those paths skip the
 * tool hooks and debug checks, so they exist only in builds with neither:
 * under ASan, Valgrind (ALLOY_WITH_VALGRIND) or ALLOY_DEBUG they forward to
 * the library's out-of-line functions. Build callers with the same settings
 * as alloy itself. */
#if ALLOY_DEBUG || ALLOY_HAS_ASAN || (defined(ALLOY_WITH_VALGRIND) && ALLOY_WITH_VALGRIND)
#define ALLOY_INLINE_FAST_PATHS 0
#else
#define ALLOY_INLINE_FAST_PATHS 1
#endif

typedef struct alloy_vm_arena {
  char *top;            /* next free byte */
  char *committed_end;  /* [reservation, committed_end) is readable and writable */
  char *base;           /* first byte handed out (just after the header) */
  char *limit;          /* end of the usable range; a guard page follows */
  char *reservation;    /* start of the reserved range (the header lives here) */
  size_t reserved_size; /* bytes reserved, guard page included */
  size_t commit_chunk;  /* commit step (chunk or batch), a multiple of the page size */
  char *tools_end;      /* highest committed_end ever: the extent the tools were told about */
  char *warm_floor;     /* base + prewarm_bytes: decommit never goes below it */
  size_t prewarm_ahead; /* bytes past the top the slow path commits and touches */
} alloy_vm_arena;

typedef enum alloy_commit_mode {
  ALLOY_COMMIT_LAZY,    /* commit_chunk at a time, as the top advances */
  ALLOY_COMMIT_BATCHED, /* commit_batch at a time, or everything at creation */
} alloy_commit_mode;

/* How an arena commits and pre-warms. All zero: lazy, no pre-warm. */
typedef struct alloy_vm_commit_policy {
  alloy_commit_mode mode;
  size_t commit_batch;  /* BATCHED: bytes per commit step (rounded up to pages); 0: all at creation */
  size_t prewarm_bytes; /* committed and touched at creation, from base; <= capacity */
  size_t prewarm_ahead; /* kept committed and touched past the top by the slow path; <= capacity */
} alloy_vm_commit_policy;

typedef struct alloy_vm_arena_config {
  size_t header_size;  /* bytes before `base` for the owner (committed, never poisoned) */
  size_t capacity;     /* bytes that may be handed out (rounded up to pages) */
  size_t commit_chunk; /* 0: 64 KiB; otherwise rounded up to pages */
  int numa_node;       /* -1: no placement; else pages are bound to this node */
} alloy_vm_arena_config;

/* Reserves header + capacity + one guard page and commits the header.
 * ALLOY_E_INVALID_ARGUMENT for a zero or overflowing capacity or a NUMA node
 * below -1; ALLOY_E_OUT_OF_MEMORY when the OS refuses; ALLOY_E_UNAVAILABLE
 * for a NUMA node the machine lacks. *out is written only on success. */
ALLOY_NODISCARD alloy_status alloy_vm_arena_create(const alloy_vm_arena_config *config, alloy_vm_arena *out);

/* alloy_vm_arena_create with a commit policy (NULL: lazy, no pre-warm).
 * Also ALLOY_E_INVALID_ARGUMENT for an unknown mode, a commit_batch under
 * ALLOY_COMMIT_LAZY (the chunk is config->commit_chunk), or prewarm_bytes or
 * prewarm_ahead above the capacity; ALLOY_E_OUT_OF_MEMORY when the batch or
 * pre-warm commit fails (nothing stays reserved). */
ALLOY_NODISCARD alloy_status alloy_vm_arena_create_with_policy(const alloy_vm_arena_config *config,
                                                               const alloy_vm_commit_policy *policy,
                                                               alloy_vm_arena *out);

/* For an owner that lives in the header of its own arena (the frame and the
 * stack objects: no heap anywhere): alloy_vm_arena_create_with_policy, then
 * a copy of the arena is stored `arena_offset` bytes into the header
 * (arena_offset + sizeof(alloy_vm_arena) <= config->header_size) and the
 * header is returned in *owner for the caller to fill in. Same statuses;
 * *owner is written only on success. */
ALLOY_NODISCARD alloy_status alloy_vm_arena_create_owner(const alloy_vm_arena_config *config,
                                                         const alloy_vm_commit_policy *policy, size_t arena_offset,
                                                         void **owner);

/* Gives the whole reservation back (header included). The arena may live in
 * that header (see alloy_vm_arena_create_owner): nothing is read after the
 * release. */
void alloy_vm_arena_destroy(alloy_vm_arena *arena);

/* The fast path: [ptr, ptr + size) aligned to `align` (a power of two) when
 * it fits in what is committed, else NULL (call alloy_vm_arena_grow). Leaves
 * the new block's tool state to the caller (ALLOY_MEM_UNDEFINED).
 *
 * Overflow: user-space addresses are below 2^63 and requests were validated
 * (size <= PTRDIFF_MAX, align a power of two), so neither the rounding nor
 * the sum can wrap in uintptr_t. */
static ALLOY_ALWAYS_INLINE void *alloy_vm_arena_bump(alloy_vm_arena *arena, size_t size, size_t align) {
  uintptr_t ptr = ((uintptr_t)arena->top + align - 1) & ~(uintptr_t)(align - 1);
  uintptr_t end = ptr + size;
  if (ALLOY_UNLIKELY(end > (uintptr_t)arena->committed_end)) return NULL;
  arena->top = (char *)end;
  return (void *)ptr;
}

/* The slow path of bump: commits up to the new top (plus prewarm_ahead) in
 * whole steps, touching the new pages when prewarm_ahead is set.
 * ALLOY_E_CAPACITY past the reservation, ALLOY_E_OUT_OF_MEMORY when the
 * commit fails; top is unchanged on failure. */
ALLOY_NODISCARD alloy_status alloy_vm_arena_grow(alloy_vm_arena *arena, size_t size, size_t align, void **out);

/* Makes [base, end) committed (end <= limit), for in-place growth of the
 * top block. Same statuses as grow; does not move top. */
ALLOY_NODISCARD alloy_status alloy_vm_arena_commit_to(alloy_vm_arena *arena, char *end);

/* The tool-visible half of alloy_vm_arena_rewind (call that instead). */
void alloy_vm_arena_rewind_tracked(alloy_vm_arena *arena, char *position);

/* Moves top back to `position` (base <= position <= top) and makes
 * [position, old top) inaccessible to ASan and memcheck. One store outside
 * the tools; under them, O(bytes released / 8) shadow writes. */
static ALLOY_ALWAYS_INLINE void alloy_vm_arena_rewind(alloy_vm_arena *arena, char *position) {
#if ALLOY_INLINE_FAST_PATHS
  arena->top = position;
#else
  alloy_vm_arena_rewind_tracked(arena, position);
#endif
}

/* Returns committed pages above `keep` (rounded up to a step) to the OS;
 * they come back zeroed on the next commit. Never below top + prewarm_ahead
 * nor below the pre-warmed prefix. */
void alloy_vm_arena_decommit_above(alloy_vm_arena *arena, char *keep);

static inline size_t alloy_vm_arena_used(const alloy_vm_arena *arena) { return (size_t)(arena->top - arena->base); }
static inline size_t alloy_vm_arena_capacity(const alloy_vm_arena *arena) {
  return (size_t)(arena->limit - arena->base);
}
/* The first invariant of the arena that does not hold, as a sentence, or
 * NULL when all do: reservation <= base <= top <= committed_end <= limit,
 * one guard page between limit and the reservation's end, committed_end and
 * the commit step whole pages, tools_end between committed_end and limit.
 * For the owners' check functions (O(1)). */
const char *alloy_vm_arena_broken_rule(const alloy_vm_arena *arena);

/* Committed bytes, header included. */
static inline size_t alloy_vm_arena_committed(const alloy_vm_arena *arena) {
  return (size_t)(arena->committed_end - arena->reservation);
}
/* Whether [ptr, ptr + size) lies in the handed-out range [base, top); reads nothing. */
static inline bool alloy_vm_arena_holds(const alloy_vm_arena *arena, const void *ptr, size_t size) {
  uintptr_t p = (uintptr_t)ptr;
  return p >= (uintptr_t)arena->base && p <= (uintptr_t)arena->top && size <= (uintptr_t)arena->top - p;
}

ALLOY_EXTERN_C_END

#endif /* ALLOY_VM_ARENA_H */
