/* TLSF purging: the purge hook that keeps purged_bytes (invariant 8) and the
 * dirty list (invariant 9) in step with the free lists, and giving the whole
 * pages inside free blocks back to the OS: at once (purge_threshold), on
 * demand (alloy_tlsf_trim), or oldest first once the resident free pages
 * exceed a limit (dirty_limit) or have stayed unused too long (dirty_age;
 * both keep the dirty list). Calls only the free lists (tlsf_free_lists.h). */
#include "strategies/tlsf/tlsf_purge.h"

#include "alloy/align.h"
#include "alloy/vm.h"
#include "strategies/tlsf/tlsf_free_lists.h"
#include "strategies/tlsf/tlsf_internal.h"

/* The whole pages strictly inside a block: after the words a free block
 * keeps (FREE_BLOCK_WORDS_BYTES), before the next block's prev_phys word.
 * Their length, 0 when there are none. */
size_t alloy_tlsf_purge_block_interior(const tlsf_block *block, char **begin) {
  const size_t page = alloy_vm_page_size();
  const uintptr_t start = alloy_align_up((uintptr_t)block_to_ptr(block) + FREE_BLOCK_WORDS_BYTES, page);
  const uintptr_t stop = alloy_align_down((uintptr_t)block_next(block), page);
  if (stop <= start) return 0;
  *begin = (char *)start;
  return stop - start;
}

/* ---- the dirty list --------------------------------------------------------- */

/* Whether a free block carries dirty links (invariant 9); its interior. */
bool alloy_tlsf_purge_is_tracked(const alloy_tlsf *tlsf, const tlsf_block *block, size_t *interior) {
  if (tlsf->dirty_limit == 0 || block_size(block) < tlsf->page_size) return false;
  char *begin;
  *interior = alloy_tlsf_purge_block_interior(block, &begin);
  return *interior != 0;
}

bool alloy_tlsf_purge_dirty_contains(const alloy_tlsf *tlsf, const tlsf_block *block) {
  return tlsf->dirty_newest == block || block_dirty_links(block)->newer != NULL;
}

/* Adds a tracked free block as the newest dirty one. */
static void dirty_push(alloy_tlsf *tlsf, tlsf_block *block, size_t interior) {
  tlsf_dirty_links *links = block_dirty_links(block);
  TLSF_EXPOSE(links, sizeof *links);
  links->newer = NULL;
  links->older = tlsf->dirty_newest;
  links->since = tlsf->counts.deallocations;
  if (tlsf->dirty_newest != NULL) block_dirty_links(tlsf->dirty_newest)->newer = block;
  else tlsf->dirty_oldest = block;
  tlsf->dirty_newest = block;
  tlsf->dirty_bytes += interior;
}

/* Takes a tracked free block off the dirty list if it is on it. */
static void dirty_unlink(alloy_tlsf *tlsf, tlsf_block *block, size_t interior) {
  if (!alloy_tlsf_purge_dirty_contains(tlsf, block)) return;
  tlsf_dirty_links *links = block_dirty_links(block);
  if (links->newer != NULL) block_dirty_links(links->newer)->older = links->older;
  else tlsf->dirty_newest = links->older;
  if (links->older != NULL) block_dirty_links(links->older)->newer = links->newer;
  else tlsf->dirty_oldest = links->newer;
  links->newer = links->older = NULL;
  tlsf->dirty_bytes -= interior;
}

/* ---- the hook: blocks entering and leaving the free lists --------------------- */

/* Called by block_insert (tlsf_purge.h) only for a purged block or while a
 * dirty list is kept: counts a purged block's interior (invariant 8), and
 * puts a resident tracked block on the dirty list as its newest (invariant
 * 9) or gives a purged one empty dirty links. */
void alloy_tlsf_purge_on_insert(alloy_tlsf *tlsf, tlsf_block *block) {
  if (block_is_purged(block)) {
    char *begin;
    tlsf->purged_bytes += alloy_tlsf_purge_block_interior(block, &begin);
  }
  size_t interior;
  if (alloy_tlsf_purge_is_tracked(tlsf, block, &interior)) {
    if (!block_is_purged(block)) {
      dirty_push(tlsf, block, interior);
    } else {
      tlsf_dirty_links *links = block_dirty_links(block);
      TLSF_EXPOSE(links, sizeof *links);
      links->newer = links->older = NULL;
    }
  }
}

/* Called by block_remove (tlsf_purge.h) under the same condition: undoes
 * what alloy_tlsf_purge_on_insert counted and linked. */
