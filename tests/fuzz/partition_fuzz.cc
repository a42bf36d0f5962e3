// Fuzzes one partition of a root against the shadow model; its counters
// (allocations - deallocations) must follow the live blocks.
#include "alloy/partition.h"
#include "tests/fuzz/shadow_model.h"

namespace {

struct State {
  alloy_partition_root *root;
  alloy_partition *partition;
};

State *Of(void *state) { return static_cast<State *>(state); }

void *Create() {
  alloy_partition_root_config root_config = alloy_partition_root_config_default();
  root_config.reserve_bytes = 1u << 24;
  State *state = new State{};
  if (alloy_partition_root_create(&root_config, &state->root) != ALLOY_OK) return delete state, nullptr;
  alloy_partition_config config = alloy_partition_config_default();
  config.numa_node = ALLOY_PARTITION_NUMA_NONE;
  config.guard_pages = true;
  if (alloy_partition_create(state->root, "fuzz", &config, &state->partition) != ALLOY_OK) {
    alloy_partition_root_destroy(state->root);
    return delete state, nullptr;
  }
  return state;
}

void Observe(void *state, alloy_fuzz::Observed *out) {
  alloy_partition_stats stats;
  alloy_partition_get_stats(Of(state)->partition, &stats);
  out->has_blocks = true;
  out->blocks = static_cast<size_t>(stats.allocations - stats.deallocations);
}

bool IsInitial(void *state, const char **why) {
  alloy_partition_stats stats;
  alloy_partition_get_stats(Of(state)->partition, &stats);
  *why = "live bytes left";
  return stats.live_bytes == 0;
}

alloy_fuzz::Subject MakeSubject() {
  alloy_fuzz::Subject s;
  s.name = "partition";
  s.typical_size = 8192;
  s.create = Create;
  s.destroy = [](void *state) {
    alloy_partition_root_destroy(Of(state)->root);
    delete Of(state);
  };
  s.resource = [](void *state) { return alloy_partition_resource(Of(state)->partition); };
  s.observe = Observe;
  s.is_initial = IsInitial;
  return s;
}

}  // namespace

ALLOY_SHADOW_FUZZ_TARGET(MakeSubject)
