/* Concurrent pools: the owner allocates and frees locally; other threads'
 * frees travel in batches through each slab's remote-free source to the
 * pool's inbox.
 *
 * Owner side (never blocks, no lock): allocation pops `local_free`; when it
 * runs dry the slow path takes one source from the received list (one
 * exchange on the inbox when that list is empty, one on the source) and
 * its whole batch becomes the free list as it came, with no walk. Only
 * when no batch is pending does it carve. Received sources are taken
 * oldest first: a slab whose frees came in long ago has its blocks' lines
 * more likely out of the freeing thread's cache than the slab it freed
 * into last (taken newest first, every pop of xthread_64 missed into the
 * other core's cache). The next block is prefetched at each pop.
 * alloy_pool_collect() takes every batch and splices each in front of the
 * free list (that walk is the price of asking for everything at once).
 *
 * Other threads: a free links and marks the block onto the thread's open
 * batch for the block's slab, in a sender record of the pool (found through
 * a one-entry thread-local cache keyed by the pool's serial): plain stores,
 * no atomic read-modify-write. The batch goes to the slab's source with one
 * CAS when it holds POOL_REMOTE_BATCH blocks, when the thread frees a block
 * of another slab, detaches, adopts the pool or exits (a thread-exit key
 * per pool). A thread that finds no record free sends each free at once.
 * Profiling the report's xthread_64 showed where the unbatched free spent
 * its time: the locked CAS per block, which also waits for the link store
 * into the block's (remote) cache line.
 *
 * Who may read what: other threads read `owner` (atomic: alloy_pool_adopt
 * may change it), the span bounds (`shared_low`/`shared_high`, atomic) and
 * fields fixed at creation (block and slab sizes, serial, exit key). The
 * owner reads the records' counts for its stats. Counters are owner-only.
 *
 * The owner is a thread serial number (alloy_thread_serial), never reused:
 * a thread started after the owner exited is never taken for it, even when
 * it gets the owner's thread-local storage. Pools are named by a serial too,
 * so a thread's cached record of a destroyed pool is never taken for the
 * record of a new pool at the same address.
 *
 * Called by pool.c (creation, destruction, the dispatch of a concurrent
 * pool's calls, stats); calls only pool_slab.c and pool_check.c. Also
 * defines the concurrent mode's own public calls, alloy_pool_adopt,
 * alloy_pool_collect and alloy_pool_thread_detach.
 */
#include <stdatomic.h>

#include "alloy/align.h"
#include "alloy/thread.h"
#include "pool_internal.h"

/* The calling thread's record in the pool it last freed into remotely. */
typedef struct pool_sender_cache {
  uint64_t pool_serial; /* 0: none */
  pool_sender *sender;
} pool_sender_cache;

static ALLOY_THREAD_LOCAL pool_sender_cache sender_cache __attribute__((tls_model("initial-exec")));

static _Atomic(uint64_t) next_pool_serial = 1;

static void sender_thread_exit(void *sender);

/* `owner` is written by adopt while others may read it. */
static ALLOY_ALWAYS_INLINE uint64_t owner_of(const alloy_pool *pool) {
  return atomic_load_explicit((_Atomic(uint64_t) *)&pool->owner, memory_order_relaxed);
}

/* Whether the calling thread owns the pool. The owner took its serial when
 * it became the owner, so a thread without one is not the owner. */
static ALLOY_ALWAYS_INLINE bool caller_owns(const alloy_pool *pool) {
  return alloy_thread_serial_if_taken() == owner_of(pool);
}

