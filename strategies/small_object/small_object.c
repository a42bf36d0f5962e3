/* The small-object heap: public API, the allocate and free fast paths, the
 * resource ops, statistics and trim. Slow paths live in small_object_cache.c
 * and small_object_page.c, which never call back into this file (see
 * small_object_internal.h for the call graph and the layout). */
#include <stdio.h>
#include <string.h>

#include "alloy/align.h"
#include "alloy/fault.h"
#include "alloy/random.h"
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
  if (ALLOY_UNLIKELY(!alloy_so_hand_out(heap, page, block, out)))
    return alloy_small_object_cache_allocate_slow(heap, cache, cls, out); /* refuses the list */
  return ALLOY_OK;
}

/* Kept out of line so the fast path makes only tail calls and needs no frame:
 * a thread's first call for this heap, large alignments, refusals. */
static ALLOY_NOINLINE alloy_status allocate_general(alloy_small_object *heap, size_t size, size_t align,
                                                    alloy_block *out) {
  size_t cls = class_of_request(heap, size, align);
  if (cls >= SO_NO_CLASS) return refuse_request(size, align);
  return allocate_class(heap, alloy_so_cache_of(heap), cls, out);
}

/* The current page of the size step ran dry (or the step is above max_size),
 * or its first free block was refused. */
static ALLOY_NOINLINE alloy_status allocate_direct_slow(alloy_small_object *heap, so_cache *cache, size_t step,
                                                       alloy_block *out) {
  return alloy_small_object_cache_allocate_slow(heap, cache, heap->class_for[SO_DIRECT_ALIGN][step], out);
}

/* Alignments 1, 2, 4, 8 and 16 (`align` at most SO_DIRECT_ALIGN_MAX): one bit test. */
static ALLOY_ALWAYS_INLINE bool is_direct_align(size_t align) {
  return ((SO_DIRECT_ALIGNS >> align) & 1u) != 0;
}

/* The direct table's step for `size` bytes aligned to a direct alignment:
 * (size + 7) / 8 up to 8; for 16, the size rounded up to a non-zero multiple
 * of 16 first, whose smallest class is 16-aligned (see SO_DIRECT_ALIGN_MAX).
 * A branch rather than a branch-free rounding: a call site asks one
 * alignment, and the alignments up to 8 keep their two instructions. */
static ALLOY_ALWAYS_INLINE size_t direct_step(size_t size, size_t align) {
  if (align == SO_DIRECT_ALIGN_MAX) return ((size + 15) >> 4 | (size_t)(size == 0)) << 1;
  return (size + 7) >> 3;
}

/* The fast path: one compare for the thread's cache, the current page of
 * the size step from the cache's direct table, a pop from its free list.
 * The size is bounded by a constant (the direct table marks the steps above
 * this heap's max_size with the empty page); other alignments, a thread's
 * first call and the sizes above every class go through allocate_general. */
