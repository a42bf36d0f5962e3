/* alloy/options.h — every compile-time option, one line each.
 *
 * Set them with Bazel, never by editing code; the value is attached to
 * //primitives so every component sees the same one:
 *
 *   ALLOY_DEFAULT_ALIGNMENT  16 | 32  --define=alloy_default_alignment=32 (config align32):
 *                            the alignment alloy assumes when a caller has no stronger need.
 *   ALLOY_WITH_HUGE_PAGES    1 | 0    --define=alloy_huge_pages=0 (config no_huge_pages):
 *                            0 makes the platform never ask for huge pages; huge-page
 *                            mappings degrade to normal pages.
 *   ALLOY_DEBUG              0 | 1    config debug: alloy's internal contract checks (ALLOY_ASSERT).
 *   ALLOY_WITH_VALGRIND      0 | 1    config valgrind: strategies describe their memory to memcheck.
 *   AddressSanitizer         config asan: detected from the compiler; strategies poison freed memory.
 */
#ifndef ALLOY_OPTIONS_H
#define ALLOY_OPTIONS_H

#ifndef ALLOY_DEFAULT_ALIGNMENT
#define ALLOY_DEFAULT_ALIGNMENT 16
#endif

#ifndef ALLOY_WITH_HUGE_PAGES
#define ALLOY_WITH_HUGE_PAGES 1
#endif

#ifndef ALLOY_DEBUG
#define ALLOY_DEBUG 0
#endif

#ifndef ALLOY_WITH_VALGRIND
#define ALLOY_WITH_VALGRIND 0
#endif

#endif /* ALLOY_OPTIONS_H */
