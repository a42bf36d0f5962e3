/* The C library's rules for the alignment and size arguments of its
 * aligned allocation functions, as glibc applies them; shared by the
 * release malloc (malloc_api.c) and the checked one (malloc_debug_api.c),
 * which differ only in what they do with a valid request. */
#ifndef ALLOY_MALLOC_ALIGNMENT_RULES_H
#define ALLOY_MALLOC_ALIGNMENT_RULES_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alloy/align.h"

/* posix_memalign: a power of two and a multiple of sizeof(void *); else
 * EINVAL is returned and *out is left alone. */
static inline bool alloy_malloc_posix_alignment_valid(size_t alignment) {
  return alloy_is_power_of_two(alignment) && alignment % sizeof(void *) == 0;
}

/* posix_memalign's result for `ptr`: ENOMEM for NULL, else 0 with *out
 * set and errno as it was before the call (`saved`). */
static inline int alloy_malloc_posix_result(void *ptr, int saved, void **out) {
  if (ptr == NULL) return ENOMEM;
  errno = saved;
  *out = ptr;
  return 0;
}

/* memalign: an alignment that is not a power of two is rounded up to one;
 * false (EINVAL) for one beyond the largest power of two in size_t. */
static inline bool alloy_malloc_memalign_alignment(size_t alignment, size_t *rounded) {
  if (alignment > (SIZE_MAX >> 1) + 1) return false;
  size_t power = 1;
  while (power < alignment) power <<= 1;
  *rounded = power;
  return true;
}

/* pvalloc: the size rounded up to whole pages, at least one; false
 * (ENOMEM) when that overflows. */
static inline bool alloy_malloc_pvalloc_size(size_t size, size_t page, size_t *bytes) {
  return alloy_align_up_checked(size == 0 ? 1 : size, page, bytes);
}

#endif /* ALLOY_MALLOC_ALIGNMENT_RULES_H */
