// bench/report_tool/memory_child.h — memory traces measured in a fresh process.
//
// Held memory is a property of a whole heap: memory one workload freed stays
// cached and a later workload on the same heap reuses it (alloy/system and
// glibc even share one heap). So the medium trace for each subject runs in a
// fresh copy of this program (re-executed with --memory_trace_subject), whose
// heaps have served nothing else; the result comes back over a pipe.
#ifndef ALLOY_BENCH_REPORT_TOOL_MEMORY_CHILD_H_
#define ALLOY_BENCH_REPORT_TOOL_MEMORY_CHILD_H_

#include <string>

#include "bench/common/workloads.h"

namespace alloy_bench {

// In the parent: runs the trace for `subject` in a child; false with *error
// when the child fails.
bool RunMediumTraceIsolated(const std::string& subject, const MediumTraceOptions& options, MediumTraceResult* out,
                            std::string* error);

// In the child: runs the trace and prints the result on stdout; the exit code.
int MediumTraceChildMain(const std::string& subject, const MediumTraceOptions& options);

}  // namespace alloy_bench

#endif  // ALLOY_BENCH_REPORT_TOOL_MEMORY_CHILD_H_
