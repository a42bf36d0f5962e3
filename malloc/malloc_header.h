/* The header of the drop-in malloc's medium and large blocks: sixteen
 * bytes just below the payload. `tag` holds a magic number (a check against
 * pointers this malloc never returned), the kind, the medium arena and the
 * offset from the start of what the arena or the mapping gave to the
 * payload. `extent` is the payload's usable bytes (medium) or the mapping's
 * bytes (large). A free reads it to route the block; a pointer whose header
 * has no magic is reported, never freed. */
#ifndef ALLOY_MALLOC_HEADER_H
#define ALLOY_MALLOC_HEADER_H

#include <stddef.h>
#include <stdint.h>

#include "alloy/compiler.h"
#include "alloy/status.h"

/* What malloc guarantees without an alignment argument (alignof(max_align_t)). */
#define ALLOY_MALLOC_ALIGN 16u

typedef struct alloy_malloc_header {
  size_t extent;
  uint64_t tag;
} alloy_malloc_header;

typedef enum alloy_malloc_kind {
  ALLOY_MALLOC_KIND_NONE = 0, /* no valid header */
  ALLOY_MALLOC_KIND_MEDIUM = 1,
  ALLOY_MALLOC_KIND_LARGE = 2,
} alloy_malloc_kind;

#define ALLOY_MALLOC_HEADER_MAGIC UINT64_C(0xa11)
#define ALLOY_MALLOC_HEADER_OFFSET_BITS 40u

ALLOY_STATIC_ASSERT(sizeof(alloy_malloc_header) == ALLOY_MALLOC_ALIGN, "the header keeps the payload 16-aligned");

static inline alloy_malloc_header *alloy_malloc_header_of(const void *ptr) {
  return (alloy_malloc_header *)(uintptr_t)((const char *)ptr - sizeof(alloy_malloc_header));
}

/* `offset` below 2^40 and `arena` below 256. */
static inline uint64_t alloy_malloc_header_tag(alloy_malloc_kind kind, unsigned arena, size_t offset) {
  return ALLOY_MALLOC_HEADER_MAGIC << 52 | (uint64_t)kind << 48 | (uint64_t)arena << ALLOY_MALLOC_HEADER_OFFSET_BITS |
         (uint64_t)offset;
}

static inline void alloy_malloc_header_write(void *ptr, uint64_t tag, size_t extent) {
  alloy_malloc_header *header = alloy_malloc_header_of(ptr);
  header->extent = extent;
  header->tag = tag;
}

/* The kind the header names, or NONE when its magic is wrong. */
static inline alloy_malloc_kind alloy_malloc_header_kind(const alloy_malloc_header *header) {
  if (header->tag >> 52 != ALLOY_MALLOC_HEADER_MAGIC) return ALLOY_MALLOC_KIND_NONE;
  return (alloy_malloc_kind)(header->tag >> 48 & 0xf);
}

static inline unsigned alloy_malloc_header_arena(const alloy_malloc_header *header) {
  return (unsigned)(header->tag >> ALLOY_MALLOC_HEADER_OFFSET_BITS & 0xff);
}

static inline size_t alloy_malloc_header_offset(const alloy_malloc_header *header) {
  return (size_t)(header->tag & ((UINT64_C(1) << ALLOY_MALLOC_HEADER_OFFSET_BITS) - 1));
}

/* Reports a free of `ptr`, whose header is not a valid block's, through the
 * fault handler, as `status` with `what` as the detail. */
ALLOY_HIDDEN void alloy_malloc_header_report(alloy_status status, const void *ptr, const char *what);

#endif /* ALLOY_MALLOC_HEADER_H */
