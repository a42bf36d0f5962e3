/* tlsf_core.h — the TLSF algorithm, shared by every heap of the package, on
 * a block handle (tlsf_block *): finding a free block (the head of the
 * request's own list, then the bitmaps), splitting a block, absorbing and
 * merging physical neighbours, trimming a free or a used block's ends.
 *
 * What differs between layouts is only how a block's metadata is reached,
 * in the few functions under "the handle" below:
 *   TLSF_IN_BAND  the header sits in front of the payload (alloy_tlsf,
 *                 tlsf.c): the next block is found by address arithmetic,
 *                 a split writes a header inside the block it cuts, and a
 *                 block enters or leaves the lists with the purge hook
 *                 (block_insert / block_remove, tlsf_purge.h).
 *   TLSF_OUT_OF_BAND  a record stands for the block, outside the range it
 *                 manages (alloy_tlsf_virtual, tlsf_virtual.c): the next
 *                 block is a link, a split takes a spare record and enters
 *                 it in the offset map, a merge gives the absorbed record
 *                 back and erases it; there are no headers, so sizes are
 *                 the blocks' exact bytes, and nothing is purged.
 * Every function takes the layout as a constant and is inlined, so each
 * heap compiles to its own layout's code alone.
 */
#ifndef ALLOY_TLSF_CORE_H
#define ALLOY_TLSF_CORE_H

#include <stddef.h>

#include "alloy/align.h"
#include "strategies/tlsf/tlsf_free_lists.h"
#include "strategies/tlsf/tlsf_internal.h"
#include "strategies/tlsf/tlsf_purge.h"
#include "strategies/tlsf/tlsf_records.h"

/* ---- the handle ----------------------------------------------------------- */

static ALLOY_ALWAYS_INLINE alloy_tlsf *core_in_band_heap(tlsf_lists *lists) {
  return (alloy_tlsf *)(void *)((char *)lists - offsetof(alloy_tlsf, lists));
}

/* Bytes a block costs besides its size: the in-band size word. */
static ALLOY_ALWAYS_INLINE size_t core_header_bytes(tlsf_layout layout) {
  return layout == TLSF_IN_BAND ? BLOCK_OVERHEAD : 0;
}

/* The smallest block a split may leave. */
static ALLOY_ALWAYS_INLINE size_t core_block_size_min(tlsf_layout layout) {
  return layout == TLSF_IN_BAND ? BLOCK_SIZE_MIN : ALIGN_SIZE;
}

/* The next physical block (a sentinel after the last one). */
static ALLOY_ALWAYS_INLINE tlsf_block *core_next(tlsf_layout layout, const tlsf_block *block) {
  return layout == TLSF_IN_BAND ? block_next(block) : &record_of(block)->next_phys->block;
}

/* A free block, off the lists, joins the list its size maps to. */
static ALLOY_ALWAYS_INLINE void core_list_insert(tlsf_layout layout, tlsf_lists *lists, tlsf_block *block) {
  if (layout == TLSF_IN_BAND) {
    block_insert(core_in_band_heap(lists), block);
  } else {
    unsigned fl, sl;
    mapping_insert(block_size(block), &fl, &sl);
    free_list_insert(layout, lists, block, fl, sl);
  }
}

/* Takes a free block off list (fl, sl), where the caller found it. */
static ALLOY_ALWAYS_INLINE void core_list_remove_at(tlsf_layout layout, tlsf_lists *lists, tlsf_block *block,
                                                    unsigned fl, unsigned sl) {
  if (layout == TLSF_IN_BAND) block_remove_at(core_in_band_heap(lists), block, fl, sl);
  else free_list_remove(lists, block, fl, sl);
}

/* Takes a free block off the list its size maps to. */
static ALLOY_ALWAYS_INLINE void core_list_remove(tlsf_layout layout, tlsf_lists *lists, tlsf_block *block) {
  unsigned fl, sl;
  mapping_insert(block_size(block), &fl, &sl);
  core_list_remove_at(layout, lists, block, fl, sl);
}

/* The handle of the block that starts `size` bytes into `block`'s payload,
 * once a split cuts it there; its size is set by the caller. */
