/* Buckets over slabs: blocks leave their slabs in batches for thread caches
 * and come back one by one, empty slabs wait for reuse and give their
 * memory back. Everything here runs with the root lock held. */
#include <string.h>

#include "alloy/align.h"
#include "alloy/tool_hooks.h"
#include "alloy/vm.h"
#include "strategies/partition/partition_internal.h"

ALLOY_STATIC_ASSERT(SLAB_HEADER_SIZE % 64 == 0, "the slab header fills whole cache lines");

/* ---- free-block words ------------------------------------------------------------ */

static ALLOY_ALWAYS_INLINE void set_mark(const alloy_partition *partition, void *block) {
  uintptr_t *mark = (uintptr_t *)block + 1;
  ALLOY_MEM_UNDEFINED(mark, sizeof *mark);
  *mark = partition_free_mark(partition, block);
  ALLOY_MEM_NOACCESS(mark, sizeof *mark);
}

/* ---- slab geometry ---------------------------------------------------------------- */

static ALLOY_ALWAYS_INLINE char *slab_base(const alloy_partition *partition, const partition_slab *slab) {
  return partition->root->base + ((size_t)slab->index << partition->root->slab_shift);
}

static ALLOY_ALWAYS_INLINE partition_slab *slab_of(const alloy_partition *partition, const void *block) {
  char *base = (char *)((uintptr_t)block & ~partition->slab_mask);
  return partition_slab_header(partition, base);
}

/* The committed span before the header's page: what an empty slab may decommit. */
static size_t slab_decommit_bytes(const alloy_partition *partition) {
  return alloy_align_down(partition->usable - SLAB_HEADER_SIZE, alloy_vm_page_size());
}

static bool within_budget(const alloy_partition *partition, size_t bytes) {
  return partition->max_bytes == 0 || partition->committed_bytes + bytes <= partition->max_bytes;
}

/* ---- lists ------------------------------------------------------------------------ */

static void list_push(partition_slab **head, partition_slab *slab) {
  slab->prev = NULL;
  slab->next = *head;
  if (*head != NULL) (*head)->prev = slab;
  *head = slab;
}

static void list_remove(partition_slab **head, partition_slab *slab) {
  if (slab->prev != NULL) slab->prev->next = slab->next;
  else *head = slab->next;
  if (slab->next != NULL) slab->next->prev = slab->prev;
  slab->next = slab->prev = NULL;
}

static void list_append(partition_slab **head, partition_slab *slab) {
  partition_slab *prev = NULL;
  partition_slab **tail = head;
  while (*tail != NULL) {
    prev = *tail;
    tail = &(*tail)->next;
  }
  slab->prev = prev;
  slab->next = NULL;
  *tail = slab;
}

/* ---- slabs ------------------------------------------------------------------------ */

/* Gives `slab` to `bucket` (nothing carved) and tells the slot table. */
static void slab_assign(alloy_partition *partition, partition_slab *slab, partition_bucket *bucket) {
  slab->bucket = bucket;
  slab->free_list = NULL;
  slab->carved = 0;
  slab->live = 0;
  list_push(&bucket->active, slab);
  slab->listed = true;
  partition_slot *slot = &partition->root->slots[slab->index];
  slot->word = bucket->divisor.odd_inverse;
  slot->shift = (uint8_t)bucket->divisor.shift;
  slot->bucket = (uint8_t)(bucket - partition->buckets);
  slot->size = bucket->object_size;
  slot->capacity = bucket->capacity;
}

/* A brand-new slot, committed. */
static alloy_status slab_create(alloy_partition *partition, partition_slab **out) {
  alloy_partition_root *root = partition->root;
  if (!within_budget(partition, partition->usable)) return ALLOY_E_CAPACITY;
  size_t index = alloy_partition_root_take_slots(root, partition, 1, false);
  if (index == SIZE_MAX) return ALLOY_E_CAPACITY;
  char *base = root->base + (index << root->slab_shift);
  alloy_status status = alloy_partition_root_commit(partition, base, partition->usable);
  if (status != ALLOY_OK) {
    /* Slots never change hands: the one that could not be committed is retired. */
    alloy_partition_root_retire_slot(root, index);
    return status;
  }
  ALLOY_MEM_NOACCESS(base, partition->usable - SLAB_HEADER_SIZE);
  partition_slab *slab = partition_slab_header(partition, base);
  memset(slab, 0, sizeof *slab);
  slab->index = (uint32_t)index;
  slab->committed = true;
  slab->all_next = partition->all;
  partition->all = slab;
  partition->committed_bytes += partition->usable;
  partition->slab_count++;
  *out = slab;
  return ALLOY_OK;
}

