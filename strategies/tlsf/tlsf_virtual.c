/* TLSF virtual mode: the instance over a range it never touches (create,
 * destroy, the resource face), allocate and free on the out-of-band layout
 * of the shared core (tlsf_core.h), and telling bad frees apart. The
 * metadata comes through tlsf_records.h; the integrity walk is in
 * tlsf_virtual_check.c. */
#include <string.h>

#include "alloy/align.h"
#include "alloy/fault.h"
#include "strategies/tlsf/tlsf_core.h"
#include "strategies/tlsf/tlsf_defrag.h"
#include "strategies/tlsf/tlsf_internal.h"
#include "strategies/tlsf/tlsf_records.h"

#define LAYOUT TLSF_OUT_OF_BAND

/* The block size serving a request: a multiple of ALIGN_SIZE, at least one. */
static ALLOY_ALWAYS_INLINE size_t adjust_request_size(size_t size) {
  return size <= ALIGN_SIZE ? ALIGN_SIZE : alloy_align_up(size, ALIGN_SIZE);
}

/* ---- allocate ----------------------------------------------------------------- */

/* Hands out a free block, off the lists, cut to `size`. */
static void block_prepare_used(alloy_tlsf_virtual *v, tlsf_block *block, size_t size, size_t *offset,
                               size_t *usable) {
  core_trim_free(LAYOUT, &v->lists, block, size);
  core_mark_as_used(LAYOUT, block);
  const size_t bytes = block_size(block);
  tlsf_counts_allocated(&v->counts, bytes);
  *offset = record_of(block)->offset;
  *usable = bytes;
}

/* The bytes of `block` before the first offset aligned to `align` (as an
 * address when there is a base), or SIZE_MAX when `size` does not fit after
 * them. */
static size_t aligned_gap(const alloy_tlsf_virtual *v, const tlsf_block *block, size_t size, size_t align) {
  const uintptr_t start = v->base + record_of(block)->offset;
  const uintptr_t aligned = alloy_align_up(start, align);
  if (aligned < start) return SIZE_MAX; /* wrapped */
  const size_t gap = (size_t)(aligned - start);
  return gap <= block_size(block) && block_size(block) - gap >= size ? gap : SIZE_MAX;
}

/* The first free block that holds `size` bytes at `align`, walking every
 * list that may hold one: O(free blocks), only when the search that
 * reserves size + align found nothing. */
static ALLOY_NOINLINE tlsf_block *scan_for_aligned(alloy_tlsf_virtual *v, size_t size, size_t align,
                                                   unsigned *fli, unsigned *sli) {
  unsigned fl0, sl0;
  mapping_insert(size, &fl0, &sl0);
  for (unsigned fl = fl0; fl < FL_INDEX_COUNT; ++fl) {
    if (!(v->lists.fl_bitmap & (1u << fl))) continue;
    for (unsigned sl = fl == fl0 ? sl0 : 0; sl < SL_INDEX_COUNT; ++sl) {
      for (tlsf_block *block = v->lists.blocks[fl][sl]; block != NULL; block = block->next_free) {
        if (aligned_gap(v, block, size, align) != SIZE_MAX) {
          *fli = fl;
          *sli = sl;
          return block;
        }
      }
    }
  }
  return NULL;
}

/* Alignments above ALIGN_SIZE: a block that holds the worst gap, else any
 * block that holds this one; the gap before the aligned offset becomes a
 * free block of its own (any gap is a multiple of ALIGN_SIZE, so it can). */
static ALLOY_NOINLINE alloy_status allocate_aligned(alloy_tlsf_virtual *v, size_t size, size_t align,
                                                    size_t *offset, size_t *usable) {
  unsigned fl, sl;
  tlsf_block *block = NULL;
  size_t search;
  if (alloy_size_add(size, align - ALIGN_SIZE, &search) && search <= v->range_bytes)
    block = core_find_free(&v->lists, search, &fl, &sl);
  if (block == NULL || aligned_gap(v, block, size, align) == SIZE_MAX)
    block = scan_for_aligned(v, size, align, &fl, &sl);
  if (block == NULL) return ALLOY_E_OUT_OF_MEMORY;
  core_list_remove_at(LAYOUT, &v->lists, block, fl, sl);
  const size_t gap = aligned_gap(v, block, size, align);
  if (gap != 0) block = core_trim_free_leading(LAYOUT, &v->lists, block, gap);
  block_prepare_used(v, block, size, offset, usable);
  return ALLOY_OK;
}

/* Failures of allocate, counted in one place. */
static ALLOY_NOINLINE alloy_status allocate_failed(alloy_tlsf_virtual *v, alloy_status status) {
  v->counts.failures++;
  return status;
}

