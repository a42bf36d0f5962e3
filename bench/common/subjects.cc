// bench/common/subjects.cc — alloy's subjects (one line each) and the peers.
#include "bench/common/subjects.h"

#include <algorithm>
#include <sstream>

#include "alloy/resource.h"
#include "alloy/system.h"
#include "bench/common/peer_allocators.h"
#include "bench/common/resource_allocator.h"

namespace alloy_bench {
namespace {

// An alloy subject: `create` builds the resource, `destroy` (may be null)
// tears it down after the workload.
struct AlloyEntry {
  const char* name;
  std::function<alloy_resource*()> create;
  std::function<void(alloy_resource*)> destroy;
  std::vector<std::string> only_workloads;
  std::function<HeldMemory()> held;  // null: resource stats, else RSS delta
};

HeldMemory GlibcHeld() {
  // The system strategy is the C heap itself, so glibc's own counters apply.
  HeldMemory held = GlibcHeldMemory();
  held.method += " (system strategy = C heap)";
  return held;
}

std::vector<AlloyEntry> AlloySubjects() {
  return {
      // The reference strategy: the C heap behind the resource contract.
      {"alloy/system", [] { return alloy_system_resource(); }, nullptr, {}, GlibcHeld},

      // Wired as each strategy lands (one line each; every workload gets a
      // fresh instance):
      // {"alloy/small_object", [] { return <create small_object heap>; }, <destroy>, {}},
      // {"alloy/tlsf", [] { return <create tlsf over a VM region>; }, <destroy>, {}},
      // {"alloy/pool_64", [] { return <create 64 B pool>; }, <destroy>, {"fixed_64"}},
      // {"alloy/frame", [] { return <create frame arena>; }, <destroy>, {"frame_1k", "frame_100k", "frame_1m"}},
  };
}

bool Selected(const std::string& filter, const std::string& name) {
  if (filter.empty()) return true;
  std::stringstream list(filter);
  std::string item;
  while (std::getline(list, item, ',')) {
    if (item == name) return true;
  }
  return false;
}

}  // namespace

bool Subject::Runs(const std::string& workload) const {
  if (!available()) return false;
  if (only_workloads.empty()) return true;
  return std::find(only_workloads.begin(), only_workloads.end(), workload) != only_workloads.end();
}

std::vector<Subject> LoadSubjects(const std::string& filter, bool check_peers) {
  std::vector<Subject> subjects;
  for (const AlloyEntry& entry : AlloySubjects()) {
    if (!Selected(filter, entry.name)) continue;
    Subject s;
    s.name = entry.name;
    s.kind = SubjectKind::kAlloy;
    s.note = "alloy_resource through alloy/resource.h";
    s.only_workloads = entry.only_workloads;
    std::string name = entry.name;
    auto create = entry.create;
    auto destroy = entry.destroy;
    auto held = entry.held;
    s.make = [name, create, destroy, held]() -> std::shared_ptr<Allocator> {
      alloy_resource* resource = create();
      if (resource == nullptr) return nullptr;
      return std::make_shared<ResourceAllocator>(name, resource, destroy, held);
    };
    subjects.push_back(std::move(s));
  }
  for (const char* peer : {"glibc", "mimalloc", "jemalloc", "tcmalloc"}) {
    if (!Selected(filter, peer)) continue;
    Subject s;
    s.name = peer;
    s.kind = SubjectKind::kPeer;
    PeerLoad load = LoadPeer(peer, check_peers);
    s.note = load.library + ": " + load.note;
    if (load.allocator) {
      // A peer is one process-wide heap: every workload shares the instance.
      std::shared_ptr<Allocator> shared(std::move(load.allocator));
      s.make = [shared] { return shared; };
    }
    subjects.push_back(std::move(s));
  }
  return subjects;
}

}  // namespace alloy_bench
