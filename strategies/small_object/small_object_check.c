/* The invariant walk of the small-object heap (alloy_small_object_check):
 * the heap's page and cache bookkeeping, every page the calling thread's
 * cache or an abandoned cache holds, with its free lists, the recycler, and
 * the remote-free counters against the pages' counts. Nothing here runs on
 * an allocation or a free. Calls no other file of the package: it reads the
 * structures of small_object_internal.h through its inline pieces only.
 *
 * What it reads, and why that is safe while other threads free:
 *   - with the heap lock held: the lock's fields, the recycler, the
 *     abandoned caches and their pages (only ever touched under the lock);
 *   - the calling thread's own cache and pages, whose owner-side fields only
 *     that thread writes; its outgoing batches, which only it writes;
 *   - of everything else, counters only, through relaxed atomic loads (as
 *     alloy_small_object_get_stats reads them).
 * Blocks other threads are freeing are on no list the walk follows: they
 * travel in the senders' batches and the pages' remote channels, and their
 * page counts them in use until the owner takes them back. */
#include "alloy/fault.h"
#include "small_object_internal.h"

/* The first broken rule: what it concerns and its short name. */
typedef struct so_check {
  const alloy_small_object *heap;
  const void *where;
  const char *rule;
} so_check;

static bool broken(so_check *check, const void *where, const char *rule) {
  check->where = where;
  check->rule = rule;
  return false;
}

/* ---- Page descriptors ---------------------------------------------------- */

/* Whether `page` is the descriptor of a carved page of this heap; its index. */
static bool is_carved_page(const alloy_small_object *heap, const so_page *page, size_t *index) {
  uintptr_t top = (uintptr_t)heap->pages_begin;
  uintptr_t at = (uintptr_t)page;
  if (at >= top || (top - at) % sizeof(so_page) != 0) return false;
  size_t slot = (top - at) / sizeof(so_page);
  if (slot > heap->pages_carved) return false;
  *index = slot - 1;
  return true;
}

/* The descriptor fields that never change while the page keeps its class:
 * the page is this heap's, at its slot, and its block geometry is the one
 * its class gives (the free path's block-start test included). */
static bool check_descriptor(so_check *check, const so_page *page) {
  const alloy_small_object *heap = check->heap;
  size_t index;
  if (!is_carved_page(heap, page, &index)) return broken(check, page, "a listed page is not a page of this heap");
  if (page->heap != heap) return broken(check, page, "a page descriptor names another heap");
  if (page->base != heap->pages_begin + (index << heap->page_shift))
    return broken(check, page, "a page's memory is not its slot in the page area");
  if (page->size_class >= heap->class_count) return broken(check, page, "a page's size class is out of range");
  size_t block_size = heap->class_sizes[page->size_class];
  if (page->block_size != block_size || page->free_size_max != block_size)
    return broken(check, page, "a page's block size is not its class's");
  if (page->block_count != heap->page_size / block_size)
    return broken(check, page, "a page's block count does not fill the page");
  so_block_start_test test = alloy_so_block_start_test(block_size, page->block_count);
  if (page->block_magic != test.magic || page->block_limit != test.limit ||
      page->mark_offset != alloy_so_mark_offset(block_size))
    return broken(check, page, "a page's block-start test does not match its block size");
  return true;
}

/* ---- Free lists ---------------------------------------------------------- */

/* One of a page's lists: carved block starts of the page, each marked free,
 * at most `carved` blocks over both lists (so a cycle ends the walk). */
static bool check_free_list(so_check *check, const so_page *page, void *first, size_t carved, size_t *listed) {
  size_t block_size = page->block_size;
  size_t free_bytes = alloy_so_free_bytes(block_size);
  size_t area = (size_t)page->block_count * block_size;
  uint64_t key = check->heap->free_key;
  for (void *block = first; block != NULL;) {
    if (++*listed > carved)
      return broken(check, block, "a free list is longer than its page's carved blocks: it cycles (a double free)");
    uintptr_t offset = (uintptr_t)block - (uintptr_t)page->base;
    if (offset >= area) return broken(check, block, "a free-list link points outside its page's blocks");
    if (offset % block_size != 0)
      return broken(check, block, "a free-list link points inside a block, not at its start");
    if (offset >= (uintptr_t)page->unbuilt - (uintptr_t)page->base)
      return broken(check, block, "a free-list link points into blocks never carved");
    ALLOY_MEM_DEFINED(block, free_bytes);
    void *next = *(void **)block;
    bool marked = !alloy_so_has_mark(block_size) || ((const uint64_t *)block)[1] == key;
    ALLOY_MEM_NOACCESS(block, free_bytes);
    if (!marked) return broken(check, block, "a free block is not marked free");
    block = next;
  }
  return true;
}

