/* The small-object heap: public API, the allocate and free fast paths, the
 * resource ops, statistics and trim. Slow paths live in small_object_cache.c
 * and small_object_page.c, which never call back into this file (see
 * small_object_internal.h for the call graph and the layout). */
#include <string.h>

#include "alloy/align.h"
#include "alloy/fault.h"
#include "alloy/small_object.h"
#include "alloy/vm.h"
#include "small_object_internal.h"

/* Heap ids only identify heaps in the thread-local slot; 0 means none. */
static _Atomic(uint64_t) next_heap_id = 1;

static const alloy_resource_ops small_object_ops;

/* ---- Fast paths ---------------------------------------------------------- */

static ALLOY_COLD alloy_status refuse_request(size_t size, size_t align) {
  ALLOY_TRY(alloy_request_check(size, align));
  return ALLOY_E_UNSUPPORTED; /* too large or too aligned for this heap */
}

/* The smallest class of `heap` holding `size` bytes whose blocks are all
 * `align`-aligned (a power of two), or SO_NO_CLASS. */
static size_t class_for_aligned(const alloy_small_object *heap, size_t size, size_t align) {
  size_t need = size > align ? size : align;
  if (need > heap->max_size || align > heap->max_align) return SO_NO_CLASS;
  size_t cls = alloy_size_class_of(need);
  while (cls < heap->class_count && (heap->class_sizes[cls] & (align - 1)) != 0) ++cls;
  return cls < heap->class_count ? cls : SO_NO_CLASS;
}

/* The class a (size, align) request maps to: SO_NO_CLASS when this heap
 * serves no such block, SO_BAD_ALIGN when the request is invalid. */
static size_t class_of_request(const alloy_small_object *heap, size_t size, size_t align) {
  if (size <= heap->max_size && align < SO_TABLE_ALIGNS) return heap->class_for[align][(size + 7) >> 3];
  if (alloy_request_check(size, align) != ALLOY_OK) return SO_BAD_ALIGN;
  return class_for_aligned(heap, size, align);
}

/* Allocation from the class `cls` (a real class or one of the two refusal
 * entries, whose current page is always empty). */
static ALLOY_ALWAYS_INLINE alloy_status allocate_class(alloy_small_object *heap, so_cache *cache, size_t cls,
                                                      alloy_block *out) {
  so_class_cache *cc = &cache->classes[cls];
  so_page *page = cc->current;
  void *block = page->free;
  if (ALLOY_UNLIKELY(block == NULL)) return alloy_small_object_cache_allocate_slow(heap, cache, cls, out);
  return alloy_so_hand_out(heap, page, block, out);
}

/* Kept out of line so the fast path makes only tail calls and needs no frame:
 * a thread's first call for this heap, large alignments, refusals. */
static ALLOY_NOINLINE alloy_status allocate_general(alloy_small_object *heap, size_t size, size_t align,
                                                    alloy_block *out) {
  size_t cls = class_of_request(heap, size, align);
  if (cls >= SO_NO_CLASS) return refuse_request(size, align);
  return allocate_class(heap, alloy_so_cache_of(heap), cls, out);
}

/* The current page of the size step ran dry (or the step is above max_size). */
static ALLOY_NOINLINE alloy_status allocate_direct_slow(alloy_small_object *heap, so_cache *cache, size_t step,
                                                       alloy_block *out) {
  return alloy_small_object_cache_allocate_slow(heap, cache, heap->class_for[SO_DIRECT_ALIGN][step], out);
}

/* Alignments 1, 2, 4 and 8 (`align` at most SO_DIRECT_ALIGN): one bit test. */
static ALLOY_ALWAYS_INLINE bool is_direct_align(size_t align) {
  return ((SO_DIRECT_ALIGNS >> align) & 1u) != 0;
}

/* The fast path: one compare for the thread's cache, the current page of
 * the size step from the cache's direct table, a pop from its free list.
 * The size is bounded by a constant (the direct table marks the steps above
 * this heap's max_size with the empty page); other alignments, a thread's
 * first call and the sizes above every class go through allocate_general. */
