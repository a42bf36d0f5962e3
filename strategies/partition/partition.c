/* A partition: size-class buckets over slabs that only it ever uses, served
 * to each thread from its own cache, and direct-mapped spans above the
 * buckets. The allocate and free fast paths (a hit in the thread's bin),
 * the resource ops, partition life cycle, stats and purge. */
#include <string.h>

#include "alloy/align.h"
#include "alloy/fault.h"
#include "alloy/numa.h"
#include "alloy/random.h"
#include "alloy/size_class.h"
#include "alloy/tool_hooks.h"
#include "alloy/vm.h"
#include "strategies/partition/partition_internal.h"

/* Never 0: a cache's partition id of 0 means none. */
static uint64_t next_partition_id = 1;

/* ---- the thread's cache ------------------------------------------------------------ */

/* Whether the partition is the one the calling thread used last: then
 * last_cache() is its cache (one compare at a fixed thread-local address;
 * an entry with an id always has its cache). */
static ALLOY_ALWAYS_INLINE bool is_last(const alloy_partition *partition) {
  return alloy_partition_cache_thread.last.id == partition->id;
}

static ALLOY_ALWAYS_INLINE partition_cache *last_cache(void) { return alloy_partition_cache_thread.last.cache; }

/* ---- allocate ---------------------------------------------------------------------- */

static ALLOY_ALWAYS_INLINE alloy_status allocate_from(alloy_partition *partition, partition_cache *cache,
                                                     size_t index, alloy_block *out) {
  partition_bin *bin = &cache->bins[index];
  uintptr_t *block = (uintptr_t *)bin->head;
  if (ALLOY_UNLIKELY(block == NULL)) return alloy_partition_cache_allocate_slow(partition, cache, index, out);
  /* The bin's words are read before the block's are written (see free_into). */
  const size_t object_size = bin->object_size;
  const uint64_t allocations = bin->allocations + 1;
  ALLOY_MEM_DEFINED(block, 2 * sizeof(uintptr_t));
  bin->head = (void *)block[0];
  block[1] = 0; /* no longer free: a free of it must find no mark */
  __atomic_store_n(&bin->allocations, allocations, __ATOMIC_RELAXED);
  ALLOY_TRACK_ALLOC(partition, block, object_size);
  out->ptr = block;
  out->size = object_size;
  return ALLOY_OK;
}

/* The partition is not the thread's last one: bind it (or not: no cache). */
static ALLOY_NOINLINE alloy_status allocate_unbound(alloy_partition *partition, size_t index, alloy_block *out) {
  partition_cache *cache = alloy_partition_cache_bind(partition);
  if (cache == NULL) return alloy_partition_cache_allocate_slow(partition, NULL, index, out);
  return allocate_from(partition, cache, index, out);
}

/* A block of bucket `index`: from the thread's bin when it has one. */
static ALLOY_ALWAYS_INLINE alloy_status allocate_in_bucket(alloy_partition *partition, size_t index,
                                                          alloy_block *out) {
  if (ALLOY_UNLIKELY(!is_last(partition))) return allocate_unbound(partition, index, out);
  return allocate_from(partition, last_cache(), index, out);
}

/* A large block moves the peak: the live bytes, caches summed (lock). */
static void note_peak(alloy_partition *partition) {
  alloy_spin_lock_acquire(&partition->root->lock);
  uint64_t allocations = 0, deallocations = 0, live = partition->live_bytes;
  alloy_partition_cache_sum(partition, &allocations, &deallocations, &live);
  if ((int64_t)live > 0 && live > partition->peak_live_bytes) partition->peak_live_bytes = (size_t)live;
  alloy_spin_lock_release(&partition->root->lock);
}

/* Bad requests, alignments above 16, sizes above the buckets. */
static ALLOY_NOINLINE alloy_status allocate_unusual(alloy_partition *partition, size_t size, size_t align,
                                                    alloy_block *out) {
  alloy_status status = alloy_request_check(size, align);
  if (status == ALLOY_OK) {
    if (size <= partition->max_bucket_size && align <= partition->max_alignment) {
      /* The first class at or above the size whose objects all sit on `align`. */
      size_t cls = alloy_size_class_of(alloy_align_up(size < PARTITION_MIN_OBJECT ? PARTITION_MIN_OBJECT : size, align));
      while (cls < partition->bucket_count && alloy_size_class_size(cls) % align != 0) ++cls;
      if (cls < partition->bucket_count) return allocate_in_bucket(partition, cls, out);
    }
    status = alloy_partition_direct_allocate(partition, size, align, out);
    if (status == ALLOY_OK) {
      note_peak(partition);
      return ALLOY_OK;
    }
  }
  __atomic_fetch_add(&partition->failures, 1, __ATOMIC_RELAXED);
  return status;
}

