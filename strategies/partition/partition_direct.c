/* Direct-mapped blocks: requests above the buckets (or aligned beyond what
 * a bucket's objects are) get a span of consecutive slots of their own.
 * Only the block's pages are committed; the lead (at least one page) and
 * the rest of the span stay reserved and inaccessible, so an overrun or an
 * underrun faults. A freed span is decommitted and kept for its partition
 * (first fit), so the partition's memory is never another's and a loop of
 * large allocations does not use up the reservation. */
#include "alloy/align.h"
#include "alloy/fault.h"
#include "alloy/tool_hooks.h"
#include "alloy/vm.h"
#include "strategies/partition/partition_internal.h"

/* Where the block of an `align`-aligned request goes in a span starting at
 * span_base: after at least one page of lead. */
static char *block_start(char *span_base, size_t align) {
  const size_t page = alloy_vm_page_size();
  return (char *)alloy_align_up((uintptr_t)span_base + page, align < page ? page : align);
}

static bool span_fits(const alloy_partition_root *root, size_t first, size_t slots, size_t bytes, size_t align) {
  char *span_base = root->base + (first << root->slab_shift);
  char *end = span_base + (slots << root->slab_shift);
  char *start = block_start(span_base, align);
  /* At least one page after the block stays uncommitted. */
  return start < end && (size_t)(end - start) >= bytes + alloy_vm_page_size();
}

/* Lock held: a free span of the partition the block fits (unlinked from
 * the free list), or SIZE_MAX. */
static size_t reuse_span(alloy_partition *partition, size_t bytes, size_t align) {
  alloy_partition_root *root = partition->root;
  size_t *link = &partition->direct_free;
  while (*link != 0) {
    const size_t index = *link - 1;
    partition_slot *slot = &root->slots[index];
    if (span_fits(root, index, slot->capacity, bytes, align)) {
      *link = (size_t)slot->word;
      return index;
    }
    link = (size_t *)&slot->word;
  }
  return SIZE_MAX;
}

static void push_free_span(alloy_partition *partition, size_t index) {
  partition_slot *slot = &partition->root->slots[index];
  slot->kind = SLOT_DIRECT_FREE;
  slot->size = 0;
  slot->word = partition->direct_free;
  partition->direct_free = index + 1;
}

alloy_status alloy_partition_direct_allocate(alloy_partition *partition, size_t size, size_t align,
                                             alloy_block *out) {
  alloy_partition_root *root = partition->root;
  const size_t page = alloy_vm_page_size();
  if (size > root->reserve_bytes || align > root->reserve_bytes / 2) return ALLOY_E_CAPACITY;
  const size_t bytes = alloy_align_up(size == 0 ? 1 : size, page);
  /* Lead (at most the alignment plus a page), the block, a trailing page. */
  const size_t span_bytes = (align < page ? page : align + page) + bytes + page;
  const size_t slots = (span_bytes + root->slab_size - 1) >> root->slab_shift;
  alloy_status status = ALLOY_OK;
  alloy_spin_lock_acquire(&root->lock);
  if (partition->max_bytes != 0 && partition->committed_bytes + bytes > partition->max_bytes) {
    status = ALLOY_E_CAPACITY;
    goto done;
  }
  size_t first = reuse_span(partition, bytes, align);
  if (first == SIZE_MAX) {
    first = alloy_partition_root_take_slots(root, partition, slots, true);
    if (first == SIZE_MAX) {
      status = ALLOY_E_CAPACITY;
      goto done;
    }
    root->slots[first].capacity = (uint32_t)slots;
    /* A block aligned beyond a slot starts in a later slot of its span:
     * every slot names the span's first. */
    for (size_t i = first + 1; i < first + slots; ++i) root->slots[i].word = first;
  }
  partition_slot *slot = &root->slots[first];
  char *start = block_start(root->base + (first << root->slab_shift), align);
  status = alloy_partition_root_commit(partition, start, bytes);
  if (status != ALLOY_OK) {
    push_free_span(partition, first);
    goto done;
  }
  slot->kind = SLOT_DIRECT;
  slot->word = (uint64_t)(uintptr_t)start;
  slot->size = bytes;
  partition->committed_bytes += bytes;
  partition->direct_bytes += bytes;
  partition->direct_count++;
  partition->allocations++;
  partition->live_bytes += bytes;
  ALLOY_TRACK_ALLOC(partition, start, bytes);
  *out = alloy_block_make(start, bytes);
done:
  alloy_spin_lock_release(&root->lock);
  return status;
}

