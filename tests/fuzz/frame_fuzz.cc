// Fuzzes the frame strategy against the shadow model: any-order frees,
// markers, reset; at the end a reset leaves nothing in use.
#include "alloy/frame.h"
#include "tests/fuzz/shadow_model.h"

namespace {

void *Create() {
  alloy_frame_config config = alloy_frame_config_default(1u << 20);
  config.commit_chunk = 1u << 14;
  config.decommit_above = 1u << 16;
  alloy_frame *frame = nullptr;
  return alloy_frame_create(&config, &frame) == ALLOY_OK ? frame : nullptr;
}

bool IsInitial(void *state, const char **why) {
  alloy_frame_stats stats;
  alloy_frame_get_stats(static_cast<alloy_frame *>(state), &stats);
  *why = "bytes still in use after a reset";
  return stats.used == 0;
}

alloy_fuzz::Subject MakeSubject() {
  alloy_fuzz::Subject s;
  s.name = "frame";
  s.typical_size = 4096;
  s.has_markers = true;
  s.create = Create;
  s.destroy = [](void *state) { alloy_frame_destroy(static_cast<alloy_frame *>(state)); };
  s.resource = [](void *state) { return alloy_frame_resource(static_cast<alloy_frame *>(state)); };
  s.reset = [](void *state) { alloy_frame_reset(static_cast<alloy_frame *>(state)); };
  s.is_initial = IsInitial;
  s.check = [](void *state) { return alloy_frame_check(static_cast<alloy_frame *>(state)); };
  return s;
}

}  // namespace

ALLOY_SHADOW_FUZZ_TARGET(MakeSubject)
