// bench/malloc/workload.h — what every drop-in malloc workload shares: the
// scale flag, a per-thread random generator, the wall clock, block stamps
// that catch a heap handing out broken memory, and the one result line the
// runner reads.
//
// The workloads call plain malloc and free and nothing of alloy, so the same
// binary runs under whatever malloc LD_PRELOAD puts in front of the C library.
#ifndef ALLOY_BENCH_MALLOC_WORKLOAD_H
#define ALLOY_BENCH_MALLOC_WORKLOAD_H

#include <time.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace alloy_malloc_bench {

// `--scale=S` multiplies the workload's length (1: the short default, about
// a quarter of a second). Throughput workloads run for a fixed time
// (kSecondsAtScale1 * S) and count what they did, so a slow heap cannot
// stretch the comparison; timed workloads do a fixed amount of work.
inline double ScaleFlag(int argc, char **argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--scale=", 8) == 0) {
      double scale = std::atof(argv[i] + 8);
      if (scale > 0) return scale;
      std::fprintf(stderr, "%s: --scale must be positive\n", argv[0]);
      std::exit(2);
    }
    std::fprintf(stderr, "usage: %s [--scale=S]\n", argv[0]);
    std::exit(2);
  }
  return 1.0;
}

constexpr double kSecondsAtScale1 = 0.25;

// `base` scaled, at least 1.
inline long Scaled(double scale, long base) {
  long n = std::lround(static_cast<double>(base) * scale);
  return n < 1 ? 1 : n;
}

// xorshift64*: fast, and each thread seeds its own.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed * 0x9E3779B97F4A7C15ull + 1) {}
  uint64_t Next() {
    state_ ^= state_ >> 12;
    state_ ^= state_ << 25;
    state_ ^= state_ >> 27;
    return state_ * 0x2545F4914F6CDD1Dull;
  }
  // Uniform in [lo, hi].
  size_t Between(size_t lo, size_t hi) { return lo + static_cast<size_t>(Next() % (hi - lo + 1)); }
  // Uniform in [0, 1).
  double Unit() { return static_cast<double>(Next() >> 11) * (1.0 / 9007199254740992.0); }

 private:
  uint64_t state_;
};

inline double NowSeconds() {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) * 1e-9;
}

// Tells a throughput workload's threads when their time is up. The clock is
// read once every kCheckEvery iterations, so its cost stays out of the rate.
class Deadline {
 public:
  explicit Deadline(double scale) : at_(NowSeconds() + kSecondsAtScale1 * scale) {}
  bool Passed(long iteration) const { return iteration % kCheckEvery == 0 && NowSeconds() >= at_; }

 private:
  static constexpr long kCheckEvery = 128;
  double at_;
};

inline void *MallocOrDie(size_t size) {
  void *block = std::malloc(size);
  if (block == nullptr) {
    std::fprintf(stderr, "malloc(%zu) failed\n", size);
    std::abort();
  }
  return block;
}

// A block's first and last byte carry a stamp derived from its size, written
// after malloc and checked before free: a heap that hands out overlapping or
// short blocks fails the run instead of winning it.
inline unsigned char StampOf(size_t size) { return static_cast<unsigned char>(size * 131u + 7u); }

inline void *StampedMalloc(size_t size) {
  unsigned char *block = static_cast<unsigned char *>(MallocOrDie(size));
  block[0] = StampOf(size);
  block[size - 1] = StampOf(size);
  return block;
}

inline void StampedFree(void *ptr, size_t size) {
  if (ptr == nullptr) return;
  const unsigned char *block = static_cast<const unsigned char *>(ptr);
  if (block[0] != StampOf(size) || block[size - 1] != StampOf(size)) {
    std::fprintf(stderr, "a %zu-byte block was overwritten while live\n", size);
    std::abort();
  }
  std::free(ptr);
}

// The result line: `result workload=<name> metric=<ops_per_s|seconds> value=<v> threads=<n>`.
inline void PrintResult(const char *workload, const char *metric, double value, int threads) {
  std::printf("result workload=%s metric=%s value=%.6g threads=%d\n", workload, metric, value, threads);
  std::fflush(stdout);
}

}  // namespace alloy_malloc_bench

#endif  // ALLOY_BENCH_MALLOC_WORKLOAD_H