alloy_status alloy_tlsf_virtual_allocate(alloy_tlsf_virtual *v, size_t size, size_t align, size_t *offset,
                                         size_t *usable) {
  alloy_status status = alloy_request_check(size, align);
  if (ALLOY_UNLIKELY(status != ALLOY_OK)) return allocate_failed(v, status);
  if (ALLOY_UNLIKELY(size > v->range_bytes)) return allocate_failed(v, ALLOY_E_UNSUPPORTED);
  if (ALLOY_UNLIKELY(!records_ready(v))) {
    status = alloy_tlsf_records_reserve(v);
    if (status != ALLOY_OK) return allocate_failed(v, status);
  }
  const size_t adjusted = adjust_request_size(size);
  if (ALLOY_LIKELY(align <= ALIGN_SIZE)) {
    unsigned fl, sl;
    tlsf_block *block = core_find_free(&v->lists, adjusted, &fl, &sl);
    if (ALLOY_UNLIKELY(block == NULL)) return allocate_failed(v, ALLOY_E_OUT_OF_MEMORY);
    core_list_remove_at(LAYOUT, &v->lists, block, fl, sl);
    block_prepare_used(v, block, adjusted, offset, usable);
    return ALLOY_OK;
  }
  status = allocate_aligned(v, adjusted, align, offset, usable);
  return status == ALLOY_OK ? ALLOY_OK : allocate_failed(v, status);
}

/* ---- free ----------------------------------------------------------------------- */

static ALLOY_COLD alloy_status report_fault(alloy_status kind, size_t offset, size_t size, size_t expected,
                                            const char *detail) {
  alloy_fault fault = {kind, "tlsf_virtual", (const void *)(uintptr_t)offset, size, expected, 0, 0, detail};
  return alloy_fault_report(&fault);
}

/* A free whose offset starts no used block, or whose size is not the
 * block's: finds out which misuse it is (walks the blocks) and reports it. */
static ALLOY_NOINLINE ALLOY_COLD alloy_status reject_free(const alloy_tlsf_virtual *v, const tlsf_record *record,
                                                          size_t offset, size_t size) {
  if (record != NULL) {
    if (block_is_free(&record->block))
      return report_fault(ALLOY_E_DOUBLE_FREE, offset, size, 0, "block is already free");
    return report_fault(ALLOY_E_SIZE_MISMATCH, offset, size, block_size(&record->block),
                        "size does not round to the block's size");
  }
  if (offset >= v->range_bytes) return report_fault(ALLOY_E_NOT_OWNED, offset, size, 0, "offset is outside the range");
  const tlsf_record *block = v->first;
  while (offset >= block->offset + block_size(&block->block)) block = block->next_phys;
  if (block_is_free(&block->block))
    return report_fault(ALLOY_E_NOT_OWNED, offset, size, 0, "offset lies in free space: not handed out");
  return report_fault(ALLOY_E_INTERIOR_POINTER, offset, size, block->offset, "offset is inside a used block");
}

alloy_status alloy_tlsf_virtual_free(alloy_tlsf_virtual *v, size_t offset, size_t size) {
  tlsf_record *record = map_find(v, offset);
  if (ALLOY_UNLIKELY(record == NULL || block_is_free(&record->block) ||
                     (size > v->range_bytes ? SIZE_MAX : adjust_request_size(size)) != block_size(&record->block)))
    return reject_free(v, record, offset, size);
  /* A block a defragmentation pass moves: its move is cancelled, or refused when it is a destination. */
  if (ALLOY_UNLIKELY(v->defrag_pass != NULL)) ALLOY_TRY(defrag_on_free(v->defrag_pass, NULL, offset));
  tlsf_block *block = &record->block;
  const size_t bytes = block_size(block);
  tlsf_counts_freed(&v->counts, bytes);
  core_mark_as_free(LAYOUT, block);
  block = core_merge_prev(LAYOUT, &v->lists, block);
  block = core_merge_next(LAYOUT, &v->lists, block);
  core_list_insert(LAYOUT, &v->lists, block);
  return ALLOY_OK;
}

bool alloy_tlsf_virtual_owns(const alloy_tlsf_virtual *v, size_t offset) { return offset < v->range_bytes; }

/* ---- the resource face ------------------------------------------------------------ */

static alloy_tlsf_virtual *virtual_of(const alloy_resource *self) {
  return (alloy_tlsf_virtual *)(uintptr_t)self;
}

static alloy_status virtual_op_allocate(alloy_resource *self, size_t size, size_t align, alloy_block *out) {
  alloy_tlsf_virtual *v = virtual_of(self);
  size_t offset, usable;
  ALLOY_TRY(alloy_tlsf_virtual_allocate(v, size, align, &offset, &usable));
  *out = alloy_block_make((void *)(v->base + offset), usable);
  return ALLOY_OK;
}

static alloy_status virtual_op_deallocate(alloy_resource *self, alloy_block block, size_t align) {
  (void)align;
  alloy_tlsf_virtual *v = virtual_of(self);
  if (block.ptr == NULL) return ALLOY_OK;
  const uintptr_t address = (uintptr_t)block.ptr;
  if (ALLOY_UNLIKELY(address < v->base || address - v->base >= v->range_bytes))
    return report_fault(ALLOY_E_NOT_OWNED, (size_t)address, block.size, 0, "pointer is outside the range");
  return alloy_tlsf_virtual_free(v, (size_t)(address - v->base), block.size);
}

