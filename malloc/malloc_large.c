/* The drop-in malloc's large blocks: one page-granular mapping each, from
 * the platform layer, with the malloc header (malloc_header.h) just below
 * the block: the mapping's size and the block's offset into it, so a
 * pointer-only free and malloc_usable_size find both. Aligned requests
 * beyond what the partition and the medium arenas serve come here too: the mapping is
 * aligned, the block placed at the first aligned address past the header. */
#include <stdatomic.h>
#include <stdint.h>

#include "alloy/align.h"
#include "alloy/vm.h"
#include "malloc_internal.h"

/* Counters for the exit report (a system call per block dwarfs them). */
static _Atomic uint64_t large_allocations, large_frees;
static _Atomic size_t large_mapped_bytes, large_peak_mapped_bytes;

static void count_mapping(size_t map_size) {
  atomic_fetch_add_explicit(&large_allocations, 1, memory_order_relaxed);
  size_t mapped = atomic_fetch_add_explicit(&large_mapped_bytes, map_size, memory_order_relaxed) + map_size;
  size_t peak = atomic_load_explicit(&large_peak_mapped_bytes, memory_order_relaxed);
  while (mapped > peak && !atomic_compare_exchange_weak_explicit(&large_peak_mapped_bytes, &peak, mapped,
                                                                 memory_order_relaxed, memory_order_relaxed)) {
  }
}

void alloy_malloc_large_get_stats(alloy_malloc_tier_stats *out) {
  out->allocations = atomic_load_explicit(&large_allocations, memory_order_relaxed);
  out->frees = atomic_load_explicit(&large_frees, memory_order_relaxed);
  out->held_bytes = atomic_load_explicit(&large_mapped_bytes, memory_order_relaxed);
  out->live_bytes = out->held_bytes;
  out->peak_live_bytes = atomic_load_explicit(&large_peak_mapped_bytes, memory_order_relaxed);
}

/* Even a zero-size block has a byte of its mapping, so it is never the
 * mapping's end (the next mapping's first byte). */
void *alloy_malloc_large_allocate(size_t size, size_t align) {
  if (align < ALLOY_MALLOC_ALIGN) align = ALLOY_MALLOC_ALIGN;
  size_t offset = alloy_align_up(sizeof(alloy_malloc_header), align);
  size_t map_size;
  if (offset >= ((size_t)1 << ALLOY_MALLOC_HEADER_OFFSET_BITS) || size > ALLOY_MAX_REQUEST - offset ||
      !alloy_align_up_checked(offset + (size == 0 ? 1 : size), alloy_vm_page_size(), &map_size))
    return NULL;
  void *base;
  if (alloy_vm_map(map_size, align, &base) != ALLOY_OK) return NULL;
  char *block = (char *)base + offset;
  alloy_malloc_header_write(block, alloy_malloc_header_tag(ALLOY_MALLOC_KIND_LARGE, 0, offset), map_size);
  count_mapping(map_size);
  return block;
}

/* Whether the header is a mapping's; reports it otherwise (a pointer with
 * no header at all may still be a medium block freed twice: the medium
 * arenas tell). */
static bool header_valid(const void *ptr, const alloy_malloc_header *header) {
  size_t offset = alloy_malloc_header_offset(header);
  bool large = alloy_malloc_header_kind(header) == ALLOY_MALLOC_KIND_LARGE;
  if (ALLOY_LIKELY(large && offset >= sizeof(*header) && offset < header->extent &&
                   alloy_is_aligned(header->extent, alloy_vm_page_size())))
    return true;
  if (large) alloy_malloc_header_report(ALLOY_E_CORRUPTION, ptr, "a large block header that names no mapping");
  else alloy_malloc_medium_report_bad_free(ptr);
  return false;
}

void alloy_malloc_large_free(void *ptr) {
  const alloy_malloc_header *header = alloy_malloc_header_of(ptr);
  if (!header_valid(ptr, header)) return;
  size_t map_size = header->extent;
  ALLOY_IGNORE_STATUS(alloy_vm_release((char *)ptr - alloy_malloc_header_offset(header), map_size));
  atomic_fetch_add_explicit(&large_frees, 1, memory_order_relaxed);
  atomic_fetch_sub_explicit(&large_mapped_bytes, map_size, memory_order_relaxed);
}

size_t alloy_malloc_large_usable_size(const void *ptr) {
  const alloy_malloc_header *header = alloy_malloc_header_of(ptr);
  if (!header_valid(ptr, header)) return 0;
  return header->extent - alloy_malloc_header_offset(header);
}
