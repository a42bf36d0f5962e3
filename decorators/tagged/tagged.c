/* The tagged decorator: a tag header per block, atomic per-tag budgets. */
#include "alloy/tagged.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "alloy/fault.h"
#include "alloy/heap.h"
#include "alloy/live_bytes.h"
#include "alloy/text_sink.h"

/* Sits right before the user pointer. */
typedef struct tag_header {
  size_t charged; /* requested bytes counted against the tag */
  uint32_t tag;
  uint32_t magic;
} tag_header;

ALLOY_STATIC_ASSERT(sizeof(tag_header) == 16, "the tag header is 16 bytes");

#define TAG_MAGIC_LIVE 0x7A66A11Cu
#define TAG_MAGIC_FREED 0x7A66F4EEu

typedef struct tag_counters {
  atomic_size_t live_bytes;
  atomic_size_t peak_live_bytes;
  atomic_size_t budget;
  atomic_uint_fast64_t allocations;
  atomic_uint_fast64_t deallocations;
  atomic_uint_fast64_t budget_refusals;
} tag_counters;

struct alloy_tagged {
  alloy_resource resource; /* first: the decorator is a resource */
  alloy_resource *inner;
  alloy_allocate_fn inner_allocate_trusted; /* the inner's slot for validated requests */
  alloy_tagged_alert on_budget_exceeded;
  void *alert_context;
  const char *names[ALLOY_TAG_CAPACITY];
  tag_counters tags[ALLOY_TAG_CAPACITY];
};

static alloy_tagged *tagged_of(alloy_resource *self) { return (alloy_tagged *)(void *)self; }
static const alloy_tagged *tagged_of_const(const alloy_resource *self) {
  return (const alloy_tagged *)(const void *)self;
}

/* Room in front of the user block: the header, rounded to the alignment. */
static ALLOY_ALWAYS_INLINE size_t tagged_prefix(size_t align) { return align > 16 ? align : 16; }
static ALLOY_ALWAYS_INLINE size_t tagged_inner_align(size_t align) { return align > 8 ? align : 8; }
static ALLOY_ALWAYS_INLINE tag_header *tagged_header_of(void *user) { return (tag_header *)user - 1; }

static ALLOY_COLD alloy_status tagged_refuse(alloy_tagged *tagged, alloy_tag tag, size_t size, size_t live,
                                             size_t budget) {
  atomic_fetch_add_explicit(&tagged->tags[tag].budget_refusals, 1, memory_order_relaxed);
  if (tagged->on_budget_exceeded != NULL)
    tagged->on_budget_exceeded(tagged->alert_context, tag, tagged->names[tag], size, live, budget);
  return ALLOY_E_BUDGET_EXCEEDED;
}

/* Adds `size` to the tag's live bytes unless that would pass its budget. */
static ALLOY_ALWAYS_INLINE alloy_status tagged_charge(alloy_tagged *tagged, alloy_tag tag, size_t size) {
  tag_counters *c = &tagged->tags[tag];
  size_t budget = atomic_load_explicit(&c->budget, memory_order_relaxed);
  if (budget == 0) {
    alloy_live_bytes_add(&c->live_bytes, &c->peak_live_bytes, size);
    return ALLOY_OK;
  }
  size_t live = atomic_load_explicit(&c->live_bytes, memory_order_relaxed);
  do {
    if (size > budget || live > budget - size) return tagged_refuse(tagged, tag, size, live, budget);
  } while (!atomic_compare_exchange_weak_explicit(&c->live_bytes, &live, live + size, memory_order_relaxed,
                                                  memory_order_relaxed));
  alloy_live_bytes_raise_peak(&c->peak_live_bytes, live + size);
  return ALLOY_OK;
}

static ALLOY_ALWAYS_INLINE void tagged_uncharge(alloy_tagged *tagged, alloy_tag tag, size_t size) {
  alloy_live_bytes_sub(&tagged->tags[tag].live_bytes, size);
}

