/* TLSF defragmentation: budgeted passes that move blocks their owner allows
 * to move out of the top of the heap into the best free places below them
 * (alloy/tlsf.h, "Defragmentation"). One implementation for both layouts:
 * what differs (where a block lies, how the blocks are walked from the top
 * down, what a block's counters are, how a block is freed) is in the few
 * functions under "the heap" below; planning, reserving and ending a pass
 * go through the shared core (tlsf_core.h) and the heaps' public free.
 *
 * Why this order: the runs of used blocks between two free ones go first,
 * cheapest first: each run moved merges two free blocks with its space,
 * and the free blocks that stay (each with partial pages at its ends) are
 * what a heap holds beyond live once its free pages are purged. A block
 * moves to a lower position (a lower address in-band, pools compared by
 * address; a lower offset in a virtual range) when one holds it; a run's
 * block that finds none may go higher, since its run merges wherever it
 * lands (each such pass leaves fewer free blocks, so passes do not undo
 * each other).
 * Then, in a virtual range, the top down, which shrinks the used prefix it
 * commits; in band that phase found mostly large blocks at the top, few
 * holes that fit them, and allocations landing in the space it freed. A
 * destination is the first free block of the smallest size class that
 * holds the block and lies below it: holes fill closest to their size. */
#include <stdlib.h>
#include <string.h>

#include "alloy/fault.h"
#include "strategies/tlsf/tlsf_core.h"
#include "strategies/tlsf/tlsf_defrag.h"
#include "strategies/tlsf/tlsf_internal.h"
#include "strategies/tlsf/tlsf_pool.h"
#include "strategies/tlsf/tlsf_purge.h"
#include "strategies/tlsf/tlsf_records.h"

/* Used blocks a pass looks at, at most: bounds a pass's time when most
 * blocks cannot move. */
#define DEFRAG_LOOKS 512u
/* Blocks in a row left for no better place or the budget that end a pass:
 * the heap below is full (looking further down finds less room still), or
 * the budget is as good as spent. Keeps a pass that can do little cheap. */
#define DEFRAG_FRUITLESS_RUN 32u
/* Runs of used blocks between two free ones a pass moves first: at most
 * this many runs, of at most this many blocks each, found after reading at
 * most DEFRAG_WALK blocks. */
#define DEFRAG_RUNS 256u
#define DEFRAG_RUN_BLOCKS 3u
#define DEFRAG_WALK 8192u
/* Free blocks a destination search looks at, at most. */
#define DEFRAG_PROBES 64u
/* In-band: the highest used blocks of a pool collected per visit. */
#define DEFRAG_POOL_WINDOW 128u

/* ---- the heap ---------------------------------------------------------------- */

/* The heap a pass runs on, either layout. */
typedef struct defrag_heap {
  tlsf_layout layout;
  tlsf_lists *lists;
  alloy_tlsf *tlsf;      /* TLSF_IN_BAND */
  alloy_tlsf_virtual *v; /* TLSF_OUT_OF_BAND */
} defrag_heap;

static defrag_heap heap_in_band(alloy_tlsf *tlsf) {
  defrag_heap h = {TLSF_IN_BAND, &tlsf->lists, tlsf, NULL};
  return h;
}

static defrag_heap heap_virtual(alloy_tlsf_virtual *v) {
  defrag_heap h = {TLSF_OUT_OF_BAND, &v->lists, NULL, v};
  return h;
}

static alloy_tlsf_pass **heap_open_pass(const defrag_heap *h) {
  return h->layout == TLSF_IN_BAND ? &h->tlsf->defrag_pass : &h->v->defrag_pass;
}

static const void *heap_identity(const defrag_heap *h) {
  return h->layout == TLSF_IN_BAND ? (const void *)h->tlsf : (const void *)h->v;
}

static const char *heap_name(const defrag_heap *h) { return h->layout == TLSF_IN_BAND ? "tlsf" : "tlsf_virtual"; }

/* What the caller sees of a block: its payload (in-band) or base + offset
 * (virtual; NULL for an offset range), and its offset (virtual; 0 in-band). */
static void *block_address(const defrag_heap *h, const tlsf_block *block) {
  if (h->layout == TLSF_IN_BAND) return block_to_ptr(block);
  return h->v->base != 0 ? (void *)(h->v->base + record_of(block)->offset) : NULL;
}

static size_t block_offset(const defrag_heap *h, const tlsf_block *block) {
  return h->layout == TLSF_IN_BAND ? 0 : record_of(block)->offset;
}

