// alloy/memory_resource.hpp — alloy::memory_resource, a std::pmr::memory_resource
// over any alloy_resource, so every std::pmr container runs on any strategy
// or decorator stack.
//
//   alloy::memory_resource memory(alloy_tlsf_resource(tlsf));
//   std::pmr::vector<int> numbers(&memory);
//   std::pmr::unordered_map<std::pmr::string, int> counts(&memory);
//
// Sizes and alignments pass through unchanged in both directions: alloy's
// contract is sized, and std::pmr hands deallocate the size and alignment it
// allocated with. A refused allocation throws std::bad_alloc here, at the
// boundary to std::pmr, and nowhere else (the C resource returns a status).
// A bad free still goes to alloy's fault handler (alloy/fault.h).
//
// Two adapters compare equal when their resources are equal
// (alloy_resource_is_equal): memory from one may be freed through the other.
// The adapter owns nothing; the resource must outlive it and the containers.
#ifndef ALLOY_MEMORY_RESOURCE_HPP
#define ALLOY_MEMORY_RESOURCE_HPP

#include <cstddef>
#include <memory_resource>
#include <new>

#include "alloy/block.h"
#include "alloy/resource.h"
#include "alloy/status.h"

namespace alloy {

class memory_resource final : public std::pmr::memory_resource {
 public:
  explicit memory_resource(alloy_resource *resource) noexcept : resource_(resource) {}

  memory_resource(const memory_resource &) = default;
  memory_resource &operator=(const memory_resource &) = default;

  alloy_resource *resource() const noexcept { return resource_; }

 private:
  void *do_allocate(std::size_t bytes, std::size_t alignment) override {
    alloy_block block;
    if (alloy_resource_allocate(resource_, bytes, alignment, &block) != ALLOY_OK) throw std::bad_alloc();
    return block.ptr;
  }

  void do_deallocate(void *ptr, std::size_t bytes, std::size_t alignment) override {
    // Misuse is the fault handler's to report; std::pmr has no way to hear it.
    (void)alloy_resource_deallocate(resource_, alloy_block_make(ptr, bytes), alignment);
  }

  bool do_is_equal(const std::pmr::memory_resource &other) const noexcept override {
    if (this == &other) return true;
    const auto *alloy_other = dynamic_cast<const alloy::memory_resource *>(&other);
    return alloy_other != nullptr && alloy_resource_is_equal(resource_, alloy_other->resource_);
  }

  alloy_resource *resource_;
};

}  // namespace alloy

#endif  // ALLOY_MEMORY_RESOURCE_HPP
