/* Thread caches: each thread that uses a partition gets a cache of it, one
 * bin of free blocks per bucket, which serves allocations and takes frees
 * (of blocks any thread allocated) without a lock. A bin refills from the
 * bucket in a batch under the root lock, and sends its blocks back in one
 * lock-free push when it reaches its limit. The root's thread-exit key
 * holds the thread's list of caches; at exit (or detach) they go back to
 * the slabs under the lock. Calls partition_slab.c and partition_root.c. */
#include "alloy/align.h"
#include "alloy/tool_hooks.h"
#include "alloy/vm.h"
#include "strategies/partition/partition_internal.h"

/* Defined beside the binding that writes it; the fast paths in partition.c
 * read it through the initial-exec declaration in partition_internal.h. */
ALLOY_THREAD_LOCAL partition_thread_caches alloy_partition_cache_thread __attribute__((tls_model("initial-exec")));

static partition_recent *recent_of(uint64_t id) {
  return &alloy_partition_cache_thread.recent[id & (PARTITION_RECENT - 1)];
}

static void forget_entry(partition_recent *entry, const partition_cache *cache) {
  if (entry->cache == cache) {
    entry->id = 0;
    entry->cache = NULL;
  }
}

static void forget_recent(const partition_cache *cache) {
  forget_entry(&alloy_partition_cache_thread.last, cache);
  forget_entry(recent_of(cache->partition_id), cache);
}

static partition_cache *remember(alloy_partition *partition, partition_cache *cache) {
  partition_recent *recent = recent_of(partition->id);
  recent->id = partition->id;
  recent->cache = cache;
  alloy_partition_cache_thread.last = *recent;
  return cache;
}

/* ---- binding ----------------------------------------------------------------------- */

static partition_cache *cache_create(alloy_partition *partition) {
  const size_t page = alloy_vm_page_size();
  const size_t bytes = alloy_align_up(sizeof(partition_cache) + partition->bucket_count * sizeof(partition_bin), page);
  void *memory;
  if (alloy_vm_map(bytes, page, &memory) != ALLOY_OK) return NULL;
  partition_cache *cache = (partition_cache *)memory; /* zero-filled */
  cache->partition = partition;
  cache->partition_id = partition->id;
  cache->root = partition->root;
  cache->self_bytes = bytes;
  cache->bin_count = partition->bucket_count;
  for (size_t i = 0; i < partition->bucket_count; ++i) {
    cache->bins[i].limit = partition->buckets[i].cache_limit;
    cache->bins[i].full_at = partition->buckets[i].cache_limit;
    cache->bins[i].object_size = partition->buckets[i].object_size;
  }
  alloy_partition_root *root = partition->root;
  alloy_spin_lock_acquire(&root->lock);
  alloy_partition_root_link_cache(root, cache);
  alloy_spin_lock_release(&root->lock);
  return cache;
}

static void cache_flush_locked(partition_cache *cache) {
  for (size_t i = 0; i < cache->bin_count; ++i) {
    partition_bin *bin = &cache->bins[i];
    alloy_partition_slab_put_chain(cache->partition, bin->head);
    bin->full_at += partition_bin_count(bin);
    bin->head = bin->tail = NULL;
  }
}

static void cache_counts(const partition_cache *cache, uint64_t *allocations, uint64_t *deallocations,
                         uint64_t *live_bytes) {
  for (size_t i = 0; i < cache->bin_count; ++i) {
    const partition_bin *bin = &cache->bins[i];
    const uint64_t handed = partition_counter_read(&bin->allocations);
    const uint64_t taken = partition_counter_read(&bin->frees);
    *allocations += handed;
    *deallocations += taken;
    *live_bytes += (handed - taken) * bin->object_size;
  }
}

/* Gives the cache's blocks back, folds its counters into its partition,
 * unmaps it. */
