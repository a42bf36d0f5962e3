// Percentiles of per-iteration samples. The mean is at the mercy of one
// preemption on a loaded machine; the median and the low percentiles are not.
#ifndef ALLOY_BENCH_STRATEGY_SUPPORT_PERCENTILE_H
#define ALLOY_BENCH_STRATEGY_SUPPORT_PERCENTILE_H

#include <algorithm>
#include <cstddef>
#include <vector>

namespace alloy_bench {

// The sample of rank q * (n - 1) (0 <= q <= 1; 0.5 is the lower median),
// found in linear time by partly reordering `samples`; 0 when there are none.
template <class T>
double Percentile(std::vector<T> &samples, double q) {
  if (samples.empty()) return 0.0;
  const size_t rank = static_cast<size_t>(q * static_cast<double>(samples.size() - 1));
  std::nth_element(samples.begin(), samples.begin() + static_cast<std::ptrdiff_t>(rank), samples.end());
  return static_cast<double>(samples[rank]);
}

}  // namespace alloy_bench

#endif  // ALLOY_BENCH_STRATEGY_SUPPORT_PERCENTILE_H
