// The report's thread-local kernels (bench/support/workloads.cc) for one
// subject, a fixed number of times, without the benchmark harness: for
// callgrind's instruction counts of the small-object heap and the pool,
//   valgrind --tool=callgrind --toggle-collect='*BatchPairs*RunBatch*'
//     kernel_driver small_pairs alloy/small_object 100000
//   valgrind --tool=callgrind --toggle-collect='*SteadyState*Replace*'
//     kernel_driver steady_10k alloy/small_object 1000000
// small_pairs and fixed_64 run COUNT batches of BatchPairs::kBatch pairs,
// steady_10k COUNT replacements (a free and an allocation) over 10,000 live
// blocks. It prints the CPU time per pair (a rough figure: the report's rows
// are the measurement).
#include <cstdio>
#include <cstdlib>
#include <string>

#include "bench/support/process_clocks.h"
#include "bench/support/subjects.h"
#include "bench/support/workloads.h"

namespace {

bool Run(alloy_bench::Allocator& allocator, const std::string& workload, size_t count, size_t* pairs) {
  if (workload == "steady_10k") {
    alloy_bench::SteadyState steady(allocator);
    *pairs = count;
    return steady.ok() && steady.Replace(count);
  }
  alloy_bench::PairShape shape;  // small_pairs: 8-256 B
  if (workload == "fixed_64") shape.min_size = shape.max_size = 64;
  else if (workload != "small_pairs") return false;
  alloy_bench::BatchPairs batches(allocator, shape);
  *pairs = count * alloy_bench::BatchPairs::kBatch;
  for (size_t i = 0; i < count; ++i)
    if (!batches.RunBatch()) return false;
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s small_pairs|fixed_64|steady_10k SUBJECT COUNT\n", argv[0]);
    return 2;
  }
  const std::string workload = argv[1], name = argv[2];
  const size_t count = std::strtoull(argv[3], nullptr, 10);
  for (const auto& subject : alloy_bench::LoadSubjects(name, false)) {
    if (subject.name != name || !subject.available()) continue;
    auto allocator = subject.make();
    if (allocator == nullptr) return 1;
    const double t0 = alloy_bench::ThreadCpuSeconds();
    size_t pairs = 0;
    if (!Run(*allocator, workload, count, &pairs)) return 1;
    const double seconds = alloy_bench::ThreadCpuSeconds() - t0;
    std::printf("%s %s %.2f ns per pair\n", workload.c_str(), name.c_str(), seconds * 1e9 / static_cast<double>(pairs));
    return 0;
  }
  std::fprintf(stderr, "%s: no such subject\n", name.c_str());
  return 2;
}
