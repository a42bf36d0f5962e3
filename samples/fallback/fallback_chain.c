/* Sample: the classic chain small_object -> tlsf -> system.
 *
 * The small-object heap takes the many tiny requests, the fixed TLSF heap the
 * medium ones it can hold; anything else (too large, too aligned, or the TLSF
 * budget is spent) falls through to the system heap. Frees and reallocations
 * find the owning member by address, without reading the block. */
#include <stdio.h>

#include "alloy/allocator.h"
#include "alloy/fallback.h"
#include "alloy/small_object.h"
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

  alloy_small_object *small;
  if (alloy_small_object_create(NULL, &small) != ALLOY_OK) return 1;

  alloy_resource *members[] = {alloy_small_object_resource(small), alloy_tlsf_resource(tlsf),
                               alloy_system_resource()};
  alloy_fallback chain;
  if (alloy_fallback_init(&chain, members, 3) != ALLOY_OK) return 1;
  alloy_allocator a = alloy_allocator_of(alloy_fallback_resource(&chain));

  alloy_block tiny, medium, large, aligned;
  if (alloy_alloc(a, 48, 16, &tiny) != ALLOY_OK || alloy_alloc(a, 4000, 16, &medium) != ALLOY_OK ||
      alloy_alloc(a, 1 << 20, 16, &large) != ALLOY_OK || alloy_alloc(a, 256, 1 << 16, &aligned) != ALLOY_OK)
    return 1;
  printf("48 B            -> %s\n", owner_name(&chain, tiny));
  printf("4000 B          -> %s (above the small-object classes)\n", owner_name(&chain, medium));
  printf("1 MiB           -> %s (larger than the TLSF budget)\n", owner_name(&chain, large));
  printf("64 KiB aligned  -> %s (TLSF serves alignments up to a page)\n", owner_name(&chain, aligned));

  /* Growing past what TLSF can hold moves the block to the next member. */
  if (alloy_reallocate(a, &medium, 512 << 10, 16) != ALLOY_OK) return 1;
  printf("grown to 512 KiB -> %s\n", owner_name(&chain, medium));

  /* A tiny block that grows leaves the small-object heap for TLSF. */
  if (alloy_reallocate(a, &tiny, 2000, 16) != ALLOY_OK) return 1;
  printf("48 B grown to 2000 B -> %s\n", owner_name(&chain, tiny));

  ALLOY_IGNORE_STATUS(alloy_free(a, tiny, 16));
  ALLOY_IGNORE_STATUS(alloy_free(a, medium, 16));
  ALLOY_IGNORE_STATUS(alloy_free(a, large, 16));
  ALLOY_IGNORE_STATUS(alloy_free(a, aligned, 1 << 16));
  alloy_small_object_destroy(small);
  alloy_tlsf_destroy(tlsf);
  return 0;
}
