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
 * not a power of two fails at once: no handler can make it succeed. */
#include <cstddef>
#include <cstdlib>
#include <new>

#include "alloy/compiler.h"
#include "alloy/sized_free.h"

namespace {

// One attempt: `align` 0 is the default alignment (malloc's, which is
// __STDCPP_DEFAULT_NEW_ALIGNMENT__ for every block that can hold an object
// needing it).
void *try_allocate(std::size_t size, std::size_t align) noexcept {
  return align == 0 ? std::malloc(size) : std::aligned_alloc(align, size);
}

bool valid_alignment(std::size_t align) { return align == 0 || (align & (align - 1)) == 0; }

// The standard's loop after a failed first attempt: the new_handler may
// release memory (the retry may then succeed), throw std::bad_alloc, or
// uninstall itself; without one, std::bad_alloc.
ALLOY_NOINLINE void *allocate_after_failure(std::size_t size, std::size_t align) {
  if (!valid_alignment(align)) throw std::bad_alloc();
  for (;;) {
    std::new_handler handler = std::get_new_handler();
    if (handler == nullptr) throw std::bad_alloc();
    handler();
    if (void *ptr = try_allocate(size, align)) return ptr;
  }
}

// The same loop for the nothrow forms, which report failure as nullptr.
ALLOY_NOINLINE void *allocate_after_failure_nothrow(std::size_t size, std::size_t align) noexcept {
  try {
    return allocate_after_failure(size, align);
  } catch (const std::bad_alloc &) {
    return nullptr;
  }
}

ALLOY_ALWAYS_INLINE void *allocate(std::size_t size, std::size_t align) {
  void *ptr = try_allocate(size, align);
  if (ALLOY_LIKELY(ptr != nullptr)) return ptr;
  return allocate_after_failure(size, align);
}

ALLOY_ALWAYS_INLINE void *allocate_nothrow(std::size_t size, std::size_t align) noexcept {
  void *ptr = try_allocate(size, align);
  if (ALLOY_LIKELY(ptr != nullptr)) return ptr;
  return allocate_after_failure_nothrow(size, align);
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
