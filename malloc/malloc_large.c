/* The drop-in malloc's large blocks: one page-granular mapping each, from
 * the platform layer, with a header just below the block that holds the
 * mapping's size and the block's offset into it, so a pointer-only free and
 * malloc_usable_size find both. Aligned requests the small-object heap does
 * not serve come here too: the mapping is aligned, the block placed at the
 * first aligned address past the header. */
#include <stdint.h>

#include "alloy/align.h"
#include "alloy/fault.h"
#include "alloy/vm.h"
#include "malloc_internal.h"

#define LARGE_HEADER 16u
#define LARGE_MAGIC ((size_t)0xa110u << 48) /* the top 16 bits of `offset`: a check against foreign pointers */
#define LARGE_OFFSET_BITS 48u

typedef struct large_header {
  size_t map_size;
  size_t offset; /* block - mapping, with LARGE_MAGIC above it */
} large_header;

ALLOY_STATIC_ASSERT(sizeof(large_header) == LARGE_HEADER, "the header is 16 bytes");

static large_header *header_of(const void *ptr) {
  return (large_header *)(uintptr_t)((const char *)ptr - LARGE_HEADER);
}

/* Even a zero-size block has a byte of its mapping, so it is never the
 * mapping's end (the next mapping's first byte). */
void *alloy_malloc_large_allocate(size_t size, size_t align) {
  if (align < ALLOY_MALLOC_ALIGN) align = ALLOY_MALLOC_ALIGN;
  size_t offset = alloy_align_up(LARGE_HEADER, align);
  size_t map_size;
  if (offset >= ((size_t)1 << LARGE_OFFSET_BITS) || size > ALLOY_MAX_REQUEST - offset ||
      !alloy_align_up_checked(offset + (size == 0 ? 1 : size), alloy_vm_page_size(), &map_size))
    return NULL;
  void *base;
  if (alloy_vm_map(map_size, align, &base) != ALLOY_OK) return NULL;
  char *block = (char *)base + offset;
  large_header *header = header_of(block);
  header->map_size = map_size;
  header->offset = offset | LARGE_MAGIC;
  return block;
}

/* Checks the header; reports a pointer that has none through the fault
 * handler (like a foreign free in any strategy) and returns false. */
static bool header_valid(const void *ptr, const large_header *header) {
  size_t offset = header->offset & (((size_t)1 << LARGE_OFFSET_BITS) - 1);
  if (ALLOY_LIKELY((header->offset & ~(((size_t)1 << LARGE_OFFSET_BITS) - 1)) == LARGE_MAGIC &&
                   offset >= LARGE_HEADER && offset < header->map_size &&
                   alloy_is_aligned(header->map_size, alloy_vm_page_size())))
    return true;
  alloy_fault fault = {ALLOY_E_NOT_OWNED, "alloy_malloc", ptr, 0, 0, 0, 0,
                       "not a block of this malloc (no large-block header)"};
  ALLOY_IGNORE_STATUS(alloy_fault_report(&fault));
  return false;
}

void alloy_malloc_large_free(void *ptr) {
  large_header *header = header_of(ptr);
  if (!header_valid(ptr, header)) return;
  size_t offset = header->offset & (((size_t)1 << LARGE_OFFSET_BITS) - 1);
  ALLOY_IGNORE_STATUS(alloy_vm_release((char *)ptr - offset, header->map_size));
}

size_t alloy_malloc_large_usable_size(const void *ptr) {
  const large_header *header = header_of(ptr);
  if (!header_valid(ptr, header)) return 0;
  return header->map_size - (header->offset & (((size_t)1 << LARGE_OFFSET_BITS) - 1));
}
