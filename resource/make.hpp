// alloy/make.hpp — the non-throwing typed path: alloy::try_allocate for raw
// blocks, alloy::make / alloy::destroy for objects (typed new and delete).
//
//   alloy::result<particle *> p = alloy::make<particle>(a, position, velocity);
//   if (!p) return p.status();                // nothing allocated
//   ...
//   alloy::destroy(a, *p);                     // ~particle(), then the block goes back
//
// None of them throws on a refused request: they return the resource's
// status. make constructs with T's constructor (braces for aggregates) and
// throws only when that constructor throws, after giving the memory back.
// make and destroy pass sizeof(T) and alignof(T) down, so over-aligned types
// are honoured and the resource needs no header; destroy must therefore get
// the object's own type, not a base class.
#ifndef ALLOY_MAKE_HPP
#define ALLOY_MAKE_HPP

#include <cstddef>
#include <new>
#include <type_traits>
#include <utility>

#include "alloy/allocator.h"
#include "alloy/block.h"
#include "alloy/options.h"
#include "alloy/result.hpp"
#include "alloy/status.h"

namespace alloy {

// `size` bytes aligned to `alignment`, or the status that refused them.
inline result<alloy_block> try_allocate(alloy_allocator a, std::size_t size,
                                        std::size_t alignment = ALLOY_DEFAULT_ALIGNMENT) noexcept {
  alloy_block block;
  const alloy_status status = alloy_alloc(a, size, alignment, &block);
  if (status != ALLOY_OK) return failure{status};
  return block;
}

namespace detail {

// Whether building a T from Args (parentheses, else braces) cannot throw.
template <class T, class... Args>
constexpr bool is_nothrow_buildable() noexcept {
  if constexpr (std::is_constructible_v<T, Args...>) {
    return std::is_nothrow_constructible_v<T, Args...>;
  } else {
    return noexcept(T{std::declval<Args>()...});
  }
}

template <class T, class... Args>
T *construct_at(void *memory, Args &&...args) noexcept(is_nothrow_buildable<T, Args...>()) {
  if constexpr (std::is_constructible_v<T, Args...>) {
    return ::new (memory) T(std::forward<Args>(args)...);
  } else {
    return ::new (memory) T{std::forward<Args>(args)...};
  }
}

}  // namespace detail

// A T built from `args` in memory from `a`, or the status that refused the
// memory. If T's constructor throws, the memory goes back and the exception
// propagates.
template <class T, class... Args>
result<T *> make(alloy_allocator a, Args &&...args) noexcept(detail::is_nothrow_buildable<T, Args...>()) {
  static_assert(!std::is_array_v<T> && !std::is_reference_v<T>, "make builds one object");
  alloy_block block;
  const alloy_status status = alloy_alloc(a, sizeof(T), alignof(T), &block);
  if (status != ALLOY_OK) return failure{status};
  if constexpr (detail::is_nothrow_buildable<T, Args...>()) {
    return detail::construct_at<T>(block.ptr, std::forward<Args>(args)...);
  } else {
    try {
      return detail::construct_at<T>(block.ptr, std::forward<Args>(args)...);
    } catch (...) {
      (void)alloy_free(a, alloy_block_make(block.ptr, sizeof(T)), alignof(T));
      throw;
    }
  }
}

// Destroys *object and gives its memory back to `a`; ALLOY_OK for nullptr.
// Returns the resource's status for the free (a bad free is also reported
// through the fault handler).
template <class T>
alloy_status destroy(alloy_allocator a, T *object) noexcept {
  static_assert(!std::is_void_v<T>, "destroy needs the object's type");
  if (object == nullptr) return ALLOY_OK;
  object->~T();
  return alloy_free(a, alloy_block_make(const_cast<void *>(static_cast<const void *>(object)), sizeof(T)), alignof(T));
}

}  // namespace alloy

#endif  // ALLOY_MAKE_HPP
