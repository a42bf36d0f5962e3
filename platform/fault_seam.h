/* alloy/fault_seam.h — where the platform asks whether a call is to fail.
 *
 * The platform calls that can be made to refuse (reserve, commit, heap) ask
 * alloy_fault_seam_refuses() first. In production nothing is installed: the
 * question is one load and one untaken branch next to a system call. The
 * test-only library //platform:fault_injection installs its hook the first
 * time a test asks for a failure (alloy/fault_injection.h); production code
 * never links it.
 *
 * The hook crosses targets (vm, heap and huge_pages consult it, the test
 * library installs it), and tests link each target as its own shared library,
 * so it keeps default visibility rather than ALLOY_HIDDEN. It is internal to
 * //platform all the same: nothing outside the package depends on this target.
 */
#ifndef ALLOY_FAULT_SEAM_H
#define ALLOY_FAULT_SEAM_H

#include <stdbool.h>
#include <stddef.h>

#include "alloy/compiler.h"

ALLOY_EXTERN_C_BEGIN

/* The platform calls a test can make fail. */
typedef enum alloy_platform_op {
  ALLOY_PLATFORM_RESERVE,   /* alloy_vm_reserve, alloy_vm_map, alloy_huge_pages_map */
  ALLOY_PLATFORM_COMMIT,    /* alloy_vm_commit */
  ALLOY_PLATFORM_HEAP,      /* alloy_heap_allocate, alloy_heap_reallocate */
  ALLOY_PLATFORM_OP_COUNT
} alloy_platform_op;

/* Consumes one call of `op`: true when it is to fail. */
typedef bool (*alloy_fault_seam_hook_fn)(alloy_platform_op op);

/* NULL until a test installs a hook; written once, read with relaxed atomics
 * (the hook keeps its state per thread, so there is nothing to publish). */
extern alloy_fault_seam_hook_fn alloy_fault_seam_hook;

/* Installs `hook` for every thread; later calls of the platform consult it. */
void alloy_fault_seam_install(alloy_fault_seam_hook_fn hook);

/* Whether this call of `op` is to fail as the OS would refuse it. */
static ALLOY_ALWAYS_INLINE bool alloy_fault_seam_refuses(alloy_platform_op op) {
  alloy_fault_seam_hook_fn hook = __atomic_load_n(&alloy_fault_seam_hook, __ATOMIC_RELAXED);
  return ALLOY_UNLIKELY(hook != NULL) && hook(op);
}

ALLOY_EXTERN_C_END

#endif /* ALLOY_FAULT_SEAM_H */