static ALLOY_ALWAYS_INLINE alloy_status allocate(alloy_small_object *heap, size_t size, size_t align,
                                                alloy_block *out) {
  if (ALLOY_UNLIKELY((size > ALLOY_SMALL_OBJECT_MAX_CLASS_SIZE) | (align > SO_DIRECT_ALIGN) |
                     (alloy_small_object_cache_last.heap_id != heap->id)))
    return allocate_general(heap, size, align, out);
  if (ALLOY_UNLIKELY(!is_direct_align(align))) return allocate_general(heap, size, align, out);
  so_cache *cache = alloy_small_object_cache_last.cache;
  size_t step = (size + 7) >> 3;
  so_page *page = cache->direct[step];
  void *block = page->free;
  if (ALLOY_UNLIKELY(block == NULL)) return allocate_direct_slow(heap, cache, step, out);
  return alloy_so_hand_out(heap, page, block, out);
}

alloy_status alloy_small_object_allocate(alloy_small_object *heap, size_t size, size_t align, alloy_block *out) {
  return allocate(heap, size, align, out);
}

static ALLOY_COLD alloy_status report_foreign(const alloy_small_object *heap, alloy_block block, size_t align,
                                              alloy_status kind, size_t expected_size, const char *detail) {
  (void)heap;
  alloy_fault fault = {kind, "small_object", block.ptr, block.size, expected_size, align, 0, detail};
  return alloy_fault_report(&fault);
}

#if ALLOY_DEBUG
/* Everything a debug build can check about a block without trusting it, on
 * top of the every-build checks below. */
static alloy_status check_free(const alloy_small_object *heap, alloy_block block, size_t align) {
  const so_page *page = alloy_so_page_at(heap, (size_t)((char *)block.ptr - heap->pages_begin));
  size_t offset = (size_t)((const char *)block.ptr - page->base);
  if (page->heap != heap) return report_foreign(heap, block, align, ALLOY_E_NOT_OWNED, 0, "not a block of this heap");
  if (page->owner == NULL)
    return report_foreign(heap, block, align, ALLOY_E_DOUBLE_FREE, 0, "the block's page is empty");
  if (offset % page->block_size != 0 || (const char *)block.ptr >= page->end)
    return report_foreign(heap, block, align, ALLOY_E_NOT_OWNED, page->block_size, "not at a block boundary");
  if (block.size > page->block_size)
    return report_foreign(heap, block, align, ALLOY_E_SIZE_MISMATCH, page->block_size, NULL);
  if (!alloy_is_valid_alignment(align) || !alloy_ptr_is_aligned(block.ptr, align))
    return report_foreign(heap, block, align, ALLOY_E_ALIGN_MISMATCH, 0, NULL);
  /* The whole free and deferred lists, not only the head: the 8-byte class
   * has no key, and a key overwritten after the free hides nothing here. */
  if (page->owner == alloy_small_object_cache_last.cache && alloy_small_object_cache_last.heap_id == heap->id &&
      alloy_small_object_check_is_free(page, block.ptr))
    return report_foreign(heap, block, align, ALLOY_E_DOUBLE_FREE, page->block_size, NULL);
  return ALLOY_OK;
}
#endif

/* The every-build checks every free makes, before it touches the block: the
 * pointer is a whole number of blocks into its page and before the page's
 * last whole block, and the size fits the block (see so_class_check). */
static ALLOY_ALWAYS_INLINE bool is_bad_free(uint32_t magic, uint32_t n, bool past_end, size_t size,
                                            size_t block_size) {
  return ((uint32_t)(n * magic) >= magic) | past_end | (size > block_size);
}

/* The same checks from the heap's table of classes: for another thread's
 * page, whose owner-side line (a copy of the class's entry) this thread
 * should not pull away from its owner. */
static ALLOY_ALWAYS_INLINE bool is_bad_free_by_class(const alloy_small_object *heap, const so_page *page,
                                                     uint32_t n, size_t size) {
  const so_class_check *check = &heap->class_checks[page->size_class];
  return is_bad_free(check->magic, n, n >= check->end, size, check->block_size);
}

/* On the owner's page: the copy on the line the free writes anyway. */
static ALLOY_ALWAYS_INLINE bool is_bad_free_by_page(const so_page *page, uint32_t n, const void *ptr, size_t size) {
  return is_bad_free(page->magic, n, (const char *)ptr >= page->end, size, page->block_size);
}

