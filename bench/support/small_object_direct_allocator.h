// bench/support/small_object_direct_allocator.h — the small-object heap
// through its own typed API.
//
// What a user who depends only on //strategies/small_object writes:
// alloy_small_object_allocate / alloy_small_object_deallocate on the heap,
// no ops table in between. Next to alloy/small_object (the same heap behind
// alloy_resource) it shows what the resource interface's indirect call costs.
#ifndef ALLOY_BENCH_SUPPORT_SMALL_OBJECT_DIRECT_ALLOCATOR_H
#define ALLOY_BENCH_SUPPORT_SMALL_OBJECT_DIRECT_ALLOCATOR_H

#include <memory>
#include <string>

#include "alloy/small_object.h"
#include "bench/support/allocator.h"

namespace alloy_bench {

class SmallObjectDirectAllocator final : public Allocator {
 public:
  // Takes ownership of `heap` (destroyed with the adapter).
  SmallObjectDirectAllocator(std::string name, alloy_small_object* heap);
  ~SmallObjectDirectAllocator() override;

  const std::string& name() const override { return name_; }
  void* Allocate(size_t size, size_t align) override {
    alloy_block block;
    if (alloy_small_object_allocate(heap_, size, align, &block) != ALLOY_OK) return nullptr;
    return block.ptr;
  }
  void Free(void* ptr, size_t size, size_t align) override {
    (void)alloy_small_object_deallocate(heap_, alloy_block{ptr, size}, align);
  }
  size_t max_size() const override { return max_size_; }
  HeldMemory Held() override;

 private:
  std::string name_;
  alloy_small_object* heap_;
  size_t max_size_;
};

// A default-configured heap behind the adapter; nullptr when it cannot be created.
std::shared_ptr<Allocator> MakeSmallObjectDirect(const std::string& name);

}  // namespace alloy_bench

#endif  // ALLOY_BENCH_SUPPORT_SMALL_OBJECT_DIRECT_ALLOCATOR_H
