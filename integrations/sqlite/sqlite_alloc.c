/* The SQLite adapter: creation, installation, and the methods over the
 * own size-routed heap (fast path) or any resource. */
#include "alloy/sqlite_alloc.h"

#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include "alloy/heap.h"
#include "alloy/size_class.h"
#include "alloy/sized_heap.h"

#define SQLITE_OWN_SMALL_MAX 1024u

struct alloy_sqlite_alloc {
  alloy_resource *resource; /* NULL: blocks come from `heap` directly */
  bool owns_heap;
  alloy_sized_heap heap;
};

/* The adapter whose methods SQLite calls: its xMalloc and friends get no
 * context. Written on install and by xInit, read on every call. */
static _Atomic(alloy_sqlite_alloc *) installed;

_Static_assert(ALLOY_SQLITE_HEADER_SIZE == sizeof(uint64_t) && ALLOY_SQLITE_HEADER_SIZE % ALLOY_SIZED_HEAP_ALIGN == 0,
               "the header holds the size and keeps the block aligned");

static ALLOY_ALWAYS_INLINE alloy_sqlite_alloc *current(void) {
  return atomic_load_explicit(&installed, memory_order_relaxed);
}

static ALLOY_ALWAYS_INLINE void *payload_of(void *base, size_t size) {
  memcpy(base, &(uint64_t){size}, sizeof(uint64_t));
  return (char *)base + ALLOY_SQLITE_HEADER_SIZE;
}

static ALLOY_ALWAYS_INLINE void *base_of(void *payload) { return (char *)payload - ALLOY_SQLITE_HEADER_SIZE; }

static ALLOY_ALWAYS_INLINE size_t size_of(void *payload) {
  uint64_t size;
  memcpy(&size, base_of(payload), sizeof size);
  return (size_t)size;
}

/* ---- The methods through any resource ---------------------------------- */

static ALLOY_NOINLINE void *resource_malloc(alloy_sqlite_alloc *adapter, size_t size) {
  alloy_block block;
  if (alloy_resource_allocate(adapter->resource, size + ALLOY_SQLITE_HEADER_SIZE, ALLOY_SIZED_HEAP_ALIGN, &block) !=
      ALLOY_OK)
    return NULL;
  return payload_of(block.ptr, size);
}

static ALLOY_NOINLINE void resource_free(alloy_sqlite_alloc *adapter, void *payload) {
  alloy_block block = alloy_block_make(base_of(payload), size_of(payload) + ALLOY_SQLITE_HEADER_SIZE);
  (void)alloy_resource_deallocate(adapter->resource, block, ALLOY_SIZED_HEAP_ALIGN);
}

static ALLOY_NOINLINE void *resource_realloc(alloy_sqlite_alloc *adapter, void *payload, size_t size) {
  alloy_block block = alloy_block_make(base_of(payload), size_of(payload) + ALLOY_SQLITE_HEADER_SIZE);
  alloy_block moved;
  if (alloy_resource_reallocate(adapter->resource, block, size + ALLOY_SQLITE_HEADER_SIZE, ALLOY_SIZED_HEAP_ALIGN,
                                &moved) != ALLOY_OK)
    return NULL;
  return payload_of(moved.ptr, size);
}

/* ---- The methods ---------------------------------------------------------- */

static void *sqlite_malloc(int requested) {
  alloy_sqlite_alloc *adapter = current();
  if (ALLOY_UNLIKELY(requested < 0 || adapter == NULL)) return NULL;
  const size_t size = (size_t)requested;
  if (ALLOY_UNLIKELY(adapter->resource != NULL)) return resource_malloc(adapter, size);
  void *base = alloy_sized_heap_allocate(&adapter->heap, size + ALLOY_SQLITE_HEADER_SIZE);
  return base != NULL ? payload_of(base, size) : NULL;
}

static void sqlite_free(void *payload) {
  alloy_sqlite_alloc *adapter = current();
  if (payload == NULL) return;
  if (ALLOY_UNLIKELY(adapter->resource != NULL)) {
    resource_free(adapter, payload);
    return;
  }
  alloy_sized_heap_free(&adapter->heap, base_of(payload), size_of(payload) + ALLOY_SQLITE_HEADER_SIZE);
}

