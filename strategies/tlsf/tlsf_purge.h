/* tlsf_purge.h — what tlsf_purge.c offers the other files of the package:
 * the purge hook that follows a block onto and off the free lists, the
 * purging a free may set off, the purge of every resident free page that
 * alloy_tlsf_trim asks for, and the page arithmetic the checker shares.
 *
 * The hook: block_insert and block_remove below are the only way a block
 * of the in-band heap enters or leaves the free lists (the core's
 * core_list_insert / core_list_remove are them for TLSF_IN_BAND).
 * tlsf_free_lists.h does the list work; the purge bookkeeping (purged_bytes,
 * the dirty list) is one call into tlsf_purge.c on the way in and one on the
 * way out, made only for a purged block or while a dirty list is kept. With
 * purging off (the default) a resident block pays one flag test and one
 * load for it. */
#ifndef ALLOY_TLSF_PURGE_H
#define ALLOY_TLSF_PURGE_H

#include <stdbool.h>
#include <stddef.h>

#include "strategies/tlsf/tlsf_free_lists.h"
#include "strategies/tlsf/tlsf_internal.h"

/* ---- the hook ------------------------------------------------------------ */

/* Purge bookkeeping for a block that just joined the free lists. */
ALLOY_HIDDEN void alloy_tlsf_purge_on_insert(alloy_tlsf *tlsf, tlsf_block *block);
/* Purge bookkeeping for a block about to leave the free lists. */
ALLOY_HIDDEN void alloy_tlsf_purge_on_remove(alloy_tlsf *tlsf, tlsf_block *block);

/* Whether a block entering or leaving the lists has purge bookkeeping: it is
 * purged (purged_bytes), or a dirty list is kept (invariant 9). */
static ALLOY_ALWAYS_INLINE bool purge_hook_wanted(const alloy_tlsf *tlsf, const tlsf_block *block) {
  return block_is_purged(block) || tlsf->dirty_limit != 0;
}

/* A free block, off the lists, joins the list its size maps to. */
static inline void block_insert(alloy_tlsf *tlsf, tlsf_block *block) {
  unsigned fl, sl;
  mapping_insert(block_size(block), &fl, &sl);
  free_list_insert(TLSF_IN_BAND, &tlsf->lists, block, fl, sl);
  if (ALLOY_UNLIKELY(purge_hook_wanted(tlsf, block))) alloy_tlsf_purge_on_insert(tlsf, block);
}

/* Takes a free block off list (fl, sl), where the caller found it. */
static inline void block_remove_at(alloy_tlsf *tlsf, tlsf_block *block, unsigned fl, unsigned sl) {
  if (ALLOY_UNLIKELY(purge_hook_wanted(tlsf, block))) alloy_tlsf_purge_on_remove(tlsf, block);
  free_list_remove(&tlsf->lists, block, fl, sl);
}

/* Takes a free block off the list its size maps to. */
static inline void block_remove(alloy_tlsf *tlsf, tlsf_block *block) {
  unsigned fl, sl;
  mapping_insert(block_size(block), &fl, &sl);
  block_remove_at(tlsf, block, fl, sl);
}

/* ---- purging on free ------------------------------------------------------ */

/* Purges a free block off the lists whose interior reaches purge_threshold. */
ALLOY_HIDDEN void alloy_tlsf_purge_if_large(alloy_tlsf *tlsf, tlsf_block *block);
/* The slow paths of purge_after_free. */
ALLOY_HIDDEN void alloy_tlsf_purge_dirty(alloy_tlsf *tlsf);
ALLOY_HIDDEN void alloy_tlsf_purge_aged(alloy_tlsf *tlsf);

/* After a free listed its block: purges the oldest dirty blocks once the
 * resident free pages exceed dirty_limit or the oldest has waited more than
 * dirty_age frees. Two compares while neither is configured. */
static ALLOY_ALWAYS_INLINE void purge_after_free(alloy_tlsf *tlsf) {
  /* dirty_bytes stays 0 without a limit. */
  if (ALLOY_UNLIKELY(tlsf->dirty_bytes > tlsf->dirty_limit)) alloy_tlsf_purge_dirty(tlsf);
  if (ALLOY_UNLIKELY(tlsf->dirty_age != 0) && tlsf->dirty_oldest != NULL &&
      tlsf->counts.deallocations - block_dirty_links(tlsf->dirty_oldest)->since > tlsf->dirty_age)
    alloy_tlsf_purge_aged(tlsf);
}

/* Purges a listed free block that is not purged yet (a defragmentation
 * pass's freed sources); the bytes it purged. */
ALLOY_HIDDEN size_t alloy_tlsf_purge_listed_block(alloy_tlsf *tlsf, tlsf_block *block);

/* ---- trim and introspection ----------------------------------------------- */

/* Purges every resident free block on the lists; the bytes it purged. */
ALLOY_HIDDEN size_t alloy_tlsf_purge_resident(alloy_tlsf *tlsf);

/* The whole pages strictly inside a free block (invariant 8): their length,
 * 0 when there are none, and in *begin the first. */
ALLOY_HIDDEN size_t alloy_tlsf_purge_block_interior(const tlsf_block *block, char **begin);
/* Whether a free block carries dirty links (invariant 9); its interior. */
ALLOY_HIDDEN bool alloy_tlsf_purge_is_tracked(const alloy_tlsf *tlsf, const tlsf_block *block, size_t *interior);
/* Whether a tracked free block is on the dirty list. */
ALLOY_HIDDEN bool alloy_tlsf_purge_dirty_contains(const alloy_tlsf *tlsf, const tlsf_block *block);

#endif /* ALLOY_TLSF_PURGE_H */
