// alloy_memory_config: defaults, parsing, the environment, and clear
// messages for every kind of bad input.
#include <cstdlib>
#include <cstring>
#include <string>

#include <gtest/gtest.h>

#include "alloy/memory_config.h"

namespace {

TEST(MemoryConfig, Defaults) {
  alloy_memory_config c = alloy_memory_config_defaults();
  EXPECT_EQ(c.stats_sample_rate, 1u);
  EXPECT_TRUE(c.debug_canary);
  EXPECT_EQ(c.debug_quarantine, 16u);
  EXPECT_FALSE(c.debug_guard_pages);
  EXPECT_EQ(c.leak_depth, ALLOY_MEMORY_CONFIG_DEFAULT_LEAK_DEPTH);
  for (size_t budget : c.budgets) EXPECT_EQ(budget, 0u);
  char error[128];
  EXPECT_EQ(alloy_memory_config_validate(&c, error, sizeof error), ALLOY_OK);
}

TEST(MemoryConfig, ParsesTheDocumentedExample) {
  alloy_memory_config c = alloy_memory_config_defaults();
  char error[256] = "stale";
  ASSERT_EQ(alloy_memory_config_parse("budget.graphics=64M;stats.sample=100;debug.canary=1;debug.quarantine=64",
                                      &c, error, sizeof error),
            ALLOY_OK)
      << error;
  EXPECT_STREQ(error, "");
  EXPECT_EQ(c.budgets[ALLOY_TAG_GRAPHICS], size_t{64} << 20);
  EXPECT_EQ(c.stats_sample_rate, 100u);
  EXPECT_TRUE(c.debug_canary);
  EXPECT_EQ(c.debug_quarantine, 64u);
}

TEST(MemoryConfig, AcceptsSpacesNewlinesSuffixesAndEveryKey) {
  alloy_memory_config c = alloy_memory_config_defaults();
  char error[256];
  ASSERT_EQ(alloy_memory_config_parse(" stats.sample = 2 ;\n stats.spike.live_bytes=4M\n budget.audio=512k;"
                                      "budget.user3=1G; budget.9=100 ; debug.fill=off;"
                                      "debug.guard_pages=yes;leak.depth=8;;",
                                      &c, error, sizeof error),
            ALLOY_OK)
      << error;
  EXPECT_EQ(c.stats_sample_rate, 2u);
  EXPECT_EQ(c.stats_spike_live_bytes, size_t{4} << 20);
  EXPECT_EQ(c.budgets[ALLOY_TAG_AUDIO], size_t{512} << 10);
  EXPECT_EQ(c.budgets[ALLOY_TAG_USER_FIRST + 3], size_t{1} << 30);
  EXPECT_EQ(c.budgets[9], 100u);
  EXPECT_FALSE(c.debug_fill);
  EXPECT_TRUE(c.debug_guard_pages);
  EXPECT_EQ(c.leak_depth, 8u);
}

struct BadInput {
  const char *text;
  const char *message;  // a substring the error must contain
};

class MemoryConfigRejects : public ::testing::TestWithParam<BadInput> {};

TEST_P(MemoryConfigRejects, WithAMessageNamingKeyAndValueAndNoChange) {
  alloy_memory_config c = alloy_memory_config_defaults();
  c.stats_sample_rate = 7;  // set from code before; must survive a bad text
  const alloy_memory_config before = c;
  char error[256] = "";
  EXPECT_EQ(alloy_memory_config_parse(GetParam().text, &c, error, sizeof error), ALLOY_E_INVALID_ARGUMENT);
  EXPECT_NE(std::string(error).find(GetParam().message), std::string::npos) << error;
  EXPECT_EQ(0, std::memcmp(&before, &c, sizeof c)) << "a rejected text changed the config";
}

INSTANTIATE_TEST_SUITE_P(
    Inputs, MemoryConfigRejects,
    ::testing::Values(
        BadInput{"stats.sample=1;frobnicate=3", "unknown key 'frobnicate'"},
        BadInput{"stats.sample=0", "invalid value '0' for key 'stats.sample'"},
        BadInput{"stats.sample=ten", "invalid value 'ten' for key 'stats.sample'"},
        BadInput{"stats.sample=4294967296", "invalid value '4294967296' for key 'stats.sample'"},
        // Keys that no component would read are not keys.
        BadInput{"small_object.max_size=256", "unknown key 'small_object.max_size'"},
        BadInput{"medium.max_size=1M", "unknown key 'medium.max_size'"},
        BadInput{"huge_page.min_size=2M", "unknown key 'huge_page.min_size'"},
        BadInput{"numa=interleave", "unknown key 'numa'"},
        BadInput{"budget.graphics=64X", "invalid value '64X' for key 'budget.graphics'"},
        BadInput{"budget.graphics=-1", "invalid value '-1' for key 'budget.graphics'"},
        BadInput{"budget.graphics=99999999999999999999", "invalid value '99999999999999999999'"},
        BadInput{"budget.graphics=20000000000G", "invalid value '20000000000G'"},
        BadInput{"budget.sound=1M", "unknown tag in key 'budget.sound'"},
        BadInput{"budget.64=1M", "unknown tag in key 'budget.64'"},
        BadInput{"debug.canary=maybe", "invalid value 'maybe' for key 'debug.canary'"},
        BadInput{"debug.quarantine=2000000", "invalid value '2000000' for key 'debug.quarantine'"},
        BadInput{"leak.depth=0", "invalid value '0' for key 'leak.depth'"},
        BadInput{"leak.depth=33", "invalid value '33' for key 'leak.depth'"},
        BadInput{"stats.sample", "'stats.sample' is not of the form key=value"}));

TEST(MemoryConfig, SetOneKeyFromCode) {
  alloy_memory_config c = alloy_memory_config_defaults();
  char error[256];
  EXPECT_EQ(alloy_memory_config_set(&c, "budget.ui", "3M", error, sizeof error), ALLOY_OK) << error;
  EXPECT_EQ(c.budgets[ALLOY_TAG_UI], size_t{3} << 20);
  EXPECT_EQ(alloy_memory_config_set(&c, "budget.ui", "lots", error, sizeof error), ALLOY_E_INVALID_ARGUMENT);
  EXPECT_NE(std::string(error).find("'lots' for key 'budget.ui'"), std::string::npos) << error;
  EXPECT_EQ(c.budgets[ALLOY_TAG_UI], size_t{3} << 20);
}

TEST(MemoryConfig, ValidateCatchesBadFieldsSetFromCode) {
  char error[256];
  alloy_memory_config c = alloy_memory_config_defaults();
  c.stats_sample_rate = 0;
  EXPECT_EQ(alloy_memory_config_validate(&c, error, sizeof error), ALLOY_E_INVALID_ARGUMENT);
  EXPECT_NE(std::string(error).find("stats.sample"), std::string::npos) << error;
  c = alloy_memory_config_defaults();
  c.leak_depth = 0;
  EXPECT_EQ(alloy_memory_config_validate(&c, error, sizeof error), ALLOY_E_INVALID_ARGUMENT);
  EXPECT_NE(std::string(error).find("leak.depth"), std::string::npos) << error;
  // A null error buffer is fine.
  EXPECT_EQ(alloy_memory_config_validate(&c, nullptr, 0), ALLOY_E_INVALID_ARGUMENT);
}

TEST(MemoryConfig, FromTheEnvironment) {
  alloy_memory_config c = alloy_memory_config_defaults();
  char error[256];
  ::unsetenv("ALLOY_TEST_MEMORY_CONFIG");
  EXPECT_EQ(alloy_memory_config_from_env("ALLOY_TEST_MEMORY_CONFIG", &c, error, sizeof error), ALLOY_OK);
  EXPECT_EQ(c.stats_sample_rate, 1u) << "unset: unchanged";
  ::setenv("ALLOY_TEST_MEMORY_CONFIG", "stats.sample=50;budget.physics=8M", 1);
  EXPECT_EQ(alloy_memory_config_from_env("ALLOY_TEST_MEMORY_CONFIG", &c, error, sizeof error), ALLOY_OK) << error;
  EXPECT_EQ(c.stats_sample_rate, 50u);
  EXPECT_EQ(c.budgets[ALLOY_TAG_PHYSICS], size_t{8} << 20);
  ::setenv("ALLOY_TEST_MEMORY_CONFIG", "debug.quarantine=many", 1);
  EXPECT_EQ(alloy_memory_config_from_env("ALLOY_TEST_MEMORY_CONFIG", &c, error, sizeof error),
            ALLOY_E_INVALID_ARGUMENT);
  EXPECT_NE(std::string(error).find("'many' for key 'debug.quarantine'"), std::string::npos) << error;
  EXPECT_NE(std::string(error).find("environment variable ALLOY_TEST_MEMORY_CONFIG"), std::string::npos) << error;
  EXPECT_EQ(c.debug_quarantine, 16u);
  ::unsetenv("ALLOY_TEST_MEMORY_CONFIG");
}

TEST(MemoryConfig, TruncatesLongMessagesSafely) {
  alloy_memory_config c = alloy_memory_config_defaults();
  char error[12];
  EXPECT_EQ(alloy_memory_config_parse("nope=1", &c, error, sizeof error), ALLOY_E_INVALID_ARGUMENT);
  EXPECT_EQ(std::strlen(error), sizeof error - 1);
}

}  // namespace

