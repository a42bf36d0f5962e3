// Fuzzes the huge-page arena against the shadow model: any-order frees,
// markers, reset (on whatever page kind the machine gives).
#include "alloy/huge_page.h"
#include "tests/fuzz/shadow_model.h"

namespace {

alloy_huge_page_arena *Arena(void *state) { return static_cast<alloy_huge_page_arena *>(state); }

void *Create() {
  alloy_huge_page_config config = alloy_huge_page_config_default();
  config.capacity = 2u << 20;
  config.numa_node = ALLOY_HUGE_PAGE_NUMA_NONE;
  alloy_huge_page_arena *arena = nullptr;
  return alloy_huge_page_arena_create(&config, &arena) == ALLOY_OK ? arena : nullptr;
}

bool IsInitial(void *state, const char **why) {
  *why = "bytes still used after a reset";
  return alloy_huge_page_arena_used(Arena(state)) == 0;
}

alloy_fuzz::Subject MakeSubject() {
  alloy_fuzz::Subject s;
  s.name = "huge_page";
  s.typical_size = 8192;
  s.has_markers = true;
  s.create = Create;
  s.destroy = [](void *state) { alloy_huge_page_arena_destroy(Arena(state)); };
  s.resource = [](void *state) { return alloy_huge_page_arena_resource(Arena(state)); };
  s.reset = [](void *state) { alloy_huge_page_arena_reset(Arena(state)); };
  s.is_initial = IsInitial;
  return s;
}

}  // namespace

ALLOY_SHADOW_FUZZ_TARGET(MakeSubject)