/* Alignments 1, 2, 4, 8 and 16, as bits of a mask. */
#define SMALL_ALIGNMENTS ((1u << 1) | (1u << 2) | (1u << 4) | (1u << 8) | (1u << 16))

static ALLOY_ALWAYS_INLINE alloy_status allocate(alloy_partition *partition, size_t size, size_t align,
                                                alloy_block *out) {
  /* One table lookup: the smallest class holding the size rounded up to 16,
   * whose objects are 16-aligned (the smallest class holding a multiple of
   * 16 is one), so alignments up to 16 need no class of their own. */
  if (ALLOY_LIKELY(size <= partition->table_max_size && align <= 16 && ((1u << align) & SMALL_ALIGNMENTS) != 0))
    return allocate_in_bucket(partition, partition->bucket_for[(size + 15) >> 4], out);
  return allocate_unusual(partition, size, align, out);
}

alloy_status alloy_partition_allocate(alloy_partition *partition, size_t size, size_t align, alloy_block *out) {
  return allocate(partition, size, align, out);
}

/* ---- free -------------------------------------------------------------------------- */

static ALLOY_COLD alloy_status report(const alloy_partition *partition, alloy_status kind, alloy_block block,
                                      size_t expected, const char *detail) {
  alloy_fault fault = {kind, partition->name, block.ptr, block.size, expected, 0, 0, detail};
  return alloy_fault_report(&fault);
}

static ALLOY_COLD alloy_status report_foreign(const alloy_partition *partition, const alloy_partition *owner,
                                              alloy_block block) {
  char detail[96];
  if (owner == NULL)
    return report(partition, ALLOY_E_NOT_OWNED, block, 0, "block is not from this partition root");
  if (owner == alloy_partition_root_retired)
    return report(partition, ALLOY_E_NOT_OWNED, block, 0, "block is from a destroyed partition");
  /* The detail names the partition that does own the block. */
  size_t n = strlen("block belongs to partition ");
  memcpy(detail, "block belongs to partition ", n);
  size_t name_length = 0;
  while (name_length < PARTITION_NAME_MAX - 1 && owner->name[name_length] != '\0') ++name_length;
  memcpy(detail + n, owner->name, name_length);
  detail[n + name_length] = '\0';
  return report(partition, ALLOY_E_NOT_OWNED, block, 0, detail);
}

/* Outside the root: NULL, or a foreign pointer. */
static ALLOY_NOINLINE alloy_status free_outside(alloy_partition *partition, alloy_block block) {
  if (block.ptr == NULL) return ALLOY_OK;
  return report_foreign(partition, NULL, block);
}

/* The slot is not one of the partition's slabs with `index` an object
 * start, or the size is too large: a direct-mapped block, or misuse. */
static ALLOY_NOINLINE alloy_status free_unusual(alloy_partition *partition, alloy_block block, partition_slot *slot,
                                                uint64_t index) {
  const uintptr_t owner = slot->owner;
  if (owner == ((uintptr_t)partition | PARTITION_SLOT_DIRECT))
    return alloy_partition_direct_free(partition, block, slot);
  if (owner != (uintptr_t)partition) return report_foreign(partition, partition_slot_owner(slot), block);
  if (slot->capacity == 0) return report(partition, ALLOY_E_DOUBLE_FREE, block, 0, "the slab is empty");
  if (index >= slot->capacity)
    return report(partition, ALLOY_E_NOT_OWNED, block, slot->size, "pointer is not the start of an object");
  return report(partition, ALLOY_E_SIZE_MISMATCH, block, slot->size, "size is larger than the object");
}

static ALLOY_NOINLINE alloy_status report_double_free(alloy_partition *partition, alloy_block block) {
  ALLOY_MEM_NOACCESS((uintptr_t *)block.ptr + 1, sizeof(uintptr_t));
  return report(partition, ALLOY_E_DOUBLE_FREE, block, 0, "object is already free");
}

/* A checked free into the thread's bin of `bucket`; `mark` is the block's
 * free mark. The bin's words are each read once, before the link goes into
 * the block (the compiler cannot tell they never alias, and would read them
 * again after it). */
