/* A consumer of @alloy//strategies/system: allocate, grow, free, report. */
#include <stdio.h>
#include <string.h>

#include "alloy/allocator.h"
#include "alloy/system.h"

int main(void) {
  alloy_allocator a = alloy_allocator_of(alloy_system_resource());
  alloy_block block;
  if (alloy_alloc(a, 64, 16, &block) != ALLOY_OK) return 1;
  strcpy(block.ptr, "hello from a consumer");
  if (alloy_reallocate(a, &block, 4096, 16) != ALLOY_OK) return 2;
  if (strcmp(block.ptr, "hello from a consumer") != 0) return 3;
  alloy_status bad = alloy_alloc(a, 64, 24, &block);
  printf("consumer: allocated through '%s', alignment 24 -> %s\n", alloy_resource_name(a.resource),
         alloy_status_name(bad));
  alloy_free(a, block, 16);
  return bad == ALLOY_E_INVALID_ARGUMENT ? 0 : 4;
}
