// Fuzzes the decorator stack debug(tagged(stats(locked(tlsf)))) against the
// shadow model: canaries, fill and quarantine on top; a budget on the
// untagged blocks that large runs hit, and stats' profiler events at every
// 64th operation; every layer's count of live blocks must agree (the
// quarantine held as live below debug), the budget holds, and tlsf's check
// stays clean.
#include <cstdio>

#include "alloy/debug.h"
#include "alloy/locked.h"
#include "alloy/stats.h"
#include "alloy/tagged.h"
#include "alloy/tlsf.h"
#include "tests/fuzz/shadow_model.h"

namespace {

struct State {
  alloy_tlsf *tlsf;
  alloy_locked *locked;
  alloy_stats *stats;
  alloy_tagged *tagged;
  alloy_debug *debug;
  uint64_t events;
  uint64_t alerts;
};

// Below the arena's 8 MiB, so a run of large blocks meets the budget first.
constexpr size_t kBudget = size_t{3} << 20;

State *Of(void *state) { return static_cast<State *>(state); }

void *Create() {
  State *s = new State{};
  alloy_tlsf_config tlsf_config = alloy_tlsf_config_default();
  tlsf_config.initial_pool_size = 1u << 16;
  tlsf_config.growth_size = 1u << 16;
  tlsf_config.max_bytes = 1u << 23;
  alloy_stats_config stats_config = {};
  stats_config.on_event = [](const alloy_stats_event *, void *context) { ++Of(context)->events; };
  stats_config.event_context = s;
  stats_config.check_every = 64;
  alloy_tagged_config tagged_config = {};
  tagged_config.budgets[ALLOY_TAG_UNTAGGED] = kBudget;
  tagged_config.on_budget_exceeded = [](void *context, alloy_tag, const char *, size_t, size_t, size_t) {
    ++Of(context)->alerts;
  };
  tagged_config.alert_context = s;
  alloy_debug_config debug_config = alloy_debug_config_default();
  debug_config.quarantine = 4;
  if (alloy_tlsf_create(&tlsf_config, &s->tlsf) != ALLOY_OK ||
      alloy_locked_create(alloy_tlsf_resource(s->tlsf), nullptr, &s->locked) != ALLOY_OK ||
      alloy_stats_create(alloy_locked_resource(s->locked), &stats_config, &s->stats) != ALLOY_OK ||
      alloy_tagged_create(alloy_stats_resource(s->stats), &tagged_config, &s->tagged) != ALLOY_OK ||
      alloy_debug_create(alloy_tagged_resource(s->tagged), &debug_config, &s->debug) != ALLOY_OK)
    return nullptr;  // the interpreter reports it
  return s;
}

void Destroy(void *state) {
  State *s = Of(state);
  alloy_debug_destroy(s->debug);
  alloy_tagged_destroy(s->tagged);
  alloy_stats_destroy(s->stats);
  alloy_locked_destroy(s->locked);
  alloy_tlsf_destroy(s->tlsf);
  delete s;
}

// debug's canaries and the layers' counts: the stats layer below debug sees
// every block debug holds, live or quarantined.
alloy_status Check(void *state) {
  State *s = Of(state);
  if (alloy_debug_check_all(s->debug) != ALLOY_OK) return ALLOY_E_CORRUPTION;
  if (alloy_tlsf_check(s->tlsf) != ALLOY_OK) return ALLOY_E_CORRUPTION;
  alloy_debug_counts counts;
  alloy_debug_get_counts(s->debug, &counts);
  alloy_stats_snapshot snapshot;
  alloy_stats_snapshot_get(s->stats, &snapshot);
  alloy_tlsf_stats tlsf;
  alloy_tlsf_get_stats(s->tlsf, &tlsf);
  alloy_tag_stats tag;
  if (alloy_tagged_get_tag_stats(s->tagged, ALLOY_TAG_UNTAGGED, &tag) != ALLOY_OK || tag.live_bytes > kBudget ||
      tag.budget_refusals != s->alerts) {
    std::fprintf(stderr, "untagged live %zu of budget %zu; %llu refusals, %llu alerts\n", tag.live_bytes, kBudget,
                 static_cast<unsigned long long>(tag.budget_refusals), static_cast<unsigned long long>(s->alerts));
    return ALLOY_E_CORRUPTION;
  }
  const size_t below = counts.live_blocks + counts.quarantined_blocks;
  if (snapshot.live_blocks != below || tlsf.used_blocks != below) {
    std::fprintf(stderr, "debug live %zu + quarantined %zu, stats live %llu, tlsf used %zu\n", counts.live_blocks,
                 counts.quarantined_blocks, static_cast<unsigned long long>(snapshot.live_blocks), tlsf.used_blocks);
    return ALLOY_E_CORRUPTION;
  }
  return ALLOY_OK;
}

void Observe(void *state, alloy_fuzz::Observed *out) {
  alloy_debug_counts counts;
  alloy_debug_get_counts(Of(state)->debug, &counts);
  out->has_blocks = true;
  out->blocks = counts.live_blocks;
}

bool IsInitial(void *state, const char **why) {
  State *s = Of(state);
  *why = "the quarantine could not be flushed";
  if (alloy_debug_flush_quarantine(s->debug) != ALLOY_OK) return false;
  alloy_stats_snapshot snapshot;
  alloy_stats_snapshot_get(s->stats, &snapshot);
  alloy_tlsf_stats tlsf;
  alloy_tlsf_get_stats(s->tlsf, &tlsf);
  *why = "a layer still counts live blocks or bytes";
  return snapshot.live_blocks == 0 && snapshot.live_bytes == 0 && tlsf.used_blocks == 0 && tlsf.live_bytes == 0;
}

alloy_fuzz::Subject MakeSubject() {
  alloy_fuzz::Subject s;
  s.name = "debug_stack";
  s.typical_size = 4096;
  s.create = Create;
  s.destroy = Destroy;
  s.resource = [](void *state) { return alloy_debug_resource(Of(state)->debug); };
  s.trim = [](void *state) { (void)alloy_tlsf_trim(Of(state)->tlsf); };
  s.check = Check;
  s.observe = Observe;
  s.is_initial = IsInitial;
  return s;
}

}  // namespace

ALLOY_SHADOW_FUZZ_TARGET(MakeSubject)
