#include "tests/support/tool_reports.h"

#include <cstdlib>

#include <gtest/gtest.h>

#include "alloy/compiler.h"
#include "tests/support/support.h"

namespace alloy_test {
namespace {

// The exit code .bazelrc gives memcheck (--error-exitcode).
constexpr int kMemcheckErrorExitCode = 97;

// Not inlined, so the read stays a real access the tools can see.
ALLOY_NOINLINE void TouchReleased(const void *ptr) {
  volatile char value = *static_cast<const volatile char *>(ptr);
  (void)value;
}

}  // namespace

void ExpectToolsReport(const void *released) {
  if (kAsan) {
    EXPECT_DEATH(TouchReleased(released), "use-after-poison");
  } else if (UnderValgrind()) {
    EXPECT_EXIT(
        {
          TouchReleased(released);
          std::exit(0);
        },
        ::testing::ExitedWithCode(kMemcheckErrorExitCode), "");
  } else {
    GTEST_SKIP() << "needs ASan or memcheck";
  }
}

}  // namespace alloy_test
