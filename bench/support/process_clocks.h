// What a benchmark reads besides wall time: the CPU time of the calling thread
// and the process's minor page faults.
#ifndef ALLOY_BENCH_STRATEGY_SUPPORT_PROCESS_CLOCKS_H
#define ALLOY_BENCH_STRATEGY_SUPPORT_PROCESS_CLOCKS_H

namespace alloy_bench {

// CPU time of this thread, page-fault handling in the kernel included: on a
// loaded machine it shows the code's own cost where wall time shows the load.
double ThreadCpuSeconds();

// Minor page faults of the process so far.
long MinorFaults();

}  // namespace alloy_bench

#endif  // ALLOY_BENCH_STRATEGY_SUPPORT_PROCESS_CLOCKS_H