static ALLOY_ALWAYS_INLINE tlsf_block *core_carve(tlsf_layout layout, tlsf_lists *lists, tlsf_block *block,
                                                  size_t size) {
  if (layout == TLSF_IN_BAND) {
    tlsf_block *remaining = offset_to_block(block_to_ptr(block), size - BLOCK_OVERHEAD);
    ALLOY_ASSERT(alloy_ptr_is_aligned(block_to_ptr(remaining), ALIGN_SIZE));
    /* Only the size word: the prev_phys slot is still the split block's last
     * payload word and may hold the user's data (resize shrinking in place). */
    TLSF_EXPOSE(&remaining->size, sizeof remaining->size);
    return remaining;
  }
  alloy_tlsf_virtual *v = records_heap(lists);
  tlsf_record *record = record_of(block), *remaining = records_take(v);
  remaining->offset = record->offset + size;
  remaining->next_phys = record->next_phys;
  remaining->block.prev_phys = block;
  record->next_phys = remaining;
  map_insert(v, remaining);
  return &remaining->block;
}

/* `block` is about to become part of `prev`, its predecessor: in band its
 * header simply becomes payload; out of band its record goes. */
static ALLOY_ALWAYS_INLINE void core_forget(tlsf_layout layout, tlsf_lists *lists, tlsf_block *prev,
                                           tlsf_block *block) {
  if (layout == TLSF_IN_BAND) return;
  alloy_tlsf_virtual *v = records_heap(lists);
  tlsf_record *record = record_of(block);
  record_of(prev)->next_phys = record->next_phys;
  map_erase(v, record->offset);
  records_give_back(v, record);
}

/* ---- search ------------------------------------------------------------------ */

/* The first non-empty list at or above (fl, sl), or NULL. */
static inline tlsf_block *core_search_suitable(const tlsf_lists *lists, unsigned *fli, unsigned *sli) {
  unsigned fl = *fli;
  uint32_t sl_map = lists->sl_bitmap[fl] & (~0u << *sli);
  if (sl_map == 0) {
    uint32_t fl_map = fl + 1 < 32 ? lists->fl_bitmap & (~0u << (fl + 1)) : 0;
    if (fl_map == 0) return NULL;
    fl = alloy_bit_scan_forward(fl_map);
    *fli = fl;
    sl_map = lists->sl_bitmap[fl];
  }
  unsigned sl = alloy_bit_scan_forward(sl_map);
  *sli = sl;
  return lists->blocks[fl][sl];
}

/* Blocks of the exact list looked at before the rounded-up search. */
#define EXACT_LIST_PROBES 1u

/* A listed free block of at least `size` bytes, and in (fl, sl) its list,
 * or NULL; the caller takes it off. */
static ALLOY_ALWAYS_INLINE tlsf_block *core_find_free(const tlsf_lists *lists, size_t size, unsigned *fli,
                                                      unsigned *sli) {
  unsigned fl, sl;
  /* A block of the request's own list that happens to be large enough is a
   * closer fit than the rounded-up search finds. Each block looked at is a
   * likely cache miss: on the random medium-size trace of bench/tlsf, eight
   * probes cut fragmentation by only 0.25 points (12.9 % -> 12.6 %) for about
   * a fifth more time per pair, so only the head is looked at. */
  mapping_insert(size, &fl, &sl);
  tlsf_block *block = lists->blocks[fl][sl];
  for (unsigned probes = 0; block != NULL && probes < EXACT_LIST_PROBES; ++probes, block = block->next_free) {
    if (block_size(block) >= size) {
      *fli = fl;
      *sli = sl;
      return block;
    }
  }
  mapping_search(size, &fl, &sl);
  if (fl >= FL_INDEX_COUNT) return NULL;
  block = core_search_suitable(lists, &fl, &sl);
  if (block == NULL) return NULL;
  ALLOY_ASSERT(block_size(block) >= size);
  *fli = fl;
  *sli = sl;
  return block;
}

/* ---- physical neighbours ------------------------------------------------------ */

static ALLOY_ALWAYS_INLINE tlsf_block *core_prev(const tlsf_block *block) {
  ALLOY_ASSERT(block_is_prev_free(block));
  return block->prev_phys;
}

/* Records `block` as the prev_phys of its successor and returns the successor. */
static ALLOY_ALWAYS_INLINE tlsf_block *core_link_next(tlsf_layout layout, tlsf_block *block) {
  tlsf_block *next = core_next(layout, block);
  if (layout == TLSF_IN_BAND) TLSF_EXPOSE(&next->prev_phys, sizeof(tlsf_block *));
  next->prev_phys = block;
  return next;
}

static ALLOY_ALWAYS_INLINE void core_mark_as_free(tlsf_layout layout, tlsf_block *block) {
  tlsf_block *next = core_link_next(layout, block);
  block_set_prev_free(next);
  block_set_free(block);
}

static ALLOY_ALWAYS_INLINE void core_mark_as_used(tlsf_layout layout, tlsf_block *block) {
  tlsf_block *next = core_next(layout, block);
  block_set_prev_used(next);
  block->size &= ~(BLOCK_FREE | BLOCK_PURGED);
}