static void cache_release(partition_cache *cache, alloy_partition_root *root) {
  alloy_spin_lock_acquire(&root->lock);
  if (!cache->orphaned) {
    alloy_partition *partition = cache->partition;
    cache_flush_locked(cache);
    /* What the thread sent back earlier goes home too, so the slabs it
     * emptied can give their memory back. */
    alloy_partition_slab_drain(partition);
    uint64_t allocations = 0, deallocations = 0, live_bytes = 0;
    cache_counts(cache, &allocations, &deallocations, &live_bytes);
    partition->allocations += allocations;
    partition->deallocations += deallocations;
    partition->live_bytes += live_bytes;
  }
  alloy_partition_root_unlink_cache(root, cache);
  alloy_spin_lock_release(&root->lock);
  forget_recent(cache);
  ALLOY_IGNORE_STATUS(alloy_vm_release(cache, cache->self_bytes));
}

partition_cache *alloy_partition_cache_bind(alloy_partition *partition) {
  partition_recent *recent = recent_of(partition->id);
  if (recent->id == partition->id) {
    alloy_partition_cache_thread.last = *recent;
    return recent->cache;
  }
  alloy_partition_root *root = partition->root;
  if (!root->key.valid) return NULL;
  partition_cache *first = (partition_cache *)alloy_thread_exit_get(&root->key);
  partition_cache *cache = first;
  while (cache != NULL && !(cache->partition == partition && cache->partition_id == partition->id))
    cache = cache->thread_next;
  if (cache == NULL) {
    cache = cache_create(partition);
    if (cache == NULL) return NULL;
    cache->thread_next = first;
    if (alloy_thread_exit_set(&root->key, cache) != ALLOY_OK) {
      cache->thread_next = NULL;
      cache_release(cache, root);
      return NULL;
    }
  }
  return remember(partition, cache);
}

/* The calling thread's cache of `partition`, without creating one. */
static partition_cache *cache_find(alloy_partition *partition) {
  if (alloy_partition_cache_thread.last.id == partition->id) return alloy_partition_cache_thread.last.cache;
  partition_recent *recent = recent_of(partition->id);
  if (recent->id == partition->id) return recent->cache;
  if (!partition->root->key.valid) return NULL;
  partition_cache *cache = (partition_cache *)alloy_thread_exit_get(&partition->root->key);
  while (cache != NULL && !(cache->partition == partition && cache->partition_id == partition->id))
    cache = cache->thread_next;
  return cache;
}

/* ---- blocks in and out ----------------------------------------------------------- */

static ALLOY_ALWAYS_INLINE void hand_out(alloy_partition *partition, void *block, size_t object_size,
                                         alloy_block *out) {
  uintptr_t *mark = (uintptr_t *)block + 1;
  ALLOY_MEM_UNDEFINED(mark, sizeof *mark);
  *mark = 0;
  ALLOY_TRACK_ALLOC(partition, block, object_size);
  *out = alloy_block_make(block, object_size);
}

static ALLOY_COLD alloy_status failed(alloy_partition *partition, alloy_status status) {
  __atomic_fetch_add(&partition->failures, 1, __ATOMIC_RELAXED);
  return status;
}

alloy_status alloy_partition_cache_allocate_slow(alloy_partition *partition, partition_cache *cache, size_t index,
                                                 alloy_block *out) {
  alloy_partition_root *root = partition->root;
  partition_bucket *bucket = &partition->buckets[index];
  const size_t object_size = bucket->object_size;
  void *first, *last;
  alloy_status status;
  if (cache == NULL) {
    alloy_spin_lock_acquire(&root->lock);
    size_t taken = alloy_partition_slab_take(partition, bucket, 1, &first, &last, &status);
    if (taken != 0) {
      partition->allocations++;
      partition->live_bytes += object_size;
    }
    alloy_spin_lock_release(&root->lock);
    if (taken == 0) return failed(partition, status);
    hand_out(partition, first, object_size, out);
    return ALLOY_OK;
  }
  partition_bin *bin = &cache->bins[index];
  const size_t want = bin->limit / 2 > 1 ? bin->limit / 2 : 1;
  alloy_spin_lock_acquire(&root->lock);
  size_t taken = alloy_partition_slab_take(partition, bucket, want, &first, &last, &status);
  alloy_spin_lock_release(&root->lock);
  if (taken == 0) return failed(partition, status);
  void *rest = partition_link_of(first);
  if (rest != NULL) {
    if (bin->head == NULL) bin->tail = last;
    else partition_set_link(last, bin->head);
    bin->head = rest;
  }
  bin->full_at -= taken;
  partition_counter_add(&bin->allocations, 1);
  hand_out(partition, first, object_size, out);
  return ALLOY_OK;
}

