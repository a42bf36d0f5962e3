/* The drop-in malloc's C++ face: every replaceable global allocation and
 * deallocation function of C++17 ([new.delete.single], [new.delete.array]),
 * the plain, array, nothrow and std::align_val_t forms of operator new and
 * the plain, sized, aligned, sized+aligned and nothrow forms of operator
 * delete, over the C functions of malloc_api.c.
 *
 * A sized delete passes its size on (free_sized, free_aligned_sized): a
 * block larger than the small-object heap's classes is then freed without
 * the heap's lookup. An aligned operator new accepts any power of two.
 *
 * Failure follows the standard: while allocation fails, the installed
 * new_handler runs and the allocation is retried; with none installed the
 * throwing forms throw std::bad_alloc and the nothrow forms return nullptr
 * (as they do when the handler throws std::bad_alloc). An alignment that is
 * not a power of two fails at once: no handler can make it succeed. That
 * slow path is new_failure.h's, linked against the C++ runtime where the
 * operators are part of a C++ program, looking it up at the failure in the
 * preload libraries, which must not make a C program load it. */
#include <cstddef>
#include <new>

#include "alloy/compiler.h"
#include "alloy/sized_free.h"
#include "new_failure.h"

namespace {

// The first attempt inline; the standard's loop after a failure is
// new_failure.h's.
ALLOY_ALWAYS_INLINE void *allocate(std::size_t size, std::size_t align) {
  void *ptr = alloy_new_failure_try_allocate(size, align);
  if (ALLOY_LIKELY(ptr != nullptr)) return ptr;
  return alloy_new_failure_retry(size, align);
}

ALLOY_ALWAYS_INLINE void *allocate_nothrow(std::size_t size, std::size_t align) noexcept {
  void *ptr = alloy_new_failure_try_allocate(size, align);
  if (ALLOY_LIKELY(ptr != nullptr)) return ptr;
  return alloy_new_failure_retry_nothrow(size, align);
}

}  // namespace

/* ---- operator new ---------------------------------------------------------- */

void *operator new(std::size_t size) { return allocate(size, 0); }
void *operator new[](std::size_t size) { return allocate(size, 0); }

void *operator new(std::size_t size, const std::nothrow_t &) noexcept { return allocate_nothrow(size, 0); }
void *operator new[](std::size_t size, const std::nothrow_t &) noexcept { return allocate_nothrow(size, 0); }

void *operator new(std::size_t size, std::align_val_t align) {
  return allocate(size, static_cast<std::size_t>(align));
}
void *operator new[](std::size_t size, std::align_val_t align) {
  return allocate(size, static_cast<std::size_t>(align));
}

void *operator new(std::size_t size, std::align_val_t align, const std::nothrow_t &) noexcept {
  return allocate_nothrow(size, static_cast<std::size_t>(align));
}
void *operator new[](std::size_t size, std::align_val_t align, const std::nothrow_t &) noexcept {
  return allocate_nothrow(size, static_cast<std::size_t>(align));
}

/* ---- operator delete ------------------------------------------------------- */

// Without a size, the heap finds the block by its address, as free does.
void operator delete(void *ptr) noexcept { std::free(ptr); }
void operator delete[](void *ptr) noexcept { std::free(ptr); }
void operator delete(void *ptr, const std::nothrow_t &) noexcept { std::free(ptr); }
void operator delete[](void *ptr, const std::nothrow_t &) noexcept { std::free(ptr); }
void operator delete(void *ptr, std::align_val_t) noexcept { std::free(ptr); }
void operator delete[](void *ptr, std::align_val_t) noexcept { std::free(ptr); }
void operator delete(void *ptr, std::align_val_t, const std::nothrow_t &) noexcept { std::free(ptr); }
void operator delete[](void *ptr, std::align_val_t, const std::nothrow_t &) noexcept { std::free(ptr); }

// The size given at allocation (the compiler passes it for complete types,
// array cookie included): it routes the free.
void operator delete(void *ptr, std::size_t size) noexcept { free_sized(ptr, size); }
void operator delete[](void *ptr, std::size_t size) noexcept { free_sized(ptr, size); }
void operator delete(void *ptr, std::size_t size, std::align_val_t align) noexcept {
  free_aligned_sized(ptr, static_cast<std::size_t>(align), size);
}
void operator delete[](void *ptr, std::size_t size, std::align_val_t align) noexcept {
  free_aligned_sized(ptr, static_cast<std::size_t>(align), size);
}
