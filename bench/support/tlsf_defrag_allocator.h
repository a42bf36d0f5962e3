// bench/support/tlsf_defrag_allocator.h — TLSF with a defragmentation pass
// every N operations, as a subject.
//
// The default-configured heap through its typed API; after every N-th
// operation of a trace that can repoint its blocks (Allocator::Defragment)
// it runs one alloy_tlsf_defrag pass within a byte budget, alloy copying the
// bytes, and reports the moves so the trace updates its pointers.
#ifndef ALLOY_BENCH_SUPPORT_TLSF_DEFRAG_ALLOCATOR_H
#define ALLOY_BENCH_SUPPORT_TLSF_DEFRAG_ALLOCATOR_H

#include <memory>
#include <string>
#include <vector>

#include "alloy/tlsf.h"
#include "bench/support/allocator.h"

namespace alloy_bench {

class TlsfDefragAllocator final : public Allocator {
 public:
  // A pass after every kEvery-th replacement of the trace (a free and an
  // allocate), moving at most kPassBytes in at most kPassMoves moves.
  static constexpr size_t kEvery = 4;
  static constexpr size_t kPassBytes = size_t{64} << 10;
  static constexpr size_t kPassMoves = 32;

  // Takes ownership of `heap` (destroyed with the adapter).
  TlsfDefragAllocator(std::string name, alloy_tlsf* heap);
  ~TlsfDefragAllocator() override;

  const std::string& name() const override { return name_; }
  void* Allocate(size_t size, size_t align) override {
    alloy_block block;
    if (alloy_tlsf_allocate(heap_, size, align, &block) != ALLOY_OK) return nullptr;
    return block.ptr;
  }
  void Free(void* ptr, size_t size, size_t align) override {
    (void)align;
    (void)alloy_tlsf_deallocate(heap_, alloy_block{ptr, size});
  }
  bool thread_safe() const override { return false; }
  HeldMemory Held() override;
  bool BlockBytes(size_t* bytes) override;
  bool Defragment(std::vector<BlockMove>* moves) override;

 private:
  std::string name_;
  alloy_tlsf* heap_;
  size_t operations_ = 0;
  std::vector<alloy_tlsf_move> room_;
};

// A default-configured heap (no NUMA placement) behind the adapter; nullptr
// when it cannot be created.
std::shared_ptr<Allocator> MakeTlsfDefrag(const std::string& name);

}  // namespace alloy_bench

#endif  // ALLOY_BENCH_SUPPORT_TLSF_DEFRAG_ALLOCATOR_H
