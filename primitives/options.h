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
 *   ALLOY_WITH_CANARIES      0 | 1    --define=alloy_canaries=1 (config canaries):
 *                            the debug decorator's defaults (NULL config, alloy_debug_config_default,
 *                            alloy_memory_config_defaults' debug.check_on_destroy) also check the
 *                            canaries of every block still live when the decorator is destroyed.
 *   ALLOY_WITH_LEAK_TRACKING 0 | 1    --define=alloy_leak_tracking=1 (config leak_tracking):
 *                            the leak decorator's defaults (NULL config, depth 0, leak.depth of
 *                            alloy_memory_config_defaults) record 32 stack frames per block, not 16.
 *   ALLOY_DEBUG              0 | 1    config debug: alloy's internal contract checks (ALLOY_ASSERT).
 *   ALLOY_WITH_VALGRIND      0 | 1    --define=alloy_valgrind=1 (config valgrind), attached to
 *                            //platform:tool_hooks with Valgrind's headers:
 *                            strategies describe their memory to memcheck.
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

#ifndef ALLOY_WITH_CANARIES
#define ALLOY_WITH_CANARIES 0
#endif

#ifndef ALLOY_WITH_LEAK_TRACKING
#define ALLOY_WITH_LEAK_TRACKING 0
#endif

#ifndef ALLOY_DEBUG
#define ALLOY_DEBUG 0
#endif

#ifndef ALLOY_WITH_VALGRIND
#define ALLOY_WITH_VALGRIND 0
#endif

#endif /* ALLOY_OPTIONS_H */