void alloy_pool_concurrent_init(alloy_pool *pool) {
  atomic_init((_Atomic(uint64_t) *)&pool->owner, alloy_thread_serial());
  pool->local_free = NULL;
  pool->received = NULL;
  pool->allocations = 0;
  pool->local_frees = 0;
  pool->remote_reclaimed = 0;
  pool->remote_batches = 0;
  atomic_init(&pool->shared_low, UINTPTR_MAX);
  atomic_init(&pool->shared_high, (uintptr_t)0);
  alloy_remote_free_inbox_init(&pool->inbox);
  pool->serial = atomic_fetch_add_explicit(&next_pool_serial, 1, memory_order_relaxed);
  for (size_t i = 0; i < POOL_SENDERS; ++i) {
    pool_sender *sender = &pool->senders[i];
    atomic_init(&sender->claimed, 0u);
    sender->slab = NULL;
    sender->first = sender->last = NULL;
    atomic_init(&sender->count, (size_t)0);
    sender->pool = pool;
  }
  /* A concurrent pool gets its thread-exit key; without one (the process
   * ran out of keys) its remote frees go out one at a time. */
  pool->batching =
      pool->concurrent && alloy_thread_exit_key_create(&pool->sender_exit, sender_thread_exit) == ALLOY_OK;
}

/* Other threads' open batches are forgotten with the pool; no exit callback
 * of its key starts after this. */
void alloy_pool_concurrent_fini(alloy_pool *pool) {
  if (pool->batching) alloy_thread_exit_key_delete(&pool->sender_exit);
  if (sender_cache.pool_serial == pool->serial) {
    sender_cache.pool_serial = 0;
    sender_cache.sender = NULL;
  }
}

alloy_status alloy_pool_adopt(alloy_pool *pool) {
  if (!pool->concurrent) return ALLOY_E_UNSUPPORTED;
  /* The new owner's own batched frees go out first: its frees are local from now on. */
  alloy_pool_thread_detach(pool);
  atomic_store_explicit((_Atomic(uint64_t) *)&pool->owner, alloy_thread_serial(), memory_order_relaxed);
  return ALLOY_OK;
}

/* Sent and not taken yet, plus what other threads hold in open batches. */
uint64_t alloy_pool_concurrent_remote_pending(const alloy_pool *pool) {
  const uintptr_t *registry = alloy_pool_registry(pool);
  uint64_t pending = 0;
  for (size_t i = 0; i < pool->slab_count; ++i)
    pending += alloy_remote_free_pending(&((const pool_slab *)registry[i])->remote);
  for (size_t i = 0; i < POOL_SENDERS; ++i)
    pending += atomic_load_explicit(&pool->senders[i].count, memory_order_relaxed);
  return pending;
}

/* Reads a free-list link the tools consider freed memory. */
static ALLOY_ALWAYS_INLINE pool_free_block *link_read(pool_free_block *block) {
  ALLOY_MEM_DEFINED(&block->next, sizeof block->next);
  return block->next;
}

/* A batch's links and marks were written by the senders and left
 * addressable; make them no-access again so a use after free of them is
 * reported. `count` bounds the walk: a double free can make a list cycle. */
static void seal_links(const alloy_pool *pool, pool_free_block *block, size_t count) {
#if ALLOY_HAS_ASAN || (defined(ALLOY_WITH_VALGRIND) && ALLOY_WITH_VALGRIND)
  for (; block != NULL && count > 0 && (uintptr_t)block - pool->span_low < pool->span_size; --count) {
    pool_free_block *next = link_read(block);
    ALLOY_MEM_NOACCESS(block, alloy_pool_list_words(&pool->head));
    block = next;
  }
#else
  (void)pool, (void)block, (void)count;
#endif
}

/* The received sources come newest first; reversed, the slab whose frees
 * began longest ago comes first. Until a source is taken its link is the
 * owner's (a sender rewrites it only after finding the source emptied). */
static alloy_remote_free_source *oldest_first(alloy_remote_free_source *source) {
  alloy_remote_free_source *reversed = NULL;
  while (source != NULL) {
    alloy_remote_free_source *next = alloy_remote_free_source_next(source);
    source->link.next = reversed != NULL ? &reversed->link : NULL;
    reversed = source;
    source = next;
  }
  return reversed;
}