/* Whether a block about to be freed holds the key a free leaves (the tools
 * see its word as the program left it: defined). */
static ALLOY_ALWAYS_INLINE bool holds_key(const alloy_small_object *heap, uint64_t *slot) {
  ALLOY_MEM_DEFINED(slot, sizeof *slot);
  return *slot == heap->free_key;
}

/* The owner's free: push onto the page's free list and count it in the
 * page's `frees`, which keeps both its `used` and the heap's statistics. One
 * compare against slow_at catches every page-state change a local free can
 * cause. The block gets the key first (see holds_key). */
static ALLOY_ALWAYS_INLINE alloy_status push_local(alloy_small_object *heap, so_cache *cache, so_page *page, void *ptr,
                                                  uint64_t *slot) {
  *slot = heap->free_key;
  void *old = page->free;
  *(void **)ptr = old;
  ALLOY_TRACK_FREE(heap, ptr, page->block_size);
  page->free = ptr;
  uint64_t frees = alloy_so_count(&page->frees);
  if (ALLOY_UNLIKELY((uint32_t)frees == page->slow_at)) return alloy_small_object_cache_local_free_slow(cache, page);
  return ALLOY_OK;
}

/* A block holding the key: freed already if its page's lists say so, else
 * the program's data equals the key and the free goes on. Out of line and
 * reached by a tail call, so the fast path needs no frame. */
static ALLOY_COLD ALLOY_NOINLINE alloy_status free_local_holding_key(alloy_small_object *heap, so_cache *cache,
                                                                    so_page *page, alloy_block block, size_t align) {
  ALLOY_TRY(alloy_small_object_check_local_key(page, block, align));
  return push_local(heap, cache, page, block.ptr, alloy_so_key_slot(block.ptr, page->block_size));
}

static ALLOY_ALWAYS_INLINE alloy_status free_local(alloy_small_object *heap, so_cache *cache, so_page *page,
                                                  alloy_block block, size_t align) {
  uint64_t *slot = (uint64_t *)(void *)((char *)block.ptr + page->key_offset);
  if (ALLOY_UNLIKELY(holds_key(heap, slot))) return free_local_holding_key(heap, cache, page, block, align);
  return push_local(heap, cache, page, block.ptr, slot);
}

/* Another thread's block: append it to this thread's open batch for the
 * block's page (the page has blocks in that batch, so it is live and its
 * owner stable); everything else is the slow path. */
static ALLOY_ALWAYS_INLINE alloy_status free_remote(alloy_small_object *heap, so_cache *cache, so_page *page,
                                                   alloy_block block, size_t align) {
  void *ptr = block.ptr;
  size_t cls = page->size_class;
  so_outgoing *out = &cache->out[cls];
  if (ALLOY_UNLIKELY(out->page != page || out->count + 1 >= ALLOY_SMALL_OBJECT_REMOTE_BATCH))
    return alloy_small_object_cache_remote_free_slow(heap, cache, page, block, align);
  /* The page has blocks in the open batch: it is live, its memory there. */
  uint64_t *slot = (uint64_t *)(void *)((char *)ptr + heap->class_checks[cls].key_offset);
  if (ALLOY_UNLIKELY(holds_key(heap, slot))) return alloy_small_object_check_remote_key(page, block, align);
  *slot = heap->free_key;
  ALLOY_TRACK_FREE(heap, ptr, page->block_size);
  ALLOY_MEM_UNDEFINED(ptr, sizeof(void *)); /* the link travels with the block */
  *(void **)ptr = out->first;
  out->first = ptr;
  out->count++;
  alloy_so_count(&cache->classes[cls].remote_sent);
  return ALLOY_OK;
}

static ALLOY_NOINLINE alloy_status deallocate_unbound(alloy_small_object *heap, so_page *page, alloy_block block,
                                                      size_t align) {
  so_cache *cache = alloy_small_object_cache_bind(heap);
  if (page->owner == cache) return free_local(heap, cache, page, block, align);
  return alloy_small_object_cache_remote_free_slow(heap, cache, page, block, align);
}

/* The every-build checks (see is_bad_free) come before the block is touched:
 * on the owner's page from the page's line, else from the class table. */
