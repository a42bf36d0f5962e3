/* TLSF purging: giving the whole pages inside free blocks back to the OS. */
#include "alloy/align.h"
#include "alloy/vm.h"
#include "strategies/tlsf/tlsf_internal.h"

/* The whole pages strictly inside a block: after its free-list links, before
 * the next block's prev_phys word. Their length, 0 when there are none. */
size_t tlsf_block_interior(const tlsf_block *block, char **begin) {
  const size_t page = alloy_vm_page_size();
  const uintptr_t start = alloy_align_up((uintptr_t)block_to_ptr(block) + 2 * sizeof(tlsf_block *), page);
  const uintptr_t stop = alloy_align_down((uintptr_t)block_next(block), page);
  if (stop <= start) return 0;
  *begin = (char *)start;
  return stop - start;
}

/* Purges a free block that is off the free lists; sets PURGED on success. */
static bool purge_block(tlsf_block *block, size_t minimum) {
  char *begin;
  const size_t length = tlsf_block_interior(block, &begin);
  if (length == 0 || length < minimum) return false;
  if (alloy_vm_purge(begin, length) != ALLOY_OK) return false; /* the pages simply stay resident */
  block->size |= BLOCK_PURGED;
  return true;
}

void tlsf_purge_if_large(alloy_tlsf *tlsf, tlsf_block *block) {
  if (!block_is_purged(block)) purge_block(block, tlsf->purge_threshold);
}

size_t alloy_tlsf_trim(alloy_tlsf *tlsf) {
  const size_t before = tlsf->purged_bytes;
  for (unsigned fl = 0; fl < FL_INDEX_COUNT; ++fl) {
    if (!(tlsf->fl_bitmap & (1u << fl))) continue;
    for (unsigned sl = 0; sl < SL_INDEX_COUNT; ++sl) {
      for (tlsf_block *block = tlsf->blocks[fl][sl]; block != NULL; block = block->next_free) {
        if (block_is_purged(block) || !purge_block(block, 1)) continue;
        char *begin;
        tlsf->purged_bytes += tlsf_block_interior(block, &begin);
      }
    }
  }
  return tlsf->purged_bytes - before;
}
