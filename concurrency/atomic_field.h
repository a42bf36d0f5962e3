/* alloy/atomic_field.h — one spelling of an atomic struct member for C and C++.
 *
 * The concurrency headers are included from C11 (which has _Atomic) and from
 * C++17 tests and users (which have std::atomic, layout-compatible with
 * _Atomic on GCC and Clang). Only the declaration differs; every operation
 * on these fields lives in the C sources.
 */
#ifndef ALLOY_ATOMIC_FIELD_H
#define ALLOY_ATOMIC_FIELD_H

#ifdef __cplusplus
#include <atomic>
#define ALLOY_ATOMIC(type) std::atomic<type>
#else
#include <stdatomic.h>
#define ALLOY_ATOMIC(type) _Atomic(type)
#endif

#endif /* ALLOY_ATOMIC_FIELD_H */
