// bench/support/subjects.cc — alloy's subjects (one line each) and the peers.
#include "bench/support/subjects.h"

#include <algorithm>
#include <sstream>
#include <utility>

#include "alloy/fallback.h"
#include "alloy/frame.h"
#include "alloy/huge_page.h"
#include "alloy/locked.h"
#include "alloy/partition.h"
#include "alloy/pool.h"
#include "alloy/resource.h"
#include "alloy/small_object.h"
#include "alloy/stack.h"
#include "alloy/system.h"
#include "alloy/tlsf.h"
#include "alloy/vm.h"
#include "bench/support/peer_allocators.h"
#include "bench/support/resource_allocator.h"
#include "bench/support/small_object_direct_allocator.h"
#include "bench/support/tlsf_defrag_allocator.h"

namespace alloy_bench {
namespace {

// A built alloy resource and how to take it down again (empty: nothing to do).
struct Instance {
  Instance() = default;
  Instance(alloy_resource* built, std::function<void()> take_down,
           std::function<bool(size_t*)> read_block_bytes = nullptr)
      : resource(built), destroy(std::move(take_down)), block_bytes(std::move(read_block_bytes)) {}

  alloy_resource* resource = nullptr;  // nullptr: creation failed
  std::function<void()> destroy;
  std::function<bool(size_t*)> block_bytes;  // empty: the subject does not say (Allocator::BlockBytes)
};

// An alloy subject: `create` builds a fresh instance for one workload.
struct AlloyEntry {
  const char* name;
  const char* config;  // how it is built, for the report's subject list
  std::function<Instance()> create;
  std::vector<std::string> only_workloads;  // empty: every workload it serves
  std::function<HeldMemory()> held = nullptr;  // null: resource stats, else RSS delta
  bool baseline = false;
  // Set: the subject is this adapter rather than `create`'s resource.
  std::function<std::shared_ptr<Allocator>(const std::string& name)> adapter = nullptr;
};

HeldMemory GlibcHeld() {
  // The system strategy is the C heap itself, so glibc's own counters apply.
  HeldMemory held = GlibcHeldMemory();
  held.method += " (system strategy = C heap)";
  return held;
}

// The strategies: each factory builds a fresh instance with the strategy's
// public API; a failed creation leaves the resource null and the case is
// skipped with an error, never run on something else.

Instance SmallObject() {
  alloy_small_object* heap = nullptr;
  if (alloy_small_object_create(nullptr, &heap) != ALLOY_OK) return {};
  return {alloy_small_object_resource(heap), [heap] { alloy_small_object_destroy(heap); }};
}

// Every used block's usable bytes plus its header, TLSF's size word.
size_t TlsfBlockBytes(const alloy_tlsf* tlsf) {
  size_t bytes = 0;
  alloy_tlsf_walk(
      tlsf,
      [](void*, size_t size, bool used, void* context) {
        if (used) *static_cast<size_t*>(context) += size + sizeof(size_t);
        return true;
      },
      &bytes);
  return bytes;
}

// TLSF as configured (no NUMA placement: the peers have none either).
Instance Tlsf(size_t growth_size = 0, bool keep_empty_pools = false, size_t purge_threshold = 0) {
  alloy_tlsf_config config = alloy_tlsf_config_default();
  config.numa_node = ALLOY_TLSF_NUMA_NONE;
  config.growth_size = growth_size;
  config.keep_empty_pools = keep_empty_pools;
  config.purge_threshold = purge_threshold;
  alloy_tlsf* tlsf = nullptr;
  if (alloy_tlsf_create(&config, &tlsf) != ALLOY_OK) return {};
  return {alloy_tlsf_resource(tlsf), [tlsf] { alloy_tlsf_destroy(tlsf); }, [tlsf](size_t* bytes) {
            *bytes = TlsfBlockBytes(tlsf);
            return true;
          }};
}

// TLSF's virtual mode over 256 MiB of ordinary mapped memory (the workloads
// write their blocks; the heap itself never touches the range): its
// metadata comes from platform pages, allocation touches only that.
Instance TlsfVirtual() {
  const size_t range = size_t{256} << 20;
  void* memory = nullptr;
  if (alloy_vm_map(range, alloy_vm_page_size(), &memory) != ALLOY_OK) return {};
  alloy_tlsf_virtual_config config = {};
  config.base = reinterpret_cast<uintptr_t>(memory);
  config.range_bytes = range;
  alloy_tlsf_virtual* v = nullptr;
  if (alloy_tlsf_virtual_create(&config, &v) != ALLOY_OK) {
    ALLOY_IGNORE_STATUS(alloy_vm_release(memory, range));
    return {};
  }
  return {alloy_tlsf_virtual_resource(v), [v, memory, range] {
            alloy_tlsf_virtual_destroy(v);
            ALLOY_IGNORE_STATUS(alloy_vm_release(memory, range));
          }};
}

// With `concurrent_free` the creating thread owns the pool and any thread
// frees (the remote-free channel).
Instance Pool64(bool concurrent_free = false) {
  alloy_pool_config config = alloy_pool_config_default(64);
  config.concurrent_free = concurrent_free;
  alloy_pool* pool = nullptr;
  if (alloy_pool_create(&config, &pool) != ALLOY_OK) return {};
  return {alloy_pool_resource(pool), [pool] { alloy_pool_destroy(pool); }};
}

// Big enough for the largest frame case (1M records of 16-128 B, ~72 MiB):
// address space only, committed as the frame grows.
constexpr size_t kFrameReserve = size_t{256} << 20;
Instance Frame() {
  alloy_frame_config config = alloy_frame_config_default(kFrameReserve);
  alloy_frame* frame = nullptr;
  if (alloy_frame_create(&config, &frame) != ALLOY_OK) return {};
  return {alloy_frame_resource(frame), [frame] { alloy_frame_destroy(frame); }};
}

// Nested temporaries: the lifo workload keeps at most 16 blocks of 4 KiB live.
Instance Stack() {
  alloy_stack_config config = alloy_stack_config_default(size_t{1} << 20);
  alloy_stack* stack = nullptr;
  if (alloy_stack_create(&config, &stack) != ALLOY_OK) return {};
  return {alloy_stack_resource(stack), [stack] { alloy_stack_destroy(stack); }};
}

// One partition of a default root (64 KiB slabs, buckets up to 8 KiB).
Instance Partition() {
  alloy_partition_root_config root_config = alloy_partition_root_config_default();
  alloy_partition_root* root = nullptr;
  if (alloy_partition_root_create(&root_config, &root) != ALLOY_OK) return {};
  alloy_partition_config config = alloy_partition_config_default();
  config.numa_node = ALLOY_PARTITION_NUMA_NONE;
  alloy_partition* partition = nullptr;
  if (alloy_partition_create(root, "bench", &config, &partition) != ALLOY_OK) {
    alloy_partition_root_destroy(root);
    return {};
  }
  return {alloy_partition_resource(partition), [root] { alloy_partition_root_destroy(root); }};
}

// Room for the large workload's worst batch (16 blocks of 2 MiB); the best
// page kind the machine gives (explicit, else transparent huge pages).
Instance HugePage() {
  alloy_huge_page_config config = alloy_huge_page_config_default();
  config.capacity = size_t{64} << 20;
  config.numa_node = ALLOY_HUGE_PAGE_NUMA_NONE;
  alloy_huge_page_arena* arena = nullptr;
  if (alloy_huge_page_arena_create(&config, &arena) != ALLOY_OK) return {};
  return {alloy_huge_page_arena_resource(arena), [arena] { alloy_huge_page_arena_destroy(arena); }};
}

// A single-threaded strategy shared between threads the documented way: one
// lock around it. The decorator goes first, then the strategy.
Instance Locked(Instance inner) {
  alloy_locked* locked = nullptr;
  if (inner.resource == nullptr || alloy_locked_create(inner.resource, nullptr, &locked) != ALLOY_OK) {
    if (inner.destroy) inner.destroy();
    return {};
  }
  return {alloy_locked_resource(locked), [locked, inner] {
            alloy_locked_destroy(locked);
            inner.destroy();
          }};
}

// The spec's fallback chain: small objects first, TLSF for what they do not
// serve, the C heap last. The subject owns the members and the chain.
Instance Chain() {
  Instance small = SmallObject();
  Instance tlsf = Tlsf();
  auto chain = std::make_shared<alloy_fallback>();
  alloy_resource* members[] = {small.resource, tlsf.resource, alloy_system_resource()};
  if (small.resource == nullptr || tlsf.resource == nullptr || alloy_fallback_init(chain.get(), members, 3) != ALLOY_OK) {
    if (small.destroy) small.destroy();
    if (tlsf.destroy) tlsf.destroy();
    return {};
  }
  return {alloy_fallback_resource(chain.get()), [chain, small, tlsf] {
            tlsf.destroy();
            small.destroy();
          }};
}

std::vector<AlloyEntry> AlloySubjects() {
  // Each strategy takes the workloads it is built for; the report compares
  // the component meant for a workload with the peers (PrimaryComponent in
  // subjects.h). A workload it cannot serve (sizes, threads) is skipped.
  const std::vector<std::string> small = {"small_pairs", "small_latency", "steady_10k", "xthread", "remote_reclaim"};
  return {
      // The reference strategy: the C heap behind the resource contract.
      {"alloy/system", "the C heap (glibc) behind the resource interface: the adapter's cost",
       [] { return Instance{alloy_system_resource(), nullptr}; }, {}, GlibcHeld, true},
      {"alloy/small_object", "default config: 8-256 B classes, 64 KiB pages, thread caches, remote free",
       SmallObject, small},
      {"alloy/small_object_direct",
       "the same heap through its typed API (alloy_small_object_allocate/deallocate), no resource ops table",
       nullptr, small, nullptr, false, MakeSmallObjectDirect},
      {"alloy/pool_64", "pool of 64 B blocks, 64 KiB slabs", [] { return Pool64(); }, {"fixed_64", "fixed_64_latency"}},
      {"alloy/pool_64_concurrent", "pool of 64 B blocks, concurrent_free: the owner allocates, any thread frees",
       [] { return Pool64(true); }, {"fixed_64_latency", "xthread_64", "remote_reclaim"}},
      {"alloy/stack", "stack, 1 MiB reserved: frees must come last-in first-out", Stack, {"lifo_latency"}},
      {"alloy/partition", "one partition of a default root: 64 KiB slabs, buckets up to 8 KiB, thread caches",
       Partition, {"small_pairs", "small_latency", "steady_10k", "xthread"}},
      {"alloy/huge_page", "huge-page bump arena, 64 MiB, best page kind available; frees of the top block return it",
       HugePage, {"large_latency"}},
      // Single-threaded strategies behind the locked decorator, for the
      // cross-thread case (partition is thread-safe by itself; the locked
      // one shows what a lock around it would cost).
      {"alloy/partition_locked", "alloy/partition behind the locked decorator", [] { return Locked(Partition()); },
       {"xthread"}},
      {"alloy/tlsf_locked", "alloy/tlsf (default config) behind the locked decorator", [] { return Locked(Tlsf()); },
       {"xthread"}},
      {"alloy/tlsf", "default config: 1 MiB pools (more for big requests), 8 MiB of spares, no purging",
       [] { return Tlsf(); }, {"medium_trace", "loading"}},
      // The same TLSF configured for the job: free pages given back at once
      // (less held memory, slower allocation), and an asset heap that grows
      // in 8 MiB pools and keeps them (no map/unmap churn for big assets).
      {"alloy/tlsf_purge", "purge_threshold 4 KiB: whole free pages go back to the OS on free",
       [] { return Tlsf(0, false, 4096); }, {"medium_trace"}},
      // The same TLSF letting the medium trace's blocks move (the trace
      // repoints them): one defragmentation pass every kEvery replacements.
      {"alloy/tlsf_defrag",
       "default config; every 4 replacements (free + allocate) a defragmentation pass of at most 64 KiB (32 moves), "
       "alloy copying; "
       "runs between free blocks first, every resident free page purged at the end of a pass",
       nullptr, {"medium_trace"}, nullptr, false, MakeTlsfDefrag},
      {"alloy/tlsf_8m", "growth_size 8 MiB, keep_empty_pools: an asset heap", [] { return Tlsf(8u << 20, true, 0); },
       {"loading"}},
      // Its virtual mode: the metadata out of band, so allocate and free
      // touch only records and the offset map; held = the range's prefix up
      // to the last used block plus the metadata.
      {"alloy/tlsf_virtual", "virtual mode over a 256 MiB mapped range, metadata from platform pages", TlsfVirtual,
       {"medium_trace", "loading"}},
      {"alloy/fallback", "chain small_object -> tlsf -> system (default configs)", Chain,
       {"medium_trace", "loading"}},
      {"alloy/frame", "frame arena, 256 MiB reserved, reset = rewind to a mark", Frame,
       {"frame_1k", "frame_100k", "frame_1m"}},
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
    s.note = entry.config;
    s.baseline = entry.baseline;
    s.only_workloads = entry.only_workloads;
    std::string name = entry.name;
    auto create = entry.create;
    auto held = entry.held;
    if (entry.adapter) {
      s.make = [name, adapter = entry.adapter] { return adapter(name); };
      subjects.push_back(std::move(s));
      continue;
    }
    s.make = [name, create, held]() -> std::shared_ptr<Allocator> {
      Instance instance = create();
      if (instance.resource == nullptr) return nullptr;
      std::function<void()> destroy = instance.destroy;
      auto allocator = std::make_shared<ResourceAllocator>(
          name, instance.resource,
          [destroy](alloy_resource*) {
            if (destroy) destroy();
          },
          held);
      allocator->set_block_bytes(instance.block_bytes);
      return allocator;
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