/* A page of `cache` met on one of its lists in `state`: its descriptor, its
 * carving cursor, its lists, and its counts. Every carved block is free on
 * a list or counted in use (handed out, or freed by another thread and not
 * taken back yet); a suspect page may have dropped a list, so there the
 * blocks only may not exceed what was carved. */
static bool check_owned_page(so_check *check, const so_cache *cache, const so_page *page, so_page_state state) {
  if (!check_descriptor(check, page)) return false;
  if (page->owner != cache) return broken(check, page, "a page on a cache's list is owned by another cache");
  if (page->state != state) return broken(check, page, "a page's state does not match the list it is on");
  size_t block_size = page->block_size;
  uintptr_t carved_bytes = (uintptr_t)page->unbuilt - (uintptr_t)page->base; /* huge when below the base */
  if (carved_bytes > (size_t)page->block_count * block_size || carved_bytes % block_size != 0)
    return broken(check, page, "a page's carving cursor is outside its blocks");
  size_t carved = carved_bytes / block_size;
  uint32_t used = alloy_so_page_used(page);
  if (used > carved) return broken(check, page, "a page counts more blocks in use than it carved");
  size_t listed = 0;
  if (!check_free_list(check, page, page->free, carved, &listed)) return false;
  if (!check_free_list(check, page, page->deferred, carved, &listed)) return false;
  if (page->suspect ? listed + used > carved : listed + used != carved)
    return broken(check, page, "a page's free blocks and blocks in use do not add up to the blocks it carved");
  if (state == SO_PAGE_STASHED && used != 0) return broken(check, page, "a stashed page holds live blocks");
  if (state == SO_PAGE_PARTIAL && page->slow_at != (uint32_t)page->frees + used)
    return broken(check, page, "a partial page's slow-path trigger does not match its blocks in use");
  return true;
}

/* ---- Caches -------------------------------------------------------------- */

/* The class's current page and its partial list (doubly linked, bounded by
 * the pages carved); every page carries the class. */
static bool check_class(so_check *check, const so_cache *cache, size_t cls) {
  const alloy_small_object *heap = check->heap;
  const so_class_cache *cc = &cache->classes[cls];
  if (cc->current != &heap->empty_page) {
    if (!check_owned_page(check, cache, cc->current, SO_PAGE_CURRENT)) return false;
    if (cc->current->size_class != cls)
      return broken(check, cc->current, "a page on a class's list carries another class");
  }
  size_t pages = 0;
  const so_page *prev = NULL;
  for (const so_page *page = cc->partial; page != NULL; prev = page, page = page->next) {
    if (++pages > heap->pages_carved)
      return broken(check, cc->partial, "a partial list is longer than the pages carved: it cycles");
    if (!check_owned_page(check, cache, page, SO_PAGE_PARTIAL)) return false;
    if (page->size_class != cls) return broken(check, page, "a page on a class's list carries another class");
    if (page->prev != prev) return broken(check, page, "a partial list's back link is broken");
  }
  return true;
}

/* The allocation fast path's table mirrors each class's current page; the
 * steps no class serves, and the refusal entries, lead to the empty page. */
static bool check_direct(so_check *check, const so_cache *cache) {
  const alloy_small_object *heap = check->heap;
  for (size_t cls = heap->class_count; cls <= SO_BAD_ALIGN; ++cls)
    if (cache->classes[cls].current != &heap->empty_page || cache->classes[cls].partial != NULL)
      return broken(check, &cache->classes[cls], "a class the heap does not serve holds pages");
  const uint8_t *row = heap->class_for[SO_DIRECT_ALIGN];
  for (size_t step = 0; step < SO_SIZE_STEPS; ++step) {
    size_t cls = row[step];
    const so_page *expected = cls < heap->class_count ? cache->classes[cls].current : &heap->empty_page;
    if (cache->direct[step] != expected)
      return broken(check, &cache->direct[step], "the direct table disagrees with the class's current page");
  }
  return true;
}

static bool check_stash(so_check *check, const so_cache *cache) {
  size_t count = 0;
  for (const so_page *page = cache->stash; page != NULL; page = page->next) {
    if (++count > SO_STASH_MAX) return broken(check, cache->stash, "a cache keeps more empty pages than it may");
    if (!check_owned_page(check, cache, page, SO_PAGE_STASHED)) return false;
  }
  if (count != cache->stash_count) return broken(check, cache, "a cache's stash count is not its length");
  return true;
}

/* The calling thread's open batch of frees into another cache's page: that
 * page has live blocks (these), so its owner and class hold still; the
 * batch's blocks are block starts of it, marked free, `count` of them. Only
 * this thread writes them until it sends the batch. */
