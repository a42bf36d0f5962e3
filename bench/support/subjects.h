// bench/support/subjects.h — the table of everything the report measures.
//
// Peers are fixed (glibc, mimalloc, jemalloc, tcmalloc). alloy's subjects are
// one line each in AlloySubjects() (subjects.cc): a name and a factory that
// builds the resource and says how to destroy it. Every workload creates its
// own fresh instance through the factory, so stats and held memory start
// from zero.
#ifndef ALLOY_BENCH_SUPPORT_SUBJECTS_H
#define ALLOY_BENCH_SUPPORT_SUBJECTS_H

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "bench/support/allocator.h"

namespace alloy_bench {

enum class SubjectKind { kAlloy, kPeer };

struct Subject {
  std::string name;  // "alloy/system", "glibc", ...
  SubjectKind kind;
  std::string note;  // how it was loaded, or why it is skipped
  // A fresh instance for alloy subjects (the process-wide heap for peers);
  // empty when the subject is skipped. Returns nullptr when the alloy
  // resource cannot be created.
  std::function<std::shared_ptr<Allocator>()> make;
  // Workloads this subject takes part in; empty = every workload whose sizes,
  // threads and frees it supports (see Allocator::max_size / thread_safe).
  std::vector<std::string> only_workloads;
  // alloy/system: the C heap behind the resource interface, a reference row
  // (what the adapter costs) rather than a component to compare with peers.
  bool baseline = false;

  bool available() const { return static_cast<bool>(make); }
  bool Runs(const std::string& workload) const;
};

// All subjects: alloy's first, then the peers. `filter` is a comma-separated
// list of names to keep (empty keeps all). Peers are loaded here and, with
// `check_peers`, checked in a child process (peer_allocators.h).
std::vector<Subject> LoadSubjects(const std::string& filter, bool check_peers = true);

}  // namespace alloy_bench

#endif  // ALLOY_BENCH_SUPPORT_SUBJECTS_H
