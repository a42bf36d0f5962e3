// Fuzzes a fallback chain pool -> tlsf -> system against the shadow model:
// small requests land in the pool, larger ones in tlsf, the rest (and what
// a capped tlsf refuses) in the system heap; reallocate moves blocks between
// members.
#include <cstdlib>

#include "alloy/fallback.h"
#include "alloy/pool.h"
#include "alloy/system.h"
#include "alloy/tlsf.h"
#include "tests/fuzz/shadow_model.h"

namespace {

struct State {
  alloy_pool *pool;
  alloy_tlsf *tlsf;
  alloy_fallback chain;
};

State *Of(void *state) { return static_cast<State *>(state); }

void *Create() {
  State *state = new State{};
  alloy_pool_config pool_config = alloy_pool_config_default(64);
  pool_config.slab_size = 1u << 14;
  pool_config.max_blocks = 64;
  alloy_tlsf_config tlsf_config = alloy_tlsf_config_default();
  tlsf_config.initial_pool_size = 1u << 16;
  tlsf_config.growth = ALLOY_TLSF_GROW_NONE;
  if (alloy_pool_create(&pool_config, &state->pool) != ALLOY_OK) return delete state, nullptr;
  if (alloy_tlsf_create(&tlsf_config, &state->tlsf) != ALLOY_OK) {
    alloy_pool_destroy(state->pool);
    return delete state, nullptr;
  }
  alloy_resource *members[] = {alloy_pool_resource(state->pool), alloy_tlsf_resource(state->tlsf),
                               alloy_system_resource()};
  if (alloy_fallback_init(&state->chain, members, 3) != ALLOY_OK) std::abort();
  return state;
}

bool IsInitial(void *state, const char **why) {
  alloy_pool_stats pool;
  alloy_tlsf_stats tlsf;
  alloy_pool_get_stats(Of(state)->pool, &pool);
  alloy_tlsf_get_stats(Of(state)->tlsf, &tlsf);
  *why = "a member still counts live blocks";
  return pool.live_blocks == 0 && tlsf.used_blocks == 0 && tlsf.live_bytes == 0;
}

alloy_fuzz::Subject MakeSubject() {
  alloy_fuzz::Subject s;
  s.name = "fallback";
  s.typical_size = 4096;
  s.huge_requests = false;
  s.create = Create;
  s.destroy = [](void *state) {
    alloy_tlsf_destroy(Of(state)->tlsf);
    alloy_pool_destroy(Of(state)->pool);
    delete Of(state);
  };
  s.resource = [](void *state) { return alloy_fallback_resource(&Of(state)->chain); };
  s.check = [](void *state) { return alloy_tlsf_check(Of(state)->tlsf); };
  s.is_initial = IsInitial;
  return s;
}

}  // namespace

ALLOY_SHADOW_FUZZ_TARGET(MakeSubject)
