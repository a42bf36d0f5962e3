/* alloy/resource.h — the resource contract every strategy and decorator implements.
 *
 * A resource is an object whose first member is `alloy_resource`, pointing at
 * a constant ops table. Callers go through the alloy_resource_* functions
 * below (or the alloy_allocator handle), which also supply the defaults for
 * optional slots.
 *
 * The contract, for every implementation:
 *   - allocate(size, align): align must be a power of two and size at most
 *     ALLOY_MAX_REQUEST, else ALLOY_E_INVALID_ARGUMENT. Size 0 succeeds with
 *     a block that deallocate accepts. On success block.size >= size and
 *     block.ptr is aligned to align. Failures return a status and write nothing.
 *   - deallocate(block, align): block is exactly what allocate or reallocate
 *     returned (ptr and either the requested or the returned size) with the
 *     same align. Resources may rely on it and keep no per-block header.
 *     Misuse is reported through alloy_fault_report where detected.
 *   - reallocate(block, new_size, align): grows or shrinks in place when it
 *     can, otherwise moves. After success the old block is invalid; after
 *     failure it is untouched and still owned.
 *   - resize(block, new_size, align): in place only; ALLOY_E_UNSUPPORTED when
 *     the block cannot change size where it is. After success the block is
 *     freed with new_size or the returned size, like any other. Without a
 *     resize slot only a resize to the block's own size succeeds: a resource
 *     that is never told of a new size could not accept it at the free.
 *   - is_equal(other): memory from one may be released through the other.
 *   - owns(block): whether the block lies in this resource's memory, answered
 *     from addresses and metadata only; never reads or writes the block, so a
 *     foreign pointer is safe to ask about.
 *   - mark / rewind: scope markers of LIFO resources (frame, stack).
 *   - allocate_trusted(size, align): allocate for a caller that has already
 *     validated the request, so the resource may skip its argument checks.
 *     A decorator checks a request once, where it enters the stack, and
 *     passes it (or the request it derives from it) down through its inner's
 *     allocate_trusted; pass-through decorators forward both kinds as they
 *     came. Optional: without it, the allocate slot serves.
 *
 * ABI growth: the ops table starts with its own size. New slots are only ever
 * appended; a table built against an older header simply lacks them and the
 * dispatch functions treat them as absent.
 */
#ifndef ALLOY_RESOURCE_H
#define ALLOY_RESOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alloy/align.h"
#include "alloy/block.h"
#include "alloy/compiler.h"
#include "alloy/status.h"

ALLOY_EXTERN_C_BEGIN

typedef struct alloy_resource alloy_resource;

typedef enum alloy_thread_safety {
  ALLOY_THREAD_UNSAFE,        /* one thread at a time (wrap in the locked decorator to share) */
  ALLOY_THREAD_SAFE,          /* any thread may allocate and free */
  ALLOY_THREAD_SAFE_FREE,     /* allocation by the owner only; any thread may free */
} alloy_thread_safety;

/* Counters a resource keeps about itself (all zero where it keeps none). */
typedef struct alloy_resource_stats {
  size_t live_bytes;       /* bytes handed out and not yet freed */
  size_t peak_live_bytes;
  size_t reserved_bytes;   /* address space held */
  size_t committed_bytes;  /* memory the OS backs */
  uint64_t allocations;
  uint64_t deallocations;
  uint64_t failures;
} alloy_resource_stats;

typedef struct alloy_resource_info {
  const char *name;
  alloy_thread_safety thread_safety;
  size_t max_alignment;       /* the largest alignment served */
  size_t max_size;            /* the largest request served (ALLOY_MAX_REQUEST when unbounded) */
  size_t size_class_count;    /* 0 when the resource has no size classes */
  const size_t *size_classes; /* block size of each class, ascending; may be NULL */
  bool has_stats;
  alloy_resource_stats stats;
} alloy_resource_info;

/* A position in a LIFO resource; rewinding to it frees everything allocated after. */
typedef struct alloy_marker {
  size_t position;
} alloy_marker;

typedef alloy_status (*alloy_allocate_fn)(alloy_resource *self, size_t size, size_t align, alloy_block *out);