/* An empty slab of the partition, recommitted if it was decommitted. */
static alloy_status slab_reuse(alloy_partition *partition, partition_slab **out) {
  partition_slab *slab = partition->empty;
  if (!slab->committed) {
    const size_t bytes = slab_decommit_bytes(partition);
    if (!within_budget(partition, bytes)) return ALLOY_E_CAPACITY;
    char *base = slab_base(partition, slab);
    ALLOY_TRY(alloy_partition_root_commit(partition, base, bytes));
    ALLOY_MEM_NOACCESS(base, bytes);
    slab->committed = true;
    partition->committed_bytes += bytes;
  } else {
    partition->empty_committed--;
  }
  list_remove(&partition->empty, slab);
  *out = slab;
  return ALLOY_OK;
}

static ALLOY_NOINLINE alloy_status bucket_grow(alloy_partition *partition, partition_bucket *bucket,
                                               partition_slab **out) {
  partition_slab *slab;
  if (partition->empty != NULL) {
    ALLOY_TRY(slab_reuse(partition, &slab));
  } else {
    ALLOY_TRY(slab_create(partition, &slab));
  }
  slab_assign(partition, slab, bucket);
  *out = slab;
  return ALLOY_OK;
}

static void slab_decommit(alloy_partition *partition, partition_slab *slab) {
  const size_t bytes = slab_decommit_bytes(partition);
  char *base = slab_base(partition, slab);
  ALLOY_MEM_UNDEFINED(base, bytes);
  if (alloy_vm_decommit(base, bytes) == ALLOY_OK) {
    slab->committed = false;
    partition->committed_bytes -= bytes;
  } else {
    ALLOY_MEM_NOACCESS(base, bytes);
  }
}

/* A slab whose last object came back leaves its bucket; one empty slab
 * stays committed, the memory of the others goes back. `keep_last`: a
 * bucket's only slab stays in it (a one-object ping-pong stays cheap). */
static void slab_release_empty(alloy_partition *partition, partition_slab *slab, bool keep_last) {
  partition_bucket *bucket = slab->bucket;
  if (keep_last && bucket->active == slab && slab->next == NULL) return;
  if (slab->listed) list_remove(&bucket->active, slab);
  slab->listed = false;
  slab->bucket = NULL;
  partition_slot *slot = &partition->root->slots[slab->index];
  slot->capacity = 0;
  slot->size = 0;
  slot->word = 0;
  slot->shift = 0;
  if (partition->empty_committed == 0 && keep_last) {
    partition->empty_committed++;
    list_push(&partition->empty, slab);
    return;
  }
  slab_decommit(partition, slab);
  if (slab->committed) {
    partition->empty_committed++;
    list_push(&partition->empty, slab);
  } else {
    /* Decommitted slabs go to the back, so committed ones are reused first. */
    list_append(&partition->empty, slab);
  }
}

/* ---- blocks in and out ----------------------------------------------------------- */

/* One free block out of a slab of the bucket (marked), or NULL. */
static void *slab_take_one(alloy_partition *partition, partition_bucket *bucket, alloy_status *status) {
  partition_slab *slab = bucket->active;
  if (ALLOY_UNLIKELY(slab == NULL)) {
    *status = bucket_grow(partition, bucket, &slab);
    if (*status != ALLOY_OK) return NULL;
  }
  void *block = slab->free_list;
  if (block != NULL) {
    slab->free_list = partition_link_of(block);
  } else {
    block = slab_base(partition, slab) + (size_t)slab->carved * bucket->object_size;
    slab->carved++;
    set_mark(partition, block);
  }
  if (++slab->live == bucket->capacity) {
    list_remove(&bucket->active, slab);
    slab->listed = false;
  }
  return block;
}

