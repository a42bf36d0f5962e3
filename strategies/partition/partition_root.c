/* The partition root: one reservation cut into slots, the table naming the
 * partition that owns each slot, the root lock and its fork guard, the
 * thread-exit key, the lists of partitions and thread caches. The bottom of
 * the package: calls no other file of it (it only names the key's exit
 * callback, defined in partition_cache.c; the root's destroy, which destroys
 * partitions and caches, lives in partition.c). */
#include <string.h>

#include "alloy/align.h"
#include "alloy/divisor.h"
#include "alloy/numa.h"
#include "alloy/vm.h"
#include "strategies/partition/partition_internal.h"

static const char retired_marker;
alloy_partition *const alloy_partition_root_retired = (alloy_partition *)(uintptr_t)&retired_marker;

alloy_partition_root_config alloy_partition_root_config_default(void) {
  alloy_partition_root_config config;
  config.reserve_bytes = (size_t)1 << 30;
  config.slab_size = (size_t)64 << 10;
  return config;
}

alloy_status alloy_partition_root_create(const alloy_partition_root_config *config, alloy_partition_root **out) {
  if (config == NULL || out == NULL) return ALLOY_E_INVALID_ARGUMENT;
  const size_t page = alloy_vm_page_size();
  const size_t slab = config->slab_size;
  if (!alloy_is_power_of_two(slab) || slab < 4 * page || slab > ((size_t)1 << 30)) return ALLOY_E_INVALID_ARGUMENT;
  if (config->reserve_bytes < slab || config->reserve_bytes > ((size_t)1 << 46)) return ALLOY_E_INVALID_ARGUMENT;
  const size_t slots = config->reserve_bytes / slab;
  const size_t header = alloy_align_up(sizeof(alloy_partition_root), ALLOY_CACHE_LINE);
  const size_t self_bytes = alloy_align_up(header + slots * sizeof(partition_slot), page);
  void *self;
  ALLOY_TRY(alloy_vm_map(self_bytes, page, &self));
  void *base;
  alloy_status status = alloy_vm_reserve(slots * slab, slab, &base);
  if (status != ALLOY_OK) {
    ALLOY_IGNORE_STATUS(alloy_vm_release(self, self_bytes));
    return status;
  }
  alloy_partition_root *root = (alloy_partition_root *)self;
  root->base = (char *)base;
  root->reserve_bytes = slots * slab;
  root->slab_size = slab;
  root->slab_shift = alloy_log2_floor(slab);
  root->slot_count = slots;
  root->slots = (partition_slot *)(void *)((char *)self + header);
  root->self_bytes = self_bytes;
  root->next_slot = 0;
  root->partitions = NULL;
  root->caches = NULL;
  alloy_spin_lock_init(&root->lock);
  /* Without a key (the process ran out of them) threads use the uncached path. */
  if (alloy_thread_exit_key_create(&root->key, alloy_partition_cache_thread_exit) != ALLOY_OK) root->key.valid = false;
  alloy_fork_guard_register_lock(&root->fork_guard, &root->lock);
  *out = root;
  return ALLOY_OK;
}

void alloy_partition_root_unmap(alloy_partition_root *root) {
  alloy_fork_guard_unregister(&root->fork_guard);
  ALLOY_IGNORE_STATUS(alloy_vm_release(root->base, root->reserve_bytes));
  ALLOY_IGNORE_STATUS(alloy_vm_release(root, root->self_bytes));
}

size_t alloy_partition_root_take_slots(alloy_partition_root *root, alloy_partition *partition, size_t count,
                                       bool direct) {
  if (count == 0 || count > root->slot_count - root->next_slot) return SIZE_MAX;
  const size_t first = root->next_slot;
  root->next_slot += count;
  const uintptr_t owner = (uintptr_t)partition | (direct ? PARTITION_SLOT_DIRECT : 0);
  for (size_t i = first; i < first + count; ++i) {
    partition_slot *slot = &root->slots[i];
    memset(slot, 0, sizeof *slot);
    slot->kind = (uint8_t)(direct ? SLOT_DIRECT_TAIL : SLOT_SLAB);
    __atomic_store_n(&slot->owner, owner, __ATOMIC_RELAXED);
  }
  return first;
}