/* Whether a free block is a whole pool (in-band): an empty pool is never a
 * destination, it is what a pass tries to make. */
static bool is_whole_pool(const defrag_heap *h, const tlsf_block *block) {
  if (h->layout != TLSF_IN_BAND) return false;
  const tlsf_block *next = block_next(block);
  return block_is_last(next) && pool_first_block(sentinel_pool(next)) == block;
}

/* The counters of a block handed out (a destination being reserved), as an
 * allocation counts them. */
static void count_reserved(const defrag_heap *h, tlsf_block *block) {
  const size_t bytes = block_size(block);
  if (h->layout == TLSF_IN_BAND) {
    alloy_tlsf *tlsf = h->tlsf;
    ALLOY_TRACK_ALLOC(tlsf, block_to_ptr(block), bytes);
    tlsf_counts_allocated(&tlsf->counts, bytes);
  } else {
    tlsf_counts_allocated(&h->v->counts, bytes);
  }
}

/* Whether a move's destination is still the used block begin reserved. */
static bool destination_intact(const defrag_heap *h, const alloy_tlsf_move *move) {
  if (h->layout == TLSF_IN_BAND) {
    const uintptr_t address = (uintptr_t)move->to;
    if (address < h->tlsf->span_low || address >= h->tlsf->span_high || !alloy_is_aligned(address, ALIGN_SIZE))
      return false;
    const tlsf_block *block = block_from_ptr(move->to);
    return !block_is_free(block) && block_size(block) >= move->size;
  }
  if (move->to_offset >= h->v->range_bytes ||
      move->to != (h->v->base != 0 ? (void *)(h->v->base + move->to_offset) : NULL))
    return false;
  const tlsf_record *record = map_find(h->v, move->to_offset);
  return record != NULL && !block_is_free(&record->block) && block_size(&record->block) >= move->size;
}

/* Gives a used block back through the heap's own free (no pass is open
 * then); in-band, returns the bytes newly purged when `purge`: the whole
 * pages of the free block it became, merged with its neighbours. */
static size_t free_block(const defrag_heap *h, void *ptr, size_t offset, size_t size, bool purge) {
  if (h->layout == TLSF_OUT_OF_BAND) {
    (void)alloy_tlsf_virtual_free(h->v, offset, size);
    return 0;
  }
  alloy_tlsf *tlsf = h->tlsf;
  tlsf_block *block = block_from_ptr(ptr);
  /* Where the merged free block will start. */
  tlsf_block *start = block_is_prev_free(block) ? block->prev_phys : block;
  const uint64_t released = tlsf->pools_released;
  (void)alloy_tlsf_deallocate(tlsf, alloy_block_make(ptr, size));
  /* A pool given back took the block with it (the pages went back whole). */
  if (!purge || tlsf->pools_released != released) return 0;
  return alloy_tlsf_purge_listed_block(tlsf, start);
}

/* The end of the range's last used block (virtual): what it commits. */
static size_t used_extent(const alloy_tlsf_virtual *v) {
  const tlsf_block *last = v->sentinel.block.prev_phys;
  return block_is_free(last) ? record_of(last)->offset : v->range_bytes;
}

/* ---- walking the used blocks from the top down ------------------------------------ */

typedef struct source_cursor {
  /* In-band: the highest used blocks of the pool being visited (a ring of
   * the last ones its walk met), taken from the top; pools are visited from
   * the highest address down, each below `pool_below`. */
  tlsf_block *window[DEFRAG_POOL_WINDOW];
  size_t filled, head;
  uintptr_t pool_below;
  /* Virtual: the next block down. */
  tlsf_block *next;
} source_cursor;

static void cursor_start(const defrag_heap *h, source_cursor *cursor) {
  cursor->filled = cursor->head = 0;
  cursor->pool_below = UINTPTR_MAX;
  cursor->next = h->layout == TLSF_OUT_OF_BAND ? h->v->sentinel.block.prev_phys : NULL;
}

/* Collects the highest used blocks of the highest pool below pool_below;
 * false when there is none. */
