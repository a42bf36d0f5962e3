// bench/integrations/sqlite_bench.cc — SQLite on alloy against SQLite's own
// default allocator ("sqlite"), and glibc's, mimalloc's and jemalloc's
// malloc families behind the same sqlite3_mem_methods (xSize from the
// family's usable size, xFree through its free): the scripted workload of
// //integrations/sqlite:workload, time and peak RSS, each run in a fresh
// process.
//
//   sqlite_bench [--rows=N] [--runs=N] [--subjects=sqlite,glibc,mimalloc,jemalloc,alloy] [--append=FILE]
#include <sys/resource.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "alloy/sqlite_alloc.h"
#include "alloy/sqlite_workload.h"
#include "bench/integrations/host_bench.h"
#include "sqlite3.h"

namespace {

using alloy_host_bench::Flag;
using alloy_host_bench::MallocFamily;
using alloy_host_bench::Measurement;
using alloy_host_bench::Split;

MallocFamily family;

void *FamilyMalloc(int n) { return family.malloc(static_cast<size_t>(n)); }
void FamilyFree(void *ptr) { family.free(ptr); }
void *FamilyRealloc(void *ptr, int n) { return family.realloc(ptr, static_cast<size_t>(n)); }
int FamilySize(void *ptr) { return ptr != nullptr ? static_cast<int>(family.usable_size(ptr)) : 0; }
int FamilyRoundup(int n) { return (n + 7) & ~7; }
int FamilyInit(void *) { return SQLITE_OK; }
void FamilyShutdown(void *) {}

// The child: the workload on one subject; prints "seconds rss_before peak digest".
int Child(const std::string &subject, int rows) {
  alloy_sqlite_alloc *adapter = nullptr;
  if (subject == "alloy") {
    if (alloy_sqlite_alloc_create(nullptr, &adapter) != ALLOY_OK || alloy_sqlite_alloc_install(adapter) != ALLOY_OK)
      return 3;
  } else if (subject != "sqlite") {
    std::string why;
    if (!alloy_host_bench::LoadMallocFamily(subject, &family, &why)) {
      std::fprintf(stderr, "%s\n", why.c_str());
      return 4;
    }
    static sqlite3_mem_methods methods = {FamilyMalloc,  FamilyFree, FamilyRealloc,  FamilySize,
                                          FamilyRoundup, FamilyInit, FamilyShutdown, nullptr};
    if (sqlite3_config(SQLITE_CONFIG_MALLOC, &methods) != SQLITE_OK) return 3;
  }
  if (sqlite3_initialize() != SQLITE_OK) return 3;
  std::vector<char> report(16 * 1024);
  alloy_host_bench::PageInMappedFiles();
  const size_t rss_before = alloy_host_bench::ResidentBytes();
  // CPU time (user + system) of this single-threaded process: steadier than
  // wall time on a shared machine, and it still counts the page faults.
  const double start = alloy_host_bench::ProcessCpuSeconds();
  int failed = alloy_sqlite_workload_run(rows, report.data(), report.size());
  const double seconds = alloy_host_bench::ProcessCpuSeconds() - start;
  sqlite3_shutdown();
  if (failed) {
    std::fprintf(stderr, "workload failed: %s\n", report.data());
    return 5;
  }
  alloy_host_bench::PrintChildResult(seconds, rss_before, report.data());
  return 0;  // the adapter stays: SQLite keeps its methods until exit
}

}  // namespace

int main(int argc, char **argv) {
  const int rows = std::max(1, std::atoi(Flag(argc, argv, "--rows", "100000").c_str()));
  const std::string child = Flag(argc, argv, "--child", "");
  if (!child.empty()) return Child(child, rows);
  const int runs = std::max(1, std::atoi(Flag(argc, argv, "--runs", "3").c_str()));
  const std::vector<std::string> subjects =
      Split(Flag(argc, argv, "--subjects", "sqlite,glibc,mimalloc,jemalloc,alloy"));
  std::vector<std::vector<Measurement>> rows_measured(1);
  for (const std::string &subject : subjects) {
    Measurement m = alloy_host_bench::MeasureInFreshProcesses(
        subject, {"--child=" + subject, "--rows=" + std::to_string(rows)}, runs);
    if (m.ok && !rows_measured[0].empty() && rows_measured[0].front().ok &&
        m.digest != rows_measured[0].front().digest) {
      m.ok = false;
      m.note = "answered otherwise than " + rows_measured[0].front().subject;
    }
    rows_measured[0].push_back(m);
  }
  char title[512];
  std::snprintf(title, sizeof title,
                "SQLite (%d rows: insert in one transaction, index, queries, delete, update, VACUUM; CPU time and peak "
                "RSS, median of %d "
                "runs, each in a fresh process; growth = peak RSS - RSS before the workload, with every mapped file "
                "already resident; \"sqlite\" is SQLite's own default allocator, the others serve its "
                "sqlite3_mem_methods)",
                rows, runs);
  const std::string table = alloy_host_bench::ComparisonTable(title, {"scripted"}, rows_measured, "sqlite");
  std::fputs(table.c_str(), stdout);
  const std::string append = Flag(argc, argv, "--append", "");
  if (!append.empty()) std::ofstream(append, std::ios::app) << "\n" << table;
  return 0;
}
