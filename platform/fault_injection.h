/* alloy/fault_injection.h — make the platform refuse on purpose.
 *
 * Tests use this to drive every "the OS said no" path: after `skip` more
 * successful calls of `op` on the calling thread, the next `count` calls fail
 * as the OS would (reserve and heap: ALLOY_E_OUT_OF_MEMORY; commit:
 * ALLOY_E_OUT_OF_MEMORY). The state is per thread, so tests running on other
 * threads are unaffected.
 *
 * Test-only: the target //platform:fault_injection is testonly and visible to
 * //tests alone. It plugs into the platform through alloy/fault_seam.h, which
 * stays a no-op in every program that does not link it.
 */
#ifndef ALLOY_FAULT_INJECTION_H
#define ALLOY_FAULT_INJECTION_H

#include "alloy/compiler.h"
#include "alloy/fault_seam.h" /* alloy_platform_op */

ALLOY_EXTERN_C_BEGIN

/* After `skip` successes, the next `count` calls of `op` on this thread fail. */
void alloy_platform_fail_next(alloy_platform_op op, unsigned skip, unsigned count);

/* Cancels every pending injected failure on this thread. */
void alloy_platform_fail_reset(void);

ALLOY_EXTERN_C_END

#endif /* ALLOY_FAULT_INJECTION_H */