/* One whole slab batch of remote frees (NULL when none is pending). */
static pool_free_block *take_batch(alloy_pool *pool, size_t *out_count) {
  for (;;) {
    alloy_remote_free_source *source = pool->received;
    if (source == NULL) {
      source = alloy_remote_free_receive(&pool->inbox);
      if (source == NULL) return NULL;
      source = oldest_first(source);
    }
    /* The link before the take: afterwards a sender may reuse it. */
    pool->received = alloy_remote_free_source_next(source);
    size_t count;
    pool_free_block *blocks = alloy_remote_free_take(source, &count);
    if (blocks != NULL) {
      pool->remote_reclaimed += count;
      pool->remote_batches++;
      *out_count = count;
      return blocks;
    }
  }
}

/* The local list is empty, or its first block failed the checks (then that
 * is reported and the list dropped: its blocks are never handed out). Takes
 * back a slab batch of other threads' frees, else carves. */
static ALLOY_NOINLINE alloy_status allocate_slow(alloy_pool *pool, alloy_block *out) {
  for (;;) {
    pool_free_block *block = pool->local_free;
    if (block != NULL) {
      if (alloy_pool_listed_block_is_sound(&pool->head, pool->span_low, pool->span_size, block)) {
        pool->local_free = alloy_pool_unlist(&pool->head, block);
        alloy_pool_hand_out(pool, block, out);
        break;
      }
      alloy_pool_check_unsound_block(pool, block, pool->span_low, pool->span_size);
      pool->local_free = NULL;
    }
    size_t count;
    pool_free_block *batch = take_batch(pool, &count);
    if (batch == NULL) {
      ALLOY_TRY(alloy_pool_slab_carve(pool, out));
      break;
    }
    seal_links(pool, batch, count);
    pool->local_free = batch;
  }
  pool->allocations++;
  return ALLOY_OK;
}

alloy_status alloy_pool_concurrent_allocate(alloy_pool *pool, size_t size, size_t align, alloy_block *out) {
  if (ALLOY_UNLIKELY(size > pool->head.block_size || align - 1 >= pool->head.block_align ||
                     (align & (align - 1)) != 0))
    return alloy_pool_check_reject(size, align);
  if (ALLOY_UNLIKELY(!caller_owns(pool))) return ALLOY_E_UNSUPPORTED; /* owner only */
  pool_free_block *block = pool->local_free;
  if (ALLOY_UNLIKELY(!alloy_pool_listed_block_is_sound(&pool->head, pool->span_low, pool->span_size, block)))
    return allocate_slow(pool, out);
  void *next = alloy_pool_unlist(&pool->head, block);
  pool->local_free = next;
  /* Blocks freed by another thread come back with their lines in that
   * thread's cache: start taking the next one's line now, so its miss
   * overlaps the caller's work instead of stalling the next pop. */
  __builtin_prefetch(next, 1);
  pool->allocations++;
  alloy_pool_hand_out(pool, block, out);
  return ALLOY_OK;
}

static ALLOY_ALWAYS_INLINE alloy_status free_local(alloy_pool *pool, alloy_block block, size_t align) {
  pool_free_block *freed = block.ptr;
  if (ALLOY_UNLIKELY(((uintptr_t)freed - pool->span_low >= pool->span_size) |
                     !alloy_pool_is_block_shaped(pool, block))) {
    if (freed == NULL) return ALLOY_OK;
    return alloy_pool_check_refused_free(pool, block, align, pool->span_low, pool->span_size);
  }
  if (ALLOY_DEBUG) ALLOY_TRY(alloy_pool_check_free(pool, block, align));
  alloy_pool_list_push(&pool->head, &pool->local_free, freed);
  pool->local_frees++;
  ALLOY_TRACK_FREE(pool, freed, pool->head.block_size);
  return ALLOY_OK;
}

/* What a non-owner can check without the registry (which the owner edits)
 * beyond the every-build checks, in debug builds: the alignment, and a
 * block already marked free (on a free list, in a batch or in the channel). */
