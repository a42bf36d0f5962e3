/* What operator_new.cc calls once an allocation has failed: the standard's
 * new_handler loop, then std::bad_alloc. Two definitions, one per way the
 * operators reach a program:
 *   new_failure.cc          the C++ runtime linked in (//malloc:alloy_new),
 *   new_failure_preload.cc  the C++ runtime looked up in the process at the
 *                           first failure (the preload libraries), so that a
 *                           C program loads no C++ runtime for them.
 * `align` 0 is the default alignment, as in operator_new.cc. */
#ifndef ALLOY_MALLOC_NEW_FAILURE_H
#define ALLOY_MALLOC_NEW_FAILURE_H

#include <cstddef>
#include <cstdlib>

#include "alloy/compiler.h"

// One attempt at the block: malloc's alignment, or a power of two.
ALLOY_ALWAYS_INLINE void *alloy_new_failure_try_allocate(std::size_t size, std::size_t align) noexcept {
  return align == 0 ? std::malloc(size) : std::aligned_alloc(align, size);
}

ALLOY_ALWAYS_INLINE bool alloy_new_failure_valid_alignment(std::size_t align) noexcept {
  return (align & (align - 1)) == 0;  // 0 (the default) passes too
}

// While the new_handler is installed: run it and try again. Without one (or
// once it uninstalls itself), or for an alignment that is not a power of
// two, std::bad_alloc; a handler's own exception passes through.
ALLOY_HIDDEN void *alloy_new_failure_retry(std::size_t size, std::size_t align);

// The same for the nothrow forms: nullptr where the throwing ones throw
// std::bad_alloc, the handler's own std::bad_alloc included.
ALLOY_HIDDEN void *alloy_new_failure_retry_nothrow(std::size_t size, std::size_t align) noexcept;

#endif /* ALLOY_MALLOC_NEW_FAILURE_H */
