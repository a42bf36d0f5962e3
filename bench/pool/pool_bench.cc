// Pool: 64-byte allocate+free pairs against a plain intrusive free list (the
// limit) and malloc/free, plus a batch pattern that walks the free list.
// Concurrent pools: the owner's local pair, producer/consumer remote-free
// throughput (the producer owns the pool, the consumer frees every block),
// and the cost of reclaiming a batch of remote frees.
#include <time.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>

#include <benchmark/benchmark.h>

#include "alloy/allocator.h"
#include "alloy/pool.h"

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

// The owner's pair on a concurrent pool: an owner check more than the plain pool.
void BM_ConcurrentPoolOwnerPair_Direct(benchmark::State &state) {
  alloy_pool *pool = NewPool(true);
  for (auto _ : state) {
    alloy_block block;
    if (alloy_pool_allocate(pool, kBlock, 16, &block) != ALLOY_OK) std::abort();
    benchmark::DoNotOptimize(block.ptr);
    alloy_pool_free(pool, block, 16);
  }
  state.SetItemsProcessed(state.iterations());
  alloy_pool_destroy(pool);
}
BENCHMARK(BM_ConcurrentPoolOwnerPair_Direct);

void BM_ConcurrentPoolOwnerPair_Resource(benchmark::State &state) {
  alloy_pool *pool = NewPool(true);
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
BENCHMARK(BM_ConcurrentPoolOwnerPair_Resource);

// Hand-off of chunks between producer and consumer (two buffers in turn);
// waiting blocks, so an oversubscribed machine measures the allocator.
class Baton {
 public:
  void Give() {
    std::lock_guard<std::mutex> lock(mutex_);
    ++count_;
    cv_.notify_one();
  }
  void Take() {
    std::unique_lock<std::mutex> lock(mutex_);
    cv_.wait(lock, [&] { return count_ > 0; });
    --count_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  int count_ = 0;
};

double ThreadCpuNs() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}

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
  constexpr size_t kChunk = 4096, kChunks = 64;
  static void *buffers[2][kChunk];
  A allocator;
  double producer_cpu = 0, consumer_cpu = 0;
  for (auto _ : state) {
    Baton filled[2], emptied[2];
    emptied[0].Give();
    emptied[1].Give();
    std::thread consumer([&] {
      const double t0 = ThreadCpuNs();
      for (size_t c = 0; c < kChunks; ++c) {
        filled[c & 1].Take();
        for (void *ptr : buffers[c & 1]) allocator.Free(ptr);
        emptied[c & 1].Give();
      }
      consumer_cpu += ThreadCpuNs() - t0;
    });
    const double t0 = ThreadCpuNs();
    for (size_t c = 0; c < kChunks; ++c) {
      emptied[c & 1].Take();
      for (void *&ptr : buffers[c & 1]) ptr = allocator.Alloc();
      filled[c & 1].Give();
    }
    producer_cpu += ThreadCpuNs() - t0;
    consumer.join();
  }
  const double blocks = static_cast<double>(state.iterations()) * kChunk * kChunks;
  state.counters["blocks_per_s"] = benchmark::Counter(blocks, benchmark::Counter::kIsRate);
  state.counters["producer_cpu_ns"] = producer_cpu / blocks;
  state.counters["consumer_cpu_ns"] = consumer_cpu / blocks;
  state.counters["cpu_ns_per_block"] = (producer_cpu + consumer_cpu) / blocks;
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
  auto fill_and_free_remotely = [&] {
    for (alloy_block &b : blocks)
      if (alloy_pool_allocate(pool, kBlock, 16, &b) != ALLOY_OK) std::abort();
    std::thread([&] {
      for (alloy_block b : blocks) alloy_pool_free(pool, b, 16);
    }).join();
  };
  for (auto _ : state) {
    state.PauseTiming();
    fill_and_free_remotely();
    state.ResumeTiming();
    auto t0 = std::chrono::steady_clock::now();
    alloy_block first;
    if (alloy_pool_allocate(pool, kBlock, 16, &first) != ALLOY_OK) std::abort();
    auto t1 = std::chrono::steady_clock::now();
    take_ns += std::chrono::duration<double, std::nano>(t1 - t0).count();
    state.PauseTiming();
    // Drain the taken batch so the next round starts from an empty free list.
    blocks[0] = first;
    for (size_t i = 1; i < batch; ++i)
      if (alloy_pool_allocate(pool, kBlock, 16, &blocks[i]) != ALLOY_OK) std::abort();
    std::thread([&] {
      for (alloy_block b : blocks) alloy_pool_free(pool, b, 16);
    }).join();
    t0 = std::chrono::steady_clock::now();
    const size_t got = alloy_pool_collect(pool);
    t1 = std::chrono::steady_clock::now();
    collect_ns += std::chrono::duration<double, std::nano>(t1 - t0).count();
    if (got != batch) std::abort();
    // Empty the local list again; the blocks wait, pending, for the next round.
    for (alloy_block &b : blocks)
      if (alloy_pool_allocate(pool, kBlock, 16, &b) != ALLOY_OK) std::abort();
    std::thread([&] {
      for (alloy_block b : blocks) alloy_pool_free(pool, b, 16);
    }).join();
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
