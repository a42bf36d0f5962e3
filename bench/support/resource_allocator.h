// bench/support/resource_allocator.h — any alloy_resource as a benchmark subject.
//
// Goes through alloy/resource.h exactly as a user would: allocate/deallocate
// through the ops table, mark/rewind for frame-style resources, and
// get_info for thread safety, the largest size and the stats used to measure
// held memory.
#ifndef ALLOY_BENCH_SUPPORT_RESOURCE_ALLOCATOR_H
#define ALLOY_BENCH_SUPPORT_RESOURCE_ALLOCATOR_H

#include <functional>
#include <string>

#include "alloy/resource.h"
#include "bench/support/allocator.h"

namespace alloy_bench {

class ResourceAllocator final : public Allocator {
 public:
  // `destroy` (may be empty) runs when the adapter goes away. `held` (may be
  // empty) overrides how held memory is measured; by default the resource's
  // stats (committed bytes) when it keeps them, else the process RSS.
  ResourceAllocator(std::string name, alloy_resource* resource, std::function<void(alloy_resource*)> destroy,
                    std::function<HeldMemory()> held = nullptr);
  ~ResourceAllocator() override;

  const std::string& name() const override { return name_; }
  void* Allocate(size_t size, size_t align) override {
    alloy_block block;
    if (alloy_resource_allocate(resource_, size, align, &block) != ALLOY_OK) return nullptr;
    return block.ptr;
  }
  void Free(void* ptr, size_t size, size_t align) override {
    (void)alloy_resource_deallocate(resource_, alloy_block{ptr, size}, align);
  }
  bool thread_safe() const override { return info_.thread_safety != ALLOY_THREAD_UNSAFE; }
  size_t max_size() const override { return info_.max_size; }
  bool can_reset() const override { return can_reset_; }
  bool Mark() override;
  bool Reset() override;
  HeldMemory Held() override;
  bool BlockBytes(size_t* bytes) override { return block_bytes_ && block_bytes_(bytes); }
  // How BlockBytes reads the resource (it has no generic way to).
  void set_block_bytes(std::function<bool(size_t*)> block_bytes) { block_bytes_ = std::move(block_bytes); }

  alloy_resource* resource() const { return resource_; }

 private:
  std::string name_;
  alloy_resource* resource_;
  std::function<void(alloy_resource*)> destroy_;
  std::function<HeldMemory()> held_;
  std::function<bool(size_t*)> block_bytes_;
  alloy_resource_info info_{};
  bool can_reset_ = false;
  alloy_marker marker_{};
};

}  // namespace alloy_bench

#endif  // ALLOY_BENCH_SUPPORT_RESOURCE_ALLOCATOR_H
