/* Thread caches of the small-object heap: binding a thread to its cache,
 * the allocation slow path, remote frees in and out, thread exit and
 * adoption of abandoned caches. Called by small_object.c; calls only
 * small_object_page.c. */
#include <string.h>

#include "alloy/fault.h"
#include "small_object_internal.h"

/* Defined beside the binding that writes it; the fast paths in
 * small_object.c read it through the initial-exec declaration in
 * small_object_internal.h, which a static link turns into one
 * thread-pointer-relative load. */
ALLOY_THREAD_LOCAL so_thread_slot alloy_small_object_cache_last __attribute__((tls_model("initial-exec")));

void alloy_small_object_cache_init(alloy_small_object *heap, so_cache *cache) {
  memset(cache, 0, sizeof *cache);
  cache->heap = heap;
  for (size_t cls = 0; cls <= SO_BAD_ALIGN; ++cls) cache->classes[cls].current = &heap->empty_page;
  for (size_t step = 0; step < SO_SIZE_STEPS; ++step) cache->direct[step] = &heap->empty_page;
  alloy_remote_free_inbox_init(&cache->inbox);
}

/* Makes `page` the current page of class `cls`, in classes[] and in every
 * size step of direct[] the class serves (a contiguous run ending at the
 * class's own size). */
static void set_current(so_cache *cache, size_t cls, so_page *page) {
  const alloy_small_object *heap = cache->heap;
  cache->classes[cls].current = page;
  const uint8_t *row = heap->class_for[SO_DIRECT_ALIGN];
  for (size_t step = heap->class_sizes[cls] / 8u; row[step] == cls; --step) {
    cache->direct[step] = page;
    if (step == 0) break;
  }
}

/* ---- Page lists (owner only) --------------------------------------------- */

static void partial_push(so_cache *cache, so_page *page) {
  so_class_cache *cc = &cache->classes[page->size_class];
  alloy_so_page_set_state(page, SO_PAGE_PARTIAL);
  page->prev = NULL;
  page->next = cc->partial;
  if (cc->partial != NULL) cc->partial->prev = page;
  cc->partial = page;
}

static void partial_unlink(so_cache *cache, so_page *page) {
  so_class_cache *cc = &cache->classes[page->size_class];
  if (page->prev != NULL) page->prev->next = page->next;
  else cc->partial = page->next;
  if (page->next != NULL) page->next->prev = page->prev;
  page->prev = page->next = NULL;
}

/* An empty page leaves its class: kept for reuse, or back to the recycler.
 * Abandoned caches are only touched with the heap lock held. */
static void retire_page(so_cache *cache, so_page *page) {
  alloy_small_object *heap = cache->heap;
  if (page->state == SO_PAGE_PARTIAL) partial_unlink(cache, page);
  if (cache->abandoned) {
    alloy_small_object_page_release_locked(heap, page);
  } else if (cache->stash_count < SO_STASH_MAX) {
    alloy_so_page_set_state(page, SO_PAGE_STASHED);
    page->next = cache->stash;
    cache->stash = page;
    cache->stash_count++;
  } else {
    alloy_small_object_page_release(heap, page);
  }
}

/* Reports a double free or a corrupted free block found by the heap (not
 * at a free): the page becomes suspect, so it is never retired. */
static void report_found(so_page *page, void *block, alloy_status kind, const char *detail) {
  page->suspect = true;
  alloy_fault fault = {kind, "small_object", block, 0, page->block_size, 0, 0, detail};
  ALLOY_IGNORE_STATUS(alloy_fault_report(&fault));
}

/* Whether a page whose counters say it is empty really is: its free and
 * deferred lists hold every block carved from it, each marked free. A double
 * free counts a block twice, so `used` can reach 0 while a block is live
 * (and the list may cycle): such a page is reported and kept, suspect,
 * rather than reused under the live block. Each walk is bounded by the
 * number of blocks carved; it runs once per page emptied. */