static ALLOY_ALWAYS_INLINE alloy_status free_into(alloy_partition *partition, partition_cache *cache, size_t bucket,
                                                 uintptr_t *block, uintptr_t mark, size_t object_size) {
  partition_bin *bin = &cache->bins[bucket];
  ALLOY_TRACK_FREE(partition, block, object_size);
  ALLOY_MEM_UNDEFINED(block, 2 * sizeof(uintptr_t));
  block[1] = mark;
  void *head = bin->head;
  const uint64_t frees = bin->frees + 1;
  const bool full = (int64_t)(frees - bin->allocations - bin->full_at) >= 0;
  block[0] = (uintptr_t)head;
  ALLOY_MEM_NOACCESS(block, 2 * sizeof(uintptr_t));
  if (head == NULL) bin->tail = block;
  bin->head = block;
  __atomic_store_n(&bin->frees, frees, __ATOMIC_RELAXED);
  if (ALLOY_UNLIKELY(full)) alloy_partition_cache_overflow(partition, cache, bucket);
  return ALLOY_OK;
}

static ALLOY_NOINLINE alloy_status free_unbound(alloy_partition *partition, size_t bucket, uintptr_t *block,
                                                uintptr_t mark, size_t object_size) {
  partition_cache *cache = alloy_partition_cache_bind(partition);
  if (cache == NULL) return alloy_partition_cache_free_uncached(partition, block, object_size);
  return free_into(partition, cache, bucket, block, mark, object_size);
}

static ALLOY_ALWAYS_INLINE alloy_status deallocate(alloy_partition *partition, alloy_block block) {
  /* From the slot entry alone (no slab header, no bitmap): this partition's
   * slab, an object start, a size the object holds. */
  const uintptr_t offset = (uintptr_t)block.ptr - (uintptr_t)partition->base;
  if (ALLOY_UNLIKELY(offset >= partition->reserve_bytes)) return free_outside(partition, block);
  partition_slot *slot = &partition->slots[offset >> partition->slab_shift];
  const alloy_divisor divisor = {slot->word, slot->shift};
  const uint64_t index = alloy_divisor_exact_quotient(divisor, offset & partition->slab_mask);
  if (ALLOY_UNLIKELY(slot->owner != (uintptr_t)partition || index >= slot->capacity || block.size > slot->size))
    return free_unusual(partition, block, slot, index);
  /* Then the block's own word 1: a free block carries its mark. */
  uintptr_t *words = (uintptr_t *)block.ptr;
  const uintptr_t mark = partition_free_mark(partition, words);
  ALLOY_MEM_DEFINED(words + 1, sizeof(uintptr_t));
  if (ALLOY_UNLIKELY(words[1] == mark)) return report_double_free(partition, block);
  const size_t bucket = slot->bucket, object_size = slot->size;
  if (ALLOY_UNLIKELY(!is_last(partition))) return free_unbound(partition, bucket, words, mark, object_size);
  return free_into(partition, last_cache(), bucket, words, mark, object_size);
}

alloy_status alloy_partition_deallocate(alloy_partition *partition, alloy_block block) {
  return deallocate(partition, block);
}

/* ---- the resource ------------------------------------------------------------------ */

/* The fast paths inlined here too: a call through the ops table lands in
 * them directly, not in a jump to the public functions. */
static alloy_status op_allocate(alloy_resource *self, size_t size, size_t align, alloy_block *out) {
  return allocate((alloy_partition *)self, size, align, out);
}

static alloy_status op_deallocate(alloy_resource *self, alloy_block block, size_t align) {
  (void)align;
  return deallocate((alloy_partition *)self, block);
}

/* In place while the new size stays within the object (or the direct
 * block's committed pages). */
static alloy_status op_resize(alloy_resource *self, alloy_block block, size_t new_size, size_t align,
                              alloy_block *out) {
  alloy_partition *partition = (alloy_partition *)self;
  (void)align;
  const partition_slot *slot = partition_slot_of(partition->root, block.ptr);
  if (slot == NULL) return ALLOY_E_UNSUPPORTED;
  size_t size = 0;
  if (slot->owner == (uintptr_t)partition) {
    const alloy_divisor divisor = {slot->word, slot->shift};
    const uintptr_t offset = ((uintptr_t)block.ptr - (uintptr_t)partition->base) & partition->slab_mask;
    if (alloy_divisor_exact_quotient(divisor, offset) < slot->capacity) size = slot->size;
  } else {
    size = alloy_partition_direct_size(partition, block.ptr);
  }
  if (size == 0 || new_size > size) return ALLOY_E_UNSUPPORTED;
  *out = alloy_block_make(block.ptr, size);
  return ALLOY_OK;
}

static bool op_owns(const alloy_resource *self, alloy_block block) {
  const alloy_partition *partition = (const alloy_partition *)self;
  const partition_slot *slot = partition_slot_of(partition->root, block.ptr);
  return slot != NULL && partition_slot_owner(slot) == partition;
}

