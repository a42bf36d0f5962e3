/* alloy/allocator.h — alloy_allocator, the value handle code passes around.
 *
 * A handle is one pointer to a resource; copy it freely. It adds typed
 * new/delete helpers, reallocation that keeps the old block on failure,
 * scope markers for LIFO resources and owned blocks that free themselves at
 * scope end.
 *
 *   alloy_allocator a = alloy_allocator_of(alloy_system_resource());
 *   struct particle *p;
 *   if (ALLOY_NEW(a, struct particle, &p) != ALLOY_OK) return ...;
 *   ...
 *   ALLOY_DELETE(a, struct particle, p);
 */
#ifndef ALLOY_ALLOCATOR_H
#define ALLOY_ALLOCATOR_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "alloy/compiler.h"
#include "alloy/resource.h"

ALLOY_EXTERN_C_BEGIN

typedef struct alloy_allocator {
  alloy_resource *resource;
} alloy_allocator;

static inline alloy_allocator alloy_allocator_of(alloy_resource *resource) {
  alloy_allocator allocator;
  allocator.resource = resource;
  return allocator;
}

ALLOY_NODISCARD static ALLOY_ALWAYS_INLINE alloy_status alloy_alloc(alloy_allocator a, size_t size, size_t align,
                                                                     alloy_block *out) {
  return alloy_resource_allocate(a.resource, size, align, out);
}

static ALLOY_ALWAYS_INLINE alloy_status alloy_free(alloy_allocator a, alloy_block block, size_t align) {
  return alloy_resource_deallocate(a.resource, block, align);
}

/* Resizes *block (in place when possible, else moves). On success *block is
 * the new block; on failure it is unchanged and still owned. */
ALLOY_NODISCARD alloy_status alloy_reallocate(alloy_allocator a, alloy_block *block, size_t new_size, size_t align);

/* Resizes *block only where it lies; ALLOY_E_UNSUPPORTED when it cannot, in
 * which case the caller may rebuild its objects in a new block itself. */
ALLOY_NODISCARD alloy_status alloy_try_reallocate(alloy_allocator a, alloy_block *block, size_t new_size, size_t align);

bool alloy_allocator_is_equal(alloy_allocator a, alloy_allocator b);

/* Typed helpers. Objects are zero-initialised. */
ALLOY_NODISCARD alloy_status alloy_new_bytes(alloy_allocator a, size_t size, size_t align, void **out);
ALLOY_NODISCARD alloy_status alloy_new_array_bytes(alloy_allocator a, size_t count, size_t element_size,
                                                   size_t align, void **out);
alloy_status alloy_delete_bytes(alloy_allocator a, void *ptr, size_t size, size_t align);

#define ALLOY_NEW(a, type, out_ptr) alloy_new_bytes((a), sizeof(type), ALLOY_ALIGNOF(type), (void **)(out_ptr))
#define ALLOY_NEW_ARRAY(a, type, count, out_ptr) \
  alloy_new_array_bytes((a), (count), sizeof(type), ALLOY_ALIGNOF(type), (void **)(out_ptr))
#define ALLOY_DELETE(a, type, ptr) alloy_delete_bytes((a), (ptr), sizeof(type), ALLOY_ALIGNOF(type))
#define ALLOY_DELETE_ARRAY(a, type, count, ptr) \
  alloy_delete_bytes((a), (ptr), sizeof(type) * (count), ALLOY_ALIGNOF(type))

/* Scope markers (frame and stack resources; ALLOY_E_UNSUPPORTED elsewhere). */
ALLOY_NODISCARD static inline alloy_status alloy_scope_marker(alloy_allocator a, alloy_marker *out) {
  return alloy_resource_mark(a.resource, out);
}

static inline alloy_status alloy_rewind(alloy_allocator a, alloy_marker marker) {
  return alloy_resource_rewind(a.resource, marker);
}

/* A marker that rewinds its resource when the enclosing scope ends. */
typedef struct alloy_scope {
  alloy_resource *resource; /* NULL when no marker could be taken */
  alloy_marker marker;
} alloy_scope;

alloy_scope alloy_scope_begin(alloy_allocator a);
void alloy_scope_end(alloy_scope *scope);

/* ALLOY_SCOPE(frame_allocator); — everything allocated after this line is
 * freed when the enclosing block is left. */
#define ALLOY_SCOPE_NAME_(line) alloy_scope_at_##line
#define ALLOY_SCOPE_NAME(line) ALLOY_SCOPE_NAME_(line)
#define ALLOY_SCOPE(a) \
  alloy_scope ALLOY_SCOPE_NAME(__LINE__) __attribute__((cleanup(alloy_scope_end), unused)) = alloy_scope_begin(a)

/* A block that frees itself at scope end. Declare it with ALLOY_OWNED_BLOCK;
 * give it away with alloy_owned_block_move (the source becomes empty).
 * Never copy it by assignment: two owners would free the block twice. */
typedef struct alloy_owned_block {
  alloy_resource *resource;
  alloy_block block;
  size_t align;
} alloy_owned_block;

#define ALLOY_OWNED_BLOCK __attribute__((cleanup(alloy_owned_block_release))) alloy_owned_block

static inline alloy_owned_block alloy_owned_block_empty(void) {
  alloy_owned_block owned;
  memset(&owned, 0, sizeof owned);
  return owned;
}

ALLOY_NODISCARD alloy_status alloy_owned_allocate(alloy_allocator a, size_t size, size_t align,
                                                  alloy_owned_block *out);

/* Takes the block out of *from, leaving it empty. */
alloy_owned_block alloy_owned_block_move(alloy_owned_block *from);

/* Frees the block if there is one and empties *owned. */
void alloy_owned_block_release(alloy_owned_block *owned);

ALLOY_EXTERN_C_END

#endif /* ALLOY_ALLOCATOR_H */
