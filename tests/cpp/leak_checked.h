// A resource wrapped in the leak decorator for the length of one test: every
// block the C++ face takes goes through it, and when the test ends it must
// report no block still live.
#ifndef ALLOY_TESTS_CPP_LEAK_CHECKED_H
#define ALLOY_TESTS_CPP_LEAK_CHECKED_H

#include <gtest/gtest.h>

#include <cstddef>

#include "alloy/leak.h"
#include "alloy/resource.h"

namespace alloy_test {

class LeakChecked {
 public:
  explicit LeakChecked(alloy_resource *inner) {
    alloy_leak_config config = {};
    config.depth = 4;  // enough to find a leak's caller; cheap under memcheck
    EXPECT_EQ(alloy_leak_create(inner, &config, &leak_), ALLOY_OK);
  }

  ~LeakChecked() {
    if (leak_ == nullptr) return;
    EXPECT_EQ(LiveBlocks(), 0u) << "the C++ face left blocks live";
    alloy_leak_destroy(leak_);
  }

  LeakChecked(const LeakChecked &) = delete;
  LeakChecked &operator=(const LeakChecked &) = delete;

  alloy_resource *resource() const { return alloy_leak_resource(leak_); }

  size_t LiveBlocks() const {
    alloy_leak_summary summary = {};
    EXPECT_EQ(alloy_leak_get_summary(leak_, &summary), ALLOY_OK);
    return summary.blocks;
  }

 private:
  alloy_leak *leak_ = nullptr;
};

}  // namespace alloy_test

#endif  // ALLOY_TESTS_CPP_LEAK_CHECKED_H