static bool page_is_empty(alloy_small_object *heap, so_page *page) {
  size_t block_size = page->block_size;
  size_t free_bytes = alloy_so_free_bytes(block_size);
  size_t carved = (size_t)(page->unbuilt - page->base) / block_size;
  uint64_t key = heap->free_key;
  size_t seen = 0;
  void *lists[2] = {page->free, page->deferred};
  for (size_t i = 0; i < 2; ++i) {
    for (void *block = lists[i]; block != NULL; ++seen) {
      if (seen == carved) {
        report_found(page, block, ALLOY_E_DOUBLE_FREE, "a free list holds a block twice: freed twice");
        return false;
      }
      ALLOY_MEM_DEFINED(block, free_bytes);
      void *next = *(void **)block;
      uint64_t mark = alloy_so_has_mark(block_size) ? ((const uint64_t *)block)[1] : key;
      ALLOY_MEM_NOACCESS(block, free_bytes);
      if (mark != key) {
        report_found(page, block, mark == 0 ? ALLOY_E_DOUBLE_FREE : ALLOY_E_CORRUPTION,
                     mark == 0 ? "a live block is on a free list: freed twice"
                               : "a free block was overwritten (use after free)");
        return false;
      }
      block = next;
    }
  }
  if (seen == carved) return true;
  report_found(page, page->free, ALLOY_E_DOUBLE_FREE, "the page looks empty with blocks still live: freed twice");
  return false;
}

/* The page just gained free blocks; true when it emptied and retired. A
 * suspect page never retires: a double free into it counted a block as free
 * that may still be live. */
static bool page_gained_free(so_cache *cache, so_page *page) {
  if (alloy_so_page_used(page) == 0 && page->state != SO_PAGE_CURRENT && !page->suspect &&
      page_is_empty(cache->heap, page)) {
    retire_page(cache, page);
    return true;
  }
  if (page->state == SO_PAGE_FULL) partial_push(cache, page);
  return false;
}

/* The creator's page-event hook, if any (see alloy_small_object_config). */
static void page_event(const alloy_small_object *heap) {
  if (heap->on_page_event != NULL) heap->on_page_event(heap->page_event_context);
}

alloy_status alloy_small_object_cache_local_free_slow(so_cache *cache, so_page *page) {
  if (page_gained_free(cache, page)) page_event(cache->heap);
  return ALLOY_OK;
}

/* ---- Remote frees -------------------------------------------------------- */

/* The free list of `page` starts with a block whose mark says it is not
 * free: handed out already (a double free put it on the list again) or
 * written after its free. Reports it and drops the rest of the list: those
 * blocks leak, none is handed out on a suspect link. */
void alloy_small_object_cache_refuse_list(alloy_small_object *heap, so_page *page) {
  void *block = page->free;
  uint64_t mark = ((const uint64_t *)block)[1];
  page->free = NULL;
  if (mark == 0)
    report_found(page, block, ALLOY_E_DOUBLE_FREE, "handed out twice: freed twice");
  else
    report_found(page, block, ALLOY_E_CORRUPTION, "a free block was overwritten (use after free)");
  (void)heap;
}

/* Checks a batch of `count` blocks freed by other threads before it joins
 * the page's lists: `count` blocks, each marked free, ending the chain. A
 * double free in a batch breaks the count (the channel rewrote a cycle's
 * link); a block handed out since its free has no mark. The walk reads the
 * blocks the owner is about to hand out, and is bounded by `count`. Returns
 * the last block, or NULL when the batch must be dropped. Under the tools it
 * also makes the links the senders left addressable inaccessible again. */
static void *check_batch(alloy_small_object *heap, so_page *page, void *first, size_t count) {
  size_t block_size = page->block_size;
  size_t free_bytes = alloy_so_free_bytes(block_size);
  uint64_t key = heap->free_key;
  void *block = first, *last = NULL;
  size_t seen = 0;
  for (; block != NULL && seen < count; ++seen) {
    ALLOY_MEM_DEFINED(block, free_bytes);
    void *next = *(void **)block;
    uint64_t mark = alloy_so_has_mark(block_size) ? ((const uint64_t *)block)[1] : key;
    ALLOY_MEM_NOACCESS(block, free_bytes);
    if (ALLOY_UNLIKELY(mark != key)) {
      report_found(page, block, mark == 0 ? ALLOY_E_DOUBLE_FREE : ALLOY_E_CORRUPTION,
                   mark == 0 ? "freed by another thread after it was handed out again: freed twice"
                             : "a block freed by another thread was overwritten (use after free)");
      return NULL;
    }
    last = block;
    block = next;
  }
  if (ALLOY_UNLIKELY(seen != count || block != NULL)) {
    report_found(page, first, ALLOY_E_DOUBLE_FREE, "a batch of remote frees holds a block twice");
    return NULL;
  }
  return last;
}