void alloy_tlsf_purge_on_remove(alloy_tlsf *tlsf, tlsf_block *block) {
  if (block_is_purged(block)) {
    char *begin;
    tlsf->purged_bytes -= alloy_tlsf_purge_block_interior(block, &begin);
  }
  size_t interior;
  if (alloy_tlsf_purge_is_tracked(tlsf, block, &interior))
    dirty_unlink(tlsf, block, interior);
}

/* ---- purging ------------------------------------------------------------------ */

/* Purges a free block; sets PURGED and returns its interior on success, 0
 * when there is nothing to purge or the OS refused (the pages stay resident). */
static size_t purge_block(alloy_tlsf *tlsf, tlsf_block *block, size_t minimum) {
  char *begin;
  const size_t length = alloy_tlsf_purge_block_interior(block, &begin);
  if (length == 0 || length < minimum) return 0;
  tlsf->purge_calls++;
  if (alloy_vm_purge(begin, length) != ALLOY_OK) return 0;
  /* Still free memory to the tools, whatever they make of the purge. */
  ALLOY_MEM_NOACCESS(begin, length);
  block->size |= BLOCK_PURGED;
  return length;
}

/* A free block off the free lists (so not on the dirty list either). */
void alloy_tlsf_purge_if_large(alloy_tlsf *tlsf, tlsf_block *block) {
  if (!block_is_purged(block)) purge_block(tlsf, block, tlsf->purge_threshold);
}

/* Purges a listed free block in place (its size and list do not change). */
static size_t purge_listed_block(alloy_tlsf *tlsf, tlsf_block *block) {
  size_t interior;
  if (alloy_tlsf_purge_is_tracked(tlsf, block, &interior)) dirty_unlink(tlsf, block, interior);
  const size_t purged = purge_block(tlsf, block, 1);
  tlsf->purged_bytes += purged;
  if (purged != 0) free_list_move_to_tail(&tlsf->lists, block); /* invariant 10 */
  return purged;
}

size_t alloy_tlsf_purge_listed_block(alloy_tlsf *tlsf, tlsf_block *block) {
  return block_is_purged(block) ? 0 : purge_listed_block(tlsf, block);
}

/* The slow path of a free that left more than dirty_limit resident bytes in
 * whole free pages: purges the oldest dirty blocks (which have waited longest
 * without being reused, so are the least likely to be reused soon) until the
 * dirty bytes are down to three quarters of the limit, at most
 * PURGE_BATCH_BLOCKS of them. Free blocks are never adjacent (immediate
 * coalescing), so each interior is already one maximal range: one call each. */
void alloy_tlsf_purge_dirty(alloy_tlsf *tlsf) {
  const size_t target = tlsf->dirty_limit - tlsf->dirty_limit / 4;
  for (unsigned n = 0; n < PURGE_BATCH_BLOCKS && tlsf->dirty_bytes > target && tlsf->dirty_oldest != NULL; ++n)
    purge_listed_block(tlsf, tlsf->dirty_oldest);
}

/* The slow path of a free after which the oldest dirty block has stayed
 * resident and unused for more than dirty_age frees: purges the blocks that
 * old, oldest first, at most PURGE_BATCH_BLOCKS of them (the list is in age
 * order, so the rest wait for the next frees). Pages free for that long are
 * mostly those a heap below its peak no longer needs; pages reused soon
 * after their free are never purged, so few purged pages fault back in. */
void alloy_tlsf_purge_aged(alloy_tlsf *tlsf) {
  for (unsigned n = 0; n < PURGE_BATCH_BLOCKS && tlsf->dirty_oldest != NULL &&
                       tlsf->counts.deallocations - block_dirty_links(tlsf->dirty_oldest)->since > tlsf->dirty_age;
       ++n)
    purge_listed_block(tlsf, tlsf->dirty_oldest);
}

/* alloy_tlsf_trim's second half, after the spare pools went back. */
size_t alloy_tlsf_purge_resident(alloy_tlsf *tlsf) {
  const size_t before = tlsf->purged_bytes;
  for (unsigned fl = 0; fl < FL_INDEX_COUNT; ++fl) {
    if (!(tlsf->lists.fl_bitmap & (1u << fl))) continue;
    for (unsigned sl = 0; sl < SL_INDEX_COUNT; ++sl) {
      /* Resident blocks come first (invariant 10); each purged one moves behind them. */
      tlsf_block *block = tlsf->lists.blocks[fl][sl];
      while (block != NULL && !block_is_purged(block)) {
        tlsf_block *next = block->next_free;
        purge_listed_block(tlsf, block);
        block = next;
      }
    }
  }
  return tlsf->purged_bytes - before;
}
