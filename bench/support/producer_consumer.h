// The remote-free pattern: the producer (the calling thread, the allocator's
// owner) allocates chunks of blocks, a consumer thread frees every block of
// a chunk, so each free is remote. Two buffers go back and forth through
// Batons, so waiting blocks instead of spinning.
#ifndef ALLOY_BENCH_SUPPORT_PRODUCER_CONSUMER_H
#define ALLOY_BENCH_SUPPORT_PRODUCER_CONSUMER_H

#include <cstddef>
#include <thread>

#include <benchmark/benchmark.h>

#include "bench/support/baton.h"
#include "bench/support/process_clocks.h"

namespace alloy_bench {

constexpr size_t kHandOffChunk = 4096;  // blocks per chunk
constexpr size_t kHandOffChunks = 64;   // chunks per iteration

// Per iteration kHandOffChunks chunks of kHandOffChunk blocks: allocate(n)
// returns block n of the iteration (n < kHandOffChunk * kHandOffChunks, for
// callers that derive a size from it), release(ptr, n) frees it on the
// consumer thread. Counters: blocks_per_s of wall time, and the thread CPU
// time per block of each side and of both (the steadier figure on a shared
// machine).
template <class Allocate, class Release>
void RunProducerConsumer(benchmark::State &state, Allocate allocate, Release release) {
  static void *buffers[2][kHandOffChunk];
  double producer_cpu_ns = 0, consumer_cpu_ns = 0;
  for (auto _ : state) {
    Baton filled[2], emptied[2];
    emptied[0].Give();
    emptied[1].Give();
    std::thread consumer([&] {
      const double t0 = ThreadCpuSeconds();
      for (size_t c = 0; c < kHandOffChunks; ++c) {
        filled[c & 1].Take();
        void **buffer = buffers[c & 1];
        for (size_t i = 0; i < kHandOffChunk; ++i) release(buffer[i], c * kHandOffChunk + i);
        emptied[c & 1].Give();
      }
      consumer_cpu_ns += (ThreadCpuSeconds() - t0) * 1e9;
    });
    const double t0 = ThreadCpuSeconds();
    for (size_t c = 0; c < kHandOffChunks; ++c) {
      emptied[c & 1].Take();
      void **buffer = buffers[c & 1];
      for (size_t i = 0; i < kHandOffChunk; ++i) buffer[i] = allocate(c * kHandOffChunk + i);
      filled[c & 1].Give();
    }
    producer_cpu_ns += (ThreadCpuSeconds() - t0) * 1e9;
    consumer.join();
  }
  const double blocks = static_cast<double>(state.iterations()) * kHandOffChunk * kHandOffChunks;
  state.counters["blocks_per_s"] = benchmark::Counter(blocks, benchmark::Counter::kIsRate);
  state.counters["producer_cpu_ns"] = producer_cpu_ns / blocks;
  state.counters["consumer_cpu_ns"] = consumer_cpu_ns / blocks;
  state.counters["cpu_ns_per_block"] = (producer_cpu_ns + consumer_cpu_ns) / blocks;
}

}  // namespace alloy_bench

#endif  // ALLOY_BENCH_SUPPORT_PRODUCER_CONSUMER_H
