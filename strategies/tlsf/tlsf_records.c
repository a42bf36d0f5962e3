/* TLSF out-of-band metadata: where it comes from (a resource or platform
 * pages), record chunks and the offset map's growth (tlsf_records.h). The
 * slow paths only; taking a record and the map's look-ups are inline. */
#include "strategies/tlsf/tlsf_records.h"

#include "alloy/align.h"
#include "alloy/vm.h"

/* Each chunk of records doubles the last, from RECORDS_FIRST_CHUNK_BYTES up
 * to MAX_CHUNK_BYTES, so a range with few blocks holds little metadata and
 * one with many takes few chunks. */
#define FIRST_CHUNK_BYTES RECORDS_FIRST_CHUNK_BYTES
#define MAX_CHUNK_BYTES ((size_t)1 << 20)
#define METADATA_ALIGN ((size_t)64)

alloy_status alloy_tlsf_records_obtain(alloy_resource *source, size_t bytes, void **memory, size_t *obtained) {
  if (source != NULL) {
    alloy_block block;
    ALLOY_TRY(alloy_resource_allocate(source, bytes, METADATA_ALIGN, &block));
    *memory = block.ptr;
    *obtained = bytes; /* what deallocate will be told */
    return ALLOY_OK;
  }
  size_t mapped;
  if (!alloy_align_up_checked(bytes, alloy_vm_page_size(), &mapped)) return ALLOY_E_OUT_OF_MEMORY;
  ALLOY_TRY(alloy_vm_map(mapped, alloy_vm_page_size(), memory));
  *obtained = mapped;
  return ALLOY_OK;
}

void alloy_tlsf_records_give_back(alloy_resource *source, void *memory, size_t obtained) {
  if (source != NULL)
    ALLOY_IGNORE_STATUS(alloy_resource_deallocate(source, alloy_block_make(memory, obtained), METADATA_ALIGN));
  else
    ALLOY_IGNORE_STATUS(alloy_vm_release(memory, obtained));
}

/* Metadata counted against the cap. */
static alloy_status metadata_obtain(alloy_tlsf_virtual *v, size_t bytes, void **memory, size_t *obtained) {
  if (v->max_metadata_bytes != 0 && bytes > v->max_metadata_bytes - v->metadata_bytes) return ALLOY_E_CAPACITY;
  ALLOY_TRY(alloy_tlsf_records_obtain(v->metadata, bytes, memory, obtained));
  if (v->max_metadata_bytes != 0 && *obtained > v->max_metadata_bytes - v->metadata_bytes) {
    /* Rounding to pages went past the cap. */
    alloy_tlsf_records_give_back(v->metadata, *memory, *obtained);
    return ALLOY_E_CAPACITY;
  }
  v->metadata_bytes += *obtained;
  return ALLOY_OK;
}

static void metadata_give_back(alloy_tlsf_virtual *v, void *memory, size_t obtained) {
  v->metadata_bytes -= obtained;
  alloy_tlsf_records_give_back(v->metadata, memory, obtained);
}

/* A new chunk of records onto the spare list. */
static alloy_status grow_records(alloy_tlsf_virtual *v) {
  size_t bytes = v->next_chunk_bytes;
  void *memory;
  size_t obtained;
  alloy_status status = metadata_obtain(v, bytes, &memory, &obtained);
  if (status == ALLOY_E_CAPACITY && bytes > FIRST_CHUNK_BYTES) {
    /* Near the cap a smaller chunk may still fit. */
    bytes = FIRST_CHUNK_BYTES;
    status = metadata_obtain(v, bytes, &memory, &obtained);
  }
  ALLOY_TRY(status);
  tlsf_record_chunk *chunk = (tlsf_record_chunk *)memory;
  chunk->next = v->chunks;
  chunk->bytes = obtained;
  v->chunks = chunk;
  const size_t first = alloy_align_up(sizeof *chunk, sizeof(tlsf_record));
  for (size_t at = first; at + sizeof(tlsf_record) <= obtained; at += sizeof(tlsf_record)) {
    records_give_back(v, (tlsf_record *)(void *)((char *)memory + at));
    v->records_total++;
  }
  if (v->next_chunk_bytes < MAX_CHUNK_BYTES) v->next_chunk_bytes *= 2;
  return ALLOY_OK;
}

/* The map's table at `slots` slots, its blocks moved over. */
static alloy_status grow_map(alloy_tlsf_virtual *v, size_t slots) {
  void *memory;
  size_t obtained;
  ALLOY_TRY(metadata_obtain(v, slots * sizeof(tlsf_map_slot), &memory, &obtained));
  tlsf_map_slot *old = v->slots;
  const size_t old_bytes = v->table_bytes;
  const size_t old_count = v->slots != NULL ? v->slot_mask + 1 : 0;
  for (size_t i = 0; i < slots; ++i) ((tlsf_map_slot *)memory)[i].record = NULL;
  v->slots = (tlsf_map_slot *)memory;
  v->table_bytes = obtained;
  v->slot_mask = slots - 1;
  v->slot_shift = 64u - alloy_bit_scan_reverse(slots);
  v->mapped = 0;
  for (size_t i = 0; i < old_count; ++i)
    if (old[i].record != NULL) map_insert(v, old[i].record);
  if (old != NULL) metadata_give_back(v, old, old_bytes);
  return ALLOY_OK;
}

alloy_status alloy_tlsf_records_reserve(alloy_tlsf_virtual *v) {
  while (v->spare_count < RECORDS_PER_ALLOCATION) ALLOY_TRY(grow_records(v));
  size_t slots = v->slots != NULL ? v->slot_mask + 1 : 64;
  while ((v->mapped + RECORDS_PER_ALLOCATION) * 2 > slots) slots *= 2;
  if (v->slots == NULL || slots != v->slot_mask + 1) ALLOY_TRY(grow_map(v, slots));
  return ALLOY_OK;
}

void alloy_tlsf_records_release_all(alloy_tlsf_virtual *v) {
  while (v->chunks != NULL) {
    tlsf_record_chunk *chunk = v->chunks;
    v->chunks = chunk->next;
    metadata_give_back(v, chunk, chunk->bytes);
  }
  if (v->slots != NULL) metadata_give_back(v, v->slots, v->table_bytes);
  v->slots = NULL;
  v->spare_records = NULL;
  v->spare_count = 0;
}