static bool cursor_next_pool(const defrag_heap *h, source_cursor *cursor) {
  tlsf_pool *best = NULL;
  for (tlsf_pool *pool = h->tlsf->pools; pool != NULL; pool = pool->next)
    if ((uintptr_t)pool < cursor->pool_below && (best == NULL || (uintptr_t)pool > (uintptr_t)best)) best = pool;
  if (best == NULL) return false;
  cursor->pool_below = (uintptr_t)best;
  cursor->filled = cursor->head = 0;
  for (tlsf_block *block = pool_first_block(best); !block_is_last(block); block = block_next(block)) {
    if (block_is_free(block)) continue;
    cursor->window[cursor->head] = block;
    cursor->head = (cursor->head + 1) % DEFRAG_POOL_WINDOW;
    if (cursor->filled < DEFRAG_POOL_WINDOW) cursor->filled++;
  }
  return true;
}

/* The next used block down, or NULL at the bottom of the heap. */
static tlsf_block *cursor_next(const defrag_heap *h, source_cursor *cursor) {
  if (h->layout == TLSF_OUT_OF_BAND) {
    while (cursor->next != NULL && block_is_free(cursor->next)) cursor->next = cursor->next->prev_phys;
    tlsf_block *block = cursor->next;
    if (block != NULL) cursor->next = block->prev_phys;
    return block;
  }
  while (cursor->filled == 0)
    if (!cursor_next_pool(h, cursor)) return NULL;
  cursor->head = (cursor->head + DEFRAG_POOL_WINDOW - 1) % DEFRAG_POOL_WINDOW;
  cursor->filled--;
  return cursor->window[cursor->head];
}

/* ---- planning -------------------------------------------------------------------- */

/* Where a planned move's block goes and comes from, in the terms of the
 * hook's look-up (the payload in-band, the offset in a virtual range). */
static uintptr_t move_to(const defrag_heap *h, const alloy_tlsf_move *move) {
  return h->layout == TLSF_IN_BAND ? (uintptr_t)move->to : move->to_offset;
}

/* Whether a used block is one of this pass's reserved destinations. */
static bool is_destination(const defrag_heap *h, const alloy_tlsf_pass *pass, const tlsf_block *block) {
  const uintptr_t at = h->layout == TLSF_IN_BAND ? (uintptr_t)block_to_ptr(block) : record_of(block)->offset;
  for (size_t i = 0; i < pass->count; ++i)
    if (move_to(h, &pass->moves[i]) == at) return true;
  return false;
}

/* Whether a free block may take a block: not a whole pool (in-band), not
 * the free end of a virtual range (a block there would lengthen the used
 * prefix), not `avoid`. */
static bool may_take(const defrag_heap *h, const tlsf_block *block, const tlsf_block *avoid) {
  if (block == avoid || is_whole_pool(h, block)) return false;
  return h->layout == TLSF_IN_BAND || !block_is_last(core_next(h->layout, block));
}

/* The first free block of the smallest size class that holds `size` bytes
 * and lies below `below` and may take it, with its list in (fl, sl); NULL
 * after DEFRAG_PROBES blocks looked at. */
static tlsf_block *find_destination(const defrag_heap *h, size_t size, uintptr_t below, const tlsf_block *avoid,
                                    unsigned *fli, unsigned *sli) {
  unsigned fl, sl, probes = 0;
  mapping_insert(size, &fl, &sl);
  while (fl < FL_INDEX_COUNT) {
    tlsf_block *block = core_search_suitable(h->lists, &fl, &sl);
    if (block == NULL) return NULL;
    for (; block != NULL; block = block->next_free) {
      if (++probes > DEFRAG_PROBES) return NULL;
      if (block_size(block) >= size && block_position(h->layout, block) < below &&
          (below != UINTPTR_MAX || may_take(h, block, avoid)) && !is_whole_pool(h, block)) {
        *fli = fl;
        *sli = sl;
        return block;
      }
    }
    if (++sl == SL_INDEX_COUNT) {
      sl = 0;
      ++fl;
    }
  }
  return NULL;
}

/* Takes a free block found on list (fl, sl) for a `size`-byte block: cut to
 * size, used, counted. */
static void reserve(const defrag_heap *h, tlsf_block *block, unsigned fl, unsigned sl, size_t size) {
  core_list_remove_at(h->layout, h->lists, block, fl, sl);
  core_trim_free(h->layout, h->lists, block, size);
  core_mark_as_used(h->layout, block);
  count_reserved(h, block);
}

static void leave(const alloy_tlsf_pass *pass, void *ptr, size_t offset, size_t size, alloy_tlsf_left_reason why,
                  size_t *count) {
  ++*count;
  if (pass->left != NULL) pass->left(ptr, offset, size, why, pass->context);
}

