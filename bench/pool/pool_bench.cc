// Pool: 64-byte allocate+free pairs against a plain intrusive free list (the
// limit) and malloc/free, plus a batch pattern that walks the free list.
#include <cstdlib>
#include <vector>

#include <benchmark/benchmark.h>

#include "alloy/allocator.h"
#include "alloy/pool.h"

namespace {

constexpr size_t kBlock = 64;
constexpr int kBatch = 1000;

alloy_pool *NewPool() {
  alloy_pool_config config = alloy_pool_config_default(kBlock);
  alloy_pool *pool = nullptr;
  if (alloy_pool_create(&config, &pool) != ALLOY_OK) std::abort();
  return pool;
}

void BM_PoolPair_Resource(benchmark::State &state) {
  alloy_pool *pool = NewPool();
  alloy_allocator a = alloy_allocator_of(alloy_pool_resource(pool));
  for (auto _ : state) {
    alloy_block block;
    if (alloy_alloc(a, kBlock, 16, &block) != ALLOY_OK) std::abort();
    benchmark::DoNotOptimize(block.ptr);
    alloy_free(a, block, 16);
  }
  state.SetItemsProcessed(state.iterations());
  alloy_pool_destroy(pool);
}
BENCHMARK(BM_PoolPair_Resource);

void BM_PoolPair_Direct(benchmark::State &state) {
  alloy_pool *pool = NewPool();
  for (auto _ : state) {
    alloy_block block;
    if (alloy_pool_allocate(pool, kBlock, 16, &block) != ALLOY_OK) std::abort();
    benchmark::DoNotOptimize(block.ptr);
    alloy_pool_free(pool, block, 16);
  }
  state.SetItemsProcessed(state.iterations());
  alloy_pool_destroy(pool);
}
BENCHMARK(BM_PoolPair_Direct);

void BM_PoolPair_Inline(benchmark::State &state) {
  alloy_pool *pool = NewPool();
  for (auto _ : state) {
    alloy_block block;
    if (alloy_pool_allocate_fast(pool, kBlock, 16, &block) != ALLOY_OK) std::abort();
    benchmark::DoNotOptimize(block.ptr);
    alloy_pool_free_fast(pool, block, 16);
  }
  state.SetItemsProcessed(state.iterations());
  alloy_pool_destroy(pool);
}
BENCHMARK(BM_PoolPair_Inline);

// The limit: a plain intrusive free list over a static array, inline, with
// no checks and no counters. Its head lives in memory like any allocator's.
struct Node {
  Node *next;
  char payload[kBlock - sizeof(Node *)];
};
Node g_nodes[kBatch * 2];
struct PlainFreeList {
  Node *head;
};
PlainFreeList g_list;

PlainFreeList *BuildList() {
  g_list.head = nullptr;
  for (Node &node : g_nodes) {
    node.next = g_list.head;
    g_list.head = &node;
  }
  return &g_list;
}
inline Node *PlainPop(PlainFreeList *list) {
  Node *node = list->head;
  list->head = node->next;
  return node;
}
inline void PlainPush(PlainFreeList *list, Node *node) {
  node->next = list->head;
  list->head = node;
}

void BM_PlainFreeListPair_Baseline(benchmark::State &state) {
  PlainFreeList *list = BuildList();
  for (auto _ : state) {
    Node *node = PlainPop(list);
    benchmark::DoNotOptimize(node);
    PlainPush(list, node);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_PlainFreeListPair_Baseline);

void BM_MallocPair(benchmark::State &state) {
  for (auto _ : state) {
    void *ptr = std::malloc(kBlock);
    benchmark::DoNotOptimize(ptr);
    std::free(ptr);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_MallocPair);

// 1000 allocations then 1000 frees: the free list is walked, not just its head.
void BM_PoolBatch_Direct(benchmark::State &state) {
  alloy_pool *pool = NewPool();
  std::vector<alloy_block> blocks(kBatch);
  for (auto _ : state) {
    for (auto &block : blocks)
      if (alloy_pool_allocate(pool, kBlock, 16, &block) != ALLOY_OK) std::abort();
    benchmark::DoNotOptimize(blocks.data());
    for (auto &block : blocks) alloy_pool_free(pool, block, 16);
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
  alloy_pool_destroy(pool);
}
BENCHMARK(BM_PoolBatch_Direct);

// Keeps only pointers, as the baseline does (the size is the pool's).
void BM_PoolBatch_Inline(benchmark::State &state) {
  alloy_pool *pool = NewPool();
  std::vector<void *> blocks(kBatch);
  for (auto _ : state) {
    for (auto &ptr : blocks) {
      alloy_block block;
      if (alloy_pool_allocate_fast(pool, kBlock, 16, &block) != ALLOY_OK) std::abort();
      ptr = block.ptr;
    }
    benchmark::DoNotOptimize(blocks.data());
    for (void *ptr : blocks) alloy_pool_free_fast(pool, alloy_block_make(ptr, kBlock), 16);
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
  alloy_pool_destroy(pool);
}
BENCHMARK(BM_PoolBatch_Inline);

void BM_PlainFreeListBatch_Baseline(benchmark::State &state) {
  PlainFreeList *list = BuildList();
  std::vector<Node *> nodes(kBatch);
  for (auto _ : state) {
    for (auto &node : nodes) node = PlainPop(list);
    benchmark::DoNotOptimize(nodes.data());
    for (Node *node : nodes) PlainPush(list, node);
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
}
BENCHMARK(BM_PlainFreeListBatch_Baseline);

void BM_MallocBatch(benchmark::State &state) {
  std::vector<void *> blocks(kBatch);
  for (auto _ : state) {
    for (auto &block : blocks) block = std::malloc(kBlock);
    benchmark::DoNotOptimize(blocks.data());
    for (void *block : blocks) std::free(block);
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
}
BENCHMARK(BM_MallocBatch);

}  // namespace
