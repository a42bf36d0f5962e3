/* alloy/fault_injection.h — make the platform refuse on purpose.
 *
 * Tests use this to drive every "the OS said no" path: after `skip` more
 * successful calls of `op` on the calling thread, the next `count` calls fail
 * as the OS would (reserve and heap: ALLOY_E_OUT_OF_MEMORY; commit:
 * ALLOY_E_OUT_OF_MEMORY). The state is per thread, so tests running on other
 * threads are unaffected.
 */
#ifndef ALLOY_FAULT_INJECTION_H
#define ALLOY_FAULT_INJECTION_H

#include <stdbool.h>

#include "alloy/compiler.h"

ALLOY_EXTERN_C_BEGIN

typedef enum alloy_platform_op {
  ALLOY_PLATFORM_RESERVE,   /* alloy_vm_reserve, alloy_vm_map, alloy_huge_pages_map */
  ALLOY_PLATFORM_COMMIT,    /* alloy_vm_commit */
  ALLOY_PLATFORM_HEAP,      /* alloy_heap_allocate, alloy_heap_reallocate */
  ALLOY_PLATFORM_OP_COUNT
} alloy_platform_op;

/* After `skip` successes, the next `count` calls of `op` on this thread fail. */
void alloy_platform_fail_next(alloy_platform_op op, unsigned skip, unsigned count);

/* Cancels every pending injected failure on this thread. */
void alloy_platform_fail_reset(void);

/* Consumes one call of `op`: true when it is to fail. Used by the platform itself. */
bool alloy_platform_should_fail(alloy_platform_op op);

ALLOY_EXTERN_C_END

#endif /* ALLOY_FAULT_INJECTION_H */