static bool check_outgoing(so_check *check, const so_cache *cache, size_t cls) {
  const so_outgoing *out = &cache->out[cls];
  bool pending = ((cache->out_pending >> cls) & 1u) != 0;
  if (out->page == NULL) {
    if (pending || out->count != 0) return broken(check, out, "an outgoing batch is counted but has no page");
    return true;
  }
  const so_page *page = out->page;
  if (!pending) return broken(check, out, "an outgoing batch holds blocks but is not pending");
  if (!check_descriptor(check, page)) return false;
  if (page->size_class != cls) return broken(check, out, "an outgoing batch is filed under another class");
  if (page->owner == NULL || page->owner == cache)
    return broken(check, out, "an outgoing batch's page is not another cache's");
  if (out->count == 0 || out->count >= ALLOY_SMALL_OBJECT_REMOTE_BATCH)
    return broken(check, out, "an outgoing batch's count is out of range");
  size_t block_size = page->block_size;
  size_t area = (size_t)page->block_count * block_size;
  void *block = out->first, *last = NULL;
  for (uint32_t seen = 0; seen < out->count; ++seen) {
    uintptr_t offset = (uintptr_t)block - (uintptr_t)page->base;
    if (block == NULL || offset >= area || offset % block_size != 0)
      return broken(check, out, "an outgoing batch links outside its page's block starts");
    if (alloy_so_has_mark(block_size) && ((const uint64_t *)block)[1] != check->heap->free_key)
      return broken(check, block, "a block in an outgoing batch is not marked free");
    last = block;
    block = *(void **)block;
  }
  if (block != NULL || last != out->last) return broken(check, out, "an outgoing batch does not end where it says");
  return true;
}

/* Every list of one cache: the calling thread's own, or an abandoned one
 * (lock held), which keeps neither empty pages nor unsent frees. */
static bool check_cache(so_check *check, const so_cache *cache, bool abandoned) {
  const alloy_small_object *heap = check->heap;
  if (cache->heap != heap) return broken(check, cache, "a cache names another heap");
  if (cache->abandoned != abandoned) return broken(check, cache, "a cache's abandoned flag is not where it is kept");
  for (size_t cls = 0; cls < heap->class_count; ++cls)
    if (!check_class(check, cache, cls)) return false;
  if (!check_direct(check, cache)) return false;
  if (abandoned && (cache->stash != NULL || cache->out_pending != 0))
    return broken(check, cache, "an abandoned cache still holds empty pages or unsent frees");
  if (!check_stash(check, cache)) return false;
  for (size_t cls = 0; cls < heap->class_count; ++cls)
    if (!check_outgoing(check, cache, cls)) return false;
  return true;
}

/* ---- The heap (lock held) ------------------------------------------------ */

static bool check_layout(so_check *check) {
  const alloy_small_object *heap = check->heap;
  if (heap->class_count == 0 || heap->class_count > SO_MAX_CLASSES)
    return broken(check, heap, "the heap's class count is out of range");
  for (size_t cls = 0; cls < heap->class_count; ++cls)
    if (heap->class_sizes[cls] != alloy_size_class_size(cls))
      return broken(check, &heap->class_sizes[cls], "the class table is not the shared size classes");
  if (heap->page_size != (size_t)1 << heap->page_shift) return broken(check, heap, "the page size is not its shift");
  if (heap->pages_carved > heap->page_capacity)
    return broken(check, heap, "more pages carved than the reservation holds");
  size_t pages_bytes = atomic_load_explicit(&((alloy_small_object *)heap)->pages_bytes, memory_order_relaxed);
  if (pages_bytes != heap->pages_carved * heap->page_size)
    return broken(check, heap, "the page area free and owns() accept is not the pages carved");
  if (heap->descriptors_committed < heap->pages_carved * sizeof(so_page) ||
      heap->descriptors_committed > heap->descriptors_reserved)
    return broken(check, heap, "the committed descriptors do not cover the pages carved");
  if (heap->caches_created > heap->max_caches) return broken(check, heap, "more caches than the heap has slots for");
  const so_page *empty = &heap->empty_page;
  if (empty->free != NULL || empty->deferred != NULL || empty->owner != NULL || empty->block_count != 0)
    return broken(check, empty, "the heap's empty page has blocks or an owner");
  return true;
}