/* Splices a batch of `count` blocks freed by other threads into the page
 * (after check_batch). A batch that fails the check is dropped: its blocks
 * leak and stay counted in `used`, and the page, now suspect, never retires. */
static void absorb(alloy_small_object *heap, so_cache *cache, so_page *page, void *first, size_t count) {
  void *last = check_batch(heap, page, first, count);
  if (ALLOY_UNLIKELY(last == NULL)) return;
  if (page->free == NULL) {
    page->free = first;
  } else if (page->deferred == NULL) {
    page->deferred = first;
  } else {
    ALLOY_MEM_UNDEFINED(last, sizeof(void *));
    *(void **)last = page->deferred;
    ALLOY_MEM_NOACCESS(last, sizeof(void *));
    page->deferred = first;
  }
  __atomic_store_n(&page->reclaimed, page->reclaimed + (uint32_t)count, __ATOMIC_RELAXED);
  alloy_so_add(&cache->classes[page->size_class].remote_reclaimed, count);
  alloy_so_page_set_state(page, (so_page_state)page->state); /* `used` moved: so does slow_at */
  page_gained_free(cache, page);
}

/* Moves the deferred blocks to the free list once it ran dry. */
static ALLOY_ALWAYS_INLINE bool take_deferred(so_page *page) {
  if (page->deferred == NULL) return false;
  page->free = page->deferred;
  page->deferred = NULL;
  return true;
}

static void reclaim_remote(so_cache *cache) {
  alloy_small_object *heap = cache->heap;
  alloy_remote_free_source *source = alloy_remote_free_receive(&cache->inbox);
  while (source != NULL) {
    alloy_remote_free_source *next = alloy_remote_free_source_next(source);
    size_t count;
    void *blocks = alloy_remote_free_take(source, &count);
    if (blocks != NULL) absorb(heap, cache, ALLOY_CONTAINER_OF(source, so_page, remote), blocks, count);
    source = next;
  }
}

static void send_outgoing(so_cache *cache, size_t cls) {
  so_outgoing *out = &cache->out[cls];
  so_page *page = out->page; /* has live blocks (these), so its owner is stable */
  alloy_remote_free_send(&page->owner->inbox, &page->remote, out->first, out->last, out->count);
  out->page = NULL;
  out->first = out->last = NULL;
  out->count = 0;
  cache->out_pending &= ~((uint64_t)1 << cls);
}

static void flush_outgoing(so_cache *cache) {
  for (uint64_t pending = cache->out_pending; pending != 0; pending &= pending - 1)
    send_outgoing(cache, alloy_bit_scan_forward((size_t)pending));
}

/* Everything but appending to the open batch of the block's page (which the
 * fast path in small_object.c does): a block of an empty page, a thread
 * without a cache, a batch for another page, a full batch. */
alloy_status alloy_small_object_cache_remote_free_slow(alloy_small_object *heap, so_cache *cache, so_page *page,
                                                       void *block) {
  if (ALLOY_UNLIKELY(page->owner == NULL)) {
    /* Its page is empty and unowned: every block of it was freed already. */
    alloy_fault fault = {ALLOY_E_DOUBLE_FREE, "small_object", block, 0, 0, 0, 0, "the block's page is empty"};
    return alloy_fault_report(&fault);
  }
  size_t cls = page->size_class;
  so_outgoing *out = &cache->out[cls];
  size_t block_size = page->free_size_max;
  uint64_t key = heap->free_key;
  ALLOY_TRACK_FREE(heap, block, block_size);
  ALLOY_MEM_UNDEFINED(block, alloy_so_free_bytes(block_size)); /* the link and mark travel with the block */
  if (ALLOY_UNLIKELY(cache == &heap->orphan)) {
    /* A thread without a cache: no batching, counters shared. */
    alloy_so_count_shared(&cache->classes[cls].remote_sent);
    alloy_so_mark_free(block, NULL, block_size, key);
    alloy_remote_free_send(&page->owner->inbox, &page->remote, block, block, 1);
    return ALLOY_OK;
  }
  alloy_so_count(&cache->classes[cls].remote_sent);
  if (out->page != page) {
    if (out->page != NULL) send_outgoing(cache, cls);
    out->page = page;
    out->last = block;
    alloy_so_mark_free(block, NULL, block_size, key);
    cache->out_pending |= (uint64_t)1 << cls;
  } else {
    alloy_so_mark_free(block, out->first, block_size, key);
  }
  out->first = block;
  if (++out->count >= ALLOY_SMALL_OBJECT_REMOTE_BATCH) send_outgoing(cache, cls);
  return ALLOY_OK;
}

