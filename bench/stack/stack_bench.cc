// Stack: LIFO allocate/free pairs and nested scopes, against malloc.
#include <cstdlib>

#include <benchmark/benchmark.h>

#include "alloy/allocator.h"
#include "alloy/stack.h"
#include "bench/support/loops.h"

namespace {

alloy_stack *NewStack() {
  alloy_stack_config config = alloy_stack_config_default(size_t{64} << 20);
  alloy_stack *stack = nullptr;
  if (alloy_stack_create(&config, &stack) != ALLOY_OK) std::abort();
  return stack;
}

using alloy_bench::RunPairs;

void BM_StackAllocFree_Resource(benchmark::State &state) {
  alloy_stack *stack = NewStack();
  alloy_allocator a = alloy_allocator_of(alloy_stack_resource(stack));
  const size_t size = static_cast<size_t>(state.range(0));
  RunPairs(
      state, [&](alloy_block *block) { return alloy_alloc(a, size, 16, block); },
      [&](alloy_block block) { alloy_free(a, block, 16); });
  alloy_stack_destroy(stack);
}
BENCHMARK(BM_StackAllocFree_Resource)->Arg(16)->Arg(64)->Arg(1024);

void BM_StackAllocFree_Direct(benchmark::State &state) {
  alloy_stack *stack = NewStack();
  const size_t size = static_cast<size_t>(state.range(0));
  RunPairs(
      state, [&](alloy_block *block) { return alloy_stack_allocate(stack, size, 16, block); },
      [&](alloy_block block) { alloy_stack_free(stack, block, 16); });
  alloy_stack_destroy(stack);
}
BENCHMARK(BM_StackAllocFree_Direct)->Arg(16)->Arg(64)->Arg(1024);

void BM_StackAllocFree_Inline(benchmark::State &state) {
  alloy_stack *stack = NewStack();
  const size_t size = static_cast<size_t>(state.range(0));
  RunPairs(
      state, [&](alloy_block *block) { return alloy_stack_allocate_fast(stack, size, 16, block); },
      [&](alloy_block block) { alloy_stack_free_fast(stack, block, 16); });
  alloy_stack_destroy(stack);
}
BENCHMARK(BM_StackAllocFree_Inline)->Arg(16)->Arg(64)->Arg(1024);

// 64 nested allocations of 48 B, then all freed in LIFO order (a recursive
// solver's shape). allocate(alloy_block *) returns an alloy_status,
// release(alloy_block) frees one block.
template <class Allocate, class Release>
void Nested64(benchmark::State &state, Allocate allocate, Release release) {
  alloy_block blocks[64];
  for (auto _ : state) {
    for (int i = 0; i < 64; ++i)
      if (allocate(&blocks[i]) != ALLOY_OK) std::abort();
    benchmark::DoNotOptimize(blocks);
    for (int i = 63; i >= 0; --i) release(blocks[i]);
  }
  state.SetItemsProcessed(state.iterations() * 64);
}

void BM_StackNested64_Inline(benchmark::State &state) {
  alloy_stack *stack = NewStack();
  Nested64(
      state, [&](alloy_block *block) { return alloy_stack_allocate_fast(stack, 48, 16, block); },
      [&](alloy_block block) { alloy_stack_free_fast(stack, block, 16); });
  alloy_stack_destroy(stack);
}
BENCHMARK(BM_StackNested64_Inline);

void BM_StackNested64_Direct(benchmark::State &state) {
  alloy_stack *stack = NewStack();
  Nested64(
      state, [&](alloy_block *block) { return alloy_stack_allocate(stack, 48, 16, block); },
      [&](alloy_block block) { alloy_stack_free(stack, block, 16); });
  alloy_stack_destroy(stack);
}
BENCHMARK(BM_StackNested64_Direct);

// The same 64 allocations released by one rewind to a marker.
void BM_StackNested64_Marker(benchmark::State &state) {
  alloy_stack *stack = NewStack();
  alloy_block blocks[64];
  for (auto _ : state) {
    alloy_marker marker = alloy_stack_mark(stack);
    for (int i = 0; i < 64; ++i)
      if (alloy_stack_allocate(stack, 48, 16, &blocks[i]) != ALLOY_OK) std::abort();
    benchmark::DoNotOptimize(blocks);
    alloy_stack_rewind(stack, marker);
  }
  state.SetItemsProcessed(state.iterations() * 64);
  alloy_stack_destroy(stack);
}
BENCHMARK(BM_StackNested64_Marker);

void BM_MallocNested64(benchmark::State &state) {
  void *blocks[64];
  for (auto _ : state) {
    for (int i = 0; i < 64; ++i) blocks[i] = std::malloc(48);
    benchmark::DoNotOptimize(blocks);
    for (int i = 63; i >= 0; --i) std::free(blocks[i]);
  }
  state.SetItemsProcessed(state.iterations() * 64);
}
BENCHMARK(BM_MallocNested64);

void BM_Malloc_Free(benchmark::State &state) { alloy_bench::RunMallocPairs(state, static_cast<size_t>(state.range(0))); }
BENCHMARK(BM_Malloc_Free)->Arg(16)->Arg(64)->Arg(1024);

}  // namespace
