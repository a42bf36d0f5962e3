/* The remote-free channel (see alloy/remote_free.h). */
#include "alloy/remote_free.h"

#include "alloy/fault.h"

#define COUNT_SHIFT 48u
#define POINTER_MASK (((uintptr_t)1 << COUNT_SHIFT) - 1)

ALLOY_STATIC_ASSERT(sizeof(uintptr_t) == 8, "the counted head needs 64-bit pointers");

void alloy_remote_free_source_init(alloy_remote_free_source *source) {
  source->link.next = NULL;
  atomic_init(&source->blocks, (uintptr_t)0);
}

void alloy_remote_free_inbox_init(alloy_remote_free_inbox *inbox) { alloy_mpsc_queue_init(&inbox->sources); }

void alloy_remote_free_send(alloy_remote_free_inbox *owner, alloy_remote_free_source *source, void *first,
                            void *last, size_t count) {
  ALLOY_ASSERT(((uintptr_t)first & ~POINTER_MASK) == 0);
  uintptr_t head = atomic_load_explicit(&source->blocks, memory_order_relaxed);
  uintptr_t next;
  do {
    ALLOY_ASSERT((head >> COUNT_SHIFT) + count <= ALLOY_REMOTE_FREE_MAX_PENDING);
    *(void **)last = (void *)(head & POINTER_MASK);
    next = (uintptr_t)first | (((head >> COUNT_SHIFT) + count) << COUNT_SHIFT);
  } while (!atomic_compare_exchange_weak_explicit(&source->blocks, &head, next, memory_order_acq_rel,
                                                  memory_order_relaxed));
  /* The first sender after a take tells the owner; later ones ride along. */
  if (head == 0) alloy_mpsc_queue_push(&owner->sources, &source->link);
}

alloy_remote_free_source *alloy_remote_free_receive(alloy_remote_free_inbox *inbox) {
  alloy_mpsc_node *node = alloy_mpsc_queue_take_all(&inbox->sources);
  return (alloy_remote_free_source *)(void *)node; /* link is the first member */
}

void *alloy_remote_free_take(alloy_remote_free_source *source, size_t *out_count) {
  uintptr_t head = atomic_exchange_explicit(&source->blocks, (uintptr_t)0, memory_order_acq_rel);
  *out_count = (size_t)(head >> COUNT_SHIFT);
  return (void *)(head & POINTER_MASK);
}

size_t alloy_remote_free_pending(const alloy_remote_free_source *source) {
  uintptr_t head = atomic_load_explicit(&((alloy_remote_free_source *)source)->blocks, memory_order_relaxed);
  return (size_t)(head >> COUNT_SHIFT);
}
