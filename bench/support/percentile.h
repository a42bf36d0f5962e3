// Percentiles and medians of samples: the one selection routine every
// benchmark and the report use. The mean is at the mercy of one preemption
// on a loaded machine; the median and the low percentiles are not.
#ifndef ALLOY_BENCH_SUPPORT_PERCENTILE_H
#define ALLOY_BENCH_SUPPORT_PERCENTILE_H

#include <algorithm>
#include <cstddef>
#include <iterator>
#include <vector>

namespace alloy_bench {

// The sample of rank `rank` (0-based, < last - first) in ascending order,
// found in linear time by partly reordering [first, last).
template <class RandomIt>
double SampleAtRank(RandomIt first, RandomIt last, size_t rank) {
  std::nth_element(first, first + static_cast<std::ptrdiff_t>(rank), last);
  return static_cast<double>(first[static_cast<std::ptrdiff_t>(rank)]);
}

// The sample of rank q * (n - 1) (0 <= q <= 1; 0.5 is the lower median);
// 0 when there are none.
template <class RandomIt>
double Percentile(RandomIt first, RandomIt last, double q) {
  const size_t n = static_cast<size_t>(std::distance(first, last));
  if (n == 0) return 0.0;
  return SampleAtRank(first, last, static_cast<size_t>(q * static_cast<double>(n - 1)));
}

template <class T>
double Percentile(std::vector<T> &samples, double q) {
  return Percentile(samples.begin(), samples.end(), q);
}

// The sample of rank n / 2 (the upper median of an even count); 0 when there
// are none.
template <class T>
double Median(std::vector<T> &samples) {
  if (samples.empty()) return 0.0;
  return SampleAtRank(samples.begin(), samples.end(), samples.size() / 2);
}

}  // namespace alloy_bench

#endif  // ALLOY_BENCH_SUPPORT_PERCENTILE_H