/* A valid request: what reaches the inner, derived from it, is valid too. */
static alloy_status tagged_allocate_valid(alloy_tagged *tagged, alloy_tag tag, size_t size, size_t align,
                                          alloy_block *out) {
  if (ALLOY_UNLIKELY(tag >= ALLOY_TAG_CAPACITY)) return ALLOY_E_INVALID_ARGUMENT;
  const size_t prefix = tagged_prefix(align);
  size_t inner_size;
  if (ALLOY_UNLIKELY(!alloy_size_add(size, prefix, &inner_size) || inner_size > ALLOY_MAX_REQUEST))
    return ALLOY_E_UNSUPPORTED; /* valid, but no room for the header */
  ALLOY_TRY(tagged_charge(tagged, tag, size));
  alloy_block inner;
  alloy_status status = tagged->inner_allocate_trusted(tagged->inner, inner_size, tagged_inner_align(align), &inner);
  if (ALLOY_UNLIKELY(status != ALLOY_OK)) {
    tagged_uncharge(tagged, tag, size);
    return status;
  }
  void *user = (char *)inner.ptr + prefix;
  tag_header *header = tagged_header_of(user);
  header->charged = size;
  header->tag = tag;
  header->magic = TAG_MAGIC_LIVE;
  atomic_fetch_add_explicit(&tagged->tags[tag].allocations, 1, memory_order_relaxed);
  *out = alloy_block_make(user, inner.size - prefix);
  return ALLOY_OK;
}

alloy_status alloy_tagged_allocate(alloy_tagged *tagged, alloy_tag tag, size_t size, size_t align,
                                   alloy_block *out) {
  ALLOY_TRY(alloy_request_check(size, align));
  return tagged_allocate_valid(tagged, tag, size, align, out);
}

static alloy_status tagged_allocate(alloy_resource *self, size_t size, size_t align, alloy_block *out) {
  return alloy_tagged_allocate(tagged_of(self), alloy_tag_current(), size, align, out);
}

static alloy_status tagged_allocate_trusted(alloy_resource *self, size_t size, size_t align, alloy_block *out) {
  return tagged_allocate_valid(tagged_of(self), alloy_tag_current(), size, align, out);
}

/* A header that is not ours: report it and leave everything as it is. */
static ALLOY_COLD alloy_status tagged_bad_header(alloy_block block, size_t align, const tag_header *header) {
  alloy_fault fault = {
      .kind = header->magic == TAG_MAGIC_FREED ? ALLOY_E_DOUBLE_FREE : ALLOY_E_NOT_OWNED,
      .resource = "tagged",
      .ptr = block.ptr,
      .size = block.size,
      .align = align,
      .detail = header->magic == TAG_MAGIC_FREED
                    ? "tag header says the block was freed"
                    : "no live tag header in front of the block: a foreign block, or one freed already "
                      "whose header the inner resource reused (an inner that tells ownership names which)",
  };
  return alloy_fault_report(&fault);
}

/* A block without a live header, handed to an inner that knows its blocks.
 * If the inner takes it back, it was live and its header overwritten: the
 * block is gone, but its tag cannot be told any more, so that is reported. */
static ALLOY_COLD alloy_status tagged_let_inner_decide(alloy_tagged *tagged, alloy_block block, alloy_block inner,
                                                       size_t align) {
  alloy_status status = alloy_resource_deallocate(tagged->inner, inner, tagged_inner_align(align));
  if (status != ALLOY_OK) return status;
  alloy_fault fault = {
      .kind = ALLOY_E_CORRUPTION,
      .resource = "tagged",
      .ptr = block.ptr,
      .size = block.size,
      .align = align,
      .detail = "the tag header in front of a live block was overwritten; the block was freed, "
                "its bytes stay counted against a tag that cannot be told",
  };
  return alloy_fault_report(&fault);
}

static alloy_status tagged_deallocate(alloy_resource *self, alloy_block block, size_t align) {
  alloy_tagged *tagged = tagged_of(self);
  if (ALLOY_UNLIKELY(block.ptr == NULL || !alloy_is_valid_alignment(align))) return ALLOY_E_INVALID_ARGUMENT;
  tag_header *header = tagged_header_of(block.ptr);
  const size_t prefix = tagged_prefix(align);
  alloy_block inner = alloy_block_make((char *)block.ptr - prefix, block.size + prefix);
  if (ALLOY_UNLIKELY(header->magic != TAG_MAGIC_LIVE || header->tag >= ALLOY_TAG_CAPACITY)) {
    /* The inner's free usually reuses the bytes of a freed block's header, so
     * a missing header alone cannot tell a double free from a foreign block.
     * An inner that tells ownership knows its blocks: it names the misuse
     * (a double free, an interior pointer, a foreign block) and refuses it. */
    if (header->magic != TAG_MAGIC_FREED && alloy_resource_can_tell_ownership(tagged->inner))
      return tagged_let_inner_decide(tagged, block, inner, align);
    return tagged_bad_header(block, align, header);
  }
  const alloy_tag tag = header->tag;
  const size_t charged = header->charged;
  header->magic = TAG_MAGIC_FREED;
  alloy_status status = alloy_resource_deallocate(tagged->inner, inner, tagged_inner_align(align));
  if (ALLOY_UNLIKELY(status != ALLOY_OK)) {
    header->magic = TAG_MAGIC_LIVE; /* the inner kept it: so do we */
    return status;
  }
  tagged_uncharge(tagged, tag, charged);
  atomic_fetch_add_explicit(&tagged->tags[tag].deallocations, 1, memory_order_relaxed);
  return ALLOY_OK;
}

