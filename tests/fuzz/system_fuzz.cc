// Fuzzes the system strategy through the shared resource driver.
#include <cstddef>
#include <cstdint>

#include "alloy/system.h"
#include "tests/fuzz/resource_fuzz_driver.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  alloy_fuzz::DriverLimits limits;
  limits.max_size = 1 << 13;
  limits.max_alignment = 4096;
  alloy_fuzz::RunOperations(alloy_system_resource(), limits, data, size);
  return 0;
}
