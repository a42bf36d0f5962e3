// Fuzzes the decorator stack leak(stats(small_object)) against the shadow
// model: the leak tracker's outstanding blocks and bytes and the stats
// layer's live counts must follow the model exactly.
#include <cstdio>

#include "alloy/leak.h"
#include "alloy/small_object.h"
#include "alloy/stats.h"
#include "tests/fuzz/shadow_model.h"

namespace {

struct State {
  alloy_small_object *heap;
  alloy_stats *stats;
  alloy_leak *leak;
};

State *Of(void *state) { return static_cast<State *>(state); }

void *Create() {
  State *s = new State{};
  alloy_small_object_config heap_config = {};
  heap_config.page_size = 1u << 14;
  heap_config.capacity = 1u << 26;
  heap_config.max_threads = 8;
  alloy_leak_config leak_config = {};
  leak_config.depth = 4;
  if (alloy_small_object_create(&heap_config, &s->heap) != ALLOY_OK ||
      alloy_stats_create(alloy_small_object_resource(s->heap), nullptr, &s->stats) != ALLOY_OK ||
      alloy_leak_create(alloy_stats_resource(s->stats), &leak_config, &s->leak) != ALLOY_OK)
    return nullptr;
  return s;
}

void Destroy(void *state) {
  State *s = Of(state);
  alloy_leak_destroy(s->leak);
  alloy_stats_destroy(s->stats);
  alloy_small_object_destroy(s->heap);
  delete s;
}

void Observe(void *state, alloy_fuzz::Observed *out) {
  alloy_leak_summary summary;
  if (alloy_leak_get_summary(Of(state)->leak, &summary) != ALLOY_OK) return;
  out->has_blocks = true;
  out->blocks = summary.blocks;
  out->has_requested_bytes = true;
  out->requested_bytes = summary.bytes;
}

// The heap underneath is sound, and the stats layer sees exactly the
// requests the leak layer forwards.
alloy_status Check(void *state) {
  ALLOY_TRY(alloy_small_object_check(Of(state)->heap));
  alloy_leak_summary summary;
  if (alloy_leak_get_summary(Of(state)->leak, &summary) != ALLOY_OK) return ALLOY_E_CORRUPTION;
  alloy_stats_snapshot snapshot;
  alloy_stats_snapshot_get(Of(state)->stats, &snapshot);
  if (snapshot.live_blocks != summary.blocks || snapshot.live_bytes != summary.bytes) {
    std::fprintf(stderr, "leak: %zu blocks %zu bytes; stats: %llu blocks %zu bytes\n", summary.blocks, summary.bytes,
                 static_cast<unsigned long long>(snapshot.live_blocks), snapshot.live_bytes);
    return ALLOY_E_CORRUPTION;
  }
  return ALLOY_OK;
}

bool IsInitial(void *state, const char **why) {
  alloy_small_object_stats heap;
  alloy_small_object_get_stats(Of(state)->heap, &heap);
  *why = "the heap still counts live bytes";
  return heap.live_bytes == 0;
}

alloy_fuzz::Subject MakeSubject() {
  alloy_fuzz::Subject s;
  s.name = "leak_stack";
  s.typical_size = 256;
  s.create = Create;
  s.destroy = Destroy;
  s.resource = [](void *state) { return alloy_leak_resource(Of(state)->leak); };
  s.collect = [](void *state) { alloy_small_object_collect(Of(state)->heap); };
  s.trim = [](void *state) { alloy_small_object_trim(Of(state)->heap); };
  s.check = Check;
  s.observe = Observe;
  s.is_initial = IsInitial;
  return s;
}

}  // namespace

ALLOY_SHADOW_FUZZ_TARGET(MakeSubject)