/* Reallocate and resize alike: growth is charged to the block's tag before
 * the inner is asked, and given back if it refuses. */
static alloy_status tagged_reshape(alloy_tagged *tagged, alloy_block block, size_t new_size, size_t align,
                                   alloy_block *out, alloy_reshape_fn reshape) {
  tag_header *header = tagged_header_of(block.ptr);
  if (ALLOY_UNLIKELY(header->magic != TAG_MAGIC_LIVE || header->tag >= ALLOY_TAG_CAPACITY))
    return tagged_bad_header(block, align, header);
  const size_t prefix = tagged_prefix(align);
  size_t inner_size;
  if (ALLOY_UNLIKELY(!alloy_size_add(new_size, prefix, &inner_size) || inner_size > ALLOY_MAX_REQUEST))
    return ALLOY_E_UNSUPPORTED;
  const alloy_tag tag = header->tag;
  const size_t charged = header->charged;
  if (new_size > charged) ALLOY_TRY(tagged_charge(tagged, tag, new_size - charged));
  alloy_block inner = alloy_block_make((char *)block.ptr - prefix, block.size + prefix);
  alloy_block moved;
  alloy_status status = reshape(tagged->inner, inner, inner_size, tagged_inner_align(align), &moved);
  if (ALLOY_UNLIKELY(status != ALLOY_OK)) {
    if (new_size > charged) tagged_uncharge(tagged, tag, new_size - charged);
    return status;
  }
  if (new_size < charged) tagged_uncharge(tagged, tag, charged - new_size);
  void *user = (char *)moved.ptr + prefix;
  tagged_header_of(user)->charged = new_size; /* the inner copied the rest of the header */
  *out = alloy_block_make(user, moved.size - prefix);
  return ALLOY_OK;
}

static alloy_status tagged_reallocate(alloy_resource *self, alloy_block block, size_t new_size, size_t align,
                                      alloy_block *out) {
  if (block.ptr == NULL) return tagged_allocate(self, new_size, align, out);
  return tagged_reshape(tagged_of(self), block, new_size, align, out, alloy_resource_reallocate);
}

static alloy_status tagged_resize(alloy_resource *self, alloy_block block, size_t new_size, size_t align,
                                  alloy_block *out) {
  return tagged_reshape(tagged_of(self), block, new_size, align, out, alloy_resource_resize);
}

/* The user block lies inside the inner one, so an address-based answer of the
 * inner holds for it too. */
static bool tagged_owns(const alloy_resource *self, alloy_block block) {
  return alloy_resource_owns(tagged_of_const(self)->inner, block);
}

static void tagged_get_info(const alloy_resource *self, alloy_resource_info *info) {
  alloy_resource_get_info(tagged_of_const(self)->inner, info);
  info->name = "tagged";
  info->size_class_count = 0; /* the header shifts every class */
  info->size_classes = NULL;
}

static const alloy_resource_ops tagged_ops = {
    .struct_size = sizeof(alloy_resource_ops),
    .name = "tagged",
    .allocate = tagged_allocate,
    .deallocate = tagged_deallocate,
    .reallocate = tagged_reallocate,
    .resize = tagged_resize,
    .owns = tagged_owns,
    .get_info = tagged_get_info,
    .allocate_trusted = tagged_allocate_trusted,
};

/* Over an inner that cannot tell ownership, neither can the decorator. */
static const alloy_resource_ops tagged_ops_without_owns = {
    .struct_size = sizeof(alloy_resource_ops),
    .name = "tagged",
    .allocate = tagged_allocate,
    .deallocate = tagged_deallocate,
    .reallocate = tagged_reallocate,
    .resize = tagged_resize,
    .get_info = tagged_get_info,
    .allocate_trusted = tagged_allocate_trusted,
};

