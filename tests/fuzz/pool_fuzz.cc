// Fuzzes the plain pool against the shadow model: requests above the block
// size or alignment are refused, live_blocks follows the model.
#include "tests/fuzz/pool_subject.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const alloy_fuzz::Subject subject = alloy_fuzz::PoolSubject(false);
  alloy_fuzz::RunShadow(subject, data, size);
  return 0;
}