static alloy_status pass_arguments(const alloy_tlsf_pass *pass) {
  if (pass == NULL || pass->moves == NULL || pass->capacity == 0 || pass->max_bytes == 0 || pass->max_moves == 0)
    return ALLOY_E_INVALID_ARGUMENT;
  if (!pass->all_movable && pass->movable == NULL) return ALLOY_E_INVALID_ARGUMENT;
  return ALLOY_OK;
}

/* What became of a block a pass looked at. */
typedef enum look_result { LOOK_PLANNED, LOOK_LEFT, LOOK_FRUITLESS, LOOK_STOP } look_result;

/* Looks at one used block: asks the mark, checks the budget, finds it the
 * best free place below it and reserves it there. A block of a run between
 * two free blocks (`run_end`: the free block after its run; NULL for
 * others) that finds none below may go to one above: moving it out merges
 * the free blocks around its run wherever it lands, but not into
 * `run_end`, which would only move the run up. */
static look_result look_at(const defrag_heap *h, alloy_tlsf_pass *pass, tlsf_block *source,
                           const tlsf_block *run_end) {
  const size_t size = block_size(source);
  void *ptr = block_address(h, source);
  const size_t offset = block_offset(h, source);
  if (!pass->all_movable && !pass->movable(ptr, offset, size, pass->context)) {
    leave(pass, ptr, offset, size, ALLOY_TLSF_LEFT_NOT_MOVABLE, &pass->left_not_movable);
    return LOOK_LEFT;
  }
  if (size > pass->max_bytes - pass->planned_bytes) {
    leave(pass, ptr, offset, size, ALLOY_TLSF_LEFT_BUDGET, &pass->left_budget);
    return LOOK_FRUITLESS;
  }
  /* A split of the destination takes a record (virtual); without one the pass ends here. */
  if (h->layout == TLSF_OUT_OF_BAND && !records_ready(h->v) && alloy_tlsf_records_reserve(h->v) != ALLOY_OK)
    return LOOK_STOP;
  unsigned fl, sl;
  tlsf_block *destination = find_destination(h, size, block_position(h->layout, source), NULL, &fl, &sl);
  if (destination == NULL && run_end != NULL) destination = find_destination(h, size, UINTPTR_MAX, run_end, &fl, &sl);
  if (destination == NULL) {
    leave(pass, ptr, offset, size, ALLOY_TLSF_LEFT_NO_BETTER_PLACE, &pass->left_no_better_place);
    return LOOK_FRUITLESS;
  }
  reserve(h, destination, fl, sl, size);
  alloy_tlsf_move *move = &pass->moves[pass->count++];
  move->from = ptr;
  move->from_offset = offset;
  move->to = block_address(h, destination);
  move->to_offset = block_offset(h, destination);
  move->size = size;
  move->refuse = false;
  move->result = ALLOY_TLSF_MOVE_PLANNED;
  pass->planned_bytes += size;
  return LOOK_PLANNED;
}

/* Whether a used block is the source of one of this pass's moves. */
static bool is_source(const defrag_heap *h, const alloy_tlsf_pass *pass, const tlsf_block *block) {
  const void *ptr = block_address(h, block);
  const size_t offset = block_offset(h, block);
  for (size_t i = 0; i < pass->count; ++i)
    if (h->layout == TLSF_IN_BAND ? pass->moves[i].from == ptr : pass->moves[i].from_offset == offset) return true;
  return false;
}

/* A run of used blocks between two free ones: moving all of them out
 * merges the two free blocks and the run's space into one. */
typedef struct run {
  tlsf_block *first; /* the lowest block of the run */
  unsigned blocks;
  size_t bytes;
} run;

static int run_order(const void *a, const void *b) {
  const size_t x = ((const run *)a)->bytes, y = ((const run *)b)->bytes;
  return x < y ? -1 : x > y;
}

/* The run of at most DEFRAG_RUN_BLOCKS used blocks after `free_block`,
 * ending at another free block; false when there is none. `*read` counts
 * the blocks looked at. */
static bool run_after(const defrag_heap *h, tlsf_block *free_block, run *out, size_t *read) {
  tlsf_block *at = core_next(h->layout, free_block);
  run r = {at, 0, 0};
  while (!block_is_last(at) && !block_is_free(at) && r.blocks <= DEFRAG_RUN_BLOCKS) {
    r.blocks++;
    r.bytes += block_size(at);
    at = core_next(h->layout, at);
  }
  *read += r.blocks + 1;
  if (r.blocks == 0 || r.blocks > DEFRAG_RUN_BLOCKS || block_is_last(at) || !block_is_free(at)) return false;
  *out = r;
  return true;
}