static ALLOY_ALWAYS_INLINE alloy_status deallocate(alloy_small_object *heap, alloy_block block, size_t align) {
  void *ptr = block.ptr;
  char *pages_begin = heap->pages_begin; /* once: the atomic load below would make the compiler read it again */
  /* One compare keeps foreign pointers (NULL included) away from the descriptors. */
  size_t offset = (size_t)((char *)ptr - pages_begin);
  if (ALLOY_UNLIKELY(offset >= atomic_load_explicit(&heap->pages_bytes, memory_order_relaxed)))
    return report_foreign(heap, block, align, ALLOY_E_NOT_OWNED, 0, "outside the heap's pages");
#if ALLOY_DEBUG
  ALLOY_TRY(check_free(heap, block, align));
#endif
  so_page *page = alloy_so_descriptor(pages_begin, offset >> heap->page_shift);
  uint32_t in_page = (uint32_t)offset & heap->page_mask;
  so_cache *cache = alloy_small_object_cache_last.cache;
  if (ALLOY_LIKELY(alloy_small_object_cache_last.heap_id == heap->id && page->owner == cache)) {
    if (ALLOY_UNLIKELY(is_bad_free_by_page(page, in_page, ptr, block.size)))
      return alloy_small_object_check_bad_free(heap, page, block, align);
    return free_local(heap, cache, page, block, align);
  }
  if (ALLOY_UNLIKELY(is_bad_free_by_class(heap, page, in_page, block.size)))
    return alloy_small_object_check_bad_free(heap, page, block, align);
  if (ALLOY_UNLIKELY(alloy_small_object_cache_last.heap_id != heap->id))
    return deallocate_unbound(heap, page, block, align);
  return free_remote(heap, cache, page, block, align);
}

alloy_status alloy_small_object_deallocate(alloy_small_object *heap, alloy_block block, size_t align) {
  return deallocate(heap, block, align);
}

/* ---- Creation ------------------------------------------------------------ */

static alloy_status resolve_config(const alloy_small_object_config *config, alloy_small_object_config *out) {
  alloy_small_object_config c = {0, 0, 0, 0};
  if (config != NULL) c = *config;
  if (c.max_size == 0) c.max_size = ALLOY_SMALL_OBJECT_DEFAULT_MAX_SIZE;
  if (c.page_size == 0) c.page_size = ALLOY_SMALL_OBJECT_DEFAULT_PAGE_SIZE;
  if (c.capacity == 0) c.capacity = (size_t)4 << 30;
  if (c.max_threads == 0) c.max_threads = 1024;
  if (c.max_size > ALLOY_SMALL_OBJECT_MAX_CLASS_SIZE) return ALLOY_E_INVALID_ARGUMENT;
  if (!alloy_is_power_of_two(c.page_size) || c.page_size < SO_MIN_PAGE_SIZE || c.page_size > SO_MAX_PAGE_SIZE ||
      c.page_size < alloy_vm_page_size())
    return ALLOY_E_INVALID_ARGUMENT;
  if (c.capacity > ALLOY_MAX_REQUEST / 2 || c.max_threads > ((size_t)1 << 20)) return ALLOY_E_INVALID_ARGUMENT;
  c.max_size = alloy_size_class_size(alloy_size_class_of(c.max_size));
  c.capacity = alloy_align_up(c.capacity < c.page_size ? c.page_size : c.capacity, c.page_size);
  *out = c;
  return ALLOY_OK;
}

/* class_for[a][i]: the class of a request for 8 * i bytes aligned to a. */
static void build_class_table(alloy_small_object *heap) {
  for (size_t align = 0; align < SO_TABLE_ALIGNS; ++align) {
    for (size_t step = 0; step < SO_SIZE_STEPS; ++step) {
      size_t cls = alloy_is_valid_alignment(align) ? class_for_aligned(heap, step * 8, align) : SO_BAD_ALIGN;
      heap->class_for[align][step] = (uint8_t)cls;
    }
  }
}

/* class_checks[c]: see so_class_check. Classes beyond class_count keep the
 * first class's entry: a never-initialised descriptor says class 0. */
