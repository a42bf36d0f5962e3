/* The new_handler loop on the C++ runtime the program links: what
 * //malloc:alloy_new and //malloc:alloy_new_debug use, the operators being
 * part of a C++ program there (new_failure.h). */
#include <new>

#include "new_failure.h"

void *alloy_new_failure_retry(std::size_t size, std::size_t align) {
  if (!alloy_new_failure_valid_alignment(align)) throw std::bad_alloc();  // no handler can help
  for (;;) {
    std::new_handler handler = std::get_new_handler();
    if (handler == nullptr) throw std::bad_alloc();
    handler();
    if (void *ptr = alloy_new_failure_try_allocate(size, align)) return ptr;
  }
}

void *alloy_new_failure_retry_nothrow(std::size_t size, std::size_t align) noexcept {
  try {
    return alloy_new_failure_retry(size, align);
  } catch (const std::bad_alloc &) {
    return nullptr;
  }
}
