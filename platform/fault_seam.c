/* The fault seam's one hook: empty unless the test library installs one. */
#include "alloy/fault_seam.h"

alloy_fault_seam_hook_fn alloy_fault_seam_hook = NULL;

void alloy_fault_seam_install(alloy_fault_seam_hook_fn hook) {
  __atomic_store_n(&alloy_fault_seam_hook, hook, __ATOMIC_RELAXED);
}