namespace {

// No key that does nothing: every key that parses changes the decorator
// config it names, away from that decorator's own default.
TEST(MemoryConfig, EveryKeyReachesItsDecoratorConfig) {
  alloy_memory_config c = alloy_memory_config_defaults();
  char error[512];
  ASSERT_EQ(alloy_memory_config_parse("budget.physics=5M;stats.sample=10;stats.check_every=128;stats.period_ms=7;"
                                      "stats.spike.live_bytes=9M;stats.spike.alloc_rate=1234;debug.canary=0;"
                                      "debug.check_on_destroy=1;debug.fill=0;debug.quarantine=5;"
                                      "debug.guard_pages=1;leak.depth=3",
                                      &c, error, sizeof error),
            ALLOY_OK)
      << error;
  const alloy_tagged_config tagged = alloy_tagged_config_from_memory_config(&c);
  EXPECT_EQ(tagged.budgets[ALLOY_TAG_PHYSICS], size_t{5} << 20);
  const alloy_stats_config stats = alloy_stats_config_from_memory_config(&c);
  EXPECT_EQ(stats.sample_rate, 10u);
  EXPECT_EQ(stats.check_every, 128u);
  EXPECT_EQ(stats.period_ns, 7000000u);
  EXPECT_EQ(stats.live_bytes_threshold, size_t{9} << 20);
  EXPECT_EQ(stats.allocation_rate_threshold, 1234u);
  const alloy_debug_config debug = alloy_debug_config_from_memory_config(&c);
  const alloy_debug_config debug_default = alloy_debug_config_default();
  EXPECT_NE(debug.canary, debug_default.canary);
  EXPECT_FALSE(debug.canary);
  EXPECT_TRUE(debug.check_on_destroy);
  EXPECT_FALSE(debug.fill);
  EXPECT_EQ(debug.quarantine, 5u);
  EXPECT_TRUE(debug.guard_pages);
  const alloy_leak_config leak = alloy_leak_config_from_memory_config(&c);
  EXPECT_EQ(leak.depth, 3u);
  EXPECT_NE(leak.depth, ALLOY_LEAK_DEFAULT_DEPTH);
}

// The defaults of the memory config are the decorators' own.
TEST(MemoryConfig, DefaultsAreTheDecoratorsOwn) {
  const alloy_memory_config c = alloy_memory_config_defaults();
  const alloy_debug_config debug = alloy_debug_config_from_memory_config(&c);
  const alloy_debug_config debug_default = alloy_debug_config_default();
  EXPECT_EQ(debug.canary, debug_default.canary);
  EXPECT_EQ(debug.fill, debug_default.fill);
  EXPECT_EQ(debug.quarantine, debug_default.quarantine);
  EXPECT_EQ(debug.guard_pages, debug_default.guard_pages);
  EXPECT_EQ(debug.check_on_destroy, debug_default.check_on_destroy);
  EXPECT_EQ(alloy_leak_config_from_memory_config(&c).depth, ALLOY_LEAK_DEFAULT_DEPTH);
  EXPECT_EQ(alloy_stats_config_from_memory_config(&c).check_every, ALLOY_STATS_DEFAULT_CHECK_EVERY);
  for (size_t budget : alloy_tagged_config_from_memory_config(&c).budgets) EXPECT_EQ(budget, 0u);
}

}  // namespace