/* ---- Allocation slow path ------------------------------------------------ */

/* An empty page from the heap: a recycled one, else one abandoned caches
 * give back once collected, else a never-used one. */
static alloy_status acquire_page(alloy_small_object *heap, so_page **out) {
  alloy_spin_lock_acquire(&heap->lock);
  so_page *page;
  alloy_status status = alloy_small_object_page_take_recycled(heap, &page);
  if (status == ALLOY_OK && page == NULL && heap->abandoned != NULL) {
    alloy_small_object_cache_collect_abandoned(heap);
    status = alloy_small_object_page_take_recycled(heap, &page);
  }
  if (status == ALLOY_OK && page == NULL) status = alloy_small_object_page_carve_fresh(heap, &page);
  alloy_spin_lock_release(&heap->lock);
  if (status == ALLOY_OK) *out = page;
  return status;
}

static alloy_status fresh_page(alloy_small_object *heap, so_cache *cache, size_t cls, so_page **out) {
  so_page *page = cache->stash;
  if (page != NULL) {
    cache->stash = page->next;
    cache->stash_count--;
  } else {
    ALLOY_TRY(acquire_page(heap, &page));
  }
  alloy_small_object_page_init(heap, page, cache, cls);
  alloy_small_object_page_carve(heap, page);
  *out = page;
  return ALLOY_OK;
}

/* Makes sure the current page of class `cls` has free blocks, the current
 * page changing if need be. A partial page may have only deferred blocks, or
 * none at all once its list was refused (it still counts live blocks). */
static alloy_status refill(alloy_small_object *heap, so_cache *cache, size_t cls) {
  so_class_cache *cc = &cache->classes[cls];
  so_page *page = cc->current;

  /* 1. More of the current page: blocks reclaimed earlier, or never used. */
  if (take_deferred(page)) return ALLOY_OK;
  if (alloy_so_page_has_unbuilt(page)) {
    alloy_small_object_page_carve(heap, page);
    return ALLOY_OK;
  }
  /* 2. What other threads sent back (and what this thread owes them). */
  flush_outgoing(cache);
  reclaim_remote(cache);
  if (page->free != NULL) return ALLOY_OK;
  /* 3. Another page of this class with free blocks, else an empty one. */
  if (page != &heap->empty_page) alloy_so_page_set_state(page, SO_PAGE_FULL);
  set_current(cache, cls, &heap->empty_page);
  for (page = cc->partial; page != NULL; page = cc->partial) {
    partial_unlink(cache, page);
    if (page->free != NULL || take_deferred(page)) break;
    alloy_so_page_set_state(page, SO_PAGE_FULL); /* a refused list left it nothing to hand out */
  }
  if (page == NULL) ALLOY_TRY(fresh_page(heap, cache, cls, &page));
  alloy_so_page_set_state(page, SO_PAGE_CURRENT);
  set_current(cache, cls, page);
  return ALLOY_OK;
}

/* The current page of `cls` has no free block, or its first free block was
 * refused by the fast path's hand-out (its mark is wrong): the hand-out is
 * tried again here, and a refused list is dropped before the refill. */
