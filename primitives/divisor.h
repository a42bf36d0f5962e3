/* alloy/divisor.h — exact division by a number fixed at creation.
 *
 * A free must name a block start: its offset into the block area a multiple
 * of the block size, with an index below the block count. A divide costs
 * 20-40 cycles on the free path; a multiply by the divisor's inverse modulo
 * 2^64 and a rotate cost two. For an offset that is a multiple of the
 * divisor the result is the exact quotient; for any other offset it is
 * larger than UINT64_MAX / divisor, so one compare against a block count
 * checks both "on a boundary" and "inside the area" (Granlund and
 * Montgomery, "Division by invariant integers using multiplication", 1994,
 * section 9; Warren, "Hacker's Delight", 10-17).
 */
#ifndef ALLOY_DIVISOR_H
#define ALLOY_DIVISOR_H

#include <stddef.h>
#include <stdint.h>

#include "alloy/compiler.h"

ALLOY_EXTERN_C_BEGIN

typedef struct alloy_divisor {
  uint64_t odd_inverse; /* the inverse of the divisor's odd part, modulo 2^64 */
  uint32_t shift;       /* the divisor's trailing zero bits */
} alloy_divisor;

/* `divisor` > 0. */
static inline alloy_divisor alloy_divisor_make(uint64_t divisor) {
  alloy_divisor d;
  d.shift = (uint32_t)__builtin_ctzll(divisor);
  const uint64_t odd = divisor >> d.shift;
  /* Newton's iteration doubles the correct low bits: odd * odd == 1 (mod 8)
   * gives 3 to start, five steps give 96 >= 64. */
  uint64_t inverse = odd;
  for (int i = 0; i < 5; ++i) inverse *= 2 - odd * inverse;
  d.odd_inverse = inverse;
  return d;
}

/* x / divisor when the divisor divides x; otherwise a number above
 * UINT64_MAX / divisor (above every block index). */
static ALLOY_ALWAYS_INLINE uint64_t alloy_divisor_exact_quotient(alloy_divisor d, uint64_t x) {
  const uint64_t q = x * d.odd_inverse;
  return (q >> d.shift) | (q << ((64 - d.shift) & 63));
}

ALLOY_EXTERN_C_END

#endif /* ALLOY_DIVISOR_H */