static ALLOY_ALWAYS_INLINE int core_can_split(tlsf_layout layout, const tlsf_block *block, size_t size) {
  return block_size(block) >= size + core_header_bytes(layout) + core_block_size_min(layout);
}

/* Cuts `block` to `size` bytes and returns the remainder as a new free-able
 * block.
 *
 * Where an in-band allocation's cache misses are (report_traces trace=medium
 * under cachegrind, 102k allocations; the VM has no hardware counters for
 * perf): ~1.95 D1 misses per allocate: the found block's size word 0.36,
 * taking it off its list 0.35, the remainder's header written here 0.55
 * (0.32 of them first touches, 83 % of allocation's LL misses), the
 * successor's header at the end of the old free block 0.37, listing the
 * remainder 0.32. Not reading that successor in a split of a free block (its
 * PREV_FREE is already set) turned its 0.28 read misses per allocate into
 * as many write misses and moved no P50 in 7 alternating report runs. */
static inline tlsf_block *core_split(tlsf_layout layout, tlsf_lists *lists, tlsf_block *block, size_t size) {
  const size_t remain_size = block_size(block) - (size + core_header_bytes(layout));
  ALLOY_ASSERT(remain_size >= core_block_size_min(layout));
  tlsf_block *remaining = core_carve(layout, lists, block, size);
  remaining->size = remain_size | (block->size & BLOCK_PURGED); /* inside the old interior: still purged */
  block_set_size(block, size);
  core_mark_as_free(layout, remaining);
  return remaining;
}

/* Appends `block` (which must follow `prev`) to `prev`. */
static inline tlsf_block *core_absorb(tlsf_layout layout, tlsf_lists *lists, tlsf_block *prev, tlsf_block *block) {
  ALLOY_ASSERT(!block_is_last(prev));
  const size_t absorbed = block_size(block);
  core_forget(layout, lists, prev, block);
  /* The absorbed block's pages are resident: the merged block is not purged. */
  prev->size = (prev->size + absorbed + core_header_bytes(layout)) & ~BLOCK_PURGED;
  core_link_next(layout, prev);
  return prev;
}

static inline tlsf_block *core_merge_prev(tlsf_layout layout, tlsf_lists *lists, tlsf_block *block) {
  if (block_is_prev_free(block)) {
    tlsf_block *prev = core_prev(block);
    ALLOY_ASSERT(block_is_free(prev));
    core_list_remove(layout, lists, prev);
    block = core_absorb(layout, lists, prev, block);
  }
  return block;
}

static inline tlsf_block *core_merge_next(tlsf_layout layout, tlsf_lists *lists, tlsf_block *block) {
  tlsf_block *next = core_next(layout, block);
  if (block_is_free(next)) {
    ALLOY_ASSERT(!block_is_last(next));
    core_list_remove(layout, lists, next);
    block = core_absorb(layout, lists, block, next);
  }
  return block;
}

/* Gives the tail of a free block beyond `size` back to the free lists. */
static inline void core_trim_free(tlsf_layout layout, tlsf_lists *lists, tlsf_block *block, size_t size) {
  ALLOY_ASSERT(block_is_free(block));
  if (core_can_split(layout, block, size)) {
    tlsf_block *remaining = core_split(layout, lists, block, size);
    core_link_next(layout, block);
    block_set_prev_free(remaining);
    core_list_insert(layout, lists, remaining);
  }
}

/* Gives the tail of a used block beyond `size` back (merging it forward). */
static inline void core_trim_used(tlsf_layout layout, tlsf_lists *lists, tlsf_block *block, size_t size) {
  ALLOY_ASSERT(!block_is_free(block));
  if (core_can_split(layout, block, size)) {
    tlsf_block *remaining = core_split(layout, lists, block, size);
    block_set_prev_used(remaining);
    remaining = core_merge_next(layout, lists, remaining);
    core_list_insert(layout, lists, remaining);
  }
}

/* Splits `gap` bytes (payload and header) off the front of a free block as
 * their own free block and returns the rest. */
static inline tlsf_block *core_trim_free_leading(tlsf_layout layout, tlsf_lists *lists, tlsf_block *block,
                                                 size_t gap) {
  tlsf_block *remaining = block;
  if (core_can_split(layout, block, gap)) {
    remaining = core_split(layout, lists, block, gap - core_header_bytes(layout));
    block_set_prev_free(remaining);
    core_link_next(layout, block);
    core_list_insert(layout, lists, block);
  }
  return remaining;
}

#endif /* ALLOY_TLSF_CORE_H */
