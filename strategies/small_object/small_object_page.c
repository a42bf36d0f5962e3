/* Page supply of the small-object heap: the reservation, the central
 * recycler of empty pages, page initialisation and carving. The bottom of
 * the package: calls no other file of it. */
#include <string.h>

#include "alloy/align.h"
#include "alloy/fault.h"
#include "alloy/vm.h"
#include "small_object_internal.h"

alloy_status alloy_small_object_page_commit_meta(alloy_small_object *heap, size_t bytes) {
  if (bytes <= heap->meta_committed) return ALLOY_OK;
  size_t target = alloy_align_up(bytes, alloy_vm_page_size());
  if (target > heap->meta_size) return ALLOY_E_CAPACITY;
  ALLOY_TRY(alloy_vm_commit(heap->arena + heap->meta_committed, target - heap->meta_committed));
  heap->meta_committed = target;
  return ALLOY_OK;
}

/* Commits the descriptors of pages [0, count): the `count` descriptors
 * below pages_begin, a growing run of whole OS pages. */
static alloy_status commit_descriptors(alloy_small_object *heap, size_t count) {
  size_t bytes = count * sizeof(so_page);
  if (bytes <= heap->descriptors_committed) return ALLOY_OK;
  size_t step = heap->page_size; /* a page's worth of descriptors at a time */
  size_t target = alloy_align_up(bytes, step);
  if (target > heap->descriptors_reserved) target = heap->descriptors_reserved;
  size_t from = heap->descriptors_committed;
  ALLOY_TRY(alloy_vm_commit(heap->pages_begin - target, target - from));
  heap->descriptors_committed = target;
  return ALLOY_OK;
}

/* Takes a never-used page from the reservation (lock held). */
alloy_status alloy_small_object_page_carve_fresh(alloy_small_object *heap, so_page **out) {
  if (heap->pages_carved == heap->page_capacity) return ALLOY_E_CAPACITY;
  ALLOY_TRY(commit_descriptors(heap, heap->pages_carved + 1));
  char *base = heap->pages_begin + heap->pages_carved * heap->page_size;
  ALLOY_TRY(alloy_vm_commit(base, heap->page_size));
  so_page *page = alloy_so_page_by_index(heap, heap->pages_carved);
  memset(page, 0, sizeof *page);
  page->base = base;
  page->heap = heap;
  alloy_so_page_set_state(page, SO_PAGE_RECYCLED);
  alloy_remote_free_source_init(&page->remote);
  /* Nothing in the page is handed out yet. */
  ALLOY_MEM_NOACCESS(base, heap->page_size);
  heap->pages_carved++;
  atomic_store_explicit(&heap->pages_bytes, heap->pages_carved * heap->page_size, memory_order_relaxed);
  *out = page;
  return ALLOY_OK;
}

/* The first recycled page, committed again if trim gave it back, or NULL
 * when the recycler is empty (lock held). */
alloy_status alloy_small_object_page_take_recycled(alloy_small_object *heap, so_page **out) {
  so_page *page = heap->recycled;
  *out = NULL;
  if (page == NULL) return ALLOY_OK;
  if (page->decommitted) {
    ALLOY_TRY(alloy_vm_commit(page->base, heap->page_size));
    ALLOY_MEM_NOACCESS(page->base, heap->page_size);
    page->decommitted = false;
    heap->decommitted_count--;
  }
  heap->recycled = page->next;
  heap->recycled_count--;
  *out = page;
  return ALLOY_OK;
}

/* Gives the memory of every recycled page back to the OS (lock held). */
void alloy_small_object_page_decommit_recycled(alloy_small_object *heap) {
  for (so_page *page = heap->recycled; page != NULL; page = page->next) {
    if (page->decommitted || alloy_vm_decommit(page->base, heap->page_size) != ALLOY_OK) continue;
    page->decommitted = true;
    heap->decommitted_count++;
  }
}

void alloy_small_object_page_release_locked(alloy_small_object *heap, so_page *page) {
  ALLOY_ASSERT(alloy_so_page_used(page) == 0);
  page->owner = NULL;
  alloy_so_page_set_state(page, SO_PAGE_RECYCLED);
  page->prev = NULL;
  page->next = heap->recycled;
  heap->recycled = page;
  heap->recycled_count++;
}

void alloy_small_object_page_release(alloy_small_object *heap, so_page *page) {
  alloy_spin_lock_acquire(&heap->lock);
  alloy_small_object_page_release_locked(heap, page);
  alloy_spin_lock_release(&heap->lock);
}

void alloy_small_object_page_init(alloy_small_object *heap, so_page *page, so_cache *owner, size_t cls) {
  size_t block_size = heap->class_sizes[cls];
  size_t capacity = heap->page_size / block_size;
  so_block_start_test test = alloy_so_block_start_test(block_size, capacity);
  page->free = NULL;
  page->deferred = NULL;
  __atomic_store_n(&page->block_size, (uint32_t)block_size, __ATOMIC_RELAXED); /* get_stats reads it */
  page->owner = owner;
  page->size_class = (uint8_t)cls;
  page->block_magic = test.magic;
  page->block_limit = test.limit;
  page->block_count = (uint16_t)capacity;
  page->free_size_max = (uint16_t)block_size;
  page->mark_offset = (uint8_t)alloy_so_mark_offset(block_size);
  page->suspect = false;
  alloy_so_page_set_state(page, SO_PAGE_CURRENT);
  page->unbuilt = page->base;
  page->prev = page->next = NULL;
}

/* Turns the next few never-used blocks into the free list (free is empty),
 * each marked free like a freed block. Carving a bit at a time touches
 * memory only as it is needed. */
void alloy_small_object_page_carve(alloy_small_object *heap, so_page *page) {
  size_t block_size = page->block_size;
  size_t free_bytes = alloy_so_free_bytes(block_size);
  uint64_t key = heap->free_key;
  size_t count = SO_CARVE_BYTES / block_size;
  char *end = page->base + (size_t)page->block_count * block_size;
  size_t left = (size_t)(end - page->unbuilt) / block_size;
  if (count > left) count = left;
  if (count == 0) count = left < 1 ? 0 : 1;
  char *first = page->unbuilt;
  char *block = first;
  for (size_t i = 1; i < count; ++i, block += block_size) {
    ALLOY_MEM_UNDEFINED(block, free_bytes);
    alloy_so_mark_free(block, block + block_size, block_size, key);
    ALLOY_MEM_NOACCESS(block, free_bytes);
  }
  if (count > 0) {
    ALLOY_MEM_UNDEFINED(block, free_bytes);
    alloy_so_mark_free(block, page->free, block_size, key);
    ALLOY_MEM_NOACCESS(block, free_bytes);
    page->free = first;
    page->unbuilt = block + block_size;
  }
}
