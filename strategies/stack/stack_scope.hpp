// alloy/stack_scope.hpp — alloy::stack_scope, a stack marker held for the
// length of a C++ scope: taken on construction, rolled back to on
// destruction, so everything the scope allocated from the stack goes at
// once, in one step, whatever order it was allocated in.
//
//   {
//     alloy::stack_scope scope(stack);
//     ... temporaries of this phase ...
//   }                                    // the stack's top is back at the marker
//
// Scopes nest like the stack itself: an inner scope ends before an outer
// one. Objects in the scope must be gone (or need no destructor) when it
// ends: declare them after the scope object so they are destroyed first.
#ifndef ALLOY_STACK_SCOPE_HPP
#define ALLOY_STACK_SCOPE_HPP

#include "alloy/resource.h"
#include "alloy/stack.h"

namespace alloy {

class stack_scope {
 public:
  explicit stack_scope(alloy_stack *stack) noexcept : stack_(stack), marker_(alloy_stack_mark(stack)) {}
  ~stack_scope() { rewind(); }

  stack_scope(const stack_scope &) = delete;
  stack_scope &operator=(const stack_scope &) = delete;

  // Rolls back now, keeping the scope open for more allocations.
  void rewind() noexcept {
    // A marker above the top (the stack was reset or rolled back further
    // inside the scope) is refused and changes nothing.
    (void)alloy_stack_rewind(stack_, marker_);
  }

  alloy_marker marker() const noexcept { return marker_; }

 private:
  alloy_stack *stack_;
  alloy_marker marker_;
};

}  // namespace alloy

#endif  // ALLOY_STACK_SCOPE_HPP
