/* Each decorator's config, taken from an alloy_memory_config. */
#include <stdint.h>
#include <string.h>

#include "alloy/memory_config.h"

alloy_stats_config alloy_stats_config_from_memory_config(const alloy_memory_config *config) {
  alloy_stats_config stats_config;
  memset(&stats_config, 0, sizeof stats_config);
  stats_config.sample_rate = config->stats_sample_rate;
  stats_config.check_every = config->stats_check_every;
  stats_config.period_ns = config->stats_period_ms * UINT64_C(1000000);
  stats_config.live_bytes_threshold = config->stats_spike_live_bytes;
  stats_config.allocation_rate_threshold = config->stats_spike_allocation_rate;
  return stats_config;
}

alloy_tagged_config alloy_tagged_config_from_memory_config(const alloy_memory_config *config) {
  alloy_tagged_config tagged_config;
  memset(&tagged_config, 0, sizeof tagged_config);
  memcpy(tagged_config.budgets, config->budgets, sizeof tagged_config.budgets);
  return tagged_config;
}

alloy_debug_config alloy_debug_config_from_memory_config(const alloy_memory_config *memory) {
  alloy_debug_config config;
  config.canary = memory->debug_canary;
  config.fill = memory->debug_fill;
  config.quarantine = memory->debug_quarantine;
  config.guard_pages = memory->debug_guard_pages;
  config.check_on_destroy = memory->debug_check_on_destroy;
  return config;
}

alloy_leak_config alloy_leak_config_from_memory_config(const alloy_memory_config *config) {
  alloy_leak_config leak_config;
  memset(&leak_config, 0, sizeof leak_config);
  leak_config.depth = config->leak_depth;
  return leak_config;
}