static ALLOY_ALWAYS_INLINE alloy_status allocate(alloy_small_object *heap, size_t size, size_t align,
                                                alloy_block *out) {
  if (ALLOY_UNLIKELY((size > ALLOY_SMALL_OBJECT_MAX_CLASS_SIZE) | (align > SO_DIRECT_ALIGN_MAX) |
                     (alloy_small_object_cache_last.heap_id != heap->id)))
    return allocate_general(heap, size, align, out);
  if (ALLOY_UNLIKELY(!is_direct_align(align))) return allocate_general(heap, size, align, out);
  so_cache *cache = alloy_small_object_cache_last.cache;
  size_t step = direct_step(size, align);
  so_page *page = cache->direct[step];
  void *block = page->free;
  if (ALLOY_UNLIKELY(block == NULL)) return allocate_direct_slow(heap, cache, step, out);
  if (ALLOY_UNLIKELY(!alloy_so_hand_out(heap, page, block, out))) return allocate_direct_slow(heap, cache, step, out);
  return ALLOY_OK;
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

/* The free's one check failed (see deallocate): works out which fault it
 * was. A pointer that is no block start is an interior pointer, named with
 * the start of the block it points into; else the size was too large. */
static ALLOY_COLD ALLOY_NOINLINE alloy_status report_bad_free(const alloy_small_object *heap, alloy_block block,
                                                              size_t align) {
  static ALLOY_THREAD_LOCAL char detail[96]; /* read by the handler before this thread's next report */
  const so_page *page = alloy_so_page_at(heap, (size_t)((char *)block.ptr - heap->pages_begin));
  size_t block_size = page->free_size_max;
  if (page->block_count == 0)
    return report_foreign(heap, block, align, ALLOY_E_NOT_OWNED, 0, "in a page that holds no blocks yet");
  size_t offset = (size_t)((const char *)block.ptr - page->base);
  size_t index = offset / block_size;
  if (index >= page->block_count)
    return report_foreign(heap, block, align, ALLOY_E_INTERIOR_POINTER, block_size, "past the page's last whole block");
  if (offset % block_size != 0) {
    snprintf(detail, sizeof detail, "%zu bytes into the block at %p", offset % block_size,
             (void *)(page->base + index * block_size));
    return report_foreign(heap, block, align, ALLOY_E_INTERIOR_POINTER, block_size, detail);
  }
  return report_foreign(heap, block, align, ALLOY_E_SIZE_MISMATCH, block_size, NULL);
}

#if ALLOY_DEBUG
/* What a debug build checks besides the every-build checks (the block's
 * start and size are checked already). */
static alloy_status check_free(const alloy_small_object *heap, alloy_block block, size_t align) {
  const so_page *page = alloy_so_page_at(heap, (size_t)((char *)block.ptr - heap->pages_begin));
  if (page->heap != heap) return report_foreign(heap, block, align, ALLOY_E_NOT_OWNED, 0, "not a block of this heap");
  if (page->owner == NULL)
    return report_foreign(heap, block, align, ALLOY_E_DOUBLE_FREE, 0, "the block's page is empty");
  if (!alloy_is_valid_alignment(align) || !alloy_ptr_is_aligned(block.ptr, align))
    return report_foreign(heap, block, align, ALLOY_E_ALIGN_MISMATCH, 0, NULL);
  if (page->owner == alloy_small_object_cache_last.cache && alloy_small_object_cache_last.heap_id == heap->id &&
      page->free == block.ptr)
    return report_foreign(heap, block, align, ALLOY_E_DOUBLE_FREE, page->block_size, NULL);
  return ALLOY_OK;
}
#endif

/* The owner's free: push onto the page's free list (the link and the mark,
 * stores only) and count it in the page's `frees`, which keeps both its
 * `used` and the heap's statistics. One compare against slow_at catches
 * every page-state change a local free can cause. */
static ALLOY_ALWAYS_INLINE alloy_status free_local(alloy_small_object *heap, so_cache *cache, so_page *page,
                                                  void *ptr) {
  void *old = page->free;
  alloy_so_mark_free_at(ptr, old, page->mark_offset, heap->free_key);
  ALLOY_TRACK_FREE(heap, ptr, page->free_size_max);
  page->free = ptr;
  uint64_t frees = alloy_so_count(&page->frees);
  if (ALLOY_UNLIKELY((uint32_t)frees == page->slow_at)) return alloy_small_object_cache_local_free_slow(cache, page);
  return ALLOY_OK;
}

/* Another thread's block: append it to this thread's open batch for the
 * block's page (the page has blocks in that batch, so it is live and its
 * owner stable); everything else is the slow path. A block freed twice into
 * a batch is found when the owner takes the batch (check_batch). */
static ALLOY_ALWAYS_INLINE alloy_status free_remote(alloy_small_object *heap, so_cache *cache, so_page *page,
                                                   void *ptr) {
  size_t cls = page->size_class;
  so_outgoing *out = &cache->out[cls];
  if (ALLOY_UNLIKELY(out->page != page || out->count + 1 >= ALLOY_SMALL_OBJECT_REMOTE_BATCH))
    return alloy_small_object_cache_remote_free_slow(heap, cache, page, ptr);
  size_t block_size = page->free_size_max;
  ALLOY_TRACK_FREE(heap, ptr, block_size);
  ALLOY_MEM_UNDEFINED(ptr, alloy_so_free_bytes(block_size)); /* the link and mark travel with the block */
  alloy_so_mark_free(ptr, out->first, block_size, heap->free_key);
  out->first = ptr;
  out->count++;
  alloy_so_count(&cache->classes[cls].remote_sent);
  return ALLOY_OK;
}

static ALLOY_NOINLINE alloy_status deallocate_unbound(alloy_small_object *heap, so_page *page, void *ptr) {
  so_cache *cache = alloy_small_object_cache_bind(heap);
  if (page->owner == cache) return free_local(heap, cache, page, ptr);
  return alloy_small_object_cache_remote_free_slow(heap, cache, page, ptr);
}

/* A free whose pointer lies in the heap's pages, `offset` bytes into them. */
static ALLOY_ALWAYS_INLINE alloy_status free_in_pages(alloy_small_object *heap, char *pages_begin, size_t offset,
                                                     alloy_block block, size_t align) {
  void *ptr = block.ptr;
  so_page *page = alloy_so_descriptor(pages_begin, offset >> heap->page_shift);
  /* From the descriptor line every free reads: a block start (one multiply
   * and compare: on a boundary and inside the block area) of a size at
   * least the one given. Never the block itself. */
  if (ALLOY_UNLIKELY(!alloy_so_is_block_start(page, ptr) | (block.size > page->free_size_max)))
    return report_bad_free(heap, block, align);
#if ALLOY_DEBUG
  ALLOY_TRY(check_free(heap, block, align));
#else
  (void)align;
#endif
  if (ALLOY_UNLIKELY(alloy_small_object_cache_last.heap_id != heap->id)) return deallocate_unbound(heap, page, ptr);
  so_cache *cache = alloy_small_object_cache_last.cache;
  if (ALLOY_LIKELY(page->owner == cache)) return free_local(heap, cache, page, ptr);
  return free_remote(heap, cache, page, ptr);
}

static ALLOY_ALWAYS_INLINE alloy_status deallocate(alloy_small_object *heap, alloy_block block, size_t align) {
  char *pages_begin = heap->pages_begin; /* once: the atomic load below would make the compiler read it again */
  /* One compare keeps foreign pointers (NULL included) away from the descriptors. */
  size_t offset = (size_t)((char *)block.ptr - pages_begin);
  if (ALLOY_UNLIKELY(offset >= atomic_load_explicit(&heap->pages_bytes, memory_order_relaxed)))
    return report_foreign(heap, block, align, ALLOY_E_NOT_OWNED, 0, "outside the heap's pages");
  return free_in_pages(heap, pages_begin, offset, block, align);
}

alloy_status alloy_small_object_deallocate(alloy_small_object *heap, alloy_block block, size_t align) {
  return deallocate(heap, block, align);
}

/* The size 0 given makes the size check pass: the block's own size is the
 * one it is freed with. */
bool alloy_small_object_free(alloy_small_object *heap, void *ptr) {
  char *pages_begin = heap->pages_begin;
  size_t offset = (size_t)((char *)ptr - pages_begin);
  if (ALLOY_UNLIKELY(offset >= atomic_load_explicit(&heap->pages_bytes, memory_order_relaxed))) return false;
  alloy_block block = {ptr, 0};
  ALLOY_IGNORE_STATUS(free_in_pages(heap, pages_begin, offset, block, 1)); /* a bad free went to the fault handler */
  return true;
}

size_t alloy_small_object_block_size(const alloy_small_object *heap, const void *ptr) {
  size_t offset = (size_t)((const char *)ptr - heap->pages_begin);
  if (offset >= atomic_load_explicit(&((alloy_small_object *)heap)->pages_bytes, memory_order_acquire)) return 0;
  const so_page *page = alloy_so_page_at(heap, offset);
  if (!alloy_so_is_block_start(page, ptr)) return 0;
  return page->free_size_max;
}

/* ---- Creation ------------------------------------------------------------ */

static alloy_status resolve_config(const alloy_small_object_config *config, alloy_small_object_config *out) {
  alloy_small_object_config c = {0};
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
  heap->free_key = alloy_random_key(heap); /* never 0, the mark of a live block */
  heap->max_size = c.max_size;
  heap->max_align = max_align;
  heap->page_size = c.page_size;
  heap->on_page_event = c.on_page_event;
  heap->page_event_context = c.page_event_context;
  heap->page_shift = alloy_log2_floor(c.page_size);
  heap->class_count = alloy_size_class_count(c.max_size);
  for (size_t cls = 0; cls < heap->class_count; ++cls) heap->class_sizes[cls] = alloy_size_class_size(cls);
  build_class_table(heap);
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
  alloy_fork_guard_register_lock(&heap->fork_guard, &heap->lock);
  ALLOY_VG_POOL_CREATE(heap);
  *out = heap;
  return ALLOY_OK;
}

void alloy_small_object_destroy(alloy_small_object *heap) {
  if (heap == NULL) return;
  alloy_fork_guard_unregister(&heap->fork_guard);
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
    so_page_counts counts = alloy_so_page_counts(alloy_so_page_by_index(heap, i));
    s->allocations += counts.allocations;
    s->deallocations += counts.frees;
    *live += (int64_t)alloy_so_page_bytes_in_use(counts, heap->page_size);
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
