/* The new_handler loop for the preload libraries, which a C program loads
 * too: they must not need the C++ runtime, yet a C++ program's failed new
 * must run its new_handler and throw std::bad_alloc as the standard says.
 * So nothing here names the runtime at link time (the file is built without
 * exceptions and RTTI); at a failure, the runtime the program has loaded is
 * looked up by the Itanium ABI's names and called:
 *   std::get_new_handler()   the handler the program installed,
 *   std::__throw_bad_alloc() the throw (libstdc++ and libc++ both export it),
 *   its own nothrow operator new, which calls the process's throwing operator
 *                            new (ours, interposed) inside the try block that
 *                            turns a handler's std::bad_alloc into nullptr.
 * The exceptions pass through this file's frames on their unwind tables;
 * nothing here needs cleaning up. Names are the LP64 ones, as in exports.lds. */
#include <dlfcn.h>
#include <unistd.h>

#include <cstdlib>
#include <new>

#include "new_failure.h"

namespace {

using GetNewHandler = std::new_handler (*)();
using ThrowBadAlloc = void (*)();
using NothrowNew = void *(*)(std::size_t, const std::nothrow_t &);
using NothrowAlignedNew = void *(*)(std::size_t, std::align_val_t, const std::nothrow_t &);

// The runtime's definition of `name`: the next one after this library (whose
// own operators come first), or, for a runtime that a C program's plugin
// brought into its local scope only, the one in libstdc++ itself.
void *runtime_symbol(const char *name) {
  if (void *symbol = dlsym(RTLD_NEXT, name)) return symbol;
  void *runtime = dlopen("libstdc++.so.6", RTLD_LAZY | RTLD_NOLOAD);
  if (runtime == nullptr) return nullptr;
  void *symbol = dlsym(runtime, name);
  dlclose(runtime);  // drops the reference NOLOAD took; whoever loaded it keeps it
  return symbol;
}

std::new_handler installed_handler() {
  auto get = reinterpret_cast<GetNewHandler>(runtime_symbol("_ZSt15get_new_handlerv"));
  return get != nullptr ? get() : nullptr;  // no runtime: nobody could install one
}

[[noreturn]] ALLOY_NOINLINE void throw_bad_alloc() {
  auto raise = reinterpret_cast<ThrowBadAlloc>(runtime_symbol("_ZSt17__throw_bad_allocv"));
  if (raise != nullptr) raise();
  // Only C++ code calls operator new, so its runtime is loaded; should it be
  // out of reach all the same, nothing could catch the exception.
  static const char message[] = "alloy: operator new failed and no C++ runtime is reachable to throw std::bad_alloc\n";
  ssize_t written = write(STDERR_FILENO, message, sizeof message - 1);
  (void)written;
  abort();
}

}  // namespace

void *alloy_new_failure_retry(std::size_t size, std::size_t align) {
  if (alloy_new_failure_valid_alignment(align)) {
    while (std::new_handler handler = installed_handler()) {
      handler();
      if (void *ptr = alloy_new_failure_try_allocate(size, align)) return ptr;
    }
  }
  throw_bad_alloc();
}

void *alloy_new_failure_retry_nothrow(std::size_t size, std::size_t align) noexcept {
  if (!alloy_new_failure_valid_alignment(align) || installed_handler() == nullptr) return nullptr;
  // A handler may throw: the runtime's nothrow form holds the catch (its
  // std::nothrow would be a reference to the runtime, hence a tag of ours).
  const std::nothrow_t tag{};
  if (align == 0) {
    auto nothrow_new = reinterpret_cast<NothrowNew>(runtime_symbol("_ZnwmRKSt9nothrow_t"));
    return nothrow_new != nullptr ? nothrow_new(size, tag) : nullptr;
  }
  auto nothrow_new = reinterpret_cast<NothrowAlignedNew>(runtime_symbol("_ZnwmSt11align_val_tRKSt9nothrow_t"));
  return nothrow_new != nullptr ? nothrow_new(size, std::align_val_t{align}, tag) : nullptr;
}
