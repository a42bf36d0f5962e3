// Fuzzes the stack strategy against the shadow model: frees and reallocates
// of the top block only, markers, reset; freeing everything in order leaves
// nothing in use.
#include "alloy/stack.h"
#include "tests/fuzz/shadow_model.h"

namespace {

void *Create() {
  alloy_stack_config config = alloy_stack_config_default(1u << 20);
  config.commit_chunk = 1u << 14;
  alloy_stack *stack = nullptr;
  return alloy_stack_create(&config, &stack) == ALLOY_OK ? stack : nullptr;
}

bool IsInitial(void *state, const char **why) {
  alloy_stack_stats stats;
  alloy_stack_get_stats(static_cast<alloy_stack *>(state), &stats);
  *why = "bytes still in use";
  return stats.used == 0;
}

alloy_fuzz::Subject MakeSubject() {
  alloy_fuzz::Subject s;
  s.name = "stack";
  s.typical_size = 4096;
  s.free_order = alloy_fuzz::FreeOrder::kTopOnly;
  s.has_markers = true;
  s.create = Create;
  s.destroy = [](void *state) { alloy_stack_destroy(static_cast<alloy_stack *>(state)); };
  s.resource = [](void *state) { return alloy_stack_resource(static_cast<alloy_stack *>(state)); };
  s.reset = [](void *state) { alloy_stack_reset(static_cast<alloy_stack *>(state)); };
  s.is_initial = IsInitial;
  s.check = [](void *state) { return alloy_stack_check(static_cast<alloy_stack *>(state)); };
  return s;
}

}  // namespace

ALLOY_SHADOW_FUZZ_TARGET(MakeSubject)
