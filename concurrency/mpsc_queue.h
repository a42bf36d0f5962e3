/* alloy/mpsc_queue.h — intrusive lock-free multi-producer, single-consumer queue.
 *
 * Algorithm: a Treiber stack whose consumer never pops one node; it takes the
 * whole stack with one atomic exchange ("push / exchange-all"). Any thread
 * pushes with one compare-and-swap on the head; the single owner drains
 * every pending node at once with alloy_mpsc_queue_take_all(). The batch
 * comes out newest first; alloy_mpsc_list_reverse() restores push order.
 *
 * Why not Vyukov's queue: its consumer pops node by node and can observe a
 * producer half-way through (exchange done, link not yet written) and must
 * wait. Exchange-all never waits and costs the consumer one atomic per batch
 * instead of one per node, which is what batch reclamation wants.
 *
 * ABA: the classic Treiber hazard needs a pop of a single node, which this
 * queue never does. A push that saw head A and succeeds while head is A
 * again links the node in front of the current A — correct whatever
 * happened in between.
 *
 * Memory orders: a push publishes the node (its link and anything written
 * before) with release on the successful CAS; take_all exchanges with
 * acquire, so the consumer sees every pushed node's link and contents.
 * Failed CASes are relaxed: they only reload the head.
 *
 * Nodes are intrusive: embed alloy_mpsc_node in the object (or overlay it
 * on a freed block). The queue never allocates.
 */
#ifndef ALLOY_MPSC_QUEUE_H
#define ALLOY_MPSC_QUEUE_H

#include <stdbool.h>
#include <stddef.h>

#include "alloy/atomic_field.h"
#include "alloy/compiler.h"

ALLOY_EXTERN_C_BEGIN

typedef struct alloy_mpsc_node {
  struct alloy_mpsc_node *next;
} alloy_mpsc_node;

typedef struct alloy_mpsc_queue {
  ALLOY_ATOMIC(alloy_mpsc_node *) head;
} alloy_mpsc_queue;

/* Empties the queue (not thread-safe: before sharing it). */
void alloy_mpsc_queue_init(alloy_mpsc_queue *queue);

/* Pushes the chain first..last (linked through ->next; last->next is
 * overwritten) from any thread. Returns true when the queue was empty, so a
 * producer can tell the owner that work arrived. */
bool alloy_mpsc_queue_push_chain(alloy_mpsc_queue *queue, alloy_mpsc_node *first, alloy_mpsc_node *last);

/* Pushes one node from any thread; true when the queue was empty. */
bool alloy_mpsc_queue_push(alloy_mpsc_queue *queue, alloy_mpsc_node *node);

/* Consumer only: takes every pending node, newest first (NULL when empty). */
alloy_mpsc_node *alloy_mpsc_queue_take_all(alloy_mpsc_queue *queue);

/* Whether nodes are pending (from a producer, only a hint). */
bool alloy_mpsc_queue_is_empty(const alloy_mpsc_queue *queue);

/* Reverses a taken batch in place (newest-first becomes push order). */
static inline alloy_mpsc_node *alloy_mpsc_list_reverse(alloy_mpsc_node *list) {
  alloy_mpsc_node *reversed = NULL;
  while (list != NULL) {
    alloy_mpsc_node *next = list->next;
    list->next = reversed;
    reversed = list;
    list = next;
  }
  return reversed;
}

ALLOY_EXTERN_C_END

#endif /* ALLOY_MPSC_QUEUE_H */