static bool virtual_op_owns(const alloy_resource *self, alloy_block block) {
  const alloy_tlsf_virtual *v = virtual_of(self);
  const uintptr_t address = (uintptr_t)block.ptr;
  return address >= v->base && address - v->base < v->range_bytes;
}

/* The range's prefix up to the end of its last used block. */
static size_t used_extent(const alloy_tlsf_virtual *v) {
  const tlsf_block *last = v->sentinel.block.prev_phys;
  return block_is_free(last) ? record_of(last)->offset : v->range_bytes;
}

static void virtual_op_get_info(const alloy_resource *self, alloy_resource_info *info) {
  const alloy_tlsf_virtual *v = virtual_of(self);
  info->thread_safety = ALLOY_THREAD_UNSAFE;
  info->max_alignment = (size_t)1 << alloy_bit_scan_reverse(v->range_bytes);
  info->max_size = v->range_bytes;
  info->has_stats = true;
  info->stats.live_bytes = v->counts.live_bytes;
  info->stats.peak_live_bytes = v->counts.peak_live_bytes;
  info->stats.reserved_bytes = v->range_bytes + v->metadata_bytes;
  info->stats.committed_bytes = used_extent(v) + v->metadata_bytes;
  info->stats.allocations = v->counts.allocations;
  info->stats.deallocations = v->counts.deallocations;
  info->stats.failures = v->counts.failures;
}

static const alloy_resource_ops virtual_ops = {
    .struct_size = sizeof(alloy_resource_ops),
    .name = "tlsf_virtual",
    .allocate = virtual_op_allocate,
    .deallocate = virtual_op_deallocate,
    .owns = virtual_op_owns,
    .get_info = virtual_op_get_info,
};

alloy_resource *alloy_tlsf_virtual_resource(alloy_tlsf_virtual *v) { return v->base != 0 ? &v->resource : NULL; }

/* ---- create and destroy --------------------------------------------------------------- */

alloy_status alloy_tlsf_virtual_create(const alloy_tlsf_virtual_config *config, alloy_tlsf_virtual **out) {
  if (config == NULL || out == NULL) return ALLOY_E_INVALID_ARGUMENT;
  const size_t range = alloy_align_down(config->range_bytes, ALIGN_SIZE);
  if (range < ALIGN_SIZE || range > ALLOY_TLSF_VIRTUAL_RANGE_MAX) return ALLOY_E_INVALID_ARGUMENT;
  if (!alloy_is_aligned(config->base, ALIGN_SIZE) || config->base + range < config->base)
    return ALLOY_E_INVALID_ARGUMENT;
  void *memory;
  size_t obtained;
  if (config->max_metadata_bytes != 0 && sizeof(alloy_tlsf_virtual) > config->max_metadata_bytes)
    return ALLOY_E_CAPACITY;
  ALLOY_TRY(alloy_tlsf_records_obtain(config->metadata, sizeof(alloy_tlsf_virtual), &memory, &obtained));
  alloy_tlsf_virtual *v = (alloy_tlsf_virtual *)memory;
  memset(v, 0, sizeof *v);
  v->resource.ops = &virtual_ops;
  v->base = config->base;
  v->range_bytes = range;
  v->metadata = config->metadata;
  v->max_metadata_bytes = config->max_metadata_bytes;
  v->metadata_bytes = obtained;
  v->next_chunk_bytes = RECORDS_FIRST_CHUNK_BYTES;
  alloy_status status = v->max_metadata_bytes != 0 && obtained > v->max_metadata_bytes
                            ? ALLOY_E_CAPACITY
                            : alloy_tlsf_records_reserve(v);
  if (status != ALLOY_OK) {
    alloy_tlsf_virtual_destroy(v);
    return status;
  }
  /* One free block over the whole range, then the sentinel (V1). */
  tlsf_record *first = records_take(v);
  first->offset = 0;
  first->next_phys = &v->sentinel;
  first->block.prev_phys = NULL;
  first->block.size = range | BLOCK_FREE;
  v->sentinel.offset = range;
  v->sentinel.next_phys = NULL;
  v->sentinel.block.prev_phys = &first->block;
  v->sentinel.block.size = BLOCK_PREV_FREE; /* size 0, used */
  v->first = first;
  map_insert(v, first);
  core_list_insert(LAYOUT, &v->lists, &first->block);
  *out = v;
  return ALLOY_OK;
}

void alloy_tlsf_virtual_destroy(alloy_tlsf_virtual *v) {
  if (v == NULL) return;
  alloy_tlsf_records_release_all(v);
  alloy_tlsf_records_give_back(v->metadata, v, v->metadata_bytes);
}
