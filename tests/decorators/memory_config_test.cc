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
  EXPECT_EQ(c.small_object_max_size, 256u);
  EXPECT_EQ(c.medium_max_size, size_t{1} << 20);
  EXPECT_EQ(c.stats_sample_rate, 1u);
  EXPECT_EQ(c.numa_policy, ALLOY_NUMA_POLICY_DEFAULT);
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
  ASSERT_EQ(alloy_memory_config_parse("small_object.max_size=256;budget.graphics=64M;numa=local;stats.sample=100;"
                                      "debug.canary=1;debug.quarantine=64",
                                      &c, error, sizeof error),
            ALLOY_OK)
      << error;
  EXPECT_STREQ(error, "");
  EXPECT_EQ(c.small_object_max_size, 256u);
  EXPECT_EQ(c.budgets[ALLOY_TAG_GRAPHICS], size_t{64} << 20);
  EXPECT_EQ(c.numa_policy, ALLOY_NUMA_POLICY_LOCAL);
  EXPECT_EQ(c.stats_sample_rate, 100u);
  EXPECT_TRUE(c.debug_canary);
  EXPECT_EQ(c.debug_quarantine, 64u);
}

TEST(MemoryConfig, AcceptsSpacesNewlinesSuffixesAndEveryKey) {
  alloy_memory_config c = alloy_memory_config_defaults();
  char error[256];
  ASSERT_EQ(alloy_memory_config_parse(" medium.max_size = 2m ;\n huge_page.min_size=4M\n budget.audio=512k;"
                                      "budget.user3=1G; budget.9=100 ; numa=node:3;debug.fill=off;"
                                      "debug.guard_pages=yes;leak.depth=8;;",
                                      &c, error, sizeof error),
            ALLOY_OK)
      << error;
  EXPECT_EQ(c.medium_max_size, size_t{2} << 20);
  EXPECT_EQ(c.huge_page_min_size, size_t{4} << 20);
  EXPECT_EQ(c.budgets[ALLOY_TAG_AUDIO], size_t{512} << 10);
  EXPECT_EQ(c.budgets[ALLOY_TAG_USER_FIRST + 3], size_t{1} << 30);
  EXPECT_EQ(c.budgets[9], 100u);
  EXPECT_EQ(c.numa_policy, ALLOY_NUMA_POLICY_NODE);
  EXPECT_EQ(c.numa_node, 3);
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
        BadInput{"small_object.max_size=4", "invalid value '4' for key 'small_object.max_size'"},
        BadInput{"small_object.max_size=1M", "invalid value '1M' for key 'small_object.max_size'"},
        BadInput{"budget.graphics=64X", "invalid value '64X' for key 'budget.graphics'"},
        BadInput{"budget.graphics=-1", "invalid value '-1' for key 'budget.graphics'"},
        BadInput{"budget.graphics=99999999999999999999", "invalid value '99999999999999999999'"},
        BadInput{"budget.graphics=20000000000G", "invalid value '20000000000G'"},
        BadInput{"budget.sound=1M", "unknown tag in key 'budget.sound'"},
        BadInput{"budget.64=1M", "unknown tag in key 'budget.64'"},
        BadInput{"numa=far", "invalid value 'far' for key 'numa'"},
        BadInput{"numa=node:", "invalid value 'node:' for key 'numa'"},
        BadInput{"numa=node:x", "invalid value 'node:x' for key 'numa'"},
        BadInput{"debug.canary=maybe", "invalid value 'maybe' for key 'debug.canary'"},
        BadInput{"debug.quarantine=2000000", "invalid value '2000000' for key 'debug.quarantine'"},
        BadInput{"leak.depth=0", "invalid value '0' for key 'leak.depth'"},
        BadInput{"leak.depth=33", "invalid value '33' for key 'leak.depth'"},
        BadInput{"stats.sample", "'stats.sample' is not of the form key=value"},
        BadInput{"medium.max_size=100", "medium.max_size 100 is below small_object.max_size 256"}));

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
  c = alloy_memory_config_defaults();
  c.numa_policy = ALLOY_NUMA_POLICY_NODE;
  c.numa_node = -1;
  EXPECT_EQ(alloy_memory_config_validate(&c, error, sizeof error), ALLOY_E_INVALID_ARGUMENT);
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
