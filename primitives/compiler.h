/* alloy/compiler.h — compiler and language portability macros.
 *
 * Every alloy header is valid C11 and C++17; this file owns the few spellings
 * that differ between the two and the GCC/Clang attributes the library uses.
 */
#ifndef ALLOY_COMPILER_H
#define ALLOY_COMPILER_H

#include "alloy/options.h"

#ifdef __cplusplus
#define ALLOY_EXTERN_C_BEGIN extern "C" {
#define ALLOY_EXTERN_C_END }
#define ALLOY_STATIC_ASSERT(cond, msg) static_assert(cond, msg)
#define ALLOY_ALIGNOF(type) alignof(type)
#define ALLOY_THREAD_LOCAL thread_local
#else
#define ALLOY_EXTERN_C_BEGIN
#define ALLOY_EXTERN_C_END
#define ALLOY_STATIC_ASSERT(cond, msg) _Static_assert(cond, msg)
#define ALLOY_ALIGNOF(type) _Alignof(type)
#define ALLOY_THREAD_LOCAL _Thread_local
#endif

/* The C spelling of [[nodiscard]]: results that carry a status must be read. */
#define ALLOY_NODISCARD __attribute__((warn_unused_result))
#define ALLOY_LIKELY(x) __builtin_expect(!!(x), 1)
#define ALLOY_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define ALLOY_ALWAYS_INLINE inline __attribute__((always_inline))
#define ALLOY_NOINLINE __attribute__((noinline))
#define ALLOY_COLD __attribute__((cold, noinline))
#define ALLOY_UNUSED __attribute__((unused))
#define ALLOY_PRINTF(fmt_index, first_arg) __attribute__((format(printf, fmt_index, first_arg)))

/* Marks a function or object that one file of a package offers the package's
 * other files and nobody else. The one convention for cross-file internals in
 * every package: declared in that package's `<package>_internal.h`, named
 * `alloy_<file>_<what>` after the file that defines it, and hidden, so that a
 * shared library built from alloy exports none of them. */
#define ALLOY_HIDDEN __attribute__((visibility("hidden")))

/* Large enough to keep two independently written fields off one cache line
 * on every x86-64 and AArch64 part alloy targets. */
#define ALLOY_CACHE_LINE 64

#define ALLOY_CONTAINER_OF(ptr, type, member) \
  ((type *)(void *)((char *)(ptr) - __builtin_offsetof(type, member)))

#define ALLOY_ARRAY_COUNT(array) (sizeof(array) / sizeof((array)[0]))

/* Sanitizer detection, identical for GCC (__SANITIZE_*__) and Clang (__has_feature). */
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ALLOY_HAS_ASAN 1
#endif
#if __has_feature(thread_sanitizer)
#define ALLOY_HAS_TSAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) && !defined(ALLOY_HAS_ASAN)
#define ALLOY_HAS_ASAN 1
#endif
#if defined(__SANITIZE_THREAD__) && !defined(ALLOY_HAS_TSAN)
#define ALLOY_HAS_TSAN 1
#endif
#ifndef ALLOY_HAS_ASAN
#define ALLOY_HAS_ASAN 0
#endif
#ifndef ALLOY_HAS_TSAN
#define ALLOY_HAS_TSAN 0
#endif

#endif /* ALLOY_COMPILER_H */