typedef struct alloy_resource_ops {
  size_t struct_size; /* sizeof(alloy_resource_ops) as the implementation saw it */
  const char *name;
  /* Required. */
  alloy_status (*allocate)(alloy_resource *self, size_t size, size_t align, alloy_block *out);
  alloy_status (*deallocate)(alloy_resource *self, alloy_block block, size_t align);
  /* Optional (NULL: the dispatch functions provide the default). */
  alloy_status (*reallocate)(alloy_resource *self, alloy_block block, size_t new_size, size_t align,
                             alloy_block *out);
  alloy_status (*resize)(alloy_resource *self, alloy_block block, size_t new_size, size_t align,
                         alloy_block *out);
  bool (*is_equal)(const alloy_resource *self, const alloy_resource *other);
  bool (*owns)(const alloy_resource *self, alloy_block block);
  void (*get_info)(const alloy_resource *self, alloy_resource_info *info);
  alloy_status (*mark)(alloy_resource *self, alloy_marker *out);
  alloy_status (*rewind)(alloy_resource *self, alloy_marker marker);
  alloy_allocate_fn allocate_trusted; /* optional: see the contract above */
} alloy_resource_ops;

struct alloy_resource {
  const alloy_resource_ops *ops;
};

/* Whether the table has the slot `member` and it is set. */
#define ALLOY_OPS_HAS(ops, member)                                                              \
  ((ops)->struct_size >= __builtin_offsetof(alloy_resource_ops, member) + sizeof((ops)->member) && \
   (ops)->member != NULL)

ALLOY_NODISCARD static ALLOY_ALWAYS_INLINE alloy_status alloy_resource_allocate(alloy_resource *resource, size_t size,
                                                                                 size_t align, alloy_block *out) {
  return resource->ops->allocate(resource, size, align, out);
}

static ALLOY_ALWAYS_INLINE alloy_status alloy_resource_deallocate(alloy_resource *resource, alloy_block block,
                                                                  size_t align) {
  return resource->ops->deallocate(resource, block, align);
}

/* The slot that allocates an already validated request from `resource`:
 * allocate_trusted when it offers one, else allocate. A decorator looks it
 * up once, when it is created, and calls it for every request it forwards. */
static inline alloy_allocate_fn alloy_resource_trusted_allocate_slot(const alloy_resource *resource) {
  return ALLOY_OPS_HAS(resource->ops, allocate_trusted) ? resource->ops->allocate_trusted : resource->ops->allocate;
}

/* In place when the resource can, else allocate + copy + free. *out is
 * written only on success; on failure `block` is untouched and still owned. */
ALLOY_NODISCARD alloy_status alloy_resource_reallocate(alloy_resource *resource, alloy_block block, size_t new_size,
                                                       size_t align, alloy_block *out);

/* In place only: ALLOY_E_UNSUPPORTED when the resource cannot. */
ALLOY_NODISCARD alloy_status alloy_resource_resize(alloy_resource *resource, alloy_block block, size_t new_size,
                                                   size_t align, alloy_block *out);

/* The shape of alloy_resource_reallocate and alloy_resource_resize, so that a
 * decorator can keep its books around either with one function. */
typedef alloy_status (*alloy_reshape_fn)(alloy_resource *resource, alloy_block block, size_t new_size, size_t align,
                                         alloy_block *out);

/* The generic move used when a resource cannot resize in place. */
ALLOY_NODISCARD alloy_status alloy_resource_reallocate_by_moving(alloy_resource *resource, alloy_block block,
                                                                 size_t new_size, size_t align, alloy_block *out);

/* Identity unless the resource says otherwise. */
bool alloy_resource_is_equal(const alloy_resource *a, const alloy_resource *b);

/* False when the resource cannot tell (no owns slot). */
bool alloy_resource_owns(const alloy_resource *resource, alloy_block block);

/* Whether the resource answers ownership queries at all. */
bool alloy_resource_can_tell_ownership(const alloy_resource *resource);

/* Fills *info; slots the resource leaves alone keep neutral defaults. */
void alloy_resource_get_info(const alloy_resource *resource, alloy_resource_info *info);

ALLOY_NODISCARD alloy_status alloy_resource_mark(alloy_resource *resource, alloy_marker *out);
alloy_status alloy_resource_rewind(alloy_resource *resource, alloy_marker marker);

const char *alloy_resource_name(const alloy_resource *resource);

ALLOY_EXTERN_C_END

#endif /* ALLOY_RESOURCE_H */