static void build_class_checks(alloy_small_object *heap) {
  for (size_t cls = 0; cls < SO_MAX_CLASSES; ++cls) {
    uint32_t size = (uint32_t)heap->class_sizes[cls < heap->class_count ? cls : 0];
    so_class_check *check = &heap->class_checks[cls];
    check->block_size = size;
    check->magic = UINT32_MAX / size + 1;
    check->end = (uint32_t)(heap->page_size / size * size);
    check->key_offset = (uint32_t)alloy_so_key_offset(size);
  }
}

/* The freed-block key: the cycle counter and the heap's address through a
 * 64-bit mixer (splitmix64's finaliser); the top bit set keeps it apart from
 * every user-space pointer and from 0. */
static uint64_t make_free_key(const alloy_small_object *heap) {
  uint64_t x = (uint64_t)(uintptr_t)heap ^ ((uint64_t)heap->id << 32);
#if defined(__x86_64__) || defined(__i386__)
  x ^= __builtin_ia32_rdtsc();
#elif defined(__aarch64__)
  uint64_t ticks;
  __asm__ volatile("mrs %0, cntvct_el0" : "=r"(ticks));
  x ^= ticks;
#endif
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  x ^= x >> 31;
  return x | ((uint64_t)1 << 63);
}

alloy_status alloy_small_object_create(const alloy_small_object_config *config, alloy_small_object **out) {
  if (out == NULL) return ALLOY_E_INVALID_ARGUMENT;
  alloy_small_object_config c;
  ALLOY_TRY(resolve_config(config, &c));

  size_t max_align = (size_t)1 << alloy_log2_floor(c.max_size);
  size_t cache_stride = alloy_align_up(sizeof(so_cache), ALLOY_CACHE_LINE);
  size_t heap_bytes = alloy_align_up(sizeof(alloy_small_object), ALLOY_CACHE_LINE);
  size_t page_capacity = c.capacity / c.page_size;
  size_t caches_end = alloy_align_up(heap_bytes + c.max_threads * cache_stride, alloy_vm_page_size());
  size_t descriptors_reserved = alloy_align_up(page_capacity * sizeof(so_page), alloy_vm_page_size());
  size_t meta_size = alloy_align_up(caches_end + descriptors_reserved, c.page_size);
  size_t arena_size = meta_size + c.capacity;

  void *arena;
  ALLOY_TRY(alloy_vm_reserve(arena_size, c.page_size, &arena));
  size_t first_commit = alloy_align_up(heap_bytes + cache_stride, alloy_vm_page_size());
  alloy_status status = alloy_vm_commit(arena, first_commit);
  if (status != ALLOY_OK) {
    ALLOY_IGNORE_STATUS(alloy_vm_release(arena, arena_size));
    return status;
  }

  alloy_small_object *heap = arena;
  memset(heap, 0, sizeof *heap);
  heap->resource.ops = &small_object_ops;
  heap->id = atomic_fetch_add_explicit(&next_heap_id, 1, memory_order_relaxed);
  heap->max_size = c.max_size;
  heap->max_align = max_align;
  heap->page_size = c.page_size;
  heap->page_shift = alloy_log2_floor(c.page_size);
  heap->page_mask = (uint32_t)(c.page_size - 1);
  heap->class_count = alloy_size_class_count(c.max_size);
  for (size_t cls = 0; cls < heap->class_count; ++cls) heap->class_sizes[cls] = alloy_size_class_size(cls);
  build_class_table(heap);
  build_class_checks(heap);
  heap->free_key = make_free_key(heap);
  heap->arena = arena;
  heap->arena_size = arena_size;
  heap->meta_size = meta_size;
  heap->pages_begin = (char *)arena + meta_size;
  heap->descriptors_reserved = descriptors_reserved;
  atomic_init(&heap->pages_bytes, (size_t)0);
  heap->page_capacity = page_capacity;
  heap->meta_committed = first_commit;
  heap->caches = (so_cache *)(void *)((char *)arena + heap_bytes);
  heap->max_caches = c.max_threads;
  alloy_spin_lock_init(&heap->lock);
  alloy_remote_free_source_init(&heap->empty_page.remote);
  heap->empty_page.heap = heap;
  alloy_small_object_cache_init(heap, &heap->orphan);

  status = alloy_thread_exit_key_create(&heap->key, alloy_small_object_cache_thread_exit);
  if (status != ALLOY_OK) {
    ALLOY_IGNORE_STATUS(alloy_vm_release(arena, arena_size));
    return status;
  }
  ALLOY_VG_POOL_CREATE(heap);
  *out = heap;
  return ALLOY_OK;
}

