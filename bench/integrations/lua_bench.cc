// bench/integrations/lua_bench.cc — Lua 5.4 on alloy against the stock
// allocator (the C library's realloc and free, as lauxlib's luaL_newstate
// uses), mimalloc and jemalloc behind the same lua_Alloc: the GC-heavy
// workload scripts, time and peak RSS, each run in a fresh process.
//
//   lua_bench [--scale=S] [--runs=N] [--subjects=glibc,mimalloc,jemalloc,alloy,alloy-1k] [--append=FILE]
//
// "alloy" is the adapter's default (small-object blocks up to 256 B),
// "alloy-<N>k" the same with small-object blocks up to N KiB (1 to 8, e.g.
// alloy-1k, alloy-8k); the verdicts are "alloy"'s.
//
// Prints one table (medians over the runs) and alloy's ratios against the
// targets; --append also appends the table to FILE (the benchmark report).
#include <sys/resource.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "alloy/lua_alloc.h"
#include "alloy/lua_workload.h"
#include "bench/integrations/host_bench.h"

namespace {

using alloy_host_bench::Flag;
using alloy_host_bench::MallocFamily;
using alloy_host_bench::Measurement;
using alloy_host_bench::Split;

MallocFamily family;

void *FamilyAlloc(void *, void *ptr, size_t osize, size_t nsize) {
  if (nsize == 0) {
    if (ptr != nullptr) alloy_host_bench::FreeSized(family, ptr, osize);
    return nullptr;
  }
  if (ptr == nullptr) return family.malloc(nsize);
  return family.realloc(ptr, nsize);
}

// The child: one workload on one subject; prints "seconds rss_before peak digest".
int Child(const std::string &subject, const std::string &workload_name, double scale) {
  const alloy_lua_workload *workload = alloy_lua_workload_find(workload_name.c_str());
  if (workload == nullptr) return 2;
  lua_Alloc hook = FamilyAlloc;
  void *ud = nullptr;
  alloy_lua_alloc *adapter = nullptr;
  if (subject == "alloy" || subject.rfind("alloy-", 0) == 0) {
    alloy_lua_alloc_config config = {};
    if (subject != "alloy") config.small_max = std::strtoul(subject.c_str() + 6, nullptr, 10) * 1024;  // alloy-<N>k
    if (alloy_lua_alloc_create(&config, &adapter) != ALLOY_OK) return 3;
    hook = alloy_lua_alloc_fn;
    ud = adapter;
  } else {
    std::string why;
    if (!alloy_host_bench::LoadMallocFamily(subject, &family, &why)) {
      std::fprintf(stderr, "%s\n", why.c_str());
      return 4;
    }
  }
  std::vector<char> output(64 * 1024);
  alloy_host_bench::PageInMappedFiles();
  const size_t rss_before = alloy_host_bench::ResidentBytes();
  // CPU time (user + system) of this single-threaded process: steadier than
  // wall time on a shared machine, and it still counts the page faults.
  const double start = alloy_host_bench::ProcessCpuSeconds();
  int status = alloy_lua_workload_run(hook, ud, workload, scale, output.data(), output.size());
  const double seconds = alloy_host_bench::ProcessCpuSeconds() - start;
  alloy_lua_alloc_destroy(adapter);
  if (status != LUA_OK) {
    std::fprintf(stderr, "lua error %d: %s\n", status, output.data());
    return 5;
  }
  alloy_host_bench::PrintChildResult(seconds, rss_before, output.data());
  return 0;
}

}  // namespace

int main(int argc, char **argv) {
  const double scale = std::atof(Flag(argc, argv, "--scale", "4").c_str());
  const std::string child = Flag(argc, argv, "--child", "");
  if (!child.empty()) return Child(child, Flag(argc, argv, "--workload", ""), scale);
  const int runs = std::max(1, std::atoi(Flag(argc, argv, "--runs", "3").c_str()));
  const std::vector<std::string> subjects = Split(Flag(argc, argv, "--subjects", "glibc,mimalloc,jemalloc,alloy"));
  std::vector<std::string> workloads;
  std::vector<std::vector<Measurement>> rows;
  for (size_t w = 0; w < alloy_lua_workload_count; ++w) {
    workloads.push_back(alloy_lua_workloads[w].name);
    rows.emplace_back();
    for (const std::string &subject : subjects) {
      Measurement m = alloy_host_bench::MeasureInFreshProcesses(
          subject, {"--child=" + subject, "--workload=" + workloads.back(), "--scale=" + std::to_string(scale)}, runs);
      if (m.ok && !rows.back().empty() && rows.back().front().ok && m.digest != rows.back().front().digest) {
        m.ok = false;
        m.note = "printed other results than " + rows.back().front().subject;
      }
      rows.back().push_back(m);
    }
  }
  char title[256];
  std::snprintf(title, sizeof title,
                "Lua 5.4 (scale %g; CPU time of the script and peak RSS, median of %d runs, each in a fresh "
                "process; growth = peak RSS - RSS before the script, with every mapped file already resident)",
                scale, runs);
  const std::string table = alloy_host_bench::ComparisonTable(title, workloads, rows);
  std::fputs(table.c_str(), stdout);
  const std::string append = Flag(argc, argv, "--append", "");
  if (!append.empty()) std::ofstream(append, std::ios::app) << "\n" << table;
  return 0;
}
