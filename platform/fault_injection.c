/* Per-thread countdowns that make chosen platform calls fail, behind the fault seam. */
#include "alloy/fault_injection.h"

#include <stdbool.h>

typedef struct injected_failure {
  unsigned skip;
  unsigned count;
} injected_failure;

static ALLOY_THREAD_LOCAL injected_failure injected[ALLOY_PLATFORM_OP_COUNT];
static ALLOY_THREAD_LOCAL bool any_injected;

/* The seam's hook: consumes one call of `op`, true when it is to fail. */
static bool should_fail(alloy_platform_op op) {
  if (ALLOY_LIKELY(!any_injected)) return false;
  injected_failure *failure = &injected[op];
  if (failure->count == 0) return false;
  if (failure->skip > 0) {
    --failure->skip;
    return false;
  }
  --failure->count;
  return true;
}

void alloy_platform_fail_next(alloy_platform_op op, unsigned skip, unsigned count) {
  if ((unsigned)op >= ALLOY_PLATFORM_OP_COUNT) return;
  /* Installed on first use: until a test asks for a failure, none is pending. */
  alloy_fault_seam_install(should_fail);
  injected[op].skip = skip;
  injected[op].count = count;
  any_injected = true;
}

void alloy_platform_fail_reset(void) {
  for (unsigned i = 0; i < ALLOY_PLATFORM_OP_COUNT; ++i) injected[i] = (injected_failure){0, 0};
  any_injected = false;
}
