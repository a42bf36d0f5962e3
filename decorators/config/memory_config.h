/* alloy/memory_config.h — alloy_memory_config, the runtime configuration.
 *
 * One plain struct holds what a program may want to change in the decorators
 * without rebuilding: per-tag budgets, the statistics sampling rate and
 * profiler events, the debug options and the leak stack depth. Every key
 * acts on the decorator config it names; there are no others. Set its fields from code,
 * or parse a text of `key=value` pairs separated by ';' (or newlines), for
 * example from the environment:
 *
 *   ALLOY_MEMORY_CONFIG="budget.graphics=64M;stats.sample=100;debug.canary=1;debug.quarantine=64"
 *
 * Keys:
 *   budget.<tag>            size   live-byte budget of a tag (graphics, audio, physics, ui,
 *                                  tooling, userN or a tag number); 0 = unlimited (default)
 *   stats.sample            count  1 in N operations are counted (1 = all; default 1)
 *   stats.check_every       count  allocations (or frees) between profiler-event checkpoints,
 *                                  rounded up to a power of two (default 4096)
 *   stats.period_ms         count  least milliseconds between profiler snapshots (default 1000)
 *   stats.spike.live_bytes  size   spike event above this many live bytes (0 = off, default)
 *   stats.spike.alloc_rate  count  spike event above this many allocations per second (0 = off, default)
 *   debug.canary            bool   canaries before and after each block (default 1)
 *   debug.check_on_destroy  bool   destroy checks the canaries of every block still live
 *                                  (default 0; 1 when built with ALLOY_WITH_CANARIES)
 *   debug.fill              bool   fill freed blocks with a pattern (default 1)
 *   debug.quarantine        count  freed blocks kept poisoned before release (default 16)
 *   debug.guard_pages       bool   each block on its own pages with a guard page after it (default 0)
 *   leak.depth              count  stack frames recorded per block (1..32; default 16,
 *                                  32 when built with ALLOY_WITH_LEAK_TRACKING)
 * Sizes take an optional K, M or G suffix (powers of 1024). Booleans are
 * 0/1, true/false, on/off, yes/no. Whitespace around keys and values is
 * ignored.
 *
 * Parsing is all or nothing: on an invalid text the struct is left as it was
 * and the call returns ALLOY_E_INVALID_ARGUMENT with a message that names the
 * key and the bad value.
 *
 * This package composes: it sits above the decorators and turns one
 * alloy_memory_config into each decorator's own config
 * (alloy_stats_config_from_memory_config and the like). No decorator depends
 * on it; each owns its config struct and defaults, and the defaults here are
 * theirs.
 */
#ifndef ALLOY_MEMORY_CONFIG_H
#define ALLOY_MEMORY_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alloy/compiler.h"
#include "alloy/debug.h"
#include "alloy/leak.h"
#include "alloy/memory_tag.h"
#include "alloy/options.h"
#include "alloy/stats.h"
#include "alloy/status.h"
#include "alloy/tagged.h"

ALLOY_EXTERN_C_BEGIN

/* leak.depth's range and default are the leak decorator's. */
#define ALLOY_MEMORY_CONFIG_MAX_LEAK_DEPTH ALLOY_LEAK_MAX_DEPTH
#define ALLOY_MEMORY_CONFIG_DEFAULT_LEAK_DEPTH ALLOY_LEAK_DEFAULT_DEPTH

typedef struct alloy_memory_config {
  size_t budgets[ALLOY_TAG_CAPACITY]; /* bytes; 0 = unlimited */
  uint32_t stats_sample_rate;
  uint64_t stats_check_every;
  uint64_t stats_period_ms;
  size_t stats_spike_live_bytes;
  uint64_t stats_spike_allocation_rate;
  bool debug_canary;
  bool debug_check_on_destroy;
  bool debug_fill;
  size_t debug_quarantine;
  bool debug_guard_pages;
  unsigned leak_depth;
} alloy_memory_config;

/* The defaults listed above. */
alloy_memory_config alloy_memory_config_defaults(void);

/* Applies `text` on top of *config. On failure *config is unchanged and
 * `error` (when non-NULL) holds a one-line message. */
ALLOY_NODISCARD alloy_status alloy_memory_config_parse(const char *text, alloy_memory_config *config, char *error,
                                                       size_t error_capacity);

/* Sets one key, with the same rules as parse. */
ALLOY_NODISCARD alloy_status alloy_memory_config_set(alloy_memory_config *config, const char *key, const char *value,
                                                     char *error, size_t error_capacity);

/* Applies the environment variable `name` (e.g. "ALLOY_MEMORY_CONFIG") when it
 * is set; ALLOY_OK and no change when it is not. */
ALLOY_NODISCARD alloy_status alloy_memory_config_from_env(const char *name, alloy_memory_config *config, char *error,
                                                          size_t error_capacity);

/* Checks a struct filled in by code against the ranges above. */
ALLOY_NODISCARD alloy_status alloy_memory_config_validate(const alloy_memory_config *config, char *error,
                                                          size_t error_capacity);

/* Each decorator's part of a memory config. */

/* The sampling rate, the checkpoint interval, the snapshot period and the
 * spike thresholds (the callback is the caller's to set). */
alloy_stats_config alloy_stats_config_from_memory_config(const alloy_memory_config *config);

/* The budgets, no alert. */
alloy_tagged_config alloy_tagged_config_from_memory_config(const alloy_memory_config *config);

/* Canaries, fill, quarantine, guard pages and the check on destroy. */
alloy_debug_config alloy_debug_config_from_memory_config(const alloy_memory_config *config);

/* The stack depth. */
alloy_leak_config alloy_leak_config_from_memory_config(const alloy_memory_config *config);

ALLOY_EXTERN_C_END

#endif /* ALLOY_MEMORY_CONFIG_H */
