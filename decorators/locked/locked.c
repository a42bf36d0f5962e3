/* The locked decorator: every inner call under one lock, which fork_guard
 * holds across fork() so a child never inherits it held. */
#include "alloy/locked.h"

#include "alloy/fork_guard.h"
#include "alloy/heap.h"
#include "alloy/spin_lock.h"

struct alloy_locked {
  alloy_resource resource; /* first: the decorator is a resource */
  alloy_resource *inner;
  alloy_allocate_fn inner_allocate_trusted; /* the inner's slot for validated requests */
  alloy_spin_lock lock;
  alloy_fork_guard fork_guard; /* holds `lock` across fork(), before the inner's locks */
};

static alloy_locked *locked_of(alloy_resource *self) { return (alloy_locked *)(void *)self; }
/* Queries take the lock too, so even a const decorator's lock is written. */
static alloy_locked *locked_of_query(const alloy_resource *self) { return (alloy_locked *)(void *)(uintptr_t)self; }

/* Every call below reads `unlock(locked, inner_call(lock(locked), ...))`: the
 * arguments, and so the lock, come before the inner call, and the unlock
 * after it returns. */
static alloy_resource *locked_lock(alloy_locked *locked) {
  alloy_spin_lock_acquire(&locked->lock);
  return locked->inner;
}

static alloy_status locked_unlock(alloy_locked *locked, alloy_status status) {
  alloy_spin_lock_release(&locked->lock);
  return status;
}

static alloy_status locked_allocate(alloy_resource *self, size_t size, size_t align, alloy_block *out) {
  alloy_locked *locked = locked_of(self);
  return locked_unlock(locked, alloy_resource_allocate(locked_lock(locked), size, align, out));
}

static alloy_status locked_allocate_trusted(alloy_resource *self, size_t size, size_t align, alloy_block *out) {
  alloy_locked *locked = locked_of(self);
  alloy_resource *inner = locked_lock(locked);
  return locked_unlock(locked, locked->inner_allocate_trusted(inner, size, align, out));
}

static alloy_status locked_deallocate(alloy_resource *self, alloy_block block, size_t align) {
  alloy_locked *locked = locked_of(self);
  return locked_unlock(locked, alloy_resource_deallocate(locked_lock(locked), block, align));
}

static alloy_status locked_reallocate(alloy_resource *self, alloy_block block, size_t new_size, size_t align,
                                      alloy_block *out) {
  alloy_locked *locked = locked_of(self);
  return locked_unlock(locked, alloy_resource_reallocate(locked_lock(locked), block, new_size, align, out));
}

static alloy_status locked_resize(alloy_resource *self, alloy_block block, size_t new_size, size_t align,
                                  alloy_block *out) {
  alloy_locked *locked = locked_of(self);
  return locked_unlock(locked, alloy_resource_resize(locked_lock(locked), block, new_size, align, out));
}

/* Ownership is answered from the inner's metadata, which a concurrent
 * allocation may be changing, so it is asked under the lock too. */
static bool locked_owns(const alloy_resource *self, alloy_block block) {
  alloy_locked *locked = locked_of_query(self);
  alloy_spin_lock_acquire(&locked->lock);
  bool owned = alloy_resource_owns(locked->inner, block);
  alloy_spin_lock_release(&locked->lock);
  return owned;
}

static void locked_get_info(const alloy_resource *self, alloy_resource_info *info) {
  alloy_locked *locked = locked_of_query(self);
  alloy_spin_lock_acquire(&locked->lock);
  alloy_resource_get_info(locked->inner, info);
  alloy_spin_lock_release(&locked->lock);
  info->name = "locked";
  info->thread_safety = ALLOY_THREAD_SAFE;
}

static alloy_status locked_mark(alloy_resource *self, alloy_marker *out) {
  alloy_locked *locked = locked_of(self);
  return locked_unlock(locked, alloy_resource_mark(locked_lock(locked), out));
}

static alloy_status locked_rewind(alloy_resource *self, alloy_marker marker) {
  alloy_locked *locked = locked_of(self);
  return locked_unlock(locked, alloy_resource_rewind(locked_lock(locked), marker));
}

static const alloy_resource_ops locked_ops = {
    .struct_size = sizeof(alloy_resource_ops),
    .name = "locked",
    .allocate = locked_allocate,
    .deallocate = locked_deallocate,
    .reallocate = locked_reallocate,
    .resize = locked_resize,
    .owns = locked_owns,
    .get_info = locked_get_info,
    .mark = locked_mark,
    .rewind = locked_rewind,
    .allocate_trusted = locked_allocate_trusted,
};

/* Over an inner that cannot tell ownership, neither can the decorator. */
static const alloy_resource_ops locked_ops_without_owns = {
    .struct_size = sizeof(alloy_resource_ops),
    .name = "locked",
    .allocate = locked_allocate,
    .deallocate = locked_deallocate,
    .reallocate = locked_reallocate,
    .resize = locked_resize,
    .get_info = locked_get_info,
    .mark = locked_mark,
    .rewind = locked_rewind,
    .allocate_trusted = locked_allocate_trusted,
};

alloy_status alloy_locked_create(alloy_resource *inner, const alloy_locked_config *config, alloy_locked **out) {
  (void)config;
  if (inner == NULL || out == NULL) return ALLOY_E_INVALID_ARGUMENT;
  void *memory;
  ALLOY_TRY(alloy_heap_allocate(sizeof(alloy_locked), ALLOY_CACHE_LINE, &memory));
  alloy_locked *locked = (alloy_locked *)memory;
  locked->resource.ops = alloy_resource_can_tell_ownership(inner) ? &locked_ops : &locked_ops_without_owns;
  locked->inner = inner;
  locked->inner_allocate_trusted = alloy_resource_trusted_allocate_slot(inner);
  alloy_spin_lock_init(&locked->lock);
  alloy_fork_guard_register_lock(&locked->fork_guard, &locked->lock);
  *out = locked;
  return ALLOY_OK;
}

void alloy_locked_destroy(alloy_locked *locked) {
  if (locked == NULL) return;
  alloy_fork_guard_unregister(&locked->fork_guard);
  alloy_heap_free(locked);
}

alloy_resource *alloy_locked_resource(alloy_locked *locked) { return &locked->resource; }
