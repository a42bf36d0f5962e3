/* The calling thread's stack of current memory tags. */
#include "alloy/tagged.h"

typedef struct tag_scope_stack {
  alloy_tag tags[ALLOY_TAG_SCOPE_DEPTH];
  unsigned depth;
} tag_scope_stack;

/* Thread-local by nature: a scope is "what this thread is doing now". */
static ALLOY_THREAD_LOCAL tag_scope_stack scope_stack;

alloy_status alloy_tag_push(alloy_tag tag) {
  if (tag >= ALLOY_TAG_CAPACITY) return ALLOY_E_INVALID_ARGUMENT;
  if (scope_stack.depth == ALLOY_TAG_SCOPE_DEPTH) return ALLOY_E_CAPACITY;
  scope_stack.tags[scope_stack.depth++] = tag;
  return ALLOY_OK;
}

alloy_status alloy_tag_pop(void) {
  if (scope_stack.depth == 0) return ALLOY_E_INVALID_ARGUMENT;
  --scope_stack.depth;
  return ALLOY_OK;
}

alloy_tag alloy_tag_current(void) {
  return scope_stack.depth == 0 ? (alloy_tag)ALLOY_TAG_UNTAGGED : scope_stack.tags[scope_stack.depth - 1];
}
