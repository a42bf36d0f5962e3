/* The system strategy through alloy_allocator: typed objects, a growing
 * array, an owned scratch buffer, and what a bad request returns. */
#include <stdio.h>
#include <string.h>

#include "alloy/allocator.h"
#include "alloy/system.h"

typedef struct tool_record {
  char name[32];
  int uses;
} tool_record;

int main(void) {
  alloy_allocator heap = alloy_allocator_of(alloy_system_resource());

  tool_record *record;
  if (ALLOY_NEW(heap, tool_record, &record) != ALLOY_OK) return 1;
  snprintf(record->name, sizeof record->name, "asset-cooker");
  record->uses = 3;

  /* A log that grows by doubling; the block always knows its real size. */
  alloy_block log;
  if (alloy_alloc(heap, 16, 8, &log) != ALLOY_OK) return 1;
  size_t length = 0;
  for (int line = 0; line < 100; ++line) {
    char text[32];
    size_t n = (size_t)snprintf(text, sizeof text, "line %d\n", line);
    if (length + n > log.size && alloy_reallocate(heap, &log, 2 * (length + n), 8) != ALLOY_OK) return 1;
    memcpy((char *)log.ptr + length, text, n);
    length += n;
  }
  printf("system: %s used %d times; log holds %zu bytes in a block of %zu\n", record->name, record->uses, length,
         log.size);

  {
    ALLOY_OWNED_BLOCK scratch = alloy_owned_block_empty();
    if (alloy_owned_allocate(heap, 1 << 20, 4096, &scratch) != ALLOY_OK) return 1;
    memset(scratch.block.ptr, 0, scratch.block.size);
    printf("system: 1 MiB page-aligned scratch at %p, released at scope end\n", scratch.block.ptr);
  }

  alloy_block bad;
  printf("system: alignment 24 -> %s\n", alloy_status_name(alloy_alloc(heap, 64, 24, &bad)));
  printf("system: size SIZE_MAX -> %s\n", alloy_status_name(alloy_alloc(heap, (size_t)-1, 8, &bad)));

  alloy_free(heap, log, 8);
  ALLOY_DELETE(heap, tool_record, record);
  return 0;
}