static ALLOY_COLD alloy_status report(const alloy_partition *partition, alloy_status kind, alloy_block block,
                                      size_t expected, const char *detail) {
  alloy_fault fault = {kind, partition->name, block.ptr, block.size, expected, 0, 0, detail};
  return alloy_fault_report(&fault);
}

alloy_status alloy_partition_direct_free(alloy_partition *partition, alloy_block block, partition_slot *slot) {
  alloy_partition_root *root = partition->root;
  alloy_spin_lock_acquire(&root->lock);
  if (slot->kind == SLOT_DIRECT_TAIL) slot = &root->slots[slot->word];
  const uint8_t kind = slot->kind;
  const uint64_t start = slot->word;
  const uint64_t bytes = slot->size;
  if (kind != SLOT_DIRECT || start != (uintptr_t)block.ptr || block.size > bytes) {
    alloy_spin_lock_release(&root->lock);
    if (kind == SLOT_DIRECT_FREE) return report(partition, ALLOY_E_DOUBLE_FREE, block, 0, "the direct-mapped block is free");
    if (kind != SLOT_DIRECT || start != (uintptr_t)block.ptr)
      return report(partition, ALLOY_E_NOT_OWNED, block, 0, "pointer is not the start of a direct-mapped block");
    return report(partition, ALLOY_E_SIZE_MISMATCH, block, bytes, "size is larger than the block");
  }
  ALLOY_TRACK_FREE(partition, block.ptr, bytes);
  ALLOY_MEM_UNDEFINED(block.ptr, bytes); /* the pages go; the tools forget them */
  ALLOY_IGNORE_STATUS(alloy_vm_decommit(block.ptr, bytes));
  push_free_span(partition, (size_t)(slot - root->slots));
  partition->committed_bytes -= bytes;
  partition->direct_bytes -= bytes;
  partition->direct_count--;
  partition->deallocations++;
  partition->live_bytes -= bytes;
  alloy_spin_lock_release(&root->lock);
  return ALLOY_OK;
}

size_t alloy_partition_direct_size(const alloy_partition *partition, const void *ptr) {
  const partition_slot *slot = partition_slot_of(partition->root, ptr);
  if (slot == NULL || slot->owner != ((uintptr_t)partition | PARTITION_SLOT_DIRECT)) return 0;
  if (slot->kind == SLOT_DIRECT_TAIL) slot = &partition->root->slots[slot->word];
  if (slot->kind != SLOT_DIRECT || slot->word != (uintptr_t)ptr) return 0;
  return slot->size;
}

void alloy_partition_direct_release_all(alloy_partition *partition) {
  alloy_partition_root *root = partition->root;
  const uintptr_t owner = (uintptr_t)partition | PARTITION_SLOT_DIRECT;
  for (size_t i = 0; i < root->next_slot; ++i) {
    partition_slot *slot = &root->slots[i];
    if (slot->owner != owner) continue;
    if (slot->kind == SLOT_DIRECT) {
      ALLOY_MEM_UNDEFINED((void *)(uintptr_t)slot->word, slot->size);
      ALLOY_IGNORE_STATUS(alloy_vm_decommit((void *)(uintptr_t)slot->word, slot->size));
    }
    alloy_partition_root_retire_slot(root, i);
  }
  partition->direct_free = 0;
}
