/* alloy/lua_alloc.h — Lua 5.4 on alloy: a lua_Alloc backed by alloy's sized
 * allocation.
 *
 * Lua's allocator hook, lua_Alloc(ud, ptr, osize, nsize), hands the old size
 * to every free and every reallocation: alloy's sized contract, so blocks
 * carry no header and a free needs no size lookup. By default the adapter
 * owns a size-routed heap: blocks up to `small_max` bytes (Lua's strings,
 * tables, closures, upvalues) come from a small-object heap of its own,
 * larger ones (array parts, hash parts, long strings, stacks) from the system
 * heap, whose realloc may grow them in place; the size Lua gives says where
 * a block lives. The small-object heap uses 16 KiB pages (64 KiB when
 * small_max is above 2 KiB), which keeps a state's resident memory down. Blocks are aligned to 8 bytes, what Lua's LUAI_MAXALIGN
 * (doubles, pointers, 64-bit integers) asks.
 *
 * Or every block comes from a resource the caller names (config.resource),
 * any alloy stack: leak(debug(...)) in tests, a partition, a TLSF heap behind
 * the locked decorator.
 *
 * A budget (config.budget) puts a tagged decorator (alloy/tagged.h) over the
 * blocks' resource, charging every block to config.tag: a request that would
 * take the state above the budget gets NULL, and Lua, after a full
 * emergency collection, raises a memory error (LUA_ERRMEM) that a protected
 * call catches; the state stays usable.
 *
 * The hook follows Lua's conventions exactly:
 *   ptr == NULL   allocate nsize bytes; osize is then the type of the object
 *                 (LUA_TSTRING, LUA_TTABLE, ...), not a size, and is ignored;
 *   nsize == 0    free ptr (osize bytes) and return NULL; a NULL ptr is a no-op;
 *   otherwise     resize ptr from osize to nsize bytes, in place or moving;
 *                 on failure return NULL and leave the old block intact.
 *
 * One adapter may serve several states; it is as thread-safe as its
 * resource (the default heap is). Destroy it after lua_close of every state
 * it serves.
 */
#ifndef ALLOY_LUA_ALLOC_H
#define ALLOY_LUA_ALLOC_H

#include <stddef.h>

#include "alloy/compiler.h"
#include "alloy/memory_tag.h"
#include "alloy/resource.h"
#include "alloy/status.h"
#include "alloy/tagged.h"
#include "lua.h"

ALLOY_EXTERN_C_BEGIN

typedef struct alloy_lua_alloc alloy_lua_alloc;

/* Zero in a field means its default. */
typedef struct alloy_lua_alloc_config {
  alloy_resource *resource; /* where blocks come from; NULL: the adapter's own size-routed heap.
                             * The caller's: it must outlive the adapter */
  size_t small_max;         /* own heap: the largest block of its small-object heap; 0: 256, at most
                             * ALLOY_SMALL_OBJECT_MAX_CLASS_SIZE (8 KiB) */
  size_t budget;            /* bytes the state(s) may hold at once; 0: unlimited (no tagged decorator) */
  alloy_tag tag;            /* with a budget: the tag blocks are charged to (0: untagged) */
} alloy_lua_alloc_config;

/* config may be NULL (the defaults). ALLOY_E_INVALID_ARGUMENT for a small_max
 * above ALLOY_SMALL_OBJECT_MAX_CLASS_SIZE, a small_max given with a resource,
 * or a tag beyond ALLOY_TAG_CAPACITY. */
ALLOY_NODISCARD alloy_status alloy_lua_alloc_create(const alloy_lua_alloc_config *config, alloy_lua_alloc **out);

/* Releases the adapter and its own heap. Call it after lua_close of every
 * state it served. NULL is a no-op. */
void alloy_lua_alloc_destroy(alloy_lua_alloc *adapter);

/* The lua_Alloc; `ud` is the adapter. */
void *alloy_lua_alloc_fn(void *ud, void *ptr, size_t osize, size_t nsize);

/* lua_newstate(alloy_lua_alloc_fn, adapter): NULL when Lua cannot get the
 * memory for the state. */
lua_State *alloy_lua_newstate(alloy_lua_alloc *adapter);

/* The budget's counters (live and peak bytes, refusals). ALLOY_E_UNSUPPORTED
 * without a budget. */
ALLOY_NODISCARD alloy_status alloy_lua_alloc_budget_stats(const alloy_lua_alloc *adapter, alloy_tag_stats *out);

ALLOY_EXTERN_C_END

#endif /* ALLOY_LUA_ALLOC_H */