alloy_status alloy_tagged_create(alloy_resource *inner, const alloy_tagged_config *config, alloy_tagged **out) {
  if (inner == NULL || out == NULL) return ALLOY_E_INVALID_ARGUMENT;
  void *memory;
  ALLOY_TRY(alloy_heap_allocate(sizeof(alloy_tagged), ALLOY_CACHE_LINE, &memory));
  alloy_tagged *tagged = (alloy_tagged *)memory;
  memset(tagged, 0, sizeof *tagged);
  tagged->resource.ops = alloy_resource_can_tell_ownership(inner) ? &tagged_ops : &tagged_ops_without_owns;
  tagged->inner = inner;
  tagged->inner_allocate_trusted = alloy_resource_trusted_allocate_slot(inner);
  for (alloy_tag tag = 0; tag < ALLOY_TAG_CAPACITY; ++tag) {
    tag_counters *c = &tagged->tags[tag];
    atomic_init(&c->live_bytes, 0);
    atomic_init(&c->peak_live_bytes, 0);
    atomic_init(&c->budget, config != NULL ? config->budgets[tag] : 0);
    atomic_init(&c->allocations, 0);
    atomic_init(&c->deallocations, 0);
    atomic_init(&c->budget_refusals, 0);
    tagged->names[tag] = alloy_tag_default_name(tag);
  }
  if (config != NULL) {
    tagged->on_budget_exceeded = config->on_budget_exceeded;
    tagged->alert_context = config->alert_context;
  }
  *out = tagged;
  return ALLOY_OK;
}

void alloy_tagged_destroy(alloy_tagged *tagged) {
  if (tagged != NULL) alloy_heap_free(tagged);
}

alloy_resource *alloy_tagged_resource(alloy_tagged *tagged) { return &tagged->resource; }

alloy_status alloy_tagged_set_budget(alloy_tagged *tagged, alloy_tag tag, size_t budget) {
  if (tag >= ALLOY_TAG_CAPACITY) return ALLOY_E_INVALID_ARGUMENT;
  atomic_store_explicit(&tagged->tags[tag].budget, budget, memory_order_relaxed);
  return ALLOY_OK;
}

alloy_status alloy_tagged_set_tag_name(alloy_tagged *tagged, alloy_tag tag, const char *name) {
  if (tag >= ALLOY_TAG_CAPACITY || name == NULL || name[0] == '\0') return ALLOY_E_INVALID_ARGUMENT;
  tagged->names[tag] = name;
  return ALLOY_OK;
}

alloy_status alloy_tagged_get_tag_stats(const alloy_tagged *tagged, alloy_tag tag, alloy_tag_stats *out) {
  if (tag >= ALLOY_TAG_CAPACITY || out == NULL) return ALLOY_E_INVALID_ARGUMENT;
  const tag_counters *c = &tagged->tags[tag];
  out->name = tagged->names[tag];
  out->live_bytes = atomic_load_explicit(&c->live_bytes, memory_order_relaxed);
  out->peak_live_bytes = atomic_load_explicit(&c->peak_live_bytes, memory_order_relaxed);
  out->budget = atomic_load_explicit(&c->budget, memory_order_relaxed);
  out->allocations = atomic_load_explicit(&c->allocations, memory_order_relaxed);
  out->deallocations = atomic_load_explicit(&c->deallocations, memory_order_relaxed);
  out->budget_refusals = atomic_load_explicit(&c->budget_refusals, memory_order_relaxed);
  return ALLOY_OK;
}

alloy_status alloy_tagged_tag_of(const alloy_tagged *tagged, alloy_block block, alloy_tag *out) {
  (void)tagged;
  if (block.ptr == NULL || out == NULL) return ALLOY_E_INVALID_ARGUMENT;
  const tag_header *header = tagged_header_of(block.ptr);
  if (header->magic != TAG_MAGIC_LIVE || header->tag >= ALLOY_TAG_CAPACITY) return ALLOY_E_NOT_OWNED;
  *out = header->tag;
  return ALLOY_OK;
}

size_t alloy_tagged_dump_text(const alloy_tagged *tagged, char *buffer, size_t capacity) {
  alloy_text_sink sink = alloy_text_sink_start(buffer, capacity);
  alloy_text_sink_printf(&sink, "%-12s %12s %12s %12s %10s %10s %8s\n", "tag", "live", "peak", "budget", "allocs",
                         "frees", "refused");
  for (alloy_tag tag = 0; tag < ALLOY_TAG_CAPACITY; ++tag) {
    alloy_tag_stats s;
    ALLOY_IGNORE_STATUS(alloy_tagged_get_tag_stats(tagged, tag, &s));
    if (s.allocations == 0 && s.budget == 0 && s.budget_refusals == 0) continue;
    char budget[24];
    if (s.budget == 0)
      snprintf(budget, sizeof budget, "-");
    else
      snprintf(budget, sizeof budget, "%zu", s.budget);
    alloy_text_sink_printf(&sink, "%-12s %12zu %12zu %12s %10llu %10llu %8llu\n", s.name, s.live_bytes,
                           s.peak_live_bytes, budget, (unsigned long long)s.allocations,
                           (unsigned long long)s.deallocations, (unsigned long long)s.budget_refusals);
  }
  return sink.length;
}