void alloy_small_object_destroy(alloy_small_object *heap) {
  if (heap == NULL) return;
  alloy_thread_exit_key_delete(&heap->key);
  if (alloy_small_object_cache_last.heap_id == heap->id) {
    alloy_small_object_cache_last.heap_id = 0;
    alloy_small_object_cache_last.cache = NULL;
  }
  char *arena = heap->arena;
  size_t arena_size = heap->arena_size;
  size_t used_pages = atomic_load_explicit(&heap->pages_bytes, memory_order_relaxed);
  ALLOY_VG_POOL_DESTROY(heap);
  /* Leave no poisoned shadow behind for whatever is mapped here next. */
  ALLOY_ASAN_UNPOISON(heap->pages_begin, used_pages);
  ALLOY_IGNORE_STATUS(alloy_vm_release(arena, arena_size));
}

alloy_resource *alloy_small_object_resource(alloy_small_object *heap) { return &heap->resource; }

void alloy_small_object_collect(alloy_small_object *heap) {
  so_cache *cache = alloy_so_cache_of(heap);
  if (cache != &heap->orphan) alloy_small_object_cache_collect(cache);
}

void alloy_small_object_thread_detach(alloy_small_object *heap) {
  so_cache *cache = alloy_thread_exit_get(&heap->key);
  if (cache == NULL) return;
  ALLOY_IGNORE_STATUS(alloy_thread_exit_set(&heap->key, NULL));
  alloy_small_object_cache_release(cache);
}

/* Collecting abandoned caches first: their thread left, but remote frees may
 * have emptied pages of theirs since, which then join the recycler. */
void alloy_small_object_trim(alloy_small_object *heap) {
  alloy_spin_lock_acquire(&heap->lock);
  alloy_small_object_cache_collect_abandoned(heap);
  alloy_small_object_page_decommit_recycled(heap);
  alloy_spin_lock_release(&heap->lock);
}

/* ---- Stats --------------------------------------------------------------- */

/* Remote frees: counted by their senders, and still in their pages' `used`
 * until the owner takes them back. */
static void sum_cache(const alloy_small_object *heap, const so_cache *cache, alloy_small_object_stats *s,
                      int64_t *live) {
  for (size_t cls = 0; cls < heap->class_count; ++cls) {
    uint64_t sent = alloy_so_counter_read(&cache->classes[cls].remote_sent);
    uint64_t reclaimed = alloy_so_counter_read(&cache->classes[cls].remote_reclaimed);
    s->deallocations += sent;
    s->remote_deallocations += sent;
    *live -= ((int64_t)sent - (int64_t)reclaimed) * (int64_t)heap->class_sizes[cls];
  }
}

/* Allocations and local frees: counted by the pages (lock held, so no page
 * is carved meanwhile). Other threads may be moving the counters: a page
 * whose three counters were read across one of its owner's calls can show
 * a `used` beyond its capacity, and counts nothing live this time. */
static void sum_pages(const alloy_small_object *heap, alloy_small_object_stats *s, int64_t *live) {
  for (size_t i = 0; i < heap->pages_carved; ++i) {
    const so_page *page = alloy_so_page_by_index(heap, i);
    uint64_t allocations = alloy_so_counter_read(&page->allocations);
    uint64_t frees = alloy_so_counter_read(&page->frees);
    uint32_t reclaimed = __atomic_load_n(&page->reclaimed, __ATOMIC_RELAXED);
    uint32_t block_size = __atomic_load_n(&page->block_size, __ATOMIC_RELAXED);
    s->allocations += allocations;
    s->deallocations += frees;
    uint32_t used = (uint32_t)(allocations - frees) - reclaimed;
    if (used != 0 && block_size != 0 && used <= heap->page_size / block_size) *live += (int64_t)used * block_size;
  }
}

