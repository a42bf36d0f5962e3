// bench/support/tlsf_defrag_allocator.cc — TLSF with periodic defragmentation passes.
#include "bench/support/tlsf_defrag_allocator.h"

#include <utility>

namespace alloy_bench {

TlsfDefragAllocator::TlsfDefragAllocator(std::string name, alloy_tlsf* heap)
    : name_(std::move(name)), heap_(heap), room_(kPassMoves) {}

TlsfDefragAllocator::~TlsfDefragAllocator() { alloy_tlsf_destroy(heap_); }

HeldMemory TlsfDefragAllocator::Held() {
  alloy_resource_info info;
  alloy_resource_get_info(alloy_tlsf_resource(heap_), &info);
  return HeldMemory{true, info.stats.committed_bytes, "resource stats committed_bytes"};
}

bool TlsfDefragAllocator::BlockBytes(size_t* bytes) {
  *bytes = 0;
  alloy_tlsf_walk(
      heap_,
      [](void*, size_t size, bool used, void* context) {
        if (used) *static_cast<size_t*>(context) += size + sizeof(size_t);
        return true;
      },
      bytes);
  return true;
}

bool TlsfDefragAllocator::Defragment(std::vector<BlockMove>* moves) {
  if (++operations_ % kEvery != 0) return true;
  alloy_tlsf_pass pass = {};
  pass.moves = room_.data();
  pass.capacity = room_.size();
  pass.max_bytes = kPassBytes;
  pass.max_moves = SIZE_MAX;
  pass.all_movable = true;
  pass.copy = true;
  pass.purge_free = true;
  if (alloy_tlsf_defrag_begin(heap_, &pass) != ALLOY_OK) return false;
  if (alloy_tlsf_defrag_end(heap_, &pass) != ALLOY_OK) return false;
  for (size_t i = 0; i < pass.count; ++i)
    if (room_[i].result == ALLOY_TLSF_MOVE_DONE) moves->push_back(BlockMove{room_[i].from, room_[i].to});
  return true;
}

std::shared_ptr<Allocator> MakeTlsfDefrag(const std::string& name) {
  alloy_tlsf_config config = alloy_tlsf_config_default();
  config.numa_node = ALLOY_TLSF_NUMA_NONE;
  alloy_tlsf* heap = nullptr;
  if (alloy_tlsf_create(&config, &heap) != ALLOY_OK) return nullptr;
  return std::make_shared<TlsfDefragAllocator>(name, heap);
}

}  // namespace alloy_bench