alloy_status alloy_small_object_cache_allocate_slow(alloy_small_object *heap, so_cache *cache, size_t cls,
                                                    alloy_block *out) {
  if (cls == SO_NO_CLASS) return ALLOY_E_UNSUPPORTED;
  if (cls == SO_BAD_ALIGN) return ALLOY_E_INVALID_ARGUMENT;
  if (cache == &heap->orphan) return ALLOY_E_CAPACITY; /* no thread cache could be had */
  so_class_cache *cc = &cache->classes[cls];
  for (;;) {
    so_page *page = cc->current;
    if (page->free != NULL) {
      if (alloy_so_hand_out(heap, page, page->free, out)) return ALLOY_OK;
      alloy_small_object_cache_refuse_list(heap, page);
    }
    ALLOY_TRY(refill(heap, cache, cls));
    page_event(heap);
  }
}

/* ---- Thread lifecycle ---------------------------------------------------- */

/* Adopts an abandoned cache, or creates one (NULL at max_threads or when
 * metadata cannot be committed). */
static so_cache *acquire_cache(alloy_small_object *heap) {
  so_cache *cache = NULL;
  alloy_spin_lock_acquire(&heap->lock);
  if (heap->abandoned != NULL) {
    cache = heap->abandoned;
    heap->abandoned = cache->next_abandoned;
    heap->abandoned_count--;
    heap->adoptions++;
    cache->next_abandoned = NULL;
    cache->abandoned = false;
  } else if (heap->caches_created < heap->max_caches) {
    so_cache *slot = &heap->caches[heap->caches_created];
    size_t needed = (size_t)((char *)(slot + 1) - heap->arena);
    if (alloy_small_object_page_commit_meta(heap, needed) == ALLOY_OK) {
      alloy_small_object_cache_init(heap, slot);
      heap->caches_created++;
      cache = slot;
    }
  }
  alloy_spin_lock_release(&heap->lock);
  return cache;
}

so_cache *alloy_small_object_cache_bind(alloy_small_object *heap) {
  so_cache *cache = alloy_thread_exit_get(&heap->key);
  if (cache == NULL) {
    cache = acquire_cache(heap);
    if (cache == NULL) return &heap->orphan;
    if (alloy_thread_exit_set(&heap->key, cache) != ALLOY_OK) {
      alloy_small_object_cache_release(cache);
      return &heap->orphan;
    }
  }
  alloy_small_object_cache_last.heap_id = heap->id;
  alloy_small_object_cache_last.cache = cache;
  return cache;
}

/* Empty current pages leave an abandoned cache (lock held). */
static void release_empty_current(so_cache *cache) {
  alloy_small_object *heap = cache->heap;
  for (size_t cls = 0; cls < heap->class_count; ++cls) {
    so_page *page = cache->classes[cls].current;
    if (page != &heap->empty_page && alloy_so_page_used(page) == 0 && !page->suspect && page_is_empty(heap, page)) {
      set_current(cache, cls, &heap->empty_page);
      alloy_small_object_page_release_locked(heap, page);
    }
  }
}

void alloy_small_object_cache_collect(so_cache *cache) {
  flush_outgoing(cache);
  reclaim_remote(cache);
  if (cache->abandoned) release_empty_current(cache);
}

/* Abandoned caches may have become owners of empty pages since their thread
 * left (remote frees arrived); give those pages back (lock held). */
void alloy_small_object_cache_collect_abandoned(alloy_small_object *heap) {
  for (so_cache *cache = heap->abandoned; cache != NULL; cache = cache->next_abandoned)
    alloy_small_object_cache_collect(cache);
}

void alloy_small_object_cache_release(so_cache *cache) {
  alloy_small_object *heap = cache->heap;
  flush_outgoing(cache);
  reclaim_remote(cache);
  alloy_spin_lock_acquire(&heap->lock);
  while (cache->stash != NULL) {
    so_page *page = cache->stash;
    cache->stash = page->next;
    alloy_small_object_page_release_locked(heap, page);
  }
  cache->stash_count = 0;
  cache->abandoned = true;
  release_empty_current(cache);
  cache->next_abandoned = heap->abandoned;
  heap->abandoned = cache;
  heap->abandoned_count++;
  alloy_spin_lock_release(&heap->lock);
  if (alloy_small_object_cache_last.cache == cache) {
    alloy_small_object_cache_last.heap_id = 0;
    alloy_small_object_cache_last.cache = NULL;
  }
}

void alloy_small_object_cache_thread_exit(void *cache) { alloy_small_object_cache_release((so_cache *)cache); }