static void op_get_info(const alloy_resource *self, alloy_resource_info *info) {
  const alloy_partition *partition = (const alloy_partition *)self;
  alloy_partition_stats stats;
  alloy_partition_get_stats(partition, &stats);
  info->name = partition->name;
  info->thread_safety = ALLOY_THREAD_SAFE;
  info->max_alignment = partition->root->slab_size;
  info->max_size = partition->root->reserve_bytes - 2 * alloy_vm_page_size();
  info->has_stats = true;
  info->stats.live_bytes = stats.live_bytes;
  info->stats.peak_live_bytes = stats.peak_live_bytes;
  info->stats.reserved_bytes = stats.slab_count * partition->root->slab_size + stats.direct_mapped_bytes;
  info->stats.committed_bytes = stats.committed_bytes;
  info->stats.allocations = stats.allocations;
  info->stats.deallocations = stats.deallocations;
  info->stats.failures = stats.failures;
}

static const alloy_resource_ops partition_ops = {
    .struct_size = sizeof(alloy_resource_ops),
    .name = "partition",
    .allocate = op_allocate,
    .deallocate = op_deallocate,
    .resize = op_resize,
    .owns = op_owns,
    .get_info = op_get_info,
};

/* ---- life cycle -------------------------------------------------------------------- */

alloy_partition_config alloy_partition_config_default(void) {
  alloy_partition_config config;
  memset(&config, 0, sizeof config);
  config.max_bucket_size = (size_t)8 << 10;
  config.numa_node = ALLOY_PARTITION_NUMA_LOCAL;
  return config;
}

static alloy_status resolve_node(int requested, int *out) {
  if (requested == ALLOY_PARTITION_NUMA_NONE) {
    *out = ALLOY_PARTITION_NUMA_NONE;
    return ALLOY_OK;
  }
  if (requested == ALLOY_PARTITION_NUMA_LOCAL) return alloy_numa_current_node(out);
  if (requested < 0) return ALLOY_E_INVALID_ARGUMENT;
  if (requested >= alloy_numa_node_count()) return ALLOY_E_UNAVAILABLE;
  *out = requested;
  return ALLOY_OK;
}

static void bucket_init(alloy_partition *partition, partition_bucket *bucket, size_t object_size) {
  const size_t room = partition->usable - SLAB_HEADER_SIZE;
  size_t limit = PARTITION_CACHE_BYTES / object_size;
  if (limit > PARTITION_CACHE_MAX) limit = PARTITION_CACHE_MAX;
  if (limit < PARTITION_CACHE_MIN) limit = PARTITION_CACHE_MIN;
  memset(bucket, 0, sizeof *bucket);
  bucket->object_size = (uint32_t)object_size;
  bucket->capacity = (uint32_t)(room / object_size);
  bucket->cache_limit = (uint32_t)limit;
  bucket->divisor = alloy_divisor_make(object_size);
}

