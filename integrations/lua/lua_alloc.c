/* The Lua adapter: creation, and the lua_Alloc hook with its two routes
 * (the own size-routed heap, fast path first; any resource). */
#include "alloy/lua_alloc.h"

#include "alloy/fallback.h"
#include "alloy/heap.h"
#include "alloy/sized_heap.h"
#include "alloy/small_object.h"
#include "alloy/system.h"

struct alloy_lua_alloc {
  alloy_resource *resource; /* NULL: blocks come from `heap` directly */
  alloy_tagged *budget;     /* when config.budget is set; `resource` is then its face */
  alloy_tag tag;
  bool owns_heap;
  alloy_sized_heap heap;
  alloy_fallback chain; /* the own heap as a resource, for the tagged decorator */
};

_Static_assert(__builtin_types_compatible_p(__typeof__(&alloy_lua_alloc_fn), lua_Alloc),
               "the hook's type must stay lua_Alloc");

/* The own heap's small-object page size. A Lua state's live blocks are few
 * and spread over many classes (strings of every length, tables, closures,
 * upvalues, call frames), and after each collection most pages of a class
 * hold a handful of survivors: 16 KiB pages let a class's emptied page serve
 * another class sooner than the default 64 KiB ones (table_churn's peak
 * resident memory falls by about 6 %, binary_trees' a little; the extra page
 * turns cost about 2 % of the hook's instructions). Kept while a page still
 * holds at least 8 blocks of the largest class; above that, the default. */
#define LUA_ALLOC_PAGE_SIZE (16u * 1024u)
#define LUA_ALLOC_MIN_BLOCKS_PER_PAGE 8u

static size_t own_heap_page_size(size_t small_max) {
  if (small_max == 0) small_max = ALLOY_SMALL_OBJECT_DEFAULT_MAX_SIZE;
  return small_max * LUA_ALLOC_MIN_BLOCKS_PER_PAGE <= LUA_ALLOC_PAGE_SIZE ? LUA_ALLOC_PAGE_SIZE : 0;
}

static bool config_is_valid(const alloy_lua_alloc_config *c) {
  if (c->small_max > ALLOY_SMALL_OBJECT_MAX_CLASS_SIZE || c->tag >= ALLOY_TAG_CAPACITY) return false;
  return c->resource == NULL || c->small_max == 0;
}

/* The own heap as a resource: its small-object heap first, then the system
 * heap, which owns every block the small-object heap does not. */
static alloy_status own_heap_as_resource(alloy_lua_alloc *adapter, alloy_resource **out) {
  alloy_resource *members[2] = {alloy_small_object_resource(adapter->heap.small), adapter->heap.large};
  ALLOY_TRY(alloy_fallback_init(&adapter->chain, members, 2));
  *out = alloy_fallback_resource(&adapter->chain);
  return ALLOY_OK;
}

static alloy_status attach_budget(alloy_lua_alloc *adapter, alloy_resource *inner, const alloy_lua_alloc_config *c) {
  alloy_tagged_config tagged_config = {{0}, NULL, NULL};
  tagged_config.budgets[c->tag] = c->budget;
  ALLOY_TRY(alloy_tagged_create(inner, &tagged_config, &adapter->budget));
  adapter->resource = alloy_tagged_resource(adapter->budget);
  return ALLOY_OK;
}

static alloy_status set_up(alloy_lua_alloc *adapter, const alloy_lua_alloc_config *c) {
  alloy_resource *inner = c->resource;
  if (inner == NULL) {
    ALLOY_TRY(alloy_sized_heap_init_paged(&adapter->heap, c->small_max, own_heap_page_size(c->small_max), 0));
    adapter->owns_heap = true;
    if (c->budget == 0) return ALLOY_OK;
    ALLOY_TRY(own_heap_as_resource(adapter, &inner));
  }
  adapter->resource = inner;
  if (c->budget != 0) ALLOY_TRY(attach_budget(adapter, inner, c));
  return ALLOY_OK;
}

alloy_status alloy_lua_alloc_create(const alloy_lua_alloc_config *config, alloy_lua_alloc **out) {
  alloy_lua_alloc_config c = {NULL, 0, 0, 0};
  if (config != NULL) c = *config;
  if (out == NULL || !config_is_valid(&c)) return ALLOY_E_INVALID_ARGUMENT;
  void *memory;
  ALLOY_TRY(alloy_heap_allocate(sizeof(alloy_lua_alloc), ALLOY_CACHE_LINE, &memory));
  alloy_lua_alloc *adapter = (alloy_lua_alloc *)memory;
  *adapter = (alloy_lua_alloc){.tag = c.tag};
  alloy_status status = set_up(adapter, &c);
  if (status != ALLOY_OK) {
    alloy_lua_alloc_destroy(adapter);
    return status;
  }
  *out = adapter;
  return ALLOY_OK;
}

void alloy_lua_alloc_destroy(alloy_lua_alloc *adapter) {
  if (adapter == NULL) return;
  alloy_tagged_destroy(adapter->budget);
  if (adapter->owns_heap) alloy_sized_heap_destroy(&adapter->heap);
  alloy_heap_free(adapter);
}

/* Any resource, the budget's tagged decorator included. */
static ALLOY_NOINLINE void *through_resource(alloy_lua_alloc *adapter, void *ptr, size_t osize, size_t nsize) {
  alloy_block block;
  if (ptr == NULL) {
    if (nsize == 0) return NULL;
    alloy_status status =
        adapter->budget != NULL
            ? alloy_tagged_allocate(adapter->budget, adapter->tag, nsize, ALLOY_SIZED_HEAP_ALIGN, &block)
            : alloy_resource_allocate(adapter->resource, nsize, ALLOY_SIZED_HEAP_ALIGN, &block);
    return status == ALLOY_OK ? block.ptr : NULL;
  }
  if (nsize == 0) {
    (void)alloy_resource_deallocate(adapter->resource, alloy_block_make(ptr, osize), ALLOY_SIZED_HEAP_ALIGN);
    return NULL;
  }
  if (alloy_resource_reallocate(adapter->resource, alloy_block_make(ptr, osize), nsize, ALLOY_SIZED_HEAP_ALIGN,
                                &block) != ALLOY_OK)
    return NULL;
  return block.ptr;
}

void *alloy_lua_alloc_fn(void *ud, void *ptr, size_t osize, size_t nsize) {
  alloy_lua_alloc *adapter = (alloy_lua_alloc *)ud;
  if (ALLOY_UNLIKELY(adapter->resource != NULL)) return through_resource(adapter, ptr, osize, nsize);
  alloy_sized_heap *heap = &adapter->heap;
  if (ptr == NULL) return nsize != 0 ? alloy_sized_heap_allocate(heap, nsize) : NULL;
  if (nsize == 0) {
    alloy_sized_heap_free(heap, ptr, osize);
    return NULL;
  }
  return alloy_sized_heap_reallocate(heap, ptr, osize, nsize);
}

lua_State *alloy_lua_newstate(alloy_lua_alloc *adapter) { return lua_newstate(alloy_lua_alloc_fn, adapter); }

alloy_status alloy_lua_alloc_budget_stats(const alloy_lua_alloc *adapter, alloy_tag_stats *out) {
  if (adapter == NULL || out == NULL) return ALLOY_E_INVALID_ARGUMENT;
  if (adapter->budget == NULL) return ALLOY_E_UNSUPPORTED;
  return alloy_tagged_get_tag_stats(adapter->budget, adapter->tag, out);
}
