#include "tests/support/page_faults.h"

#include <sys/resource.h>

#include <cstddef>

#include "alloy/huge_pages.h"
#include "alloy/vm.h"
#include "tests/support/support.h"

namespace alloy_test {

long MinorFaults() {
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_minflt;
}

bool FaultCountsAreReliable() {
  static const bool reliable = [] {
    if (alloy_thp_current_mode() == ALLOY_THP_ALWAYS || kTsan || UnderValgrind()) return false;
    const size_t page = alloy_vm_page_size();
    const size_t pages = 256;
    void *lazy = nullptr;
    void *warm = nullptr;
    if (alloy_vm_map(pages * page, page, &lazy) != ALLOY_OK) return false;
    if (alloy_vm_map(pages * page, page, &warm) != ALLOY_OK) {
      ALLOY_IGNORE_STATUS(alloy_vm_release(lazy, pages * page));
      return false;
    }
    alloy_vm_populate(warm, pages * page);
    long faults[2];
    void *ranges[2] = {lazy, warm};
    for (int i = 0; i < 2; ++i) {
      volatile char *bytes = static_cast<char *>(ranges[i]);
      struct rusage before, after;
      getrusage(RUSAGE_SELF, &before);
      for (size_t offset = 0; offset < pages * page; offset += page) bytes[offset] = 1;
      getrusage(RUSAGE_SELF, &after);
      faults[i] = after.ru_minflt - before.ru_minflt;
    }
    ALLOY_IGNORE_STATUS(alloy_vm_release(lazy, pages * page));
    ALLOY_IGNORE_STATUS(alloy_vm_release(warm, pages * page));
    const long n = static_cast<long>(pages);
    return faults[0] >= n * 3 / 4 && faults[0] <= n * 5 / 4 && faults[1] <= n / 32;
  }();
  return reliable;
}

}  // namespace alloy_test
