// bench/support/latency_histogram.cc — quantiles over the log-linear buckets.
#include "bench/support/latency_histogram.h"

#include <cmath>
#include <sstream>

namespace alloy_bench {

void LatencyHistogram::Clear() {
  counts_.fill(0);
  total_ = 0;
  max_ = 0;
}

void LatencyHistogram::Merge(const LatencyHistogram& other) {
  for (int i = 0; i < kBucketCount; ++i) counts_[i] += other.counts_[i];
  total_ += other.total_;
  if (other.max_ > max_) max_ = other.max_;
}

double LatencyHistogram::BucketLow(int bucket) {
  if (bucket < kLinearLimit) return bucket;
  int rel = bucket - kLinearLimit;
  int octave = rel >> kSubBits;  // 0 for [64, 128)
  int sub = rel & ((1 << kSubBits) - 1);
  int shift = octave + 1;
  return std::ldexp(static_cast<double>((1 << kSubBits) + sub), shift);
}

double LatencyHistogram::BucketWidth(int bucket) {
  if (bucket < kLinearLimit) return 1.0;
  int octave = (bucket - kLinearLimit) >> kSubBits;
  return std::ldexp(1.0, octave + 1);
}

double LatencyHistogram::Quantile(double q) const {
  if (total_ == 0) return 0.0;
  if (q < 0) q = 0;
  if (q > 1) q = 1;
  // The rank of the sample at q (1-based), rounded up like HdrHistogram.
  uint64_t rank = static_cast<uint64_t>(std::ceil(q * static_cast<double>(total_)));
  if (rank < 1) rank = 1;
  uint64_t seen = 0;
  for (int i = 0; i < kBucketCount; ++i) {
    seen += counts_[i];
    if (seen >= rank) {
      double mid = BucketLow(i) + (BucketWidth(i) - 1.0) / 2.0;
      return mid > static_cast<double>(max_) ? static_cast<double>(max_) : mid;
    }
  }
  return static_cast<double>(max_);
}

double LatencyHistogram::Mean() const {
  if (total_ == 0) return 0.0;
  double sum = 0;
  for (int i = 0; i < kBucketCount; ++i) {
    if (counts_[i] != 0) sum += (BucketLow(i) + (BucketWidth(i) - 1.0) / 2.0) * static_cast<double>(counts_[i]);
  }
  return sum / static_cast<double>(total_);
}

std::string LatencyHistogram::Encode() const {
  std::ostringstream out;
  out << max_ << ' ' << total_;
  for (int i = 0; i < kBucketCount; ++i)
    if (counts_[i] != 0) out << ' ' << i << ':' << counts_[i];
  return out.str();
}

bool LatencyHistogram::Decode(const std::string& text) {
  Clear();
  std::istringstream in(text);
  uint64_t total = 0;
  if (!(in >> max_ >> total)) return false;
  std::string item;
  while (in >> item) {
    size_t colon = item.find(':');
    if (colon == std::string::npos) return false;
    int bucket = std::stoi(item.substr(0, colon));
    if (bucket < 0 || bucket >= kBucketCount) return false;
    counts_[bucket] = std::stoull(item.substr(colon + 1));
    total_ += counts_[bucket];
  }
  return total_ == total;
}

}  // namespace alloy_bench
