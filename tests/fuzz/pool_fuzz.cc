// Fuzzes the plain pool against the shadow model: requests above the block
// size or alignment are refused, live_blocks follows the model.
#include "tests/fuzz/pool_subject.h"

ALLOY_SHADOW_FUZZ_TARGET([] { return alloy_fuzz::PoolSubject(false); })
