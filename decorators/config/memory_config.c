/* Parsing and validation of alloy_memory_config. */
#include "alloy/memory_config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

alloy_memory_config alloy_memory_config_defaults(void) {
  alloy_memory_config config;
  memset(&config, 0, sizeof config);
  config.stats_sample_rate = 1;
  config.stats_check_every = ALLOY_STATS_DEFAULT_CHECK_EVERY;
  config.stats_period_ms = 1000;
  config.stats_spike_live_bytes = 0;
  config.stats_spike_allocation_rate = 0;
  const alloy_debug_config debug = alloy_debug_config_default();
  config.debug_canary = debug.canary;
  config.debug_check_on_destroy = debug.check_on_destroy;
  config.debug_fill = debug.fill;
  config.debug_quarantine = debug.quarantine;
  config.debug_guard_pages = debug.guard_pages;
  config.leak_depth = ALLOY_LEAK_DEFAULT_DEPTH;
  return config;
}

/* A text slice: the parser never copies or writes the input. */
typedef struct slice {
  const char *text;
  size_t length;
} slice;

static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

static slice trim(slice s) {
  while (s.length > 0 && is_space(s.text[0])) ++s.text, --s.length;
  while (s.length > 0 && is_space(s.text[s.length - 1])) --s.length;
  return s;
}

static bool slice_is(slice s, const char *word) { return strlen(word) == s.length && memcmp(s.text, word, s.length) == 0; }

static bool slice_starts_with(slice s, const char *prefix) {
  size_t n = strlen(prefix);
  return s.length >= n && memcmp(s.text, prefix, n) == 0;
}

ALLOY_PRINTF(3, 4) static alloy_status fail(char *error, size_t capacity, const char *format, ...) {
  if (error != NULL && capacity > 0) {
    va_list args;
    va_start(args, format);
    vsnprintf(error, capacity, format, args);
    va_end(args);
  }
  return ALLOY_E_INVALID_ARGUMENT;
}

static alloy_status bad_value(char *error, size_t capacity, slice key, slice value, const char *expected) {
  return fail(error, capacity, "alloy_memory_config: invalid value '%.*s' for key '%.*s': expected %s",
              (int)value.length, value.text, (int)key.length, key.text, expected);
}

/* Decimal digits with an optional K/M/G (1024-based) suffix, no overflow. */
static bool parse_size(slice value, size_t *out) {
  if (value.length == 0) return false;
  size_t digits = 0, result = 0;
  while (digits < value.length && value.text[digits] >= '0' && value.text[digits] <= '9') {
    size_t digit = (size_t)(value.text[digits] - '0');
    if (result > (SIZE_MAX - digit) / 10) return false;
    result = result * 10 + digit;
    ++digits;
  }
  if (digits == 0) return false;
  size_t shift = 0;
  if (digits < value.length) {
    if (digits + 1 != value.length) return false;
    switch (value.text[digits]) {
      case 'k': case 'K': shift = 10; break;
      case 'm': case 'M': shift = 20; break;
      case 'g': case 'G': shift = 30; break;
      default: return false;
    }
  }
  if (shift != 0 && result > (SIZE_MAX >> shift)) return false;
  *out = result << shift;
  return true;
}

static bool parse_bool(slice value, bool *out) {
  if (slice_is(value, "1") || slice_is(value, "true") || slice_is(value, "on") || slice_is(value, "yes")) {
    *out = true;
    return true;
  }
  if (slice_is(value, "0") || slice_is(value, "false") || slice_is(value, "off") || slice_is(value, "no")) {
    *out = false;
    return true;
  }
  return false;
}

/* Range-checked plain number (no suffix). */
static bool parse_count(slice value, size_t minimum, size_t maximum, size_t *out) {
  size_t n;
  if (value.length == 0 || value.text[value.length - 1] < '0' || value.text[value.length - 1] > '9') return false;
  if (!parse_size(value, &n) || n < minimum || n > maximum) return false;
  *out = n;
  return true;
}

