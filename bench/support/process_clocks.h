// The clocks and counters a benchmark reads besides the cycle counter
// (cycle_clock.h): wall time, the CPU time of the calling thread, the
// process's minor page faults and the thread's involuntary context switches.
#ifndef ALLOY_BENCH_SUPPORT_PROCESS_CLOCKS_H
#define ALLOY_BENCH_SUPPORT_PROCESS_CLOCKS_H

namespace alloy_bench {

// Wall time (CLOCK_MONOTONIC) in seconds from an arbitrary origin.
double MonotonicSeconds();

// CPU time of this thread, page-fault handling in the kernel included: on a
// loaded machine it shows the code's own cost where wall time shows the load.
double ThreadCpuSeconds();

// Minor page faults of the process so far.
long MinorFaults();

// Times the calling thread was descheduled against its will so far (0 when
// the kernel cannot say).
long InvoluntarySwitches();

}  // namespace alloy_bench

#endif  // ALLOY_BENCH_SUPPORT_PROCESS_CLOCKS_H
