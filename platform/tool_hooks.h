/* alloy/tool_hooks.h — keeps alloy's own memory visible to ASan and Valgrind.
 *
 * Strategies carve blocks out of memory the tools see as one big mapping, so
 * they must say what is live and what is not. This is the only place that
 * includes the tools' headers; everything else calls these macros, which
 * compile to nothing unless the build enables a tool:
 *   - AddressSanitizer: detected from the compiler (-fsanitize=address).
 *   - Valgrind memcheck: ALLOY_WITH_VALGRIND=1, which //platform:tool_hooks
 *     defines for its dependents under --define=alloy_valgrind=1 (the
 *     `valgrind` config), together with the dependency on Valgrind's headers.
 *
 * A "pool" is memcheck's name for a region a strategy manages (its anchor is
 * any stable address, usually the strategy object). Blocks handed out are
 * ALLOY_TRACK_ALLOC'ed (addressable, undefined), blocks taken back are
 * ALLOY_TRACK_FREE'd (no access: a later read or write is reported). A reset
 * that frees every block at once uses ALLOY_TRACK_POOL_RESET, which costs
 * nothing outside the tools.
 */
#ifndef ALLOY_TOOL_HOOKS_H
#define ALLOY_TOOL_HOOKS_H

#include <stddef.h>

#include "alloy/compiler.h"

#if ALLOY_HAS_ASAN
#include <sanitizer/asan_interface.h>
#define ALLOY_ASAN_POISON(addr, size) ASAN_POISON_MEMORY_REGION((addr), (size))
#define ALLOY_ASAN_UNPOISON(addr, size) ASAN_UNPOISON_MEMORY_REGION((addr), (size))
#else
#define ALLOY_ASAN_POISON(addr, size) ((void)(addr), (void)(size))
#define ALLOY_ASAN_UNPOISON(addr, size) ((void)(addr), (void)(size))
#endif

#if ALLOY_WITH_VALGRIND
#include <valgrind/memcheck.h>
#include <valgrind/valgrind.h>
#define ALLOY_RUNNING_ON_VALGRIND() (RUNNING_ON_VALGRIND != 0)
#define ALLOY_VG_NOACCESS(addr, size) (void)VALGRIND_MAKE_MEM_NOACCESS((addr), (size))
#define ALLOY_VG_UNDEFINED(addr, size) (void)VALGRIND_MAKE_MEM_UNDEFINED((addr), (size))
#define ALLOY_VG_DEFINED(addr, size) (void)VALGRIND_MAKE_MEM_DEFINED((addr), (size))
#define ALLOY_VG_POOL_CREATE(pool) VALGRIND_CREATE_MEMPOOL((pool), 0, 0)
#define ALLOY_VG_POOL_DESTROY(pool) VALGRIND_DESTROY_MEMPOOL((pool))
#define ALLOY_VG_POOL_ALLOC(pool, addr, size) VALGRIND_MEMPOOL_ALLOC((pool), (addr), (size))
#define ALLOY_VG_POOL_FREE(pool, addr) VALGRIND_MEMPOOL_FREE((pool), (addr))
#define ALLOY_VG_POOL_CHANGE(pool, addr, size) VALGRIND_MEMPOOL_CHANGE((pool), (addr), (addr), (size))
#else
#define ALLOY_RUNNING_ON_VALGRIND() 0
#define ALLOY_VG_NOACCESS(addr, size) ((void)(addr), (void)(size))
#define ALLOY_VG_UNDEFINED(addr, size) ((void)(addr), (void)(size))
#define ALLOY_VG_DEFINED(addr, size) ((void)(addr), (void)(size))
#define ALLOY_VG_POOL_CREATE(pool) ((void)(pool))
#define ALLOY_VG_POOL_DESTROY(pool) ((void)(pool))
#define ALLOY_VG_POOL_ALLOC(pool, addr, size) ((void)(pool), (void)(addr), (void)(size))
#define ALLOY_VG_POOL_FREE(pool, addr) ((void)(pool), (void)(addr))
#define ALLOY_VG_POOL_CHANGE(pool, addr, size) ((void)(pool), (void)(addr), (void)(size))
#endif

/* Memory nobody may touch (freed, reset, not yet handed out). */
#define ALLOY_MEM_NOACCESS(addr, size)  \
  do {                                  \
    ALLOY_ASAN_POISON((addr), (size));  \
    ALLOY_VG_NOACCESS((addr), (size));  \
  } while (0)

/* Memory that may be written but holds nothing meaningful yet. */
#define ALLOY_MEM_UNDEFINED(addr, size) \
  do {                                  \
    ALLOY_ASAN_UNPOISON((addr), (size)); \
    ALLOY_VG_UNDEFINED((addr), (size)); \
  } while (0)

/* Memory the strategy itself initialised (e.g. an intrusive free-list link it reads). */
#define ALLOY_MEM_DEFINED(addr, size)   \
  do {                                  \
    ALLOY_ASAN_UNPOISON((addr), (size)); \
    ALLOY_VG_DEFINED((addr), (size));   \
  } while (0)

/* A managed region comes to life: nothing in it is accessible yet. */
#define ALLOY_TRACK_POOL_CREATE(pool, region, region_size) \
  do {                                                      \
    ALLOY_VG_POOL_CREATE(pool);                             \
    ALLOY_MEM_NOACCESS((region), (region_size));            \
  } while (0)

/* The region goes away; every block in it is forgotten. */
#define ALLOY_TRACK_POOL_DESTROY(pool, region, region_size) \
  do {                                                       \
    ALLOY_VG_POOL_DESTROY(pool);                             \
    ALLOY_ASAN_UNPOISON((region), (region_size));            \
  } while (0)

/* Every block of the region is freed at once (frame reset, rollback of all). */
#define ALLOY_TRACK_POOL_RESET(pool, region, region_size) \
  do {                                                     \
    ALLOY_VG_POOL_DESTROY(pool);                           \
    ALLOY_VG_POOL_CREATE(pool);                            \
    ALLOY_MEM_NOACCESS((region), (region_size));           \
  } while (0)

/* A block is handed out: addressable, contents undefined. */
#define ALLOY_TRACK_ALLOC(pool, addr, size)    \
  do {                                         \
    ALLOY_ASAN_UNPOISON((addr), (size));       \
    ALLOY_VG_POOL_ALLOC((pool), (addr), (size)); \
  } while (0)

/* A block is taken back: any later access is reported. */
#define ALLOY_TRACK_FREE(pool, addr, size)  \
  do {                                      \
    ALLOY_VG_POOL_FREE((pool), (addr));     \
    ALLOY_ASAN_POISON((addr), (size));      \
  } while (0)

/* A block was resized in place. */
#define ALLOY_TRACK_RESIZE(pool, addr, old_size, new_size)                    \
  do {                                                                         \
    if ((new_size) < (old_size))                                               \
      ALLOY_ASAN_POISON((char *)(addr) + (new_size), (old_size) - (new_size)); \
    else                                                                       \
      ALLOY_ASAN_UNPOISON((addr), (new_size));                                 \
    ALLOY_VG_POOL_CHANGE((pool), (addr), (new_size));                          \
  } while (0)

#endif /* ALLOY_TOOL_HOOKS_H */
