// Fuzzes TLSF against the shadow model with alloy_tlsf_check after every
// step and its counters compared to the model; a small first pool makes
// growth, spare pools and trim part of the run.
#include "alloy/tlsf.h"
#include "tests/fuzz/shadow_model.h"

namespace {

alloy_tlsf *Tlsf(void *state) { return static_cast<alloy_tlsf *>(state); }

void *Create() {
  alloy_tlsf_config config = alloy_tlsf_config_default();
  config.initial_pool_size = 1u << 16;
  config.growth_size = 1u << 16;
  config.max_bytes = 1u << 24;
  config.spare_bytes = 1u << 16;
  config.purge_threshold = 1u << 14;
  alloy_tlsf *tlsf = nullptr;
  return alloy_tlsf_create(&config, &tlsf) == ALLOY_OK ? tlsf : nullptr;
}

void Observe(void *state, alloy_fuzz::Observed *out) {
  alloy_tlsf_stats stats;
  alloy_tlsf_get_stats(Tlsf(state), &stats);
  out->has_blocks = true;
  out->blocks = stats.used_blocks;
}

bool IsInitial(void *state, const char **why) {
  alloy_tlsf_stats stats;
  alloy_tlsf_get_stats(Tlsf(state), &stats);
  *why = "live bytes or used blocks left";
  return stats.live_bytes == 0 && stats.used_blocks == 0 && stats.allocations == stats.deallocations;
}

alloy_fuzz::Subject MakeSubject() {
  alloy_fuzz::Subject s;
  s.name = "tlsf";
  s.typical_size = 8192;
  s.create = Create;
  s.destroy = [](void *state) { alloy_tlsf_destroy(Tlsf(state)); };
  s.resource = [](void *state) { return alloy_tlsf_resource(Tlsf(state)); };
  s.trim = [](void *state) { (void)alloy_tlsf_trim(Tlsf(state)); };
  s.check = [](void *state) { return alloy_tlsf_check(Tlsf(state)); };
  s.observe = Observe;
  s.is_initial = IsInitial;
  return s;
}

}  // namespace

ALLOY_SHADOW_FUZZ_TARGET(MakeSubject)
