// alloy/owned_block.hpp — alloy::owned_block, the spec's OwnedMemoryBlock: a
// block together with the resource and alignment it came from, freed when
// its owner goes out of scope. Move-only: moving hands the block over and
// leaves the source empty; there is never a second owner to free it twice.
//
//   alloy::result<alloy::owned_block> scratch = alloy::allocate_owned(a, 4096, 64);
//   if (!scratch) return scratch.status();
//   fill(scratch->data(), scratch->size());   // freed at scope end
//
// size() is the usable size the resource returned (at least the request);
// the block goes back with that size and the alignment it was asked with.
#ifndef ALLOY_OWNED_BLOCK_HPP
#define ALLOY_OWNED_BLOCK_HPP

#include <cstddef>

#include "alloy/align.h"
#include "alloy/allocator.h"
#include "alloy/block.h"
#include "alloy/options.h"
#include "alloy/resource.h"
#include "alloy/result.hpp"
#include "alloy/status.h"

namespace alloy {

class owned_block {
 public:
  // Empty: owns nothing.
  owned_block() noexcept = default;

  // Takes ownership of `block`, allocated from `resource` with `alignment`.
  owned_block(alloy_resource *resource, alloy_block block, std::size_t alignment) noexcept
      : resource_(resource), block_(block), alignment_(alignment) {}

  owned_block(const owned_block &) = delete;
  owned_block &operator=(const owned_block &) = delete;

  owned_block(owned_block &&other) noexcept
      : resource_(other.resource_), block_(other.block_), alignment_(other.alignment_) {
    other.forget();
  }

  owned_block &operator=(owned_block &&other) noexcept {
    if (this != &other) {
      reset();
      resource_ = other.resource_;
      block_ = other.block_;
      alignment_ = other.alignment_;
      other.forget();
    }
    return *this;
  }

  ~owned_block() { reset(); }

  void *data() const noexcept { return block_.ptr; }
  std::size_t size() const noexcept { return block_.size; }
  std::size_t alignment() const noexcept { return alignment_; }
  alloy_block block() const noexcept { return block_; }
  alloy_resource *resource() const noexcept { return resource_; }
  bool empty() const noexcept { return resource_ == nullptr; }
  explicit operator bool() const noexcept { return !empty(); }

  // Frees the block now (if there is one) and leaves this owner empty.
  void reset() noexcept {
    if (resource_ != nullptr) (void)alloy_resource_deallocate(resource_, block_, alignment_);
    forget();
  }

  // Gives the block up without freeing it: the caller frees it through
  // resource() with alignment(), read before the call.
  alloy_block release() noexcept {
    const alloy_block block = block_;
    forget();
    return block;
  }

 private:
  void forget() noexcept {
    resource_ = nullptr;
    block_ = alloy_block_null();
    alignment_ = 0;
  }

  alloy_resource *resource_ = nullptr;
  alloy_block block_ = {nullptr, 0};
  std::size_t alignment_ = 0;
};

// Allocates `size` bytes aligned to `alignment` into an owner; the status
// when the resource refuses. Never throws.
inline result<owned_block> allocate_owned(alloy_allocator a, std::size_t size,
                                          std::size_t alignment = ALLOY_DEFAULT_ALIGNMENT) noexcept {
  alloy_block block;
  const alloy_status status = alloy_alloc(a, size, alignment, &block);
  if (status != ALLOY_OK) return failure{status};
  return owned_block(a.resource, block, alignment);
}

}  // namespace alloy

#endif  // ALLOY_OWNED_BLOCK_HPP