static alloy_status set_key(alloy_memory_config *config, slice key, slice value, char *error, size_t capacity) {
  size_t n;
  bool flag;
  if (slice_starts_with(key, "budget.")) {
    alloy_tag tag;
    if (!alloy_tag_from_name(key.text + 7, key.length - 7, &tag))
      return fail(error, capacity,
                  "alloy_memory_config: unknown tag in key '%.*s': expected graphics, audio, physics, ui, tooling, "
                  "userN or a number below %d",
                  (int)key.length, key.text, ALLOY_TAG_CAPACITY);
    if (!parse_size(value, &n)) return bad_value(error, capacity, key, value, "a size such as 64M (0 = unlimited)");
    config->budgets[tag] = n;
  } else if (slice_is(key, "stats.sample")) {
    if (!parse_count(value, 1, UINT32_MAX, &n))
      return bad_value(error, capacity, key, value, "a whole number from 1 (every operation) to 4294967295");
    config->stats_sample_rate = (uint32_t)n;
  } else if (slice_is(key, "stats.check_every")) {
    if (!parse_count(value, 1, UINT32_MAX, &n))
      return bad_value(error, capacity, key, value, "a whole number of operations from 1 to 4294967295");
    config->stats_check_every = n;
  } else if (slice_is(key, "stats.period_ms")) {
    if (!parse_count(value, 0, UINT32_MAX, &n))
      return bad_value(error, capacity, key, value, "a whole number of milliseconds (0 = every checkpoint)");
    config->stats_period_ms = n;
  } else if (slice_is(key, "stats.spike.live_bytes")) {
    if (!parse_size(value, &n)) return bad_value(error, capacity, key, value, "a size such as 512M (0 = off)");
    config->stats_spike_live_bytes = n;
  } else if (slice_is(key, "stats.spike.alloc_rate")) {
    if (!parse_count(value, 0, SIZE_MAX, &n))
      return bad_value(error, capacity, key, value, "allocations per second as a whole number (0 = off)");
    config->stats_spike_allocation_rate = n;
  } else if (slice_is(key, "debug.check_on_destroy")) {
    if (!parse_bool(value, &flag)) return bad_value(error, capacity, key, value, "0, 1, true, false, on or off");
    config->debug_check_on_destroy = flag;
  } else if (slice_is(key, "debug.canary")) {
    if (!parse_bool(value, &flag)) return bad_value(error, capacity, key, value, "0, 1, true, false, on or off");
    config->debug_canary = flag;
  } else if (slice_is(key, "debug.fill")) {
    if (!parse_bool(value, &flag)) return bad_value(error, capacity, key, value, "0, 1, true, false, on or off");
    config->debug_fill = flag;
  } else if (slice_is(key, "debug.guard_pages")) {
    if (!parse_bool(value, &flag)) return bad_value(error, capacity, key, value, "0, 1, true, false, on or off");
    config->debug_guard_pages = flag;
  } else if (slice_is(key, "debug.quarantine")) {
    if (!parse_count(value, 0, 1u << 20, &n))
      return bad_value(error, capacity, key, value, "a block count from 0 to 1048576");
    config->debug_quarantine = n;
  } else if (slice_is(key, "leak.depth")) {
    if (!parse_count(value, 1, ALLOY_MEMORY_CONFIG_MAX_LEAK_DEPTH, &n))
      return bad_value(error, capacity, key, value, "a frame count from 1 to 32");
    config->leak_depth = (unsigned)n;
  } else {
    return fail(error, capacity, "alloy_memory_config: unknown key '%.*s'", (int)key.length, key.text);
  }
  return ALLOY_OK;
}

alloy_status alloy_memory_config_validate(const alloy_memory_config *config, char *error, size_t capacity) {
  if (config->stats_sample_rate == 0)
    return fail(error, capacity, "alloy_memory_config: stats.sample must be at least 1");
  if (config->stats_check_every == 0)
    return fail(error, capacity, "alloy_memory_config: stats.check_every must be at least 1");
  if (config->debug_quarantine > (1u << 20))
    return fail(error, capacity, "alloy_memory_config: debug.quarantine %zu is above 1048576",
                config->debug_quarantine);
  if (config->leak_depth < 1 || config->leak_depth > ALLOY_MEMORY_CONFIG_MAX_LEAK_DEPTH)
    return fail(error, capacity, "alloy_memory_config: leak.depth %u is outside 1..32", config->leak_depth);
  return ALLOY_OK;
}

alloy_status alloy_memory_config_parse(const char *text, alloy_memory_config *config, char *error,
                                       size_t capacity) {
  if (text == NULL || config == NULL) return fail(error, capacity, "alloy_memory_config: no text or no config");
  alloy_memory_config staged = *config; /* all or nothing */
  const char *cursor = text;
  while (*cursor != '\0') {
    size_t length = strcspn(cursor, ";\n");
    slice entry = trim((slice){cursor, length});
    cursor += length;
    if (*cursor != '\0') ++cursor;
    if (entry.length == 0) continue;
    const char *equals = memchr(entry.text, '=', entry.length);
    if (equals == NULL)
      return fail(error, capacity, "alloy_memory_config: '%.*s' is not of the form key=value", (int)entry.length,
                  entry.text);
    slice key = trim((slice){entry.text, (size_t)(equals - entry.text)});
    slice value = trim((slice){equals + 1, entry.length - (size_t)(equals - entry.text) - 1});
    ALLOY_TRY(set_key(&staged, key, value, error, capacity));
  }
  ALLOY_TRY(alloy_memory_config_validate(&staged, error, capacity));
  *config = staged;
  if (error != NULL && capacity > 0) error[0] = '\0';
  return ALLOY_OK;
}

alloy_status alloy_memory_config_set(alloy_memory_config *config, const char *key, const char *value, char *error,
                                     size_t capacity) {
  if (config == NULL || key == NULL || value == NULL)
    return fail(error, capacity, "alloy_memory_config: no config, key or value");
  alloy_memory_config staged = *config;
  ALLOY_TRY(set_key(&staged, trim((slice){key, strlen(key)}), trim((slice){value, strlen(value)}), error, capacity));
  ALLOY_TRY(alloy_memory_config_validate(&staged, error, capacity));
  *config = staged;
  return ALLOY_OK;
}

alloy_status alloy_memory_config_from_env(const char *name, alloy_memory_config *config, char *error,
                                          size_t capacity) {
  if (name == NULL) return fail(error, capacity, "alloy_memory_config: no variable name");
  const char *text = getenv(name);
  if (text == NULL) return ALLOY_OK;
  alloy_status status = alloy_memory_config_parse(text, config, error, capacity);
  if (status != ALLOY_OK && error != NULL && capacity > 0) {
    /* Say where the text came from. */
    char inner[256];
    snprintf(inner, sizeof inner, "%s", error);
    snprintf(error, capacity, "%s (from environment variable %s)", inner, name);
  }
  return status;
}