void alloy_partition_cache_overflow(alloy_partition *partition, partition_cache *cache, size_t index) {
  partition_bin *bin = &cache->bins[index];
  partition_bucket *bucket = &partition->buckets[index];
  void *head = bin->head, *tail = bin->tail;
  /* The whole bin in one push: the next refill (of any thread) takes it. */
  void *old = __atomic_load_n(&bucket->returned, __ATOMIC_RELAXED);
  do {
    partition_set_link(tail, old);
  } while (!__atomic_compare_exchange_n(&bucket->returned, &old, head, true, __ATOMIC_RELEASE, __ATOMIC_RELAXED));
  bin->full_at += partition_bin_count(bin);
  bin->head = bin->tail = NULL;
}

alloy_status alloy_partition_cache_free_uncached(alloy_partition *partition, void *block, size_t object_size) {
  alloy_partition_root *root = partition->root;
  ALLOY_TRACK_FREE(partition, block, object_size);
  uintptr_t *mark = (uintptr_t *)block + 1;
  ALLOY_MEM_UNDEFINED(mark, sizeof *mark);
  *mark = partition_free_mark(partition, block);
  ALLOY_MEM_NOACCESS(mark, sizeof *mark);
  alloy_spin_lock_acquire(&root->lock);
  alloy_partition_slab_put(partition, block);
  partition->deallocations++;
  partition->live_bytes -= object_size;
  alloy_spin_lock_release(&root->lock);
  return ALLOY_OK;
}

/* ---- flush, exit, destroy -------------------------------------------------------- */

void alloy_partition_cache_flush_own(alloy_partition *partition) {
  partition_cache *cache = cache_find(partition);
  if (cache == NULL) return;
  alloy_spin_lock_acquire(&partition->root->lock);
  cache_flush_locked(cache);
  alloy_spin_lock_release(&partition->root->lock);
}

static void release_list(alloy_partition_root *root, partition_cache *cache) {
  while (cache != NULL) {
    partition_cache *next = cache->thread_next;
    cache_release(cache, root);
    cache = next;
  }
}

void alloy_partition_cache_detach(alloy_partition_root *root) {
  if (!root->key.valid) return;
  partition_cache *first = (partition_cache *)alloy_thread_exit_get(&root->key);
  if (first == NULL) return;
  ALLOY_IGNORE_STATUS(alloy_thread_exit_set(&root->key, NULL));
  release_list(root, first);
}

void alloy_partition_cache_thread_exit(void *first_cache) {
  partition_cache *first = (partition_cache *)first_cache;
  release_list(first->root, first);
}

void alloy_partition_cache_orphan(alloy_partition *partition) {
  for (partition_cache *cache = partition->root->caches; cache != NULL; cache = cache->root_next)
    if (cache->partition == partition && cache->partition_id == partition->id) cache->orphaned = true;
}

void alloy_partition_cache_release_all(alloy_partition_root *root) {
  while (root->caches != NULL) {
    partition_cache *cache = root->caches;
    alloy_partition_root_unlink_cache(root, cache);
    forget_recent(cache);
    ALLOY_IGNORE_STATUS(alloy_vm_release(cache, cache->self_bytes));
  }
}

void alloy_partition_cache_sum(const alloy_partition *partition, uint64_t *allocations, uint64_t *deallocations,
                               uint64_t *live_bytes) {
  for (const partition_cache *cache = partition->root->caches; cache != NULL; cache = cache->root_next) {
    if (cache->orphaned || cache->partition != partition || cache->partition_id != partition->id) continue;
    cache_counts(cache, allocations, deallocations, live_bytes);
  }
}
