// Counting page faults in tests: pre-warm and commit-policy tests assert on
// minor-fault counts (never on time), after checking that this machine counts
// them one per first-touched page at all.
#ifndef ALLOY_TESTS_SUPPORT_PAGE_FAULTS_H
#define ALLOY_TESTS_SUPPORT_PAGE_FAULTS_H

namespace alloy_test {

// Minor page faults of the process so far.
long MinorFaults();

// Minor faults count one per first-touched small page unless THP backs every
// mapping or a tool's shadow memory takes faults of its own: tsan's, and
// memcheck's (its shadow of a pre-warmed range is faulted in on the first
// write, about one fault per 16 pages, so valgrind runs skip these checks).
// Checked once on two scratch mappings, one touched lazily and one populated
// first, instead of assumed.
bool FaultCountsAreReliable();

}  // namespace alloy_test

#endif  // ALLOY_TESTS_SUPPORT_PAGE_FAULTS_H
