/* alloy/huge_page.h — a bump arena on 2 MiB pages.
 *
 * For large, long-lived, contiguous data that is walked often (level
 * geometry, simulation grids, big lookup tables): one mapping on huge pages
 * cuts TLB misses. The arena asks the platform for the best page kind not
 * above config.best and degrades explicit huge pages (reserved by the
 * administrator in /proc/sys/vm/nr_hugepages) -> transparent huge pages
 * (madvise) -> normal pages, and reports what it got with
 * alloy_huge_page_arena_kind(). With config.require_kind it takes exactly
 * config.best or fails with ALLOY_E_UNAVAILABLE.
 *
 * Allocation bumps a pointer (any power-of-two alignment up to the huge page
 * size). The top always stays on an ALLOY_DEFAULT_ALIGNMENT boundary, so
 * blocks freed in reverse order of allocation move the top all the way back
 * whatever their sizes; only the padding a larger alignment put below a block
 * stays used until a reset or rewind. Freeing any other block only tells the
 * tools it is dead, and its bytes come back with
 * alloy_huge_page_arena_reset() or a rewind to a marker (mark/rewind of the
 * resource contract). Reallocate grows the top block in place. Not
 * thread-safe.
 *
 * Bad frees, reported through alloy_fault_report in every build (the checks
 * are the range test every free makes anyway):
 *   free of an address outside the mapping            ALLOY_E_NOT_OWNED
 *   free at or above the top (the top block freed
 *     twice, or a block a reset or rewind freed)      ALLOY_E_DOUBLE_FREE
 *   a size that runs past the top                     ALLOY_E_SIZE_MISMATCH
 *   a second free of a block below the top, an
 *     interior pointer below the top                  not detected (such frees
 *                                                     only tell the tools)
 *
 * The whole mapping is committed at creation, but the OS still backs each
 * page (or transparent huge page) on first touch. config.prewarm_bytes
 * touches the first N bytes at creation, so those page faults (and the
 * kernel's huge-page zeroing) happen there instead of in the first frame.
 * Reset and rewind never give pages back, so pre-warmed pages stay warm.
 */
#ifndef ALLOY_HUGE_PAGE_H
#define ALLOY_HUGE_PAGE_H

#include <stdbool.h>
#include <stddef.h>

#include "alloy/block.h"
#include "alloy/compiler.h"
#include "alloy/huge_pages.h"
#include "alloy/resource.h"
#include "alloy/status.h"

ALLOY_EXTERN_C_BEGIN

typedef struct alloy_huge_page_arena alloy_huge_page_arena;

#define ALLOY_HUGE_PAGE_NUMA_NONE (-1)  /* leave placement to the kernel */
#define ALLOY_HUGE_PAGE_NUMA_LOCAL (-2) /* the node of the thread that creates the arena */

typedef struct alloy_huge_page_config {
  size_t capacity;      /* bytes, rounded up to whole huge pages */
  alloy_page_kind best; /* the best kind to try (default explicit huge pages) */
  bool require_kind;    /* exactly `best`, else ALLOY_E_UNAVAILABLE */
  int numa_node;        /* node for the pages, or ALLOY_HUGE_PAGE_NUMA_NONE / _LOCAL */
  size_t prewarm_bytes; /* touched at creation (<= capacity), so the first use takes no page fault */
} alloy_huge_page_config;

/* 32 MiB, best available kind, on the calling thread's node. */
alloy_huge_page_config alloy_huge_page_config_default(void);

/* ALLOY_E_INVALID_ARGUMENT for capacity 0, a bad kind or prewarm_bytes above capacity, ALLOY_E_UNAVAILABLE
 * when the required kind or the NUMA node is absent, ALLOY_E_OUT_OF_MEMORY
 * when the mapping is refused. */
ALLOY_NODISCARD alloy_status alloy_huge_page_arena_create(const alloy_huge_page_config *config,
                                                          alloy_huge_page_arena **out);
void alloy_huge_page_arena_destroy(alloy_huge_page_arena *arena);

alloy_resource *alloy_huge_page_arena_resource(alloy_huge_page_arena *arena);

/* What backs the arena. */
alloy_page_kind alloy_huge_page_arena_kind(const alloy_huge_page_arena *arena);
/* The mapping (base, size, kind). */
alloy_huge_mapping alloy_huge_page_arena_mapping(const alloy_huge_page_arena *arena);
size_t alloy_huge_page_arena_used(const alloy_huge_page_arena *arena);
size_t alloy_huge_page_arena_capacity(const alloy_huge_page_arena *arena);

/* Frees every block at once, in O(1). */
void alloy_huge_page_arena_reset(alloy_huge_page_arena *arena);

ALLOY_NODISCARD alloy_status alloy_huge_page_arena_allocate(alloy_huge_page_arena *arena, size_t size, size_t align,
                                                            alloy_block *out);
alloy_status alloy_huge_page_arena_deallocate(alloy_huge_page_arena *arena, alloy_block block);

ALLOY_EXTERN_C_END

#endif /* ALLOY_HUGE_PAGE_H */
