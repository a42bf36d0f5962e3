#include "bench/support/test_free_list.h"

#include <cstring>

#include "alloy/bits.h"
#include "alloy/fault.h"
#include "alloy/vm.h"

namespace alloy_test {
namespace {

constexpr size_t kMinClassLog2 = 4;
constexpr size_t kMaxClassLog2 = 16;
constexpr size_t kClassCount = kMaxClassLog2 - kMinClassLog2 + 1;

struct FreeNode {
  FreeNode *next;
};

struct FreeList {
  alloy_resource resource;  // first: the object is a resource
  char *base;
  size_t capacity;
  size_t used;
  size_t live_blocks;
  size_t live_bytes;
  size_t peak_live_bytes;
  uint64_t allocations;
  uint64_t deallocations;
  FreeNode *heads[kClassCount];
  size_t class_sizes[kClassCount];
};

FreeList *Self(alloy_resource *r) { return reinterpret_cast<FreeList *>(r); }
const FreeList *Self(const alloy_resource *r) { return reinterpret_cast<const FreeList *>(r); }

size_t ClassOf(size_t size, size_t align) {
  size_t need = size > align ? size : align;
  if (need < (size_t{1} << kMinClassLog2)) need = size_t{1} << kMinClassLog2;
  return alloy_log2_ceil(need) - kMinClassLog2;
}

alloy_status Allocate(alloy_resource *r, size_t size, size_t align, alloy_block *out) {
  ALLOY_TRY(alloy_request_check(size, align));
  if (size > kFreeListMaxSize || align > kFreeListMaxAlignment) return ALLOY_E_UNSUPPORTED;
  FreeList *self = Self(r);
  size_t cls = ClassOf(size, align);
  size_t block_size = self->class_sizes[cls];
  char *ptr;
  if (FreeNode *node = self->heads[cls]) {
    self->heads[cls] = node->next;
    ptr = reinterpret_cast<char *>(node);
  } else {
    size_t block_align = block_size < kFreeListMaxAlignment ? block_size : kFreeListMaxAlignment;
    size_t start = alloy_align_up(self->used, block_align);
    if (start > self->capacity || block_size > self->capacity - start) return ALLOY_E_CAPACITY;
    ptr = self->base + start;
    self->used = start + block_size;
  }
  ++self->live_blocks;
  ++self->allocations;
  self->live_bytes += block_size;
  if (self->live_bytes > self->peak_live_bytes) self->peak_live_bytes = self->live_bytes;
  *out = alloy_block_make(ptr, block_size);
  return ALLOY_OK;
}

alloy_status Deallocate(alloy_resource *r, alloy_block block, size_t align) {
  FreeList *self = Self(r);
  if (!alloy_range_contains(self->base, self->used, block.ptr, 1)) {
    alloy_fault fault = {ALLOY_E_NOT_OWNED, "test_free_list", block.ptr, block.size, 0, align, 0, nullptr};
    return alloy_fault_report(&fault);
  }
  size_t cls = ClassOf(block.size, align);
  auto *node = static_cast<FreeNode *>(block.ptr);
  node->next = self->heads[cls];
  self->heads[cls] = node;
  --self->live_blocks;
  ++self->deallocations;
  self->live_bytes -= self->class_sizes[cls];
  return ALLOY_OK;
}

bool Owns(const alloy_resource *r, alloy_block block) {
  const FreeList *self = Self(r);
  return alloy_range_contains(self->base, self->used, block.ptr, block.size);
}

void GetInfo(const alloy_resource *r, alloy_resource_info *info) {
  const FreeList *self = Self(r);
  info->thread_safety = ALLOY_THREAD_UNSAFE;
  info->max_alignment = kFreeListMaxAlignment;
  info->max_size = kFreeListMaxSize;
  info->size_class_count = kClassCount;
  info->size_classes = self->class_sizes;
  info->has_stats = true;
  info->stats.live_bytes = self->live_bytes;
  info->stats.peak_live_bytes = self->peak_live_bytes;
  info->stats.reserved_bytes = self->capacity;
  info->stats.committed_bytes = self->used;
  info->stats.allocations = self->allocations;
  info->stats.deallocations = self->deallocations;
}

const alloy_resource_ops kOps = [] {
  alloy_resource_ops ops;
  std::memset(&ops, 0, sizeof ops);
  ops.struct_size = sizeof ops;
  ops.name = "test_free_list";
  ops.allocate = Allocate;
  ops.deallocate = Deallocate;
  ops.owns = Owns;
  ops.get_info = GetInfo;
  return ops;
}();

}  // namespace

alloy_resource *CreateFreeList(size_t capacity) {
  capacity = alloy_align_up(capacity, alloy_vm_page_size());
  void *memory;
  if (alloy_vm_map(capacity + alloy_vm_page_size(), alloy_vm_page_size(), &memory) != ALLOY_OK) return nullptr;
  // The object sits in the first page; blocks come from the rest.
  auto *self = static_cast<FreeList *>(memory);
  std::memset(self, 0, sizeof *self);
  self->resource.ops = &kOps;
  self->base = static_cast<char *>(memory) + alloy_vm_page_size();
  self->capacity = capacity;
  for (size_t i = 0; i < kClassCount; ++i) self->class_sizes[i] = size_t{1} << (kMinClassLog2 + i);
  return &self->resource;
}

void DestroyFreeList(alloy_resource *resource) {
  if (resource == nullptr) return;
  FreeList *self = Self(resource);
  ALLOY_IGNORE_STATUS(alloy_vm_release(self, self->capacity + alloy_vm_page_size()));
}

size_t FreeListLiveBlocks(const alloy_resource *resource) { return Self(resource)->live_blocks; }

}  // namespace alloy_test