static void *sqlite_realloc(void *payload, int requested) {
  if (payload == NULL) return sqlite_malloc(requested);
  alloy_sqlite_alloc *adapter = current();
  if (ALLOY_UNLIKELY(requested < 0)) return NULL;
  const size_t size = (size_t)requested;
  if (ALLOY_UNLIKELY(adapter->resource != NULL)) return resource_realloc(adapter, payload, size);
  void *base = alloy_sized_heap_reallocate(
      &adapter->heap, base_of(payload), size_of(payload) + ALLOY_SQLITE_HEADER_SIZE, size + ALLOY_SQLITE_HEADER_SIZE);
  return base != NULL ? payload_of(base, size) : NULL;
}

static int sqlite_size(void *payload) { return payload != NULL ? (int)size_of(payload) : 0; }

/* What a block of `requested` bytes really offers: its small-object class
 * less the header, else the size rounded to the alignment. */
static int sqlite_roundup(int requested) {
  alloy_sqlite_alloc *adapter = current();
  if (requested <= 0) return requested;
  const size_t total = (size_t)requested + ALLOY_SQLITE_HEADER_SIZE;
  if (adapter != NULL && adapter->resource == NULL && total <= adapter->heap.small_max)
    return (int)(alloy_size_class_size(alloy_size_class_of(total)) - ALLOY_SQLITE_HEADER_SIZE);
  if (requested > INT32_MAX - (int)ALLOY_SIZED_HEAP_ALIGN) return requested;
  return (requested + (int)ALLOY_SIZED_HEAP_ALIGN - 1) & ~((int)ALLOY_SIZED_HEAP_ALIGN - 1);
}

/* SQLite initializes its allocator: the adapter it was configured with becomes the installed one. */
static int sqlite_init(void *app_data) {
  atomic_store_explicit(&installed, (alloy_sqlite_alloc *)app_data, memory_order_relaxed);
  return SQLITE_OK;
}

/* The heap outlives SQLite's shutdown: SQLite may be initialized on it again. */
static void sqlite_shutdown(void *app_data) { (void)app_data; }

/* ---- Creation ------------------------------------------------------------- */

alloy_status alloy_sqlite_alloc_create(const alloy_sqlite_alloc_config *config, alloy_sqlite_alloc **out) {
  alloy_sqlite_alloc_config c = {NULL, 0};
  if (config != NULL) c = *config;
  if (out == NULL || c.small_max > ALLOY_SMALL_OBJECT_MAX_CLASS_SIZE || (c.resource != NULL && c.small_max != 0))
    return ALLOY_E_INVALID_ARGUMENT;
  void *memory;
  ALLOY_TRY(alloy_heap_allocate(sizeof(alloy_sqlite_alloc), ALLOY_CACHE_LINE, &memory));
  alloy_sqlite_alloc *adapter = (alloy_sqlite_alloc *)memory;
  *adapter = (alloy_sqlite_alloc){.resource = c.resource};
  if (c.resource == NULL) {
    alloy_status status =
        alloy_sized_heap_init(&adapter->heap, c.small_max != 0 ? c.small_max : SQLITE_OWN_SMALL_MAX, 0);
    if (status != ALLOY_OK) {
      alloy_heap_free(adapter);
      return status;
    }
    adapter->owns_heap = true;
  }
  *out = adapter;
  return ALLOY_OK;
}

void alloy_sqlite_alloc_destroy(alloy_sqlite_alloc *adapter) {
  if (adapter == NULL) return;
  alloy_sqlite_alloc *expected = adapter;
  atomic_compare_exchange_strong(&installed, &expected, NULL);
  if (adapter->owns_heap) alloy_sized_heap_destroy(&adapter->heap);
  alloy_heap_free(adapter);
}

void alloy_sqlite_alloc_methods(alloy_sqlite_alloc *adapter, sqlite3_mem_methods *out) {
  *out = (sqlite3_mem_methods){
      .xMalloc = sqlite_malloc,
      .xFree = sqlite_free,
      .xRealloc = sqlite_realloc,
      .xSize = sqlite_size,
      .xRoundup = sqlite_roundup,
      .xInit = sqlite_init,
      .xShutdown = sqlite_shutdown,
      .pAppData = adapter,
  };
}

alloy_status alloy_sqlite_alloc_install(alloy_sqlite_alloc *adapter) {
  if (adapter == NULL) return ALLOY_E_INVALID_ARGUMENT;
  sqlite3_mem_methods methods;
  alloy_sqlite_alloc_methods(adapter, &methods);
  if (sqlite3_config(SQLITE_CONFIG_MALLOC, &methods) != SQLITE_OK) return ALLOY_E_UNSUPPORTED;
  atomic_store_explicit(&installed, adapter, memory_order_relaxed);
  return ALLOY_OK;
}
