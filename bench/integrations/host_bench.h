// bench/integrations/host_bench.h — what the Lua and SQLite benchmarks share:
// the peers' heaps behind a host's own allocation hook, a run in a fresh
// process with its peak RSS, and the comparison table with its targets.
//
// A host (Lua, SQLite) calls its allocation hook; every subject serves that
// same hook: the C library's malloc family (what the host uses by default),
// mimalloc's and jemalloc's (Debian's shared libraries opened with dlopen,
// their entry points looked up on the handle, sized frees where offered) and
// alloy's adapter. Each run is a fresh process (the program re-executed), so
// its peak RSS (the kernel's ru_maxrss) belongs to that subject alone.
#ifndef ALLOY_BENCH_INTEGRATIONS_HOST_BENCH_H
#define ALLOY_BENCH_INTEGRATIONS_HOST_BENCH_H

#include <cstddef>
#include <string>
#include <vector>

namespace alloy_host_bench {

// A malloc family: "glibc", "mimalloc" or "jemalloc".
struct MallocFamily {
  std::string name;
  void *(*malloc)(size_t) = nullptr;
  void *(*realloc)(void *, size_t) = nullptr;
  void (*free)(void *) = nullptr;
  void (*free_sized)(void *, size_t) = nullptr;  // null: the family has none
  size_t (*usable_size)(void *) = nullptr;
};

// Loads `name`'s family; false (with the reason in *why) when it cannot.
bool LoadMallocFamily(const std::string &name, MallocFamily *out, std::string *why);

// Frees through the family's sized free when it has one.
inline void FreeSized(const MallocFamily &family, void *ptr, size_t size) {
  if (family.free_sized != nullptr) {
    family.free_sized(ptr, size);
  } else {
    family.free(ptr);
  }
}

// This process's CPU time (user + system), in seconds.
double ProcessCpuSeconds();

// This process's resident bytes now (VmRSS).
size_t ResidentBytes();

// Reads one byte of every page of every readable file mapping (the
// program's and its libraries' code and constants), so those pages are
// resident before the baseline: the RSS growth of a workload is then the
// memory it allocates and writes, not the code it happens to run first,
// which is the same for every subject but would count as its memory.
void PageInMappedFiles();

struct ChildRun {
  bool ok = false;
  std::string output;   // what the child wrote to stdout
  std::string error;    // why it failed
  size_t peak_rss = 0;  // bytes (ru_maxrss)
};

// Runs this program again with `args` (after argv[0]) in a fresh process,
// with the static TLS surplus jemalloc needs under dlopen.
ChildRun RunFreshProcess(const std::vector<std::string> &args);

// One subject's figures on one workload (medians over the runs).
struct Measurement {
  std::string subject;
  bool ok = false;
  std::string note;         // the failure, when !ok
  double seconds = 0;       // CPU time of the workload
  double peak_rss_mib = 0;  // the whole process
  double growth_mib = 0;    // peak minus resident before the workload
  std::string digest;       // the workload's result, the same for every subject
};

// Prints the workloads' table and, per workload and overall (geometric
// means), alloy's ratios against the targets: time >= 1.2x the stock
// allocator (the subject called `stock`) and >= the best peer (mimalloc,
// jemalloc); peak RSS growth <= the best peer. Returns the text.
std::string ComparisonTable(const std::string &title, const std::vector<std::string> &workloads,
                            const std::vector<std::vector<Measurement>> &rows, const std::string &stock = "glibc");

// The median of `values` (not empty).
double Median(std::vector<double> values);

// A workload's result as one number (FNV-1a of its printed output), so every
// subject can be checked to compute the same thing.
unsigned long long Digest(const std::string &text);

// The child's last word: prints "seconds rss_before peak digest" for the
// parent (peak: this process's ru_maxrss).
void PrintChildResult(double seconds, size_t rss_before, const std::string &output);

// Runs the child `runs` times (each RunFreshProcess(args)), reads what
// PrintChildResult printed and keeps the medians.
Measurement MeasureInFreshProcesses(const std::string &subject, const std::vector<std::string> &args, int runs);

// The value of `--name=value` among the arguments, or `fallback`.
std::string Flag(int argc, char **argv, const char *name, const std::string &fallback);

// "a,b,c" as its items.
std::vector<std::string> Split(const std::string &list);

}  // namespace alloy_host_bench

#endif  // ALLOY_BENCH_INTEGRATIONS_HOST_BENCH_H