static ALLOY_COLD alloy_status check_remote_free(alloy_pool *pool, alloy_block block, size_t align) {
  if (!alloy_is_valid_alignment(align) || align > pool->head.block_align)
    return alloy_pool_check_report(ALLOY_E_ALIGN_MISMATCH, pool, block, align, "the pool never served this alignment");
  if (pool->head.free_key != 0) {
    pool_free_block *freed = block.ptr;
    ALLOY_MEM_DEFINED(freed, sizeof *freed);
    if (freed->mark == pool->head.free_key) {
      ALLOY_MEM_NOACCESS(freed, sizeof *freed);
      return alloy_pool_check_report(ALLOY_E_DOUBLE_FREE, pool, block, align, "the block is already free");
    }
  }
  return ALLOY_OK;
}

/* The batch's oldest block freed again: the send would rewrite its link and
 * cut the cycle by which the owner's pop finds every other double free in
 * a batch (a block met a second time on the list). */
static ALLOY_COLD alloy_status report_batched_twice(alloy_pool *pool, alloy_block block, size_t align) {
  return alloy_pool_check_report(ALLOY_E_DOUBLE_FREE, pool, block, align,
                                 "the block is already in this thread's batch of frees");
}

/* The block leaves its user: tools told, link and mark writable, marked free. */
static ALLOY_ALWAYS_INLINE void release_block(alloy_pool *pool, pool_free_block *freed) {
  ALLOY_TRACK_FREE(pool, freed, pool->head.block_size);
  ALLOY_MEM_UNDEFINED(freed, alloy_pool_list_words(&pool->head)); /* the link and mark travel with the block */
  if (pool->head.free_key != 0) freed->mark = pool->head.free_key;
}

/* Sends the sender's open batch (if any) to its slab's source. */
static void sender_send(alloy_pool *pool, pool_sender *sender) {
  const size_t count = atomic_load_explicit(&sender->count, memory_order_relaxed);
  if (count == 0) return;
  alloy_remote_free_send(&pool->inbox, &sender->slab->remote, sender->first, sender->last, count);
  sender->slab = NULL;
  sender->first = sender->last = NULL;
  atomic_store_explicit(&sender->count, (size_t)0, memory_order_relaxed);
}

static void sender_release(pool_sender *sender) {
  if (sender_cache.sender == sender) {
    sender_cache.pool_serial = 0;
    sender_cache.sender = NULL;
  }
  atomic_store_explicit(&sender->claimed, 0u, memory_order_release);
}

/* The thread holding the record exits: its batch goes out, the record is free again. */
static void sender_thread_exit(void *value) {
  pool_sender *sender = value;
  sender_send(sender->pool, sender);
  sender_release(sender);
}

/* The calling thread's record: held, or claimed now (NULL when every record
 * is held by another thread, or the pool has no exit key). */
static pool_sender *sender_claim(alloy_pool *pool) {
  if (!pool->batching) return NULL;
  pool_sender *sender = alloy_thread_exit_get(&pool->sender_exit);
  if (sender == NULL) {
    for (size_t i = 0; i < POOL_SENDERS && sender == NULL; ++i) {
      uint32_t free_record = 0;
      if (atomic_load_explicit(&pool->senders[i].claimed, memory_order_relaxed) == 0 &&
          atomic_compare_exchange_strong_explicit(&pool->senders[i].claimed, &free_record, 1u,
                                                  memory_order_acquire, memory_order_relaxed))
        sender = &pool->senders[i];
    }
    if (sender == NULL) return NULL;
    if (alloy_thread_exit_set(&pool->sender_exit, sender) != ALLOY_OK) {
      atomic_store_explicit(&sender->claimed, 0u, memory_order_release);
      return NULL;
    }
  }
  sender_cache.pool_serial = pool->serial;
  sender_cache.sender = sender;
  return sender;
}

