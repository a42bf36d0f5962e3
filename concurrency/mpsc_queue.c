/* The push / exchange-all MPSC queue (see alloy/mpsc_queue.h for the
 * algorithm and the memory-order choices). */
#include "alloy/mpsc_queue.h"

void alloy_mpsc_queue_init(alloy_mpsc_queue *queue) { atomic_init(&queue->head, (alloy_mpsc_node *)NULL); }

bool alloy_mpsc_queue_push_chain(alloy_mpsc_queue *queue, alloy_mpsc_node *first, alloy_mpsc_node *last) {
  alloy_mpsc_node *head = atomic_load_explicit(&queue->head, memory_order_relaxed);
  do {
    last->next = head;
  } while (!atomic_compare_exchange_weak_explicit(&queue->head, &head, first, memory_order_release,
                                                  memory_order_relaxed));
  return head == NULL;
}

bool alloy_mpsc_queue_push(alloy_mpsc_queue *queue, alloy_mpsc_node *node) {
  return alloy_mpsc_queue_push_chain(queue, node, node);
}

alloy_mpsc_node *alloy_mpsc_queue_take_all(alloy_mpsc_queue *queue) {
  /* A plain load first keeps an idle queue's cache line shared. */
  if (atomic_load_explicit(&queue->head, memory_order_relaxed) == NULL) return NULL;
  return atomic_exchange_explicit(&queue->head, (alloy_mpsc_node *)NULL, memory_order_acquire);
}

bool alloy_mpsc_queue_is_empty(const alloy_mpsc_queue *queue) {
  return atomic_load_explicit(&((alloy_mpsc_queue *)queue)->head, memory_order_relaxed) == NULL;
}
