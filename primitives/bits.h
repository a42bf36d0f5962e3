/* alloy/bits.h — bit scans and powers of two on size_t.
 *
 * Thin wrappers over the compiler builtins so that strategies never repeat
 * the zero-input special cases (the builtins are undefined for 0).
 */
#ifndef ALLOY_BITS_H
#define ALLOY_BITS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alloy/compiler.h"

ALLOY_EXTERN_C_BEGIN

ALLOY_STATIC_ASSERT(sizeof(size_t) == sizeof(unsigned long long) || sizeof(size_t) == sizeof(unsigned long),
                    "size_t must match a builtin-supported width");

#define ALLOY_SIZE_BITS (sizeof(size_t) * 8u)

/* Index of the most significant set bit; x must not be 0. */
static ALLOY_ALWAYS_INLINE unsigned alloy_bit_scan_reverse(size_t x) {
  return (unsigned)(ALLOY_SIZE_BITS - 1u - (unsigned)__builtin_clzll((unsigned long long)x));
}

/* Index of the least significant set bit; x must not be 0. */
static ALLOY_ALWAYS_INLINE unsigned alloy_bit_scan_forward(size_t x) {
  return (unsigned)__builtin_ctzll((unsigned long long)x);
}

/* Leading zeros; ALLOY_SIZE_BITS for 0. */
static inline unsigned alloy_count_leading_zeros(size_t x) {
  return x ? (unsigned)__builtin_clzll((unsigned long long)x) - (unsigned)(64u - ALLOY_SIZE_BITS)
           : (unsigned)ALLOY_SIZE_BITS;
}

/* Trailing zeros; ALLOY_SIZE_BITS for 0. */
static inline unsigned alloy_count_trailing_zeros(size_t x) {
  return x ? (unsigned)__builtin_ctzll((unsigned long long)x) : (unsigned)ALLOY_SIZE_BITS;
}

static inline unsigned alloy_popcount(size_t x) { return (unsigned)__builtin_popcountll((unsigned long long)x); }

static ALLOY_ALWAYS_INLINE bool alloy_is_power_of_two(size_t x) { return x != 0 && (x & (x - 1)) == 0; }

/* floor(log2(x)); x must not be 0. */
static ALLOY_ALWAYS_INLINE unsigned alloy_log2_floor(size_t x) { return alloy_bit_scan_reverse(x); }

/* ceil(log2(x)); x must not be 0. */
static inline unsigned alloy_log2_ceil(size_t x) { return x <= 1 ? 0u : alloy_bit_scan_reverse(x - 1) + 1u; }

/* The smallest power of two >= x (1 for 0). False when it does not fit in size_t. */
static inline bool alloy_next_power_of_two(size_t x, size_t *out) {
  if (x <= 1) {
    *out = 1;
    return true;
  }
  unsigned shift = alloy_log2_ceil(x);
  if (shift >= ALLOY_SIZE_BITS) return false;
  *out = (size_t)1 << shift;
  return true;
}

ALLOY_EXTERN_C_END

#endif /* ALLOY_BITS_H */
