/* TLSF virtual mode introspection: the integrity walk (the shared
 * invariants 1-5 on records, V1-V3 of tlsf_records.h), the block walk and
 * statistics. Reads only the metadata, never the range. */
#include <string.h>

#include "alloy/fault.h"
#include "strategies/tlsf/tlsf_internal.h"
#include "strategies/tlsf/tlsf_records.h"

static ALLOY_COLD alloy_status corruption(const void *where, size_t size, const char *rule) {
  alloy_fault fault = {ALLOY_E_CORRUPTION, "tlsf_virtual", where, size, 0, 0, 0, rule};
  return alloy_fault_report(&fault);
}

#define EXPECT(cond, where, size, rule)                                      \
  do {                                                                       \
    if (ALLOY_UNLIKELY(!(cond))) return corruption((where), (size), (rule)); \
  } while (0)

/* Physical walk (V1, invariants 1 and 4, V2 for each block); counts what it saw. */
static alloy_status check_blocks(const alloy_tlsf_virtual *v, size_t *blocks, size_t *free_blocks,
                                 size_t *used_bytes, size_t *used_blocks) {
  const tlsf_record *record = v->first, *prev = NULL;
  size_t offset = 0;
  EXPECT(record != NULL && !block_is_prev_free(&record->block), v, 0, "first block is missing or claims a free predecessor");
  for (;;) {
    const tlsf_block *block = &record->block;
    const size_t size = block_size(block);
    EXPECT(record->offset == offset, record, offset, "block does not start where its predecessor ends");
    EXPECT(block->prev_phys == (prev != NULL ? &prev->block : NULL), record, size,
           "prev_phys does not point at the previous block");
    EXPECT(!!block_is_prev_free(block) == (prev != NULL && block_is_free(&prev->block)), record, size,
           "PREV_FREE flag disagrees with the previous block");
    if (record == &v->sentinel) {
      EXPECT(offset == v->range_bytes && size == 0 && !block_is_free(block), record, offset,
             "sentinel is not a used empty block at the end of the range");
      return ALLOY_OK;
    }
    EXPECT(size >= ALIGN_SIZE && size % ALIGN_SIZE == 0 && size <= v->range_bytes - offset, record, size,
           "block size out of range or misaligned");
    EXPECT((block->size & BLOCK_PURGED) == 0, record, size, "block marked purged");
    EXPECT(map_find(v, record->offset) == record, record, record->offset, "block is not in the offset map");
    EXPECT(++*blocks <= v->records_total, record, 0, "more blocks than records (a cycle)");
    if (block_is_free(block)) {
      EXPECT(prev == NULL || !block_is_free(&prev->block), record, size, "two adjacent free blocks (missed coalescing)");
      ++*free_blocks;
    } else {
      *used_bytes += size;
      ++*used_blocks;
    }
    offset += size;
    prev = record;
    record = record->next_phys;
    EXPECT(record != NULL, prev, 0, "block chain ends before the sentinel");
  }
}

/* Free-list walk: invariants 2 and 5 and the list order of invariant 10. */
static alloy_status check_lists(const alloy_tlsf_virtual *v, size_t *listed) {
  const tlsf_lists *lists = &v->lists;
  for (unsigned fl = 0; fl < FL_INDEX_COUNT; ++fl) {
    EXPECT(!!(lists->fl_bitmap & (1u << fl)) == (lists->sl_bitmap[fl] != 0), v, fl,
           "first-level bit disagrees with its second-level map");
    for (unsigned sl = 0; sl < SL_INDEX_COUNT; ++sl) {
      const tlsf_block *block = lists->blocks[fl][sl], *prev = NULL;
      EXPECT(!!(lists->sl_bitmap[fl] & (1u << sl)) == (block != NULL), v, sl, "second-level bit disagrees with its list");
      for (; block != NULL; prev = block, block = block->next_free) {
        EXPECT(++*listed <= v->records_total, block, 0, "free list has a cycle");
        EXPECT(map_find(v, record_of(block)->offset) == record_of(block), block, 0, "free list links a record no block has");
        EXPECT(block_is_free(block), block, block_size(block), "used block on a free list");
        EXPECT(block->prev_free == prev, block, block_size(block), "free list back link is broken");
        unsigned f, s;
        mapping_insert(block_size(block), &f, &s);
        EXPECT(f == fl && s == sl, block, block_size(block), "free block is on the wrong list");
      }
      EXPECT(lists->tails[fl][sl] == prev, v, sl, "free list tail is wrong");
    }
  }
  return ALLOY_OK;
}

alloy_status alloy_tlsf_virtual_check(const alloy_tlsf_virtual *v) {
  if (v == NULL) return ALLOY_E_INVALID_ARGUMENT;
  size_t blocks = 0, free_blocks = 0, used_bytes = 0, used_blocks = 0, listed = 0;
  ALLOY_TRY(check_blocks(v, &blocks, &free_blocks, &used_bytes, &used_blocks));
  ALLOY_TRY(check_lists(v, &listed));
  EXPECT(listed == free_blocks, v, listed, "free lists and blocks disagree on the free blocks");
  EXPECT(blocks == v->mapped, v, v->mapped, "offset map holds other than one slot per block");
  size_t spare = 0;
  for (const tlsf_record *record = v->spare_records; record != NULL; record = record_of(record->block.next_free))
    EXPECT(++spare <= v->records_total, record, 0, "spare record list has a cycle");
  EXPECT(spare == v->spare_count && blocks + spare == v->records_total, v, spare,
         "records are neither blocks nor spare (or both)");
  EXPECT(used_bytes == v->counts.live_bytes, v, used_bytes, "live byte count disagrees with the used blocks");
  EXPECT(used_blocks == v->counts.used_blocks, v, used_blocks, "used block count disagrees with the used blocks");
  return ALLOY_OK;
}

void alloy_tlsf_virtual_walk(const alloy_tlsf_virtual *v, alloy_tlsf_virtual_visitor visit, void *context) {
  for (const tlsf_record *record = v->first; record != &v->sentinel; record = record->next_phys)
    if (!visit(record->offset, block_size(&record->block), !block_is_free(&record->block), context)) return;
}

void alloy_tlsf_virtual_get_stats(const alloy_tlsf_virtual *v, alloy_tlsf_virtual_stats *out) {
  memset(out, 0, sizeof *out);
  out->range_bytes = v->range_bytes;
  out->live_bytes = v->counts.live_bytes;
  out->peak_live_bytes = v->counts.peak_live_bytes;
  out->free_bytes = v->range_bytes - v->counts.live_bytes;
  out->used_blocks = v->counts.used_blocks;
  out->metadata_bytes = v->metadata_bytes;
  out->records = v->records_total;
  out->allocations = v->counts.allocations;
  out->deallocations = v->counts.deallocations;
  out->failures = v->counts.failures;
  for (unsigned fl = 0; fl < FL_INDEX_COUNT; ++fl) {
    for (unsigned sl = 0; sl < SL_INDEX_COUNT; ++sl) {
      for (const tlsf_block *block = v->lists.blocks[fl][sl]; block != NULL; block = block->next_free) {
        out->free_blocks++;
        if (block_size(block) > out->largest_free_block) out->largest_free_block = block_size(block);
      }
    }
  }
}