/* The runs of at most DEFRAG_RUN_BLOCKS used blocks between two free blocks,
 * found from the free lists (each free block and the blocks after it, so a
 * pass reads about as many blocks as there are free ones, not the whole
 * heap), cheapest first; at most DEFRAG_RUNS, after at most DEFRAG_WALK
 * blocks read. */
static size_t collect_runs(const defrag_heap *h, run *out) {
  size_t count = 0, read = 0;
  uint32_t fl_map = h->lists->fl_bitmap;
  for (; fl_map != 0 && count < DEFRAG_RUNS && read < DEFRAG_WALK; fl_map &= fl_map - 1) {
    const unsigned fl = alloy_bit_scan_forward(fl_map);
    for (uint32_t sl_map = h->lists->sl_bitmap[fl]; sl_map != 0 && count < DEFRAG_RUNS && read < DEFRAG_WALK;
         sl_map &= sl_map - 1) {
      for (tlsf_block *block = h->lists->blocks[fl][alloy_bit_scan_forward(sl_map)];
           block != NULL && count < DEFRAG_RUNS && read < DEFRAG_WALK; block = block->next_free)
        if (!is_whole_pool(h, block) && run_after(h, block, &out[count], &read)) ++count;
    }
  }
  qsort(out, count, sizeof *out, run_order);
  return count;
}

/* A run the byte budget cannot move whole: each of its blocks is left. */
static void leave_run(const defrag_heap *h, alloy_tlsf_pass *pass, const run *r) {
  tlsf_block *block = r->first;
  for (unsigned k = 0; k < r->blocks; ++k, block = core_next(h->layout, block)) {
    void *ptr = block_address(h, block);
    const size_t offset = block_offset(h, block), size = block_size(block);
    if (!pass->all_movable && !pass->movable(ptr, offset, size, pass->context))
      leave(pass, ptr, offset, size, ALLOY_TLSF_LEFT_NOT_MOVABLE, &pass->left_not_movable);
    else
      leave(pass, ptr, offset, size, ALLOY_TLSF_LEFT_BUDGET, &pass->left_budget);
  }
}

static alloy_status begin(const defrag_heap *h, alloy_tlsf_pass *pass) {
  ALLOY_TRY(pass_arguments(pass));
  if (h->layout == TLSF_OUT_OF_BAND && (pass->copy || pass->purge_free)) return ALLOY_E_UNSUPPORTED;
  alloy_tlsf_pass **open = heap_open_pass(h);
  if (*open != NULL) return ALLOY_E_OUT_OF_ORDER;
  pass->count = pass->planned_bytes = 0;
  pass->left_not_movable = pass->left_no_better_place = pass->left_budget = 0;
  pass->moved = pass->moved_bytes = pass->refused = pass->cancelled = pass->released_bytes = 0;
  const size_t max_moves = pass->max_moves < pass->capacity ? pass->max_moves : pass->capacity;
  /* First the short runs between two free blocks, cheapest first: moving
   * one out merges free blocks. */
  run runs[DEFRAG_RUNS];
  const size_t run_count = collect_runs(h, runs);
  bool stop = false;
  for (size_t i = 0; i < run_count && !stop; ++i) {
    if (pass->count + runs[i].blocks > max_moves) break;
    if (runs[i].bytes > pass->max_bytes - pass->planned_bytes) {
      /* The runs after it cost more still. */
      leave_run(h, pass, &runs[i]);
      break;
    }
    tlsf_block *run_end = runs[i].first;
    for (unsigned k = 0; k < runs[i].blocks; ++k) run_end = core_next(h->layout, run_end);
    tlsf_block *block = runs[i].first;
    for (unsigned k = 0; k < runs[i].blocks && !stop; ++k) {
      tlsf_block *next = core_next(h->layout, block);
      stop = look_at(h, pass, block, run_end) == LOOK_STOP;
      block = next;
    }
  }
  /* Then, in a virtual range, from the top down: the highest blocks to the
   * best places below, so the used prefix shrinks. In band this only
   * trades places with the allocations that land in the space it frees
   * (bytes moved for nothing held less on the report's medium trace). */
  if (h->layout == TLSF_IN_BAND) stop = true;
  source_cursor cursor;
  cursor_start(h, &cursor);
  unsigned looks = 0, fruitless = 0;
  while (!stop && pass->count < max_moves && looks < DEFRAG_LOOKS && fruitless < DEFRAG_FRUITLESS_RUN &&
         pass->max_bytes - pass->planned_bytes >= core_block_size_min(h->layout)) {
    tlsf_block *source = cursor_next(h, &cursor);
    if (source == NULL) break;
    if (is_destination(h, pass, source) || is_source(h, pass, source)) continue;
    ++looks;
    switch (look_at(h, pass, source, NULL)) {
      case LOOK_PLANNED: fruitless = 0; break;
      case LOOK_LEFT: break;
      case LOOK_FRUITLESS: ++fruitless; break;
      case LOOK_STOP: stop = true; break;
    }
  }
  pass->open_on = heap_identity(h);
  *open = pass;
  return ALLOY_OK;
}

