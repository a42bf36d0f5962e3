// Fuzzes a concurrent_free pool against the shadow model: the owner (this
// thread) allocates, the input picks which of three threads frees each block.
#include "tests/fuzz/pool_subject.h"

ALLOY_SHADOW_FUZZ_TARGET([] { return alloy_fuzz::PoolSubject(true); })
