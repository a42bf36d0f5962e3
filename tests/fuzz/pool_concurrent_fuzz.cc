// Fuzzes a concurrent_free pool against the shadow model: the owner (this
// thread) allocates, the input picks which of three threads frees each block.
#include "tests/fuzz/pool_subject.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const alloy_fuzz::Subject subject = alloy_fuzz::PoolSubject(true);
  alloy_fuzz::RunShadow(subject, data, size);
  return 0;
}