alloy_status alloy_partition_create(alloy_partition_root *root, const char *name, const alloy_partition_config *config,
                                    alloy_partition **out) {
  if (root == NULL || name == NULL || name[0] == '\0' || config == NULL || out == NULL) return ALLOY_E_INVALID_ARGUMENT;
  const size_t page = alloy_vm_page_size();
  if (config->max_bucket_size == 0 || config->max_bucket_size > root->slab_size / 4) return ALLOY_E_INVALID_ARGUMENT;
  int node;
  ALLOY_TRY(resolve_node(config->numa_node, &node));
  const size_t max_bucket = config->max_bucket_size < PARTITION_MIN_OBJECT ? PARTITION_MIN_OBJECT
                                                                            : config->max_bucket_size;
  const size_t bucket_count = alloy_size_class_count(max_bucket);
  const size_t buckets_end = sizeof(alloy_partition) + bucket_count * sizeof(partition_bucket);
  const size_t table_max_size = alloy_align_down(alloy_size_class_size(bucket_count - 1), 16);
  const size_t table_entries = table_max_size / 16 + 1;
  const size_t bytes = alloy_align_up(buckets_end + table_entries, page);
  void *memory;
  ALLOY_TRY(alloy_vm_map(bytes, page, &memory));
  alloy_partition *partition = (alloy_partition *)memory;
  partition->resource.ops = &partition_ops;
  partition->id = __atomic_fetch_add(&next_partition_id, 1, __ATOMIC_RELAXED);
  partition->base = root->base;
  partition->slots = root->slots;
  partition->reserve_bytes = root->reserve_bytes;
  partition->slab_mask = root->slab_size - 1;
  partition->slab_shift = root->slab_shift;
  /* The top bit keeps every mark far from a user-space address and from 0. */
  partition->free_key = (uintptr_t)alloy_random_key(partition) | ((uintptr_t)1 << 63);
  partition->root = root;
  strncpy(partition->name, name, PARTITION_NAME_MAX - 1);
  partition->usable = root->slab_size - (config->guard_pages ? page : 0);
  partition->max_bucket_size = alloy_size_class_size(bucket_count - 1);
  partition->max_alignment = page;
  while (partition->max_alignment > partition->max_bucket_size) partition->max_alignment >>= 1;
  partition->max_bytes = config->max_bytes;
  partition->numa_node = node;
  partition->guard_pages = config->guard_pages;
  partition->self_bytes = bytes;
  partition->bucket_count = bucket_count;
  /* Class 0 (8 bytes) is never asked for: requests that small take 16. */
  for (size_t cls = 0; cls < bucket_count; ++cls)
    bucket_init(partition, &partition->buckets[cls], alloy_size_class_size(cls == 0 ? 1 : cls));
  uint8_t *table = (uint8_t *)memory + buckets_end;
  for (size_t step = 0; step < table_entries; ++step) {
    const size_t cls = alloy_size_class_of(step == 0 ? PARTITION_MIN_OBJECT : step * 16);
    table[step] = (uint8_t)cls;
  }
  partition->bucket_for = table;
  partition->table_max_size = table_max_size;
  ALLOY_TRACK_POOL_CREATE(partition, partition, 0);
  alloy_spin_lock_acquire(&root->lock);
  alloy_partition_root_link(root, partition);
  alloy_spin_lock_release(&root->lock);
  *out = partition;
  return ALLOY_OK;
}

void alloy_partition_destroy(alloy_partition *partition) {
  if (partition == NULL) return;
  alloy_partition_root *root = partition->root;
  alloy_spin_lock_acquire(&root->lock);
  alloy_partition_cache_orphan(partition);
  alloy_partition_slab_release_all(partition);
  alloy_partition_direct_release_all(partition);
  alloy_partition_root_unlink(root, partition);
  alloy_spin_lock_release(&root->lock);
  ALLOY_TRACK_POOL_DESTROY(partition, partition, 0);
  ALLOY_IGNORE_STATUS(alloy_vm_release(partition, partition->self_bytes));
}

alloy_resource *alloy_partition_resource(alloy_partition *partition) { return &partition->resource; }

/* Here rather than in partition_root.c, which calls nothing in this file:
 * the root's key goes first (no thread-exit callback starts after it), then
 * its partitions, the caches threads still held, the root. */
void alloy_partition_root_destroy(alloy_partition_root *root) {
  if (root == NULL) return;
  alloy_thread_exit_key_delete(&root->key);
  while (root->partitions != NULL) alloy_partition_destroy(root->partitions);
  alloy_partition_cache_release_all(root);
  alloy_partition_root_unmap(root);
}

const char *alloy_partition_name(const alloy_partition *partition) { return partition->name; }

void alloy_partition_purge(alloy_partition *partition) {
  alloy_partition_cache_flush_own(partition);
  alloy_spin_lock_acquire(&partition->root->lock);
  alloy_partition_slab_purge(partition);
  alloy_spin_lock_release(&partition->root->lock);
}

void alloy_partition_root_thread_detach(alloy_partition_root *root) { alloy_partition_cache_detach(root); }

void alloy_partition_get_stats(const alloy_partition *partition, alloy_partition_stats *out) {
  alloy_partition *p = (alloy_partition *)partition;
  memset(out, 0, sizeof *out);
  alloy_spin_lock_acquire(&p->root->lock);
  uint64_t allocations = p->allocations, deallocations = p->deallocations, live = p->live_bytes;
  alloy_partition_cache_sum(p, &allocations, &deallocations, &live);
  /* Caches count what they hand out and take back: a block one thread
   * allocated and another freed shows in both counts only once summed. */
  if ((int64_t)live < 0) live = 0;
  if (live > p->peak_live_bytes) p->peak_live_bytes = (size_t)live;
  out->live_bytes = (size_t)live;
  out->peak_live_bytes = p->peak_live_bytes;
  out->committed_bytes = p->committed_bytes;
  out->slab_count = p->slab_count;
  out->direct_mapped_bytes = p->direct_bytes;
  out->direct_mapped_count = p->direct_count;
  out->allocations = allocations;
  out->deallocations = deallocations;
  alloy_spin_lock_release(&p->root->lock);
  out->failures = __atomic_load_n(&p->failures, __ATOMIC_RELAXED);
}
