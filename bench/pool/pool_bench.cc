// Pool: 64-byte allocate+free pairs against a plain intrusive free list (the
// limit) and malloc/free, plus a batch pattern that walks the free list.
// Concurrent pools: the owner's local pair, producer/consumer remote-free
// throughput (the producer owns the pool, the consumer frees every block),
// and the cost of reclaiming a batch of remote frees.
#include <chrono>
#include <cstdlib>
#include <thread>
#include <vector>

#include <benchmark/benchmark.h>

#include "alloy/allocator.h"
#include "alloy/pool.h"
#include "bench/support/loops.h"
#include "bench/support/producer_consumer.h"

namespace {

constexpr size_t kBlock = 64;
constexpr int kBatch = 1000;

alloy_pool *NewPool(bool concurrent = false) {
  alloy_pool_config config = alloy_pool_config_default(kBlock);
  config.concurrent_free = concurrent;
  alloy_pool *pool = nullptr;
  if (alloy_pool_create(&config, &pool) != ALLOY_OK) std::abort();
  return pool;
}

using alloy_bench::RunMallocPairs;
using alloy_bench::RunPairs;

// The pool's pair through the allocator handle (one indirect call each way).
void PairsThroughResource(benchmark::State &state, bool concurrent) {
  alloy_pool *pool = NewPool(concurrent);
  alloy_allocator a = alloy_allocator_of(alloy_pool_resource(pool));
  RunPairs(
      state, [&](alloy_block *block) { return alloy_alloc(a, kBlock, 16, block); },
      [&](alloy_block block) { alloy_free(a, block, 16); });
  alloy_pool_destroy(pool);
}

// The pool's pair through its own functions, no indirect call.
void PairsDirect(benchmark::State &state, bool concurrent) {
  alloy_pool *pool = NewPool(concurrent);
  RunPairs(
      state, [&](alloy_block *block) { return alloy_pool_allocate(pool, kBlock, 16, block); },
      [&](alloy_block block) { alloy_pool_free(pool, block, 16); });
  alloy_pool_destroy(pool);
}

void BM_PoolPair_Resource(benchmark::State &state) { PairsThroughResource(state, false); }
BENCHMARK(BM_PoolPair_Resource);

void BM_PoolPair_Direct(benchmark::State &state) { PairsDirect(state, false); }
BENCHMARK(BM_PoolPair_Direct);

void BM_PoolPair_Inline(benchmark::State &state) {
  alloy_pool *pool = NewPool();
  RunPairs(
      state, [&](alloy_block *block) { return alloy_pool_allocate_fast(pool, kBlock, 16, block); },
      [&](alloy_block block) { alloy_pool_free_fast(pool, block, 16); });
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

void BM_MallocPair(benchmark::State &state) { RunMallocPairs(state, kBlock); }
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

// The owner's pair on a concurrent pool: an owner check more than the plain pool.
void BM_ConcurrentPoolOwnerPair_Direct(benchmark::State &state) { PairsDirect(state, true); }
BENCHMARK(BM_ConcurrentPoolOwnerPair_Direct);

void BM_ConcurrentPoolOwnerPair_Resource(benchmark::State &state) { PairsThroughResource(state, true); }
BENCHMARK(BM_ConcurrentPoolOwnerPair_Resource);

struct PoolPair {
  alloy_pool *pool = NewPool(true);
  ~PoolPair() { alloy_pool_destroy(pool); }
  void *Alloc() {
    alloy_block block;
    if (alloy_pool_allocate(pool, kBlock, 16, &block) != ALLOY_OK) std::abort();
    return block.ptr;
  }
  void Free(void *ptr) { alloy_pool_free(pool, alloy_block_make(ptr, kBlock), 16); }
};

struct MallocPair {
  void *Alloc() { return std::malloc(kBlock); }
  void Free(void *ptr) { std::free(ptr); }
};

// The producer (this thread, the pool's owner) allocates chunks of blocks;
// the consumer frees every block of a chunk: each free is remote. Reports
// blocks per second of wall time and the CPU time of each side per block.
template <class A>
void BM_RemoteFree_ProducerConsumer(benchmark::State &state) {
  A allocator;
  alloy_bench::RunProducerConsumer(
      state, [&](size_t) { return allocator.Alloc(); }, [&](void *ptr, size_t) { allocator.Free(ptr); });
}
BENCHMARK_TEMPLATE(BM_RemoteFree_ProducerConsumer, PoolPair)->UseRealTime()->MinTime(1.0);
BENCHMARK_TEMPLATE(BM_RemoteFree_ProducerConsumer, MallocPair)->UseRealTime()->MinTime(1.0);

// Another thread frees `range(0)` of the owner's blocks (one slab's worth
// or fewer: one batch); the owner then allocates. Timed: the allocation that
// takes the batch (one inbox exchange, one source exchange, no walk), and
// alloy_pool_collect of the same batch (which walks it to splice it in).
void BM_RemoteFree_BatchReclaim(benchmark::State &state) {
  const size_t batch = static_cast<size_t>(state.range(0));
  alloy_pool *pool = NewPool(true);
  std::vector<alloy_block> blocks(batch);
  double take_ns = 0, collect_ns = 0;
  // The owner allocates blocks[from..] ...
  auto fill = [&](size_t from) {
    for (size_t i = from; i < batch; ++i)
      if (alloy_pool_allocate(pool, kBlock, 16, &blocks[i]) != ALLOY_OK) std::abort();
  };
  // ... and another thread frees all of them: one batch of remote frees.
  auto free_remotely = [&] {
    std::thread([&] {
      for (alloy_block b : blocks) alloy_pool_free(pool, b, 16);
    }).join();
  };
  using Clock = std::chrono::steady_clock;
  auto elapsed_ns = [](Clock::time_point t0, Clock::time_point t1) {
    return std::chrono::duration<double, std::nano>(t1 - t0).count();
  };
  for (auto _ : state) {
    state.PauseTiming();
    fill(0);
    free_remotely();
    state.ResumeTiming();
    auto t0 = Clock::now();
    alloy_block first;
    if (alloy_pool_allocate(pool, kBlock, 16, &first) != ALLOY_OK) std::abort();
    auto t1 = Clock::now();
    take_ns += elapsed_ns(t0, t1);
    state.PauseTiming();
    // Drain the taken batch so the next round starts from an empty free list.
    blocks[0] = first;
    fill(1);
    free_remotely();
    t0 = Clock::now();
    const size_t got = alloy_pool_collect(pool);
    t1 = Clock::now();
    collect_ns += elapsed_ns(t0, t1);
    if (got != batch) std::abort();
    // Empty the local list again; the blocks wait, pending, for the next round.
    fill(0);
    free_remotely();
    state.ResumeTiming();
  }
  const double n = static_cast<double>(state.iterations());
  state.counters["take_batch_ns"] = take_ns / n;
  state.counters["collect_ns"] = collect_ns / n;
  state.counters["collect_ns_per_block"] = collect_ns / n / static_cast<double>(batch);
  alloy_pool_destroy(pool);
}
BENCHMARK(BM_RemoteFree_BatchReclaim)->Arg(64)->Arg(256)->Arg(1000)->Iterations(200);

}  // namespace