/* The block joins the sender's open batch, which goes out when full. */
static ALLOY_ALWAYS_INLINE void batch_append(alloy_pool *pool, pool_sender *sender, pool_free_block *freed) {
  freed->next = sender->first;
  sender->first = freed;
  const size_t count = atomic_load_explicit(&sender->count, memory_order_relaxed) + 1;
  atomic_store_explicit(&sender->count, count, memory_order_relaxed);
  if (ALLOY_UNLIKELY(count == POOL_REMOTE_BATCH)) sender_send(pool, sender);
}

/* Everything but appending to the open batch of the block's slab: a thread
 * without its record cached, a batch of another slab (sent first), the
 * batch's oldest block freed again, no record to be had (the block is sent
 * alone). */
static ALLOY_NOINLINE alloy_status free_remote_slow(alloy_pool *pool, pool_slab *slab, alloy_block block,
                                                    size_t align) {
  pool_free_block *freed = block.ptr;
  pool_sender *sender = sender_claim(pool);
  if (sender != NULL && sender->slab == slab && freed == sender->last)
    return report_batched_twice(pool, block, align);
  release_block(pool, freed);
  if (sender == NULL) {
    alloy_remote_free_send(&pool->inbox, &slab->remote, freed, freed, 1);
    return ALLOY_OK;
  }
  if (sender->slab != slab) {
    sender_send(pool, sender);
    sender->slab = slab;
    sender->last = freed;
  }
  batch_append(pool, sender, freed);
  return ALLOY_OK;
}

static ALLOY_NOINLINE alloy_status free_remote(alloy_pool *pool, alloy_block block, size_t align) {
  pool_free_block *freed = block.ptr;
  const uintptr_t p = (uintptr_t)freed;
  const uintptr_t low = atomic_load_explicit(&pool->shared_low, memory_order_relaxed);
  const uintptr_t high = atomic_load_explicit(&pool->shared_high, memory_order_relaxed);
  if (ALLOY_UNLIKELY((p < low) | (p >= high) | !alloy_pool_is_block_shaped(pool, block))) {
    if (freed == NULL) return ALLOY_OK;
    return alloy_pool_check_refused_free(pool, block, align, low, high - low);
  }
  if (ALLOY_DEBUG) ALLOY_TRY(check_remote_free(pool, block, align));
  pool_slab *slab = (pool_slab *)(p & ~pool->head.slab_mask);
  /* The open batch of the block's slab takes it with plain stores. The
   * record is read only once the serial names this pool. */
  pool_sender *sender = sender_cache.sender;
  if (ALLOY_UNLIKELY(sender_cache.pool_serial != pool->serial || sender->slab != slab || freed == sender->last))
    return free_remote_slow(pool, slab, block, align);
  release_block(pool, freed);
  batch_append(pool, sender, freed);
  return ALLOY_OK;
}

void alloy_pool_thread_detach(alloy_pool *pool) {
  if (!pool->concurrent || !pool->batching) return;
  pool_sender *sender = alloy_thread_exit_get(&pool->sender_exit);
  if (sender == NULL) return;
  sender_send(pool, sender);
  ALLOY_IGNORE_STATUS(alloy_thread_exit_set(&pool->sender_exit, NULL));
  sender_release(sender);
}

alloy_status alloy_pool_concurrent_free(alloy_pool *pool, alloy_block block, size_t align) {
  if (ALLOY_LIKELY(caller_owns(pool))) return free_local(pool, block, align);
  return free_remote(pool, block, align);
}

size_t alloy_pool_collect(alloy_pool *pool) {
  if (!pool->concurrent || !caller_owns(pool)) return 0;
  size_t total = 0, count;
  pool_free_block *batch;
  while ((batch = take_batch(pool, &count)) != NULL) {
    pool_free_block *tail = batch;
    for (size_t i = 1; i < count; ++i) tail = link_read(tail);
    seal_links(pool, batch, count);
    ALLOY_MEM_DEFINED(&tail->next, sizeof tail->next);
    tail->next = pool->local_free;
    ALLOY_MEM_NOACCESS(&tail->next, sizeof tail->next);
    pool->local_free = batch;
    total += count;
  }
  return total;
}
