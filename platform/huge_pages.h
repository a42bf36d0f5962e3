/* alloy/huge_pages.h — mappings on 2 MiB (or the system's) huge pages.
 *
 * Three kinds, best first: explicit huge pages (hugetlbfs, only when the
 * administrator reserved some in /proc/sys/vm/nr_hugepages), transparent huge
 * pages (an aligned mapping advised with MADV_HUGEPAGE, when THP is not
 * "never"), and normal pages. alloy_huge_pages_map() degrades through them
 * and reports the kind it got; alloy_huge_pages_map_kind() insists on one
 * and returns ALLOY_E_UNAVAILABLE when the machine cannot provide it (or the
 * build turned huge pages off, see alloy/options.h).
 */
#ifndef ALLOY_HUGE_PAGES_H
#define ALLOY_HUGE_PAGES_H

#include <stdbool.h>
#include <stddef.h>

#include "alloy/compiler.h"
#include "alloy/status.h"

ALLOY_EXTERN_C_BEGIN

typedef enum alloy_page_kind {
  ALLOY_PAGES_NORMAL,
  ALLOY_PAGES_TRANSPARENT_HUGE,
  ALLOY_PAGES_EXPLICIT_HUGE,
} alloy_page_kind;

typedef enum alloy_thp_mode {
  ALLOY_THP_UNSUPPORTED, /* the kernel has no transparent huge pages */
  ALLOY_THP_NEVER,
  ALLOY_THP_MADVISE,     /* only ranges advised with MADV_HUGEPAGE */
  ALLOY_THP_ALWAYS,
} alloy_thp_mode;

typedef struct alloy_huge_mapping {
  void *base;
  size_t size;          /* a multiple of alloy_huge_page_size() */
  alloy_page_kind kind; /* what the mapping is backed by */
} alloy_huge_mapping;

/* False when alloy was built with ALLOY_WITH_HUGE_PAGES=0: only normal pages
 * are ever mapped, and asking for a huge kind is ALLOY_E_UNAVAILABLE. */
bool alloy_huge_pages_enabled(void);

/* The default huge page size (Hugepagesize in /proc/meminfo; 2 MiB on x86-64). */
size_t alloy_huge_page_size(void);

/* The kernel's transparent-huge-page mode. */
alloy_thp_mode alloy_thp_current_mode(void);

/* Explicit huge pages reserved and free right now (HugePages_Free). */
size_t alloy_huge_pages_free(void);

const char *alloy_page_kind_name(alloy_page_kind kind);

/* Maps `size` bytes (rounded up to huge pages) on the best kind not above
 * `best`, committed, zero-filled and aligned to the huge page size. */
ALLOY_NODISCARD alloy_status alloy_huge_pages_map(size_t size, alloy_page_kind best, alloy_huge_mapping *out);

/* As alloy_huge_pages_map, but exactly `kind` or ALLOY_E_UNAVAILABLE. */
ALLOY_NODISCARD alloy_status alloy_huge_pages_map_kind(size_t size, alloy_page_kind kind, alloy_huge_mapping *out);

ALLOY_NODISCARD alloy_status alloy_huge_pages_unmap(const alloy_huge_mapping *mapping);

/* Bytes of [addr, addr + size) the kernel currently backs with transparent
 * huge pages (from /proc/self/smaps); lets callers verify what THP did. */
size_t alloy_huge_pages_thp_backed_bytes(const void *addr, size_t size);

ALLOY_EXTERN_C_END

#endif /* ALLOY_HUGE_PAGES_H */