void alloy_partition_root_retire_slot(alloy_partition_root *root, size_t index) {
  partition_slot *slot = &root->slots[index];
  slot->capacity = 0;
  slot->size = 0;
  __atomic_store_n(&slot->owner, (uintptr_t)alloy_partition_root_retired, __ATOMIC_RELAXED);
}

alloy_status alloy_partition_root_commit(const alloy_partition *partition, char *base, size_t bytes) {
  ALLOY_TRY(alloy_vm_commit(base, bytes));
  if (partition->numa_node >= 0) {
    alloy_status status = alloy_numa_bind(base, bytes, partition->numa_node);
    if (status != ALLOY_OK) {
      ALLOY_IGNORE_STATUS(alloy_vm_decommit(base, bytes));
      return status;
    }
  }
  return ALLOY_OK;
}

void alloy_partition_root_link(alloy_partition_root *root, alloy_partition *partition) {
  partition->prev = NULL;
  partition->next = root->partitions;
  if (root->partitions != NULL) root->partitions->prev = partition;
  root->partitions = partition;
}

void alloy_partition_root_unlink(alloy_partition_root *root, alloy_partition *partition) {
  if (partition->prev != NULL) partition->prev->next = partition->next;
  else root->partitions = partition->next;
  if (partition->next != NULL) partition->next->prev = partition->prev;
}

void alloy_partition_root_link_cache(alloy_partition_root *root, partition_cache *cache) {
  cache->root_prev = NULL;
  cache->root_next = root->caches;
  if (root->caches != NULL) root->caches->root_prev = cache;
  root->caches = cache;
}

void alloy_partition_root_unlink_cache(alloy_partition_root *root, partition_cache *cache) {
  if (cache->root_prev != NULL) cache->root_prev->root_next = cache->root_next;
  else root->caches = cache->root_next;
  if (cache->root_next != NULL) cache->root_next->root_prev = cache->root_prev;
  cache->root_next = cache->root_prev = NULL;
}

alloy_partition *alloy_partition_of(const alloy_partition_root *root, const void *ptr) {
  const partition_slot *slot = partition_slot_of(root, ptr);
  if (slot == NULL) return NULL;
  alloy_partition *owner = partition_slot_owner(slot);
  return owner == alloy_partition_root_retired ? NULL : owner;
}

void alloy_partition_root_range(const alloy_partition_root *root, alloy_block *out) {
  *out = alloy_block_make(root->base, root->reserve_bytes);
}

/* A slab's object: an exact quotient (one multiply) says a start; any other
 * offset divides once to find the object around it. A direct span's later
 * slots name its first, whose entry holds the block. */
bool alloy_partition_find(const alloy_partition_root *root, const void *ptr, alloy_partition **owner,
                          alloy_block *out) {
  const partition_slot *slot = partition_slot_of(root, ptr);
  if (slot == NULL) return false;
  const uintptr_t tagged = __atomic_load_n(&slot->owner, __ATOMIC_RELAXED);
  alloy_partition *partition = (alloy_partition *)(tagged & ~PARTITION_SLOT_DIRECT);
  if (partition == NULL || partition == alloy_partition_root_retired) return false;
  if ((tagged & PARTITION_SLOT_DIRECT) == 0) {
    const uint64_t object_size = slot->size;
    if (slot->kind != SLOT_SLAB || slot->capacity == 0 || object_size == 0) return false;
    const uintptr_t offset = ((uintptr_t)ptr - (uintptr_t)root->base) & (root->slab_size - 1);
    const alloy_divisor divisor = {slot->word, slot->shift};
    uint64_t index = alloy_divisor_exact_quotient(divisor, offset);
    if (index >= slot->capacity) index = offset / object_size;
    if (index >= slot->capacity) return false;
    *owner = partition;
    *out = alloy_block_make(partition_slot_base(root, slot) + index * object_size, (size_t)object_size);
    return true;
  }
  if (slot->kind == SLOT_DIRECT_TAIL) slot = &root->slots[slot->word];
  if (slot->kind != SLOT_DIRECT) return false;
  const uintptr_t start = (uintptr_t)slot->word;
  if ((uintptr_t)ptr - start >= slot->size) return false;
  *owner = partition;
  *out = alloy_block_make((void *)start, (size_t)slot->size);
  return true;
}