/* ---- ending a pass ------------------------------------------------------------------ */

static ALLOY_COLD alloy_status report_fault(const defrag_heap *h, const void *where, size_t size,
                                            const char *detail) {
  alloy_fault fault = {ALLOY_E_NOT_OWNED, heap_name(h), where, size, 0, 0, 0, detail};
  return alloy_fault_report(&fault);
}

static alloy_status end(const defrag_heap *h, alloy_tlsf_pass *pass) {
  if (pass == NULL) return ALLOY_E_INVALID_ARGUMENT;
  alloy_tlsf_pass **open = heap_open_pass(h);
  if (*open == NULL) return ALLOY_E_OUT_OF_ORDER;
  if (*open != pass || pass->open_on != heap_identity(h))
    return report_fault(h, pass, 0, "the pass is not the one open on this heap");
  for (size_t i = 0; i < pass->count; ++i)
    if (!destination_intact(h, &pass->moves[i]))
      return report_fault(h, pass->moves[i].to, pass->moves[i].size,
                          "a move's destination is not the block the pass reserved");
  /* From here the frees below are the heap's own, not the caller's. */
  *open = NULL;
  pass->open_on = NULL;
  const size_t extent = h->layout == TLSF_OUT_OF_BAND ? used_extent(h->v) : 0;
  for (size_t i = 0; i < pass->count; ++i) {
    alloy_tlsf_move *move = &pass->moves[i];
    if (move->result == ALLOY_TLSF_MOVE_CANCELLED || move->refuse) {
      free_block(h, move->to, move->to_offset, move->size, false);
      if (move->result == ALLOY_TLSF_MOVE_CANCELLED) {
        pass->cancelled++;
      } else {
        move->result = ALLOY_TLSF_MOVE_REFUSED;
        pass->refused++;
      }
      continue;
    }
    if (pass->copy) memcpy(move->to, move->from, move->size);
    pass->released_bytes += free_block(h, move->from, move->from_offset, move->size, true);
    move->result = ALLOY_TLSF_MOVE_DONE;
    pass->moved++;
    pass->moved_bytes += move->size;
  }
  if (h->layout == TLSF_IN_BAND && pass->purge_free) pass->released_bytes += alloy_tlsf_purge_resident(h->tlsf);
  if (h->layout == TLSF_OUT_OF_BAND) {
    const size_t after = used_extent(h->v);
    pass->released_bytes = after < extent ? extent - after : 0;
  }
  return ALLOY_OK;
}

/* ---- the entry points -------------------------------------------------------------------- */

alloy_status alloy_tlsf_defrag_begin(alloy_tlsf *tlsf, alloy_tlsf_pass *pass) {
  if (tlsf == NULL) return ALLOY_E_INVALID_ARGUMENT;
  const defrag_heap h = heap_in_band(tlsf);
  return begin(&h, pass);
}

alloy_status alloy_tlsf_defrag_end(alloy_tlsf *tlsf, alloy_tlsf_pass *pass) {
  if (tlsf == NULL) return ALLOY_E_INVALID_ARGUMENT;
  const defrag_heap h = heap_in_band(tlsf);
  return end(&h, pass);
}

alloy_status alloy_tlsf_virtual_defrag_begin(alloy_tlsf_virtual *v, alloy_tlsf_pass *pass) {
  if (v == NULL) return ALLOY_E_INVALID_ARGUMENT;
  const defrag_heap h = heap_virtual(v);
  return begin(&h, pass);
}

alloy_status alloy_tlsf_virtual_defrag_end(alloy_tlsf_virtual *v, alloy_tlsf_pass *pass) {
  if (v == NULL) return ALLOY_E_INVALID_ARGUMENT;
  const defrag_heap h = heap_virtual(v);
  return end(&h, pass);
}
