// bench/support/small_object_direct_allocator.cc — the small-object heap's typed-API adapter.
#include "bench/support/small_object_direct_allocator.h"

#include <utility>

namespace alloy_bench {

SmallObjectDirectAllocator::SmallObjectDirectAllocator(std::string name, alloy_small_object* heap)
    : name_(std::move(name)), heap_(heap) {
  alloy_resource_info info;
  alloy_resource_get_info(alloy_small_object_resource(heap_), &info);
  max_size_ = info.max_size;
}

SmallObjectDirectAllocator::~SmallObjectDirectAllocator() { alloy_small_object_destroy(heap_); }

HeldMemory SmallObjectDirectAllocator::Held() {
  alloy_small_object_stats stats;
  alloy_small_object_get_stats(heap_, &stats);
  return HeldMemory{true, stats.committed_bytes, "small_object stats committed_bytes"};
}

std::shared_ptr<Allocator> MakeSmallObjectDirect(const std::string& name) {
  alloy_small_object* heap = nullptr;
  if (alloy_small_object_create(nullptr, &heap) != ALLOY_OK) return nullptr;
  return std::make_shared<SmallObjectDirectAllocator>(name, heap);
}

}  // namespace alloy_bench
