// Caps the address space a test process may still map, so that memory a
// release path failed to give back runs out of it. Needs nothing of alloy:
// programs built without it use this too.
#ifndef ALLOY_TESTS_SUPPORT_ADDRESS_SPACE_H
#define ALLOY_TESTS_SUPPORT_ADDRESS_SPACE_H

#include <sys/resource.h>
#include <unistd.h>

#include <cstddef>
#include <cstdio>

namespace alloy_test {

// The process's current size plus `room`; false when it cannot be set.
inline bool LimitAddressSpace(size_t room) {
  FILE *statm = std::fopen("/proc/self/statm", "r");
  if (statm == nullptr) return false;
  unsigned long pages = 0;
  bool read = std::fscanf(statm, "%lu", &pages) == 1;
  std::fclose(statm);
  if (!read) return false;
  rlim_t limit = static_cast<rlim_t>(pages) * static_cast<rlim_t>(sysconf(_SC_PAGESIZE)) + room;
  struct rlimit rl = {limit, limit};
  return setrlimit(RLIMIT_AS, &rl) == 0;
}

}  // namespace alloy_test

#endif  // ALLOY_TESTS_SUPPORT_ADDRESS_SPACE_H
