/* The process-wide fault handler and its default: print one line, abort. */
#include "alloy/fault.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

/* Handler and context are installed together; readers take one consistent pair. */
typedef struct fault_sink {
  alloy_fault_handler handler;
  void *context;
} fault_sink;

static fault_sink installed_sinks[2];
static _Atomic(const fault_sink *) current_sink = NULL;
static atomic_uint sink_generation = 0;

void alloy_fault_set_handler(alloy_fault_handler handler, void *context) {
  if (handler == NULL) {
    atomic_store_explicit(&current_sink, NULL, memory_order_release);
    return;
  }
  /* Alternate between two slots so a concurrent reporter never sees a
   * half-written pair. Installing handlers is a set-up step, not a race
   * alloy arbitrates further. */
  fault_sink *slot = &installed_sinks[atomic_fetch_add(&sink_generation, 1) & 1u];
  slot->handler = handler;
  slot->context = context;
  atomic_store_explicit(&current_sink, slot, memory_order_release);
}

int alloy_fault_format(const alloy_fault *fault, char *buffer, size_t capacity) {
  return snprintf(buffer, capacity,
                  "alloy: %s (%s) in resource '%s': block %p, size %zu (expected %zu), align %zu (expected %zu)%s%s",
                  alloy_status_name(fault->kind), alloy_status_string(fault->kind),
                  fault->resource ? fault->resource : "?", fault->ptr, fault->size, fault->expected_size,
                  fault->align, fault->expected_align, fault->detail ? ": " : "",
                  fault->detail ? fault->detail : "");
}

static void default_fault_handler(const alloy_fault *fault) {
  char message[512];
  alloy_fault_format(fault, message, sizeof message);
  fprintf(stderr, "%s\n", message);
  fflush(stderr);
  abort();
}

alloy_status alloy_fault_report(const alloy_fault *fault) {
  const fault_sink *sink = atomic_load_explicit(&current_sink, memory_order_acquire);
  if (sink == NULL)
    default_fault_handler(fault);
  else
    sink->handler(fault, sink->context);
  return fault->kind;
}

void alloy_fault_assert_failed(const char *expression, const char *file, int line) {
  char detail[256];
  snprintf(detail, sizeof detail, "assertion '%s' failed at %s:%d", expression, file, line);
  alloy_fault fault = {.kind = ALLOY_E_CORRUPTION, .resource = "internal", .detail = detail};
  alloy_fault_report(&fault);
}
