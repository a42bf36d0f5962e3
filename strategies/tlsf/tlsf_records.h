/* tlsf_records.h — the out-of-band heap's metadata (alloy_tlsf_virtual):
 * its control structure, the records that stand for its blocks and the
 * offset map that finds a block's record from the offset a free gives.
 * What tlsf_records.c offers the other files of the package is declared
 * here; the hot paths (taking and giving back a record, the map's look-up,
 * insert and erase) are inline.
 *
 * Where the metadata comes from: the control structure, the record chunks
 * and the map's table are all allocated from config.metadata (an
 * alloy_resource) or, without one, mapped from the platform in whole pages;
 * never from the range. It grows only when an allocation needs it: a block
 * costs one record (48 bytes) and at most two map slots (16 bytes each, the
 * table kept at most half full), and a range holds at most 2 * used + 1
 * blocks (free blocks are never adjacent), so the metadata is bounded by
 * the live blocks' peak, and config.max_metadata_bytes caps it. Records and
 * the table are kept until destroy (spare records are reused).
 *
 * The invariants, beyond the shared ones of tlsf_internal.h (1-5 hold with
 * records for headers; alloy_tlsf_virtual_check verifies each):
 *   V1. The blocks, from `first` through next_phys, tile [0, range_bytes)
 *       in offset order, each a multiple of ALIGN_SIZE and at least
 *       ALIGN_SIZE, and end with the sentinel (size 0, used, offset
 *       range_bytes). prev_phys of every block is its predecessor.
 *   V2. The map holds exactly one slot per block (not the sentinel), keyed
 *       by its offset.
 *   V3. Every record is a block's, the sentinel, or on the spare list:
 *       records_total = blocks + spare_records.
 */
#ifndef ALLOY_TLSF_RECORDS_H
#define ALLOY_TLSF_RECORDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "strategies/tlsf/tlsf_internal.h"

/* One slot of the offset map: an open-addressed table with linear probing,
 * a power of two of slots; record NULL marks an empty slot. */
typedef struct tlsf_map_slot {
  size_t offset;
  tlsf_record *record;
} tlsf_map_slot;

/* The head of a chunk of records, in the metadata. */
typedef struct tlsf_record_chunk {
  struct tlsf_record_chunk *next;
  size_t bytes;
} tlsf_record_chunk;

/* Records and map slots an allocation may use up: a split before the block
 * (alignment) and one after it. */
#define RECORDS_PER_ALLOCATION 2u

/* The first chunk of records: a page's worth. */
#define RECORDS_FIRST_CHUNK_BYTES ((size_t)4096)

struct alloy_tlsf_virtual {
  alloy_resource resource; /* first: the instance is its own resource */
  tlsf_lists lists;
  uintptr_t base;     /* the address of offset 0; 0 for an offset range */
  size_t range_bytes; /* the range, a multiple of ALIGN_SIZE */
  tlsf_record *first; /* the block at offset 0 */
  tlsf_record sentinel;

  /* Records (V3). */
  tlsf_record *spare_records; /* linked through block.next_free */
  size_t spare_count;
  size_t records_total;
  tlsf_record_chunk *chunks;
  size_t next_chunk_bytes;

  /* The offset map (V2). */
  tlsf_map_slot *slots;
  size_t slot_mask;     /* slots - 1 */
  unsigned slot_shift;  /* 64 - log2(slots) */
  size_t mapped;        /* blocks in the map */
  size_t table_bytes;   /* what the table's source gave */

  /* The metadata source. */
  alloy_resource *metadata; /* NULL: platform pages */
  size_t max_metadata_bytes; /* 0: no cap */
  size_t metadata_bytes;     /* the control structure, chunks and table held */

  tlsf_counts counts;

  /* The open defragmentation pass, or NULL (tlsf_defrag.c; frees look it up). */
  alloy_tlsf_pass *defrag_pass;
};

static ALLOY_ALWAYS_INLINE alloy_tlsf_virtual *records_heap(tlsf_lists *lists) {
  return (alloy_tlsf_virtual *)(void *)((char *)lists - offsetof(alloy_tlsf_virtual, lists));
}

/* ---- records ------------------------------------------------------------------ */

