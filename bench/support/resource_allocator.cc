// bench/support/resource_allocator.cc — the alloy_resource adapter.
#include "bench/support/resource_allocator.h"

#include <utility>

namespace alloy_bench {

ResourceAllocator::ResourceAllocator(std::string name, alloy_resource* resource,
                                     std::function<void(alloy_resource*)> destroy,
                                     std::function<HeldMemory()> held)
    : name_(std::move(name)), resource_(resource), destroy_(std::move(destroy)), held_(std::move(held)) {
  alloy_resource_get_info(resource_, &info_);
  // A resource can reset when it hands out scope markers.
  alloy_marker probe;
  can_reset_ = alloy_resource_mark(resource_, &probe) == ALLOY_OK;
}

ResourceAllocator::~ResourceAllocator() {
  if (destroy_) destroy_(resource_);
}

bool ResourceAllocator::Mark() { return alloy_resource_mark(resource_, &marker_) == ALLOY_OK; }

bool ResourceAllocator::Reset() { return alloy_resource_rewind(resource_, marker_) == ALLOY_OK; }

HeldMemory ResourceAllocator::Held() {
  if (held_) return held_();
  alloy_resource_info info;
  alloy_resource_get_info(resource_, &info);
  if (info.has_stats) return HeldMemory{true, info.stats.committed_bytes, "resource stats committed_bytes"};
  return HeldMemory{true, ProcessResidentBytes(), "process RSS delta"};
}

}  // namespace alloy_bench