void alloy_small_object_get_stats(const alloy_small_object *heap, alloy_small_object_stats *out) {
  alloy_small_object *h = (alloy_small_object *)heap;
  alloy_small_object_stats s;
  memset(&s, 0, sizeof s);
  int64_t live = 0;
  alloy_spin_lock_acquire(&h->lock);
  sum_pages(h, &s, &live);
  for (size_t i = 0; i < h->caches_created; ++i) sum_cache(h, &h->caches[i], &s, &live);
  sum_cache(h, &h->orphan, &s, &live);
  s.live_bytes = live > 0 ? (size_t)live : 0;
  if (s.live_bytes > h->peak_live_bytes) h->peak_live_bytes = s.live_bytes;
  s.peak_live_bytes = h->peak_live_bytes;
  s.committed_bytes = (h->pages_carved - h->decommitted_count) * h->page_size + h->meta_committed +
                      h->descriptors_committed;
  s.pages_committed = h->pages_carved;
  s.pages_recycled = h->recycled_count;
  s.thread_caches = h->caches_created;
  s.abandoned_caches = h->abandoned_count;
  s.adoptions = h->adoptions;
  alloy_spin_lock_release(&h->lock);
  *out = s;
}

/* ---- Resource ops -------------------------------------------------------- */

/* The fast paths expanded here too: a call through the ops table lands
 * on them directly. */
static alloy_status op_allocate(alloy_resource *self, size_t size, size_t align, alloy_block *out) {
  return allocate((alloy_small_object *)self, size, align, out);
}

static alloy_status op_deallocate(alloy_resource *self, alloy_block block, size_t align) {
  return deallocate((alloy_small_object *)self, block, align);
}

/* In place when the new size needs no larger block; the block keeps its class. */
static alloy_status op_resize(alloy_resource *self, alloy_block block, size_t new_size, size_t align,
                              alloy_block *out) {
  alloy_small_object *heap = (alloy_small_object *)self;
  size_t cls = class_of_request(heap, block.size, align);
  if (cls >= SO_NO_CLASS || new_size > heap->class_sizes[cls]) return ALLOY_E_UNSUPPORTED;
  *out = alloy_block_make(block.ptr, heap->class_sizes[cls]);
  return ALLOY_OK;
}

static alloy_status op_reallocate(alloy_resource *self, alloy_block block, size_t new_size, size_t align,
                                  alloy_block *out) {
  if (block.ptr != NULL && op_resize(self, block, new_size, align, out) == ALLOY_OK) return ALLOY_OK;
  if (block.ptr == NULL) return op_allocate(self, new_size, align, out);
  return alloy_resource_reallocate_by_moving(self, block, new_size, align, out);
}

static bool op_owns(const alloy_resource *self, alloy_block block) {
  const alloy_small_object *heap = (const alloy_small_object *)self;
  size_t offset = (size_t)((const char *)block.ptr - heap->pages_begin);
  size_t bytes = atomic_load_explicit(&((alloy_small_object *)heap)->pages_bytes, memory_order_relaxed);
  return offset < bytes;
}

static void op_get_info(const alloy_resource *self, alloy_resource_info *info) {
  const alloy_small_object *heap = (const alloy_small_object *)self;
  alloy_small_object_stats s;
  alloy_small_object_get_stats(heap, &s);
  info->thread_safety = ALLOY_THREAD_SAFE;
  info->max_alignment = heap->max_align;
  info->max_size = heap->max_size;
  info->size_class_count = heap->class_count;
  info->size_classes = heap->class_sizes;
  info->has_stats = true;
  info->stats.live_bytes = s.live_bytes;
  info->stats.peak_live_bytes = s.peak_live_bytes;
  info->stats.reserved_bytes = heap->arena_size;
  info->stats.committed_bytes = s.committed_bytes;
  info->stats.allocations = s.allocations;
  info->stats.deallocations = s.deallocations;
}

static const alloy_resource_ops small_object_ops = {
    .struct_size = sizeof(alloy_resource_ops),
    .name = "small_object",
    .allocate = op_allocate,
    .deallocate = op_deallocate,
    .reallocate = op_reallocate,
    .resize = op_resize,
    .owns = op_owns,
    .get_info = op_get_info,
};
