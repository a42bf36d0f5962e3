/* Misuse checks of the small-object heap, the slow halves: the fast paths
 * (small_object.c, the hand-out in small_object_internal.h) test a key, an
 * offset and a size with a load and a compare each, and come here only when
 * one fails, to confirm, name the misuse and report it. The bottom of the
 * package with small_object_page.c: calls no other file of it. */
#include "alloy/fault.h"
#include "small_object_internal.h"

static alloy_status report(alloy_status kind, const void *ptr, size_t size, size_t expected_size, size_t align,
                           const char *detail) {
  alloy_fault fault = {kind, "small_object", ptr, size, expected_size, align, 0, detail};
  return alloy_fault_report(&fault);
}

alloy_status alloy_small_object_check_bad_free(const alloy_small_object *heap, const so_page *page,
                                               alloy_block block, size_t align) {
  size_t offset = (size_t)((const char *)block.ptr - heap->pages_begin) & (heap->page_size - 1);
  const so_class_check *check = &heap->class_checks[page->size_class];
  if (offset % check->block_size != 0)
    return report(ALLOY_E_NOT_OWNED, block.ptr, block.size, check->block_size, align,
                  "interior pointer: not at a block boundary");
  if (offset >= check->end)
    return report(ALLOY_E_NOT_OWNED, block.ptr, block.size, check->block_size, align,
                  "past the last whole block of its page");
  return report(ALLOY_E_SIZE_MISMATCH, block.ptr, block.size, check->block_size, align,
                "larger than the block's size class");
}

/* Walks one list of free blocks of the page (at most a page's worth of
 * links, so a corrupted list cannot loop). The tools see freed blocks as
 * inaccessible: each link is read and hidden again. */
static bool list_holds(const so_page *page, void *first, const void *block) {
  size_t limit = (size_t)(page->end - page->base) / page->block_size;
  for (void *at = first; at != NULL && limit-- > 0;) {
    if (at == block) return true;
    void *next = alloy_so_link_read(at);
    ALLOY_MEM_NOACCESS(at, sizeof(void *));
    at = next;
  }
  return false;
}

/* Owner only: whether `block` is in the page's free or deferred list. */
bool alloy_small_object_check_is_free(const so_page *page, const void *block) {
  return list_holds(page, page->free, block) || list_holds(page, page->deferred, block);
}

/* The owner freed a block that holds the key: a double free if the block is
 * in one of its page's lists, else user data that happens to equal the key
 * (hand-out clears it), and the free goes on. */
alloy_status alloy_small_object_check_local_key(const so_page *page, alloy_block block, size_t align) {
  if (!alloy_small_object_check_is_free(page, block.ptr)) return ALLOY_OK;
  ALLOY_MEM_NOACCESS(alloy_so_key_slot(block.ptr, page->block_size), sizeof(uint64_t)); /* free, as it was */
  return report(ALLOY_E_DOUBLE_FREE, block.ptr, block.size, page->block_size, align,
                "the block is in its page's free list");
}

/* Another thread's block that holds the key. Its owner's lists cannot be
 * walked from here; hand-out clears the key, so only a block freed already
 * (in its owner's lists or on its way there) holds it, unless the program
 * wrote the heap's random 64-bit key into it. */
alloy_status alloy_small_object_check_remote_key(const so_page *page, alloy_block block, size_t align) {
  return report(ALLOY_E_DOUBLE_FREE, block.ptr, block.size, page->block_size, align,
                "the block holds the freed-block key");
}

/* Hand-out found a link leading out of the page: the block was written to
 * after it was freed. The block goes out (it was free); the rest of the
 * list is dropped rather than followed (its blocks come back when the page
 * is reused). */
alloy_status alloy_small_object_check_hand_out_torn(alloy_small_object *heap, so_page *page, void *block,
                                                    alloy_block *out) {
  page->free = NULL;
  (void)report(ALLOY_E_CORRUPTION, block, 0, page->block_size, 0, "a freed block's free-list link leaves its page");
  return alloy_so_hand_out_block(heap, page, block, out);
}
