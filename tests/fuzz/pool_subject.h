// The pool as a shadow-model subject, plain or in its concurrent (owner
// allocates, any thread frees) mode; both pool targets share it.
#ifndef ALLOY_TESTS_FUZZ_POOL_SUBJECT_H
#define ALLOY_TESTS_FUZZ_POOL_SUBJECT_H

#include "tests/fuzz/shadow_model.h"

namespace alloy_fuzz {

Subject PoolSubject(bool concurrent);

}  // namespace alloy_fuzz

#endif  // ALLOY_TESTS_FUZZ_POOL_SUBJECT_H
