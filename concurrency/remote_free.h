/* alloy/remote_free.h — the remote-free channel: frees from foreign threads
 * travel to the owner without blocking it and are reclaimed in batches.
 *
 * Two levels, both lock-free:
 *   - a *source* is one page or span. Its freed blocks pile up on a counted
 *     LIFO (the head word packs the newest block and how many are pending),
 *     pushed with one CAS by any thread;
 *   - an *inbox* is the owner's alloy_mpsc_queue of sources. A sender that
 *     finds its source empty also pushes the source onto the owner's inbox,
 *     so the owner learns which sources have work without scanning.
 * On its slow path the owner takes the whole inbox with one exchange, then
 * each source's whole batch with one more exchange: it gets the list and
 * its length in O(1), and can splice the list into a free list as is.
 * This is snmalloc's message passing to the owner, with mimalloc's per-page
 * sharding of the freed blocks.
 *
 * Blocks are linked through their first pointer-sized word; a block must be
 * at least sizeof(void *) and pointer-aligned. At most
 * ALLOY_REMOTE_FREE_MAX_PENDING blocks may be pending on one source.
 *
 * The one non-obvious memory order: a source's link is reused once its
 * batch is taken. The owner's take is an acq_rel exchange and the sender's
 * CAS is acq_rel, so a sender that finds the source empty (and will rewrite
 * the link while pushing it onto the inbox) synchronises with the take that
 * emptied it, after which the owner no longer reads that link.
 *
 * Owner loop:
 *   for (alloy_remote_free_source *s = alloy_remote_free_receive(inbox), *next; s; s = next) {
 *     next = alloy_remote_free_source_next(s);   // before the take
 *     size_t count;
 *     void *blocks = alloy_remote_free_take(s, &count);
 *     ...
 *   }
 */
#ifndef ALLOY_REMOTE_FREE_H
#define ALLOY_REMOTE_FREE_H

#include <stddef.h>
#include <stdint.h>

#include "alloy/atomic_field.h"
#include "alloy/compiler.h"
#include "alloy/mpsc_queue.h"

ALLOY_EXTERN_C_BEGIN

/* Pending blocks one source can hold (the count shares the head word with a
 * 48-bit user-space pointer). */
#define ALLOY_REMOTE_FREE_MAX_PENDING 0xFFFFu

typedef struct alloy_remote_free_source {
  alloy_mpsc_node link;           /* on the owner's inbox while blocks are pending */
  ALLOY_ATOMIC(uintptr_t) blocks; /* newest block | pending count << 48 */
} alloy_remote_free_source;

typedef struct alloy_remote_free_inbox {
  alloy_mpsc_queue sources;
} alloy_remote_free_inbox;

void alloy_remote_free_source_init(alloy_remote_free_source *source);
void alloy_remote_free_inbox_init(alloy_remote_free_inbox *inbox);

/* Any thread: hands `count` blocks first..last (linked through their first
 * word; last's link is overwritten) that belong to `source` to the source's
 * owner, whose inbox is `owner`. Never blocks and takes no lock. */
void alloy_remote_free_send(alloy_remote_free_inbox *owner, alloy_remote_free_source *source, void *first,
                            void *last, size_t count);

/* Owner only: takes every source with pending blocks, newest first (NULL
 * when none). Walk them with alloy_remote_free_source_next(). */
alloy_remote_free_source *alloy_remote_free_receive(alloy_remote_free_inbox *inbox);

/* The next received source. Read it before taking the source's blocks:
 * after the take a sender may reuse the link. */
static inline alloy_remote_free_source *alloy_remote_free_source_next(const alloy_remote_free_source *source) {
  return (alloy_remote_free_source *)(void *)source->link.next;
}

/* Owner only: takes a source's pending blocks (newest first, linked through
 * their first word, the last one's link NULL) and their number. */
void *alloy_remote_free_take(alloy_remote_free_source *source, size_t *out_count);

/* Pending blocks of a source (a hint when another thread may be sending). */
size_t alloy_remote_free_pending(const alloy_remote_free_source *source);

ALLOY_EXTERN_C_END

#endif /* ALLOY_REMOTE_FREE_H */
