/* alloy/sqlite_alloc.h — SQLite on alloy: sqlite3_mem_methods backed by
 * alloy.
 *
 * SQLite asks its allocator for the size of a block from the pointer alone
 * (xSize) and frees without a size (xFree), so, unlike Lua, it cannot hand
 * alloy the size it freed. Each block therefore carries an 8-byte header
 * in front of it that holds its size (SQLite's own default allocator does
 * the same where malloc_usable_size is missing); the header keeps the 8-byte
 * alignment SQLite needs. With the size read back from the header, every
 * free and reallocation is a sized one.
 *
 * By default the adapter owns a size-routed heap: blocks whose size plus
 * header fit `small_max` come from a small-object heap of its own, larger
 * ones (page-cache pages, sorter buffers) from the system heap, whose
 * realloc may resize them in place. Or every block comes from a resource the
 * caller names (config.resource), any alloy stack: leak(debug(...)) in
 * tests. xRoundup answers the size the block really offers (its small-object
 * class, less the header), so SQLite uses the whole block.
 *
 * SQLite's allocator is process-wide and its xMalloc, xFree, xRealloc and
 * xSize receive no context: the installed adapter is kept in one
 * process-wide pointer, set by alloy_sqlite_alloc_install. Install before
 * sqlite3_initialize (or after sqlite3_shutdown). Destroy an adapter only
 * once SQLite is shut down and will not be initialized on it again (or
 * another allocator was configured): SQLite keeps calling the methods it was
 * given.
 */
#ifndef ALLOY_SQLITE_ALLOC_H
#define ALLOY_SQLITE_ALLOC_H

#include <stddef.h>

#include "alloy/compiler.h"
#include "alloy/resource.h"
#include "alloy/status.h"
#include "sqlite3.h"

ALLOY_EXTERN_C_BEGIN

/* Bytes in front of every block: its size. */
#define ALLOY_SQLITE_HEADER_SIZE 8u

typedef struct alloy_sqlite_alloc alloy_sqlite_alloc;

/* Zero in a field means its default. */
typedef struct alloy_sqlite_alloc_config {
  alloy_resource *resource; /* where blocks come from; NULL: the adapter's own size-routed heap.
                             * The caller's: it must outlive the adapter */
  size_t small_max;         /* own heap: the largest small-object block (header included); 0: 1 KiB */
} alloy_sqlite_alloc_config;

/* config may be NULL (the defaults). ALLOY_E_INVALID_ARGUMENT for a small_max
 * above 1 KiB or one given with a resource. */
ALLOY_NODISCARD alloy_status alloy_sqlite_alloc_create(const alloy_sqlite_alloc_config *config,
                                                       alloy_sqlite_alloc **out);

/* Releases the adapter and its own heap (see the header comment for when). NULL is a no-op. */
void alloy_sqlite_alloc_destroy(alloy_sqlite_alloc *adapter);

/* The methods SQLite calls (pAppData is the adapter). */
void alloy_sqlite_alloc_methods(alloy_sqlite_alloc *adapter, sqlite3_mem_methods *out);

/* sqlite3_config(SQLITE_CONFIG_MALLOC, methods of `adapter`). ALLOY_E_UNSUPPORTED
 * when SQLite refuses (it is initialized: call sqlite3_shutdown first). */
ALLOY_NODISCARD alloy_status alloy_sqlite_alloc_install(alloy_sqlite_alloc *adapter);

ALLOY_EXTERN_C_END

#endif /* ALLOY_SQLITE_ALLOC_H */
