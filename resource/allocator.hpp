// alloy/allocator.hpp — alloy::allocator<T>, a standard allocator over an
// alloy_allocator handle (std::vector, std::unordered_map, std::allocate_shared,
// anything that takes an Allocator).
//
//   alloy::allocator<int> numbers_allocator(alloy_allocator_of(alloy_frame_resource(frame)));
//   std::vector<int, alloy::allocator<int>> numbers(numbers_allocator);
//
// allocate(n) asks the resource for n * sizeof(T) bytes aligned to alignof(T),
// so over-aligned types (alignas(64), alignas(4096)) get what they declare
// wherever the resource serves that alignment; deallocate gives the same size
// and alignment back. A refused request throws std::bad_alloc (a count whose
// bytes overflow: std::bad_array_new_length), as the standard requires.
//
// Like the handle it wraps, the allocator is one pointer, copied with the
// container on copy, move and swap. Allocators of any value types compare
// equal when their resources are equal (alloy_allocator_is_equal). There is
// no default constructor: a container names its resource.
#ifndef ALLOY_ALLOCATOR_HPP
#define ALLOY_ALLOCATOR_HPP

#include <cstddef>
#include <limits>
#include <new>
#include <type_traits>

#include "alloy/allocator.h"
#include "alloy/block.h"
#include "alloy/status.h"

namespace alloy {

template <class T>
class allocator {
 public:
  using value_type = T;
  using size_type = std::size_t;
  using difference_type = std::ptrdiff_t;
  using propagate_on_container_copy_assignment = std::true_type;
  using propagate_on_container_move_assignment = std::true_type;
  using propagate_on_container_swap = std::true_type;
  using is_always_equal = std::false_type;

  template <class U>
  struct rebind {
    using other = allocator<U>;
  };

  explicit allocator(alloy_allocator handle) noexcept : handle_(handle) {}
  explicit allocator(alloy_resource *resource) noexcept : handle_(alloy_allocator_of(resource)) {}

  template <class U>
  allocator(const allocator<U> &other) noexcept : handle_(other.handle()) {}  // NOLINT: rebinding converts

  T *allocate(std::size_t count) {
    if (count > std::numeric_limits<std::size_t>::max() / sizeof(T)) throw std::bad_array_new_length();
    alloy_block block;
    if (alloy_alloc(handle_, count * sizeof(T), alignof(T), &block) != ALLOY_OK) throw std::bad_alloc();
    return static_cast<T *>(block.ptr);
  }

  void deallocate(T *ptr, std::size_t count) noexcept {
    (void)alloy_free(handle_, alloy_block_make(ptr, count * sizeof(T)), alignof(T));
  }

  alloy_allocator handle() const noexcept { return handle_; }
  alloy_resource *resource() const noexcept { return handle_.resource; }

 private:
  alloy_allocator handle_;
};

template <class T, class U>
bool operator==(const allocator<T> &a, const allocator<U> &b) noexcept {
  return alloy_allocator_is_equal(a.handle(), b.handle());
}

template <class T, class U>
bool operator!=(const allocator<T> &a, const allocator<U> &b) noexcept {
  return !(a == b);
}

}  // namespace alloy

#endif  // ALLOY_ALLOCATOR_HPP
