/* alloy/size_class.h — the size-class map shared by the class-based strategies.
 *
 * Classes are 8 B apart up to 64 B, then eight classes per doubling
 * (72, 80, ..., 128, 144, ..., 256, 288, ...). Above 64 B a request is
 * never rounded up by more than 1/8 of its size, so internal waste stays
 * below 12.5 %. Class 0 serves sizes 0..8.
 */
#ifndef ALLOY_SIZE_CLASS_H
#define ALLOY_SIZE_CLASS_H

#include <stddef.h>

#include "alloy/bits.h"
#include "alloy/compiler.h"

ALLOY_EXTERN_C_BEGIN

#define ALLOY_SIZE_CLASS_LINEAR_LIMIT 64u  /* classes below are 8 B apart */
#define ALLOY_SIZE_CLASS_STEPS_LOG2 3u     /* 2^3 classes per doubling above the limit */

/* The class that serves `size` bytes. */
static ALLOY_ALWAYS_INLINE size_t alloy_size_class_of(size_t size) {
  if (size <= ALLOY_SIZE_CLASS_LINEAR_LIMIT) return size == 0 ? 0 : (size - 1) >> 3;
  unsigned k = alloy_log2_floor(size - 1); /* size lies in (2^k, 2^(k+1)] */
  size_t within = ((size - 1) >> (k - ALLOY_SIZE_CLASS_STEPS_LOG2)) - (1u << ALLOY_SIZE_CLASS_STEPS_LOG2);
  return 8u + ((size_t)(k - 6) << ALLOY_SIZE_CLASS_STEPS_LOG2) + within;
}

/* The block size of class `cls` (the largest size it serves). */
static ALLOY_ALWAYS_INLINE size_t alloy_size_class_size(size_t cls) {
  if (cls < 8) return (cls + 1) << 3;
  size_t group = (cls - 8) >> ALLOY_SIZE_CLASS_STEPS_LOG2;
  size_t within = (cls - 8) & ((1u << ALLOY_SIZE_CLASS_STEPS_LOG2) - 1);
  unsigned k = (unsigned)group + 6;
  return ((size_t)1 << k) + ((within + 1) << (k - ALLOY_SIZE_CLASS_STEPS_LOG2));
}

/* Number of classes needed to serve every size up to max_size. */
static inline size_t alloy_size_class_count(size_t max_size) { return alloy_size_class_of(max_size) + 1; }

ALLOY_EXTERN_C_END

#endif /* ALLOY_SIZE_CLASS_H */