size_t alloy_partition_slab_take(alloy_partition *partition, partition_bucket *bucket, size_t want, void **first,
                                 void **last, alloy_status *status) {
  void *head = NULL, *tail = NULL;
  size_t taken = 0;
#define APPEND(block)                  \
  do {                                 \
    if (head == NULL) head = (block);  \
    else partition_set_link(tail, (block));      \
    tail = (block);                    \
    taken++;                           \
  } while (0)
  /* 1. Blocks other threads sent back, kept from an earlier refill. */
  while (taken < want && bucket->spare != NULL) {
    void *block = bucket->spare;
    bucket->spare = partition_link_of(block);
    bucket->spare_count--;
    APPEND(block);
  }
  /* 2. Batches sent back since: what the refill does not need is kept as
   * spare, up to a few bins' worth, and the rest goes home to its slab. */
  if (taken < want && __atomic_load_n(&bucket->returned, __ATOMIC_RELAXED) != NULL) {
    void *chain = __atomic_exchange_n(&bucket->returned, NULL, __ATOMIC_ACQUIRE);
    while (chain != NULL) {
      void *next = partition_link_of(chain);
      if (taken < want) {
        APPEND(chain);
      } else if (bucket->spare_count < bucket->cache_limit * PARTITION_SPARE_BINS) {
        partition_set_link(chain, bucket->spare);
        bucket->spare = chain;
        bucket->spare_count++;
      } else {
        alloy_partition_slab_put(partition, chain);
      }
      chain = next;
    }
  }
  /* 3. The bucket's slabs, growing it when they are full. */
  *status = ALLOY_OK;
  while (taken < want) {
    void *block = slab_take_one(partition, bucket, status);
    if (block == NULL) break;
    APPEND(block);
  }
#undef APPEND
  if (tail != NULL) partition_set_link(tail, NULL);
  *first = head;
  *last = tail;
  return taken;
}

void alloy_partition_slab_put(alloy_partition *partition, void *block) {
  partition_slab *slab = slab_of(partition, block);
  partition_set_link(block, slab->free_list);
  slab->free_list = block;
  if (ALLOY_UNLIKELY(!slab->listed)) {
    list_push(&slab->bucket->active, slab);
    slab->listed = true;
  }
  if (ALLOY_UNLIKELY(--slab->live == 0)) slab_release_empty(partition, slab, true);
}

void alloy_partition_slab_put_chain(alloy_partition *partition, void *first) {
  while (first != NULL) {
    void *next = partition_link_of(first);
    alloy_partition_slab_put(partition, first);
    first = next;
  }
}

void alloy_partition_slab_drain(alloy_partition *partition) {
  for (size_t i = 0; i < partition->bucket_count; ++i) {
    partition_bucket *bucket = &partition->buckets[i];
    if (__atomic_load_n(&bucket->returned, __ATOMIC_RELAXED) == NULL) continue;
    alloy_partition_slab_put_chain(partition, __atomic_exchange_n(&bucket->returned, NULL, __ATOMIC_ACQUIRE));
  }
}

void alloy_partition_slab_purge(alloy_partition *partition) {
  for (size_t i = 0; i < partition->bucket_count; ++i) {
    partition_bucket *bucket = &partition->buckets[i];
    void *spare = bucket->spare;
    bucket->spare = NULL;
    bucket->spare_count = 0;
    alloy_partition_slab_put_chain(partition, spare);
    alloy_partition_slab_put_chain(partition, __atomic_exchange_n(&bucket->returned, NULL, __ATOMIC_ACQUIRE));
  }
  /* Empty slabs still in a bucket leave it; then every empty slab's memory goes back. */
  for (partition_slab *slab = partition->all; slab != NULL; slab = slab->all_next)
    if (slab->bucket != NULL && slab->live == 0) slab_release_empty(partition, slab, false);
  for (partition_slab *slab = partition->empty; slab != NULL; slab = slab->next) {
    if (!slab->committed) continue;
    slab_decommit(partition, slab);
    if (!slab->committed) partition->empty_committed--;
  }
}

void alloy_partition_slab_release_all(alloy_partition *partition) {
  for (partition_slab *slab = partition->all; slab != NULL;) {
    partition_slab *next = slab->all_next;
    char *base = slab_base(partition, slab);
    size_t index = slab->index;
    /* Committed bytes leave the tools' books before the pages go. */
    ALLOY_MEM_UNDEFINED(base, partition->usable);
    alloy_partition_root_retire_slot(partition->root, index);
    ALLOY_IGNORE_STATUS(alloy_vm_decommit(base, partition->usable));
    slab = next;
  }
  partition->all = NULL;
}
