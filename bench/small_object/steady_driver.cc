// A plain driver of the steady-state kernel (bench/support/workloads.cc) for
// one subject, without the benchmark harness, so that valgrind's cache and
// branch simulators can compare alloy with a peer on exactly the same calls:
//   valgrind --tool=callgrind --cache-sim=yes --branch-sim=yes
//     --toggle-collect='*SteadyState*Replace*' steady_driver mimalloc 200000
// (one command). It also prints the pairs per CPU second of the run (a rough
// figure: the report's steady_10k row is the measurement).
#include <cstdio>
#include <cstdlib>
#include <string>

#include "bench/support/process_clocks.h"
#include "bench/support/subjects.h"
#include "bench/support/workloads.h"

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s SUBJECT STEPS [LIVE]\n", argv[0]);
    return 2;
  }
  std::string name = argv[1];
  size_t steps = std::strtoull(argv[2], nullptr, 10);
  size_t live = argc > 3 ? std::strtoull(argv[3], nullptr, 10) : 10000;
  for (const auto& subject : alloy_bench::LoadSubjects(name, false)) {
    if (subject.name != name || !subject.available()) continue;
    auto allocator = subject.make();
    if (allocator == nullptr) return 1;
    alloy_bench::SteadyState steady(*allocator, live);
    if (!steady.ok()) return 1;
    // CPU time: the machine may be shared.
    double t0 = alloy_bench::ThreadCpuSeconds();
    if (!steady.Replace(steps)) return 1;
    double seconds = alloy_bench::ThreadCpuSeconds() - t0;
    std::printf("%s %.1f M pairs/s\n", name.c_str(), steps / seconds / 1e6);
    return 0;
  }
  std::fprintf(stderr, "%s: no such subject\n", name.c_str());
  return 2;
}
