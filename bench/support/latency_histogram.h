// bench/support/latency_histogram.h — a log-linear (HDR-style) histogram of cycle counts.
//
// Values below 64 get a bucket each; above, every power of two is split into
// 32 equal buckets, so any percentile is within about 3 % of the true value
// over the whole 64-bit range, with a fixed 15 KiB of counters and O(1) adds
// that never allocate (the histogram must not disturb the allocator it times).
#ifndef ALLOY_BENCH_SUPPORT_LATENCY_HISTOGRAM_H
#define ALLOY_BENCH_SUPPORT_LATENCY_HISTOGRAM_H

#include <array>
#include <cstdint>
#include <string>

namespace alloy_bench {

class LatencyHistogram {
 public:
  static constexpr int kSubBits = 5;                    // 32 buckets per doubling
  static constexpr int kLinearLimit = 2 << kSubBits;    // exact buckets below 64
  static constexpr int kBucketCount = kLinearLimit + (64 - kSubBits - 1) * (1 << kSubBits);

  void Add(uint64_t value) {
    ++counts_[BucketOf(value)];
    ++total_;
    if (value > max_) max_ = value;
  }
  void Clear();
  void Merge(const LatencyHistogram& other);

  uint64_t total() const { return total_; }
  uint64_t max() const { return max_; }
  // The value at quantile q in [0, 1] (bucket midpoint), 0 when empty.
  double Quantile(double q) const;
  double Mean() const;

  // A compact text form ("max total bucket:count ...") for passing a
  // histogram between processes; Decode returns false on malformed input.
  std::string Encode() const;
  bool Decode(const std::string& text);

  static int BucketOf(uint64_t value) {
    if (value < static_cast<uint64_t>(kLinearLimit)) return static_cast<int>(value);
    int msb = 63 - __builtin_clzll(value);
    int shift = msb - kSubBits;
    return kLinearLimit + (msb - kSubBits - 1) * (1 << kSubBits) +
           static_cast<int>((value >> shift) - (1u << kSubBits));
  }
  static double BucketLow(int bucket);
  static double BucketWidth(int bucket);

 private:
  std::array<uint64_t, kBucketCount> counts_{};
  uint64_t total_ = 0;
  uint64_t max_ = 0;
};

}  // namespace alloy_bench

#endif  // ALLOY_BENCH_SUPPORT_LATENCY_HISTOGRAM_H