/* Whether the next allocation has its records and map slots at hand. */
static ALLOY_ALWAYS_INLINE bool records_ready(const alloy_tlsf_virtual *v) {
  return v->spare_count >= RECORDS_PER_ALLOCATION && (v->mapped + RECORDS_PER_ALLOCATION) * 2 <= v->slot_mask + 1;
}

/* The slow path of records_ready: more records, a larger map. ALLOY_OK, or
 * ALLOY_E_CAPACITY past max_metadata_bytes, or the source's refusal
 * (ALLOY_E_OUT_OF_MEMORY); nothing changes on failure but what was got. */
ALLOY_HIDDEN alloy_status alloy_tlsf_records_reserve(alloy_tlsf_virtual *v);

/* `bytes` of metadata from `source` (an alloy_resource, or NULL for
 * platform pages); in *obtained what giving them back takes. */
ALLOY_HIDDEN alloy_status alloy_tlsf_records_obtain(alloy_resource *source, size_t bytes, void **memory,
                                                    size_t *obtained);
ALLOY_HIDDEN void alloy_tlsf_records_give_back(alloy_resource *source, void *memory, size_t obtained);

/* Gives every record chunk and the map's table back (destroy). */
ALLOY_HIDDEN void alloy_tlsf_records_release_all(alloy_tlsf_virtual *v);

static ALLOY_ALWAYS_INLINE tlsf_record *records_take(alloy_tlsf_virtual *v) {
  tlsf_record *record = v->spare_records;
  ALLOY_ASSERT(record != NULL);
  v->spare_records = record_of(record->block.next_free);
  v->spare_count--;
  return record;
}

static ALLOY_ALWAYS_INLINE void records_give_back(alloy_tlsf_virtual *v, tlsf_record *record) {
  /* The handle is the record's first member: a cast, which stays defined for an empty list. */
  record->block.next_free = (tlsf_block *)(void *)v->spare_records;
  v->spare_records = record;
  v->spare_count++;
}

/* ---- the offset map ------------------------------------------------------------- */

static ALLOY_ALWAYS_INLINE size_t map_home(const alloy_tlsf_virtual *v, size_t offset) {
  return (size_t)(((uint64_t)(offset >> ALIGN_SIZE_LOG2) * UINT64_C(0x9E3779B97F4A7C15)) >> v->slot_shift);
}

/* The record of the block that starts at `offset`, or NULL. */
static ALLOY_ALWAYS_INLINE tlsf_record *map_find(const alloy_tlsf_virtual *v, size_t offset) {
  for (size_t i = map_home(v, offset);; i = (i + 1) & v->slot_mask) {
    const tlsf_map_slot *slot = &v->slots[i];
    if (slot->record == NULL) return NULL;
    if (slot->offset == offset) return slot->record;
  }
}

/* Adds a block that starts at record->offset; the table has room (records_ready). */
static ALLOY_ALWAYS_INLINE void map_insert(alloy_tlsf_virtual *v, tlsf_record *record) {
  size_t i = map_home(v, record->offset);
  while (v->slots[i].record != NULL) i = (i + 1) & v->slot_mask;
  v->slots[i].offset = record->offset;
  v->slots[i].record = record;
  v->mapped++;
}

/* Drops the block at `offset`, which is in the map: the slots after it
 * that belong before the hole move back into it (backward-shift deletion,
 * so no tombstones lengthen later look-ups). */
static ALLOY_ALWAYS_INLINE void map_erase(alloy_tlsf_virtual *v, size_t offset) {
  size_t hole = map_home(v, offset);
  while (v->slots[hole].offset != offset || v->slots[hole].record == NULL) hole = (hole + 1) & v->slot_mask;
  for (size_t i = (hole + 1) & v->slot_mask; v->slots[i].record != NULL; i = (i + 1) & v->slot_mask) {
    const size_t home = map_home(v, v->slots[i].offset);
    /* The slot may move to the hole when its home is not in (hole, i]. */
    if (((i - home) & v->slot_mask) >= ((i - hole) & v->slot_mask)) {
      v->slots[hole] = v->slots[i];
      hole = i;
    }
  }
  v->slots[hole].record = NULL;
  v->mapped--;
}

#endif /* ALLOY_TLSF_RECORDS_H */
