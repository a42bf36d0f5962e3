/* Names and messages for alloy_status. */
#include "alloy/status.h"

typedef struct status_text {
  const char *name;
  const char *message;
} status_text;

static const status_text status_texts[ALLOY_STATUS_COUNT] = {
    [ALLOY_OK] = {"ALLOY_OK", "success"},
    [ALLOY_E_OUT_OF_MEMORY] = {"ALLOY_E_OUT_OF_MEMORY", "out of memory"},
    [ALLOY_E_INVALID_ARGUMENT] = {"ALLOY_E_INVALID_ARGUMENT",
                                  "invalid argument (alignment not a power of two, or a size that overflows)"},
    [ALLOY_E_UNSUPPORTED] = {"ALLOY_E_UNSUPPORTED", "request not supported by this resource"},
    [ALLOY_E_CAPACITY] = {"ALLOY_E_CAPACITY", "the resource's capacity is exhausted"},
    [ALLOY_E_BUDGET_EXCEEDED] = {"ALLOY_E_BUDGET_EXCEEDED", "the memory tag's budget would be exceeded"},
    [ALLOY_E_PLATFORM] = {"ALLOY_E_PLATFORM", "an operating-system call failed"},
    [ALLOY_E_UNAVAILABLE] = {"ALLOY_E_UNAVAILABLE", "the feature is not available on this machine"},
    [ALLOY_E_DOUBLE_FREE] = {"ALLOY_E_DOUBLE_FREE", "double free"},
    [ALLOY_E_NOT_OWNED] = {"ALLOY_E_NOT_OWNED", "the block does not belong to this resource"},
    [ALLOY_E_SIZE_MISMATCH] = {"ALLOY_E_SIZE_MISMATCH", "freed with the wrong size"},
    [ALLOY_E_ALIGN_MISMATCH] = {"ALLOY_E_ALIGN_MISMATCH", "freed with the wrong alignment"},
    [ALLOY_E_OUT_OF_ORDER] = {"ALLOY_E_OUT_OF_ORDER", "freed out of LIFO order"},
    [ALLOY_E_CORRUPTION] = {"ALLOY_E_CORRUPTION", "memory corruption detected"},
    [ALLOY_E_INTERIOR_POINTER] = {"ALLOY_E_INTERIOR_POINTER", "freed a pointer into the middle of a block"},
};

static const status_text *status_lookup(alloy_status status) {
  if ((unsigned)status >= ALLOY_STATUS_COUNT) return 0;
  return &status_texts[status];
}

const char *alloy_status_name(alloy_status status) {
  const status_text *text = status_lookup(status);
  return text ? text->name : "ALLOY_STATUS_UNKNOWN";
}

const char *alloy_status_string(alloy_status status) {
  const status_text *text = status_lookup(status);
  return text ? text->message : "unknown status";
}
