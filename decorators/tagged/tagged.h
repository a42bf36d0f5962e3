/* alloy/tagged.h — the tagged decorator: memory tags with budgets.
 *
 * Every allocation carries a memory tag (alloy/memory_tag.h): the one given
 * to alloy_tagged_allocate, or for the plain resource allocate the calling
 * thread's current tag scope (alloy_tag_push / alloy_tag_pop; untagged when
 * none). Per tag the decorator keeps live bytes, their peak, counts and a
 * budget. An allocation that would take a tag's live bytes above its budget
 * allocates nothing, fires the alert callback and returns
 * ALLOY_E_BUDGET_EXCEEDED.
 *
 * Each block carries a 16-byte header (its tag and charged size) inside a
 * larger inner allocation, so frees need no lookup and the decorator works
 * over any resource. Budgets count requested bytes. A free reads the header
 * in front of the pointer; a foreign or freed block is reported through
 * alloy_fault_report (or left for an inner debug decorator to name), but
 * reading its header is only safe under a debug decorator stacked outside.
 * Scope markers are not offered: a rewind would free blocks uncounted. Counters and budgets are
 * atomics: the decorator may be shared between threads when the inner is
 * thread-safe.
 *
 * State: one object from the platform heap (alloy_heap_allocate). The inner
 * resource stays the caller's.
 */
#ifndef ALLOY_TAGGED_H
#define ALLOY_TAGGED_H

#include <stddef.h>
#include <stdint.h>

#include "alloy/compiler.h"
#include "alloy/memory_tag.h"
#include "alloy/resource.h"
#include "alloy/status.h"

ALLOY_EXTERN_C_BEGIN

typedef struct alloy_tagged alloy_tagged;

/* Called, on the allocating thread, when a request is refused for its budget. */
typedef void (*alloy_tagged_alert)(void *context, alloy_tag tag, const char *tag_name, size_t requested,
                                   size_t live_bytes, size_t budget);

typedef struct alloy_tagged_config {
  size_t budgets[ALLOY_TAG_CAPACITY]; /* bytes; 0 = unlimited */
  alloy_tagged_alert on_budget_exceeded; /* may be NULL */
  void *alert_context;
} alloy_tagged_config;

typedef struct alloy_tag_stats {
  const char *name;
  size_t live_bytes;
  size_t peak_live_bytes;
  size_t budget; /* 0 = unlimited */
  uint64_t allocations;
  uint64_t deallocations;
  uint64_t budget_refusals;
} alloy_tag_stats;

/* config may be NULL (no budgets). */
ALLOY_NODISCARD alloy_status alloy_tagged_create(alloy_resource *inner, const alloy_tagged_config *config,
                                                 alloy_tagged **out);
void alloy_tagged_destroy(alloy_tagged *tagged);
alloy_resource *alloy_tagged_resource(alloy_tagged *tagged);

/* Allocates under an explicit tag (ALLOY_E_INVALID_ARGUMENT for a tag at or
 * above ALLOY_TAG_CAPACITY). */
ALLOY_NODISCARD alloy_status alloy_tagged_allocate(alloy_tagged *tagged, alloy_tag tag, size_t size, size_t align,
                                                   alloy_block *out);

/* Changes a budget at run time (0 = unlimited). Blocks already live stay. */
ALLOY_NODISCARD alloy_status alloy_tagged_set_budget(alloy_tagged *tagged, alloy_tag tag, size_t budget);

/* Names a (user) tag in reports; `name` must outlive the decorator. */
ALLOY_NODISCARD alloy_status alloy_tagged_set_tag_name(alloy_tagged *tagged, alloy_tag tag, const char *name);

ALLOY_NODISCARD alloy_status alloy_tagged_get_tag_stats(const alloy_tagged *tagged, alloy_tag tag,
                                                        alloy_tag_stats *out);

/* One line per tag that has seen any activity (name, live, peak, budget,
 * counts), like an engine's per-tag memory report. Returns the length the
 * full text needs, as snprintf does. */
size_t alloy_tagged_dump_text(const alloy_tagged *tagged, char *buffer, size_t capacity);

/* The tag a live block of this decorator was allocated under. */
ALLOY_NODISCARD alloy_status alloy_tagged_tag_of(const alloy_tagged *tagged, alloy_block block, alloy_tag *out);

/* The calling thread's tag scope: allocations through any tagged decorator's
 * plain allocate use the innermost pushed tag. Scopes nest up to
 * ALLOY_TAG_SCOPE_DEPTH deep (ALLOY_E_CAPACITY beyond); popping an empty
 * stack is ALLOY_E_INVALID_ARGUMENT. */
#define ALLOY_TAG_SCOPE_DEPTH 32
ALLOY_NODISCARD alloy_status alloy_tag_push(alloy_tag tag);
ALLOY_NODISCARD alloy_status alloy_tag_pop(void);
alloy_tag alloy_tag_current(void);

ALLOY_EXTERN_C_END

#endif /* ALLOY_TAGGED_H */
