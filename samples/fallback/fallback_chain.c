/* Sample: a fallback chain tlsf -> system.
 *
 * The fixed TLSF heap serves what it can; requests it cannot (too large, too
 * aligned, or the heap is full) fall through to the system heap. Frees and
 * reallocations find the owning member by address. A small-object heap goes
 * in front of the TLSF heap the same way. */
#include <stdio.h>

#include "alloy/allocator.h"
#include "alloy/fallback.h"
#include "alloy/system.h"
#include "alloy/tlsf.h"

static const char *owner_name(const alloy_fallback *chain, alloy_block block) {
  alloy_resource *owner = alloy_fallback_owner(chain, block);
  return owner != NULL ? alloy_resource_name(owner) : "nobody";
}

int main(void) {
  alloy_tlsf_config config = alloy_tlsf_config_default();
  config.initial_pool_size = 256 << 10;
  config.growth = ALLOY_TLSF_GROW_NONE; /* a fixed budget for this subsystem */
  alloy_tlsf *tlsf;
  if (alloy_tlsf_create(&config, &tlsf) != ALLOY_OK) return 1;

  alloy_resource *members[] = {alloy_tlsf_resource(tlsf), alloy_system_resource()};
  alloy_fallback chain;
  if (alloy_fallback_init(&chain, members, 2) != ALLOY_OK) return 1;
  alloy_allocator a = alloy_allocator_of(alloy_fallback_resource(&chain));

  alloy_block medium, large, aligned;
  if (alloy_alloc(a, 4000, 16, &medium) != ALLOY_OK || alloy_alloc(a, 1 << 20, 16, &large) != ALLOY_OK ||
      alloy_alloc(a, 256, 1 << 16, &aligned) != ALLOY_OK)
    return 1;
  printf("4000 B          -> %s\n", owner_name(&chain, medium));
  printf("1 MiB           -> %s (larger than the TLSF budget)\n", owner_name(&chain, large));
  printf("64 KiB aligned  -> %s (TLSF serves alignments up to a page)\n", owner_name(&chain, aligned));

  /* Growing past what TLSF can hold moves the block to the next member. */
  if (alloy_reallocate(a, &medium, 512 << 10, 16) != ALLOY_OK) return 1;
  printf("grown to 512 KiB -> %s\n", owner_name(&chain, medium));

  ALLOY_IGNORE_STATUS(alloy_free(a, medium, 16));
  ALLOY_IGNORE_STATUS(alloy_free(a, large, 16));
  ALLOY_IGNORE_STATUS(alloy_free(a, aligned, 1 << 16));
  alloy_tlsf_destroy(tlsf);
  return 0;
}
