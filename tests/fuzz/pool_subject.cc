#include "tests/fuzz/pool_subject.h"

#include "alloy/pool.h"

namespace alloy_fuzz {
namespace {

alloy_pool *Pool(void *state) { return static_cast<alloy_pool *>(state); }

void *Create(bool concurrent) {
  alloy_pool_config config = alloy_pool_config_default(96);
  config.slab_size = 1u << 14;
  config.max_blocks = 300;
  config.concurrent_free = concurrent;
  alloy_pool *pool = nullptr;
  return alloy_pool_create(&config, &pool) == ALLOY_OK ? pool : nullptr;
}

void Observe(void *state, Observed *out, bool concurrent) {
  alloy_pool_stats stats;
  alloy_pool_get_stats(Pool(state), &stats);
  out->has_blocks = true;
  out->blocks = stats.live_blocks;
  out->blocks_at_least = concurrent;  // remote frees count as live until collected
}

bool IsInitial(void *state, const char **why) {
  alloy_pool_stats stats;
  alloy_pool_get_stats(Pool(state), &stats);
  *why = "live blocks left after every free (and a collect)";
  return stats.live_blocks == 0;
}

}  // namespace

Subject PoolSubject(bool concurrent) {
  Subject s;
  s.name = concurrent ? "pool_concurrent" : "pool";
  s.typical_size = 96;
  s.threads = concurrent ? 3 : 1;
  s.create = concurrent ? +[]() -> void * { return Create(true); } : +[]() -> void * { return Create(false); };
  s.destroy = [](void *state) { alloy_pool_destroy(Pool(state)); };
  s.resource = [](void *state) { return alloy_pool_resource(Pool(state)); };
  if (concurrent) s.collect = [](void *state) { (void)alloy_pool_collect(Pool(state)); };
  s.observe = concurrent ? +[](void *state, Observed *out) { Observe(state, out, true); }
                         : +[](void *state, Observed *out) { Observe(state, out, false); };
  s.is_initial = IsInitial;
  s.check = [](void *state) { return alloy_pool_check(Pool(state)); };
  return s;
}

}  // namespace alloy_fuzz
