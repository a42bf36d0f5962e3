// alloy/result.hpp — alloy::result<T>, a value or the alloy_status that says
// why there is none: the C++ face's non-throwing path.
//
// Debian 12 ships tl::expected (libexpected-dev), but the C++ face is
// header-only over //resource and pulls in nothing outside the repository,
// so this is the small part of std::expected it needs, over std::variant.
//
//   alloy::result<alloy_block> block = alloy::try_allocate(a, 256);
//   if (!block) return block.status();       // ALLOY_E_OUT_OF_MEMORY, ...
//   use(block->ptr, block->size);
#ifndef ALLOY_RESULT_HPP
#define ALLOY_RESULT_HPP

#include <cassert>
#include <type_traits>
#include <utility>
#include <variant>

#include "alloy/status.h"

namespace alloy {

// The failed side of a result; `status` is never ALLOY_OK.
struct failure {
  alloy_status status;
};

template <class T>
class [[nodiscard]] result {
  static_assert(!std::is_reference_v<T> && !std::is_void_v<T>, "result holds an object");

 public:
  using value_type = T;

  // A result holding a value (implicit, so a function can `return value;`).
  template <class U = T, std::enable_if_t<std::is_constructible_v<T, U &&> &&
                                              !std::is_same_v<std::decay_t<U>, result> &&
                                              !std::is_same_v<std::decay_t<U>, failure>,
                                          int> = 0>
  result(U &&value) noexcept(std::is_nothrow_constructible_v<T, U &&>)  // NOLINT(google-explicit-constructor)
      : state_(std::in_place_index<0>, std::forward<U>(value)) {}

  // A failed result (`return alloy::failure{status};`).
  result(failure failed) noexcept  // NOLINT(google-explicit-constructor)
      : state_(std::in_place_index<1>, failed.status) {
    assert(failed.status != ALLOY_OK && "a failure carries a failing status");
  }

  bool has_value() const noexcept { return state_.index() == 0; }
  explicit operator bool() const noexcept { return has_value(); }

  // ALLOY_OK when the result holds a value.
  alloy_status status() const noexcept { return has_value() ? ALLOY_OK : std::get<1>(state_); }

  // The value; std::bad_variant_access when there is none (the checked
  // accessors throw, the operators below do not check outside assertions).
  T &value() & { return std::get<0>(state_); }
  const T &value() const & { return std::get<0>(state_); }
  T &&value() && { return std::get<0>(std::move(state_)); }

  T &operator*() & noexcept { return *unchecked(); }
  const T &operator*() const & noexcept { return *unchecked(); }
  T &&operator*() && noexcept { return std::move(*unchecked()); }
  T *operator->() noexcept { return unchecked(); }
  const T *operator->() const noexcept { return unchecked(); }

  template <class U>
  T value_or(U &&fallback) const & {
    return has_value() ? *unchecked() : static_cast<T>(std::forward<U>(fallback));
  }
  template <class U>
  T value_or(U &&fallback) && {
    return has_value() ? std::move(*unchecked()) : static_cast<T>(std::forward<U>(fallback));
  }

 private:
  T *unchecked() noexcept {
    assert(has_value() && "the result holds no value");
    return std::get_if<0>(&state_);
  }
  const T *unchecked() const noexcept {
    assert(has_value() && "the result holds no value");
    return std::get_if<0>(&state_);
  }

  std::variant<T, alloy_status> state_;
};

}  // namespace alloy

#endif  // ALLOY_RESULT_HPP
