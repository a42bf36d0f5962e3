#include "tests/support/checked_heap.h"

#include <gtest/gtest.h>

#include "alloy/system.h"

namespace alloy_test {

CheckedHeap::CheckedHeap() {
  EXPECT_EQ(alloy_small_object_create(nullptr, &small_), ALLOY_OK);
  alloy_resource *members[2] = {alloy_small_object_resource(small_), alloy_system_resource()};
  EXPECT_EQ(alloy_fallback_init(&chain_, members, 2), ALLOY_OK);
  EXPECT_EQ(alloy_debug_create(alloy_fallback_resource(&chain_), nullptr, &debug_), ALLOY_OK);
  alloy_leak_config config = {};
  config.depth = 4;
  config.quiet_on_destroy = false;
  EXPECT_EQ(alloy_leak_create(alloy_debug_resource(debug_), &config, &leak_), ALLOY_OK);
}

CheckedHeap::~CheckedHeap() {
  alloy_leak_destroy(leak_);
  alloy_debug_destroy(debug_);
  alloy_small_object_destroy(small_);
}

alloy_leak_summary CheckedHeap::Outstanding() {
  alloy_leak_summary summary = {};
  EXPECT_EQ(alloy_leak_get_summary(leak_, &summary), ALLOY_OK);
  return summary;
}

uint64_t CheckedHeap::DebugFaults() {
  EXPECT_EQ(alloy_debug_check_all(debug_), ALLOY_OK);
  alloy_debug_counts counts = {};
  alloy_debug_get_counts(debug_, &counts);
  return counts.faults;
}

}  // namespace alloy_test
