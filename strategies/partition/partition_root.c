/* The partition root: one reservation cut into slab slots, the table naming
 * the partition that owns each slot, and the list of partitions. The bottom
 * of the package: calls nothing in partition.c (the root's destroy, which
 * destroys partitions, lives there). */
#include <string.h>

#include "alloy/align.h"
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
  const size_t self_bytes = alloy_align_up(sizeof(alloy_partition_root) + slots * sizeof(alloy_partition *), page);
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
  root->next_slot = 0;
  root->slot_owner = (alloy_partition **)(void *)((char *)self + sizeof(alloy_partition_root));
  root->self_bytes = self_bytes;
  root->partitions = NULL;
  *out = root;
  return ALLOY_OK;
}

void alloy_partition_root_unmap(alloy_partition_root *root) {
  ALLOY_IGNORE_STATUS(alloy_vm_release(root->base, root->reserve_bytes));
  ALLOY_IGNORE_STATUS(alloy_vm_release(root, root->self_bytes));
}

char *alloy_partition_root_take_slot(alloy_partition_root *root, alloy_partition *partition) {
  if (root->next_slot == root->slot_count) return NULL;
  size_t slot = root->next_slot++;
  root->slot_owner[slot] = partition;
  return root->base + (slot << root->slab_shift);
}

void alloy_partition_root_retire_slot(alloy_partition_root *root, const void *slot_base) {
  size_t slot = (size_t)((const char *)slot_base - root->base) >> root->slab_shift;
  root->slot_owner[slot] = alloy_partition_root_retired;
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

alloy_partition *alloy_partition_of(const alloy_partition_root *root, const void *ptr) {
  alloy_partition *owner = alloy_partition_root_owner(root, ptr);
  return owner == alloy_partition_root_retired ? NULL : owner;
}
