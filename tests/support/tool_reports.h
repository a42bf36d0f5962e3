// Proving that ASan and memcheck see alloy's custom memory: a test releases a
// block (free, reset, rewind) and then asks that touching it be reported.
#ifndef ALLOY_TESTS_SUPPORT_TOOL_REPORTS_H
#define ALLOY_TESTS_SUPPORT_TOOL_REPORTS_H

namespace alloy_test {

// Reads one byte at `released` in a death test: under ASan the child must die
// with "use-after-poison", under memcheck (the valgrind config) it must exit
// with memcheck's error exit code. Skips the test in any other build, where
// nothing can notice the access.
void ExpectToolsReport(const void *released);

}  // namespace alloy_test

#endif  // ALLOY_TESTS_SUPPORT_TOOL_REPORTS_H
