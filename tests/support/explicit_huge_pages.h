// A fixture for tests of explicit (hugetlbfs) huge pages, which this machine
// kind does not reserve by default.
#ifndef ALLOY_TESTS_SUPPORT_EXPLICIT_HUGE_PAGES_H
#define ALLOY_TESTS_SUPPORT_EXPLICIT_HUGE_PAGES_H

#include <gtest/gtest.h>

namespace alloy_test {

// Reserves two explicit huge pages for the test when fewer are free and the
// test runs as root, and restores the previous count afterwards. Otherwise it
// changes nothing, and the explicit path must report ALLOY_E_UNAVAILABLE.
class ExplicitHugePages : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

 private:
  long previous_ = 0;
  bool changed_ = false;
};

}  // namespace alloy_test

#endif  // ALLOY_TESTS_SUPPORT_EXPLICIT_HUGE_PAGES_H
