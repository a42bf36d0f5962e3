/* alloy/block.h — alloy_block, the unit every resource hands out.
 *
 * A block is a pointer and the size the caller may use. Allocation reports
 * the real usable size (>= the request), and deallocation gives it back, so
 * resources need no per-block header.
 */
#ifndef ALLOY_BLOCK_H
#define ALLOY_BLOCK_H

#include <stdbool.h>
#include <stddef.h>

#include "alloy/compiler.h"

ALLOY_EXTERN_C_BEGIN

typedef struct alloy_block {
  void *ptr;
  size_t size;
} alloy_block;

static inline alloy_block alloy_block_make(void *ptr, size_t size) {
  alloy_block block;
  block.ptr = ptr;
  block.size = size;
  return block;
}

static inline alloy_block alloy_block_null(void) { return alloy_block_make(0, 0); }

static inline bool alloy_block_is_null(alloy_block block) { return block.ptr == 0; }

/* Whether [ptr, ptr + size) lies inside [base, base + length). */
static inline bool alloy_range_contains(const void *base, size_t length, const void *ptr, size_t size) {
  const char *b = (const char *)base;
  const char *p = (const char *)ptr;
  return p >= b && (size_t)(p - b) <= length && size <= length - (size_t)(p - b);
}

ALLOY_EXTERN_C_END

#endif /* ALLOY_BLOCK_H */
