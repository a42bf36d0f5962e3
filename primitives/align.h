/* alloy/align.h — alignment and overflow-checked size arithmetic.
 *
 * Every strategy validates requests with alloy_request_check() so that the
 * same bad input gets the same status everywhere: an alignment that is not a
 * power of two (0 included) or a size above ALLOY_MAX_REQUEST is
 * ALLOY_E_INVALID_ARGUMENT, never a small block.
 */
#ifndef ALLOY_ALIGN_H
#define ALLOY_ALIGN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alloy/bits.h"
#include "alloy/compiler.h"
#include "alloy/status.h"

ALLOY_EXTERN_C_BEGIN

/* ALLOY_DEFAULT_ALIGNMENT (alloy/options.h): the alignment alloy assumes when
 * a caller has no stronger need. */
ALLOY_STATIC_ASSERT(ALLOY_DEFAULT_ALIGNMENT == 16 || ALLOY_DEFAULT_ALIGNMENT == 32,
                    "ALLOY_DEFAULT_ALIGNMENT must be 16 or 32");

/* The largest size any resource accepts. Anything above can not be rounded
 * or offset without overflowing pointer differences. */
#define ALLOY_MAX_REQUEST ((size_t)PTRDIFF_MAX)

static ALLOY_ALWAYS_INLINE bool alloy_is_valid_alignment(size_t align) { return alloy_is_power_of_two(align); }

static ALLOY_ALWAYS_INLINE size_t alloy_align_down(size_t x, size_t align) { return x & ~(align - 1); }

/* x rounded up to align (a power of two). The caller guarantees no overflow;
 * use alloy_align_up_checked() on untrusted sizes. */
static ALLOY_ALWAYS_INLINE size_t alloy_align_up(size_t x, size_t align) { return (x + align - 1) & ~(align - 1); }

static ALLOY_ALWAYS_INLINE bool alloy_is_aligned(size_t x, size_t align) { return (x & (align - 1)) == 0; }

static ALLOY_ALWAYS_INLINE bool alloy_ptr_is_aligned(const void *ptr, size_t align) {
  return alloy_is_aligned((size_t)(uintptr_t)ptr, align);
}

static ALLOY_ALWAYS_INLINE void *alloy_ptr_align_up(void *ptr, size_t align) {
  return (void *)(uintptr_t)alloy_align_up((size_t)(uintptr_t)ptr, align);
}

/* False when x rounded up to align does not fit in size_t. */
static ALLOY_ALWAYS_INLINE bool alloy_align_up_checked(size_t x, size_t align, size_t *out) {
  size_t sum;
  if (__builtin_add_overflow(x, align - 1, &sum)) return false;
  *out = sum & ~(align - 1);
  return true;
}

/* False on overflow. */
static ALLOY_ALWAYS_INLINE bool alloy_size_add(size_t a, size_t b, size_t *out) {
  return !__builtin_add_overflow(a, b, out);
}

/* False on overflow. */
static ALLOY_ALWAYS_INLINE bool alloy_size_mul(size_t a, size_t b, size_t *out) {
  return !__builtin_mul_overflow(a, b, out);
}

/* The shared validation of an (size, align) request: ALLOY_OK or
 * ALLOY_E_INVALID_ARGUMENT. Size 0 is valid. */
static ALLOY_ALWAYS_INLINE alloy_status alloy_request_check(size_t size, size_t align) {
  if (ALLOY_UNLIKELY(!alloy_is_valid_alignment(align) || size > ALLOY_MAX_REQUEST)) return ALLOY_E_INVALID_ARGUMENT;
  return ALLOY_OK;
}

ALLOY_EXTERN_C_END

#endif /* ALLOY_ALIGN_H */
