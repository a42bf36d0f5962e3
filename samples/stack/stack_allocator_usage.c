/* stack_allocator_usage — the stack strategy under a recursive algorithm.
 *
 * A merge sort needs a temporary buffer at every level of recursion, and
 * the buffers die in exactly the reverse order of their birth: a stack.
 * Each level allocates its buffer, recurses, and frees it (LIFO), or scopes
 * a batch of temporaries with ALLOY_SCOPE. A deliberate out-of-order free
 * at the end shows the report a programming error gets (with a handler
 * that records instead of aborting).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "alloy/allocator.h"
#include "alloy/fault.h"
#include "alloy/stack.h"

static alloy_status merge_sort(alloy_allocator scratch, int32_t *values, size_t count) {
  if (count < 2) return ALLOY_OK;
  const size_t half = count / 2;
  ALLOY_TRY(merge_sort(scratch, values, half));
  ALLOY_TRY(merge_sort(scratch, values + half, count - half));
  alloy_block buffer;
  ALLOY_TRY(alloy_alloc(scratch, count * sizeof *values, ALLOY_ALIGNOF(int32_t), &buffer));
  int32_t *merged = buffer.ptr;
  size_t i = 0, j = half, k = 0;
  while (i < half && j < count) merged[k++] = values[i] <= values[j] ? values[i++] : values[j++];
  while (i < half) merged[k++] = values[i++];
  while (j < count) merged[k++] = values[j++];
  memcpy(values, merged, count * sizeof *values);
  return alloy_free(scratch, buffer, ALLOY_ALIGNOF(int32_t)); /* the top block: reclaimed at once */
}

static void print_fault(const alloy_fault *fault, void *context) {
  char message[256];
  alloy_fault_format(fault, message, sizeof message);
  printf("reported: %s\n", message);
  ++*(int *)context;
}

int main(void) {
  alloy_stack_config config = alloy_stack_config_default((size_t)64 << 20);
  alloy_stack *stack;
  alloy_status status = alloy_stack_create(&config, &stack);
  if (status != ALLOY_OK) {
    fprintf(stderr, "cannot create the stack: %s\n", alloy_status_string(status));
    return 1;
  }
  alloy_allocator scratch = alloy_allocator_of(alloy_stack_resource(stack));

  for (int round = 0; round < 3; ++round) {
    ALLOY_SCOPE(scratch); /* the input itself is scratch too */
    const size_t count = (size_t)100000 << round;
    int32_t *values;
    if (ALLOY_NEW_ARRAY(scratch, int32_t, count, &values) != ALLOY_OK) return 1;
    uint32_t seed = 12345u + (uint32_t)round;
    for (size_t i = 0; i < count; ++i) {
      seed = seed * 1664525u + 1013904223u;
      values[i] = (int32_t)(seed >> 1);
    }
    status = merge_sort(scratch, values, count);
    int sorted = status == ALLOY_OK;
    for (size_t i = 1; sorted && i < count; ++i) sorted = values[i - 1] <= values[i];
    alloy_stack_stats stats;
    alloy_stack_get_stats(stack, &stats);
    printf("round %d: sorted %zu values: %s; used %zu KiB, peak %zu KiB, committed %zu KiB\n", round, count,
           sorted ? "ok" : alloy_status_string(status), stats.used >> 10, stats.peak_used >> 10,
           stats.committed >> 10);
  }

  int faults = 0;
  alloy_fault_set_handler(print_fault, &faults);
  alloy_block first, second;
  if (alloy_alloc(scratch, 64, 16, &first) != ALLOY_OK || alloy_alloc(scratch, 64, 16, &second) != ALLOY_OK) return 1;
  status = alloy_free(scratch, first, 16); /* not the top: a programming error */
  printf("out-of-order free returned %s\n", alloy_status_name(status));
  alloy_fault_set_handler(NULL, NULL);
  ALLOY_IGNORE_STATUS(alloy_free(scratch, second, 16));
  ALLOY_IGNORE_STATUS(alloy_free(scratch, first, 16));

  alloy_stack_destroy(stack);
  return faults == 1 ? 0 : 1;
}
