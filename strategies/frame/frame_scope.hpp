// alloy/frame_scope.hpp — alloy::frame_scope, a frame marker held for the
// length of a C++ scope: taken on construction, rolled back to on
// destruction, so everything the scope allocated from the frame goes at once.
//
//   {
//     alloy::frame_scope scope(frame);
//     std::pmr::vector<command> commands(&frame_memory);  // declared after the scope
//     ...
//   }                                                     // the frame's top is back
//
// Objects in the scope must be gone (or need no destructor) by the time it
// ends: declare them after the scope object so they are destroyed first.
// A reset of the frame inside the scope leaves the rewind nothing to do.
#ifndef ALLOY_FRAME_SCOPE_HPP
#define ALLOY_FRAME_SCOPE_HPP

#include "alloy/frame.h"
#include "alloy/resource.h"

namespace alloy {

class frame_scope {
 public:
  explicit frame_scope(alloy_frame *frame) noexcept : frame_(frame), marker_(alloy_frame_mark(frame)) {}
  ~frame_scope() { rewind(); }

  frame_scope(const frame_scope &) = delete;
  frame_scope &operator=(const frame_scope &) = delete;

  // Rolls back now, keeping the scope open for more allocations.
  void rewind() noexcept {
    // A marker above the top (the frame was reset inside the scope) is
    // refused and changes nothing, which is what the scope wants.
    (void)alloy_frame_rewind(frame_, marker_);
  }

  alloy_marker marker() const noexcept { return marker_; }

 private:
  alloy_frame *frame_;
  alloy_marker marker_;
};

}  // namespace alloy

#endif  // ALLOY_FRAME_SCOPE_HPP
