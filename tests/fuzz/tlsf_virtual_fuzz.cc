// Fuzzes the TLSF virtual mode through its resource face against the shadow
// model, with alloy_tlsf_virtual_check after every step and its counters
// compared to the model. The range is ordinary memory here (the model
// stamps and checks every block's contents, which proves no two live blocks
// overlap); the metadata comes from the system heap under a small cap, so
// refusals for metadata are part of the run. That the range itself is never
// touched is tests/tlsf:tlsf_virtual_test's PROT_NONE case.
#include <sys/mman.h>

#include "alloy/system.h"
#include "alloy/tlsf.h"
#include "tests/fuzz/shadow_model.h"

namespace {

constexpr size_t kRange = size_t{16} << 20;

struct State {
  void *range;
  alloy_tlsf_virtual *v;
};

State *Of(void *state) { return static_cast<State *>(state); }

void *Create() {
  void *range = mmap(nullptr, kRange, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (range == MAP_FAILED) return nullptr;
  alloy_tlsf_virtual_config config = {};
  config.base = reinterpret_cast<uintptr_t>(range);
  config.range_bytes = kRange;
  config.metadata = alloy_system_resource();
  config.max_metadata_bytes = 96u << 10;
  alloy_tlsf_virtual *v = nullptr;
  if (alloy_tlsf_virtual_create(&config, &v) != ALLOY_OK) {
    munmap(range, kRange);
    return nullptr;
  }
  return new State{range, v};
}

void Destroy(void *state) {
  alloy_tlsf_virtual_destroy(Of(state)->v);
  munmap(Of(state)->range, kRange);
  delete Of(state);
}

void Observe(void *state, alloy_fuzz::Observed *out) {
  alloy_tlsf_virtual_stats stats;
  alloy_tlsf_virtual_get_stats(Of(state)->v, &stats);
  out->has_blocks = true;
  out->blocks = stats.used_blocks;
  out->has_block_bytes = true;
  out->block_bytes = stats.live_bytes;
}

bool IsInitial(void *state, const char **why) {
  alloy_tlsf_virtual_stats stats;
  alloy_tlsf_virtual_get_stats(Of(state)->v, &stats);
  *why = "live bytes, used blocks or more than one free block left";
  return stats.live_bytes == 0 && stats.used_blocks == 0 && stats.free_blocks == 1 &&
         stats.largest_free_block == stats.range_bytes && stats.allocations == stats.deallocations;
}

alloy_fuzz::Subject MakeSubject() {
  alloy_fuzz::Subject s;
  s.name = "tlsf_virtual";
  s.typical_size = 8192;
  s.create = Create;
  s.destroy = Destroy;
  s.resource = [](void *state) { return alloy_tlsf_virtual_resource(Of(state)->v); };
  s.check = [](void *state) { return alloy_tlsf_virtual_check(Of(state)->v); };
  s.observe = Observe;
  s.is_initial = IsInitial;
  return s;
}

}  // namespace

ALLOY_SHADOW_FUZZ_TARGET(MakeSubject)