/* The central recycler: empty, unowned pages of this heap, counted. */
static bool check_recycler(so_check *check) {
  const alloy_small_object *heap = check->heap;
  size_t count = 0, decommitted = 0, index;
  for (const so_page *page = heap->recycled; page != NULL; page = page->next) {
    if (++count > heap->pages_carved)
      return broken(check, heap->recycled, "the recycler is longer than the pages carved: it cycles");
    if (!is_carved_page(heap, page, &index)) return broken(check, page, "a listed page is not a page of this heap");
    if (page->heap != heap) return broken(check, page, "a page descriptor names another heap");
    if (page->state != SO_PAGE_RECYCLED || page->owner != NULL || alloy_so_page_used(page) != 0)
      return broken(check, page, "a recycled page is owned or holds live blocks");
    decommitted += page->decommitted;
  }
  if (count != heap->recycled_count) return broken(check, heap, "the recycler's count is not its length");
  if (decommitted != heap->decommitted_count) return broken(check, heap, "the decommitted count is not the recycler's");
  return true;
}

/* The abandoned caches: slots of this heap, counted, each walked. */
static bool check_abandoned(so_check *check) {
  const alloy_small_object *heap = check->heap;
  size_t count = 0;
  for (const so_cache *cache = heap->abandoned; cache != NULL; cache = cache->next_abandoned) {
    if (++count > heap->caches_created)
      return broken(check, heap->abandoned, "the abandoned list is longer than the caches: it cycles");
    uintptr_t offset = (uintptr_t)cache - (uintptr_t)heap->caches;
    if (offset >= heap->caches_created * sizeof(so_cache) || offset % sizeof(so_cache) != 0)
      return broken(check, cache, "an abandoned cache is not a cache slot of this heap");
    if (!check_cache(check, cache, true)) return false;
  }
  if (count != heap->abandoned_count) return broken(check, heap, "the abandoned count is not the list's length");
  return true;
}

/* The remote-free counters against the pages: per class, no cache took back
 * more than the caches sent, and the frees still in flight (counted in use
 * by their pages until taken back) are no more than the pages count in use.
 * The taken-back counts are read before the sent ones and the pages before
 * both, so frees landing meanwhile only widen the margins. */
static bool check_totals(so_check *check) {
  const alloy_small_object *heap = check->heap;
  uint64_t in_use_bytes = 0;
  for (size_t i = 0; i < heap->pages_carved; ++i) {
    in_use_bytes += alloy_so_page_bytes_in_use(alloy_so_page_counts(alloy_so_page_by_index(heap, i)), heap->page_size);
  }
  uint64_t taken_back[SO_MAX_CLASSES] = {0}, sent[SO_MAX_CLASSES] = {0};
  for (size_t i = 0; i <= heap->caches_created; ++i) {
    const so_cache *cache = i < heap->caches_created ? &heap->caches[i] : &heap->orphan;
    for (size_t cls = 0; cls < heap->class_count; ++cls)
      taken_back[cls] += alloy_so_counter_read(&cache->classes[cls].remote_reclaimed);
  }
  for (size_t i = 0; i <= heap->caches_created; ++i) {
    const so_cache *cache = i < heap->caches_created ? &heap->caches[i] : &heap->orphan;
    for (size_t cls = 0; cls < heap->class_count; ++cls)
      sent[cls] += alloy_so_counter_read(&cache->classes[cls].remote_sent);
  }
  uint64_t in_flight_bytes = 0;
  for (size_t cls = 0; cls < heap->class_count; ++cls) {
    if (taken_back[cls] > sent[cls])
      return broken(check, &heap->class_sizes[cls], "more remote frees taken back than were sent");
    in_flight_bytes += (sent[cls] - taken_back[cls]) * heap->class_sizes[cls];
  }
  if (in_flight_bytes > in_use_bytes)
    return broken(check, heap, "more remote frees in flight than the pages count in use");
  return true;
}

static bool check_locked(so_check *check, const so_cache *own) {
  if (!check_layout(check) || !check_recycler(check) || !check_abandoned(check)) return false;
  if (!check_cache(check, &check->heap->orphan, false)) return false;
  if (own != NULL && !check_cache(check, own, false)) return false;
  return check_totals(check);
}

alloy_status alloy_small_object_check(const alloy_small_object *heap) {
  alloy_small_object *h = (alloy_small_object *)heap; /* the lock only */
  so_check check = {heap, NULL, NULL};
  const so_cache *own = alloy_thread_exit_get(&heap->key);
  alloy_spin_lock_acquire(&h->lock);
  bool sound = check_locked(&check, own);
  alloy_spin_lock_release(&h->lock);
  if (sound) return ALLOY_OK;
  /* Reported with the lock released: the handler may do anything. */
  alloy_fault fault = {ALLOY_E_CORRUPTION, "small_object", check.where, 0, 0, 0, 0, check.rule};
  ALLOY_IGNORE_STATUS(alloy_fault_report(&fault));
  return ALLOY_E_CORRUPTION;
}
