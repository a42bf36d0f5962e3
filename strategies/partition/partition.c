/* A partition: size-class buckets over slabs that only it ever uses. */
#include <string.h>

#include "alloy/align.h"
#include "alloy/fault.h"
#include "alloy/numa.h"
#include "alloy/size_class.h"
#include "alloy/tool_hooks.h"
#include "alloy/vm.h"
#include "strategies/partition/partition_internal.h"

ALLOY_STATIC_ASSERT(SLAB_HEADER_SIZE % 64 == 0, "the slab header keeps the bitmap 8-byte aligned");

/* ---- slab geometry ---------------------------------------------------------- */

static ALLOY_ALWAYS_INLINE char *slab_base_of(const alloy_partition *partition, const void *ptr) {
  return (char *)((uintptr_t)ptr & ~(uintptr_t)(partition->root->slab_size - 1));
}

static ALLOY_ALWAYS_INLINE partition_slab *slab_header(const alloy_partition *partition, char *base) {
  return (partition_slab *)(void *)(base + partition->usable - SLAB_HEADER_SIZE);
}

static ALLOY_ALWAYS_INLINE char *slab_base(const alloy_partition *partition, const partition_slab *slab) {
  return (char *)slab - (partition->usable - SLAB_HEADER_SIZE);
}

static ALLOY_ALWAYS_INLINE uint8_t *slab_bitmap(const partition_slab *slab) {
  return (uint8_t *)slab - slab->bucket->bitmap_bytes;
}

/* The committed span before the header's page: what an empty slab may decommit. */
static size_t slab_decommit_bytes(const alloy_partition *partition) {
  return alloy_align_down(partition->usable - SLAB_HEADER_SIZE, alloy_vm_page_size());
}

/* ---- lists ------------------------------------------------------------------ */

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

/* ---- slabs ------------------------------------------------------------------ */

static alloy_status commit_range(alloy_partition *partition, char *base, size_t bytes) {
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

static bool within_budget(const alloy_partition *partition, size_t bytes) {
  return partition->max_bytes == 0 || partition->committed_bytes + bytes <= partition->max_bytes;
}

/* Gives `slab` to `bucket`: empty bitmap, nothing carved. */
static void slab_assign(alloy_partition *partition, partition_slab *slab, partition_bucket *bucket) {
  slab->bucket = bucket;
  slab->free_list = NULL;
  slab->carved = 0;
  slab->live = 0;
  uint8_t *bitmap = slab_bitmap(slab);
  ALLOY_MEM_UNDEFINED(bitmap, bucket->bitmap_bytes);
  memset(bitmap, 0, bucket->bitmap_bytes);
  list_push(&bucket->active, slab);
  slab->listed = true;
  (void)partition;
}

/* A brand-new slot, committed and formatted. */
static alloy_status slab_create(alloy_partition *partition, partition_slab **out) {
  if (!within_budget(partition, partition->usable)) return ALLOY_E_CAPACITY;
  char *base = alloy_partition_root_take_slot(partition->root, partition);
  if (base == NULL) return ALLOY_E_CAPACITY;
  alloy_status status = commit_range(partition, base, partition->usable);
  if (status != ALLOY_OK) {
    /* Slots never change hands: the one that could not be committed is retired. */
    alloy_partition_root_retire_slot(partition->root, base);
    return status;
  }
  ALLOY_MEM_NOACCESS(base, partition->usable - SLAB_HEADER_SIZE);
  partition_slab *slab = slab_header(partition, base);
  memset(slab, 0, sizeof *slab);
  slab->partition = partition;
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
    ALLOY_TRY(commit_range(partition, base, bytes));
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

static ALLOY_NOINLINE alloy_status bucket_refill(alloy_partition *partition, partition_bucket *bucket,
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

/* A slab whose last object came back: leaves its bucket unless it is the
 * bucket's only slab (which keeps a one-object ping-pong cheap). */
static ALLOY_NOINLINE void slab_release_empty(alloy_partition *partition, partition_slab *slab) {
  partition_bucket *bucket = slab->bucket;
  if (bucket->active == slab && slab->next == NULL) return;
  list_remove(&bucket->active, slab);
  slab->listed = false;
  slab->bucket = NULL;
  if (partition->empty_committed == 0) {
    partition->empty_committed++;
    list_push(&partition->empty, slab);
    return;
  }
  /* Keep one empty slab ready; give the memory of the others back. */
  const size_t bytes = slab_decommit_bytes(partition);
  char *base = slab_base(partition, slab);
  ALLOY_MEM_UNDEFINED(base, bytes);
  if (alloy_vm_decommit(base, bytes) == ALLOY_OK) {
    slab->committed = false;
    partition->committed_bytes -= bytes;
    /* Decommitted slabs go to the back, so committed ones are reused first. */
    partition_slab **tail = &partition->empty;
    partition_slab *prev = NULL;
    while (*tail != NULL) {
      prev = *tail;
      tail = &(*tail)->next;
    }
    slab->prev = prev;
    slab->next = NULL;
    *tail = slab;
  } else {
    ALLOY_MEM_NOACCESS(base, bytes);
    partition->empty_committed++;
    list_push(&partition->empty, slab);
  }
}

/* ---- allocate ------------------------------------------------------------------ */

/* The bucket serving (size, align), or NULL when the partition cannot. */
static ALLOY_ALWAYS_INLINE partition_bucket *bucket_for(alloy_partition *partition, size_t size, size_t align) {
  if (ALLOY_UNLIKELY(size > partition->max_bucket_size)) return NULL;
  size_t cls = alloy_size_class_of(size);
  if (ALLOY_UNLIKELY(align > 8)) {
    if (align > partition->max_alignment) return NULL;
    /* The first class at or above the size whose objects all sit on `align`. */
    cls = alloy_size_class_of(alloy_align_up(size ? size : 1, align));
    while (cls < partition->bucket_count && alloy_size_class_size(cls) % align != 0) ++cls;
    if (cls >= partition->bucket_count) return NULL;
  }
  return &partition->buckets[cls];
}

alloy_status alloy_partition_allocate(alloy_partition *partition, size_t size, size_t align, alloy_block *out) {
  alloy_status status = alloy_request_check(size, align);
  if (ALLOY_UNLIKELY(status != ALLOY_OK)) goto failed;
  partition_bucket *bucket = bucket_for(partition, size, align);
  if (ALLOY_UNLIKELY(bucket == NULL)) {
    status = ALLOY_E_UNSUPPORTED;
    goto failed;
  }
  partition_slab *slab = bucket->active;
  if (ALLOY_UNLIKELY(slab == NULL)) {
    status = bucket_refill(partition, bucket, &slab);
    if (status != ALLOY_OK) goto failed;
  }
  char *object;
  if (slab->free_list != NULL) {
    object = (char *)slab->free_list;
    slab->free_list = *(void **)(void *)object;
  } else {
    object = slab_base(partition, slab) + (size_t)slab->carved * bucket->object_size;
    slab->carved++;
  }
  const size_t index = (size_t)(object - slab_base(partition, slab)) / bucket->object_size;
  slab_bitmap(slab)[index >> 3] |= (uint8_t)(1u << (index & 7));
  if (++slab->live == bucket->capacity) {
    list_remove(&bucket->active, slab);
    slab->listed = false;
  }
  ALLOY_TRACK_ALLOC(partition, object, bucket->object_size);
  partition->live_bytes += bucket->object_size;
  if (partition->live_bytes > partition->peak_live_bytes) partition->peak_live_bytes = partition->live_bytes;
  partition->allocations++;
  *out = alloy_block_make(object, bucket->object_size);
  return ALLOY_OK;
failed:
  partition->failures++;
  return status;
}

/* ---- free ---------------------------------------------------------------------- */

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

alloy_status alloy_partition_deallocate(alloy_partition *partition, alloy_block block) {
  if (block.ptr == NULL) return ALLOY_OK;
  alloy_partition *owner = alloy_partition_root_owner(partition->root, block.ptr);
  if (ALLOY_UNLIKELY(owner != partition)) return report_foreign(partition, owner, block);
  char *base = slab_base_of(partition, block.ptr);
  partition_slab *slab = slab_header(partition, base);
  partition_bucket *bucket = slab->bucket;
  const size_t offset = (size_t)((char *)block.ptr - base);
  if (ALLOY_UNLIKELY(bucket == NULL)) return report(partition, ALLOY_E_DOUBLE_FREE, block, 0, "the slab is empty");
  const size_t index = offset / bucket->object_size;
  if (ALLOY_UNLIKELY(offset % bucket->object_size != 0 || index >= slab->carved))
    return report(partition, ALLOY_E_NOT_OWNED, block, bucket->object_size, "pointer is not the start of an object");
  uint8_t *byte = &slab_bitmap(slab)[index >> 3];
  const uint8_t bit = (uint8_t)(1u << (index & 7));
  if (ALLOY_UNLIKELY(!(*byte & bit))) return report(partition, ALLOY_E_DOUBLE_FREE, block, 0, "object is already free");
  if (ALLOY_UNLIKELY(block.size > bucket->object_size))
    return report(partition, ALLOY_E_SIZE_MISMATCH, block, bucket->object_size, "size is larger than the object");
  *byte &= (uint8_t)~bit;
  ALLOY_TRACK_FREE(partition, block.ptr, bucket->object_size);
  /* The free-list link is the only word the partition keeps in a free object. */
  ALLOY_MEM_UNDEFINED(block.ptr, sizeof(void *));
  *(void **)block.ptr = slab->free_list;
  slab->free_list = block.ptr;
  partition->live_bytes -= bucket->object_size;
  partition->deallocations++;
  if (ALLOY_UNLIKELY(!slab->listed)) {
    list_push(&bucket->active, slab);
    slab->listed = true;
  }
  if (ALLOY_UNLIKELY(--slab->live == 0)) slab_release_empty(partition, slab);
  return ALLOY_OK;
}

/* ---- the resource ----------------------------------------------------------------- */

static alloy_status op_allocate(alloy_resource *self, size_t size, size_t align, alloy_block *out) {
  return alloy_partition_allocate((alloy_partition *)self, size, align, out);
}

static alloy_status op_deallocate(alloy_resource *self, alloy_block block, size_t align) {
  (void)align;
  return alloy_partition_deallocate((alloy_partition *)self, block);
}

/* In place while the new size stays within the object's bucket. */
static alloy_status op_resize(alloy_resource *self, alloy_block block, size_t new_size, size_t align,
                              alloy_block *out) {
  alloy_partition *partition = (alloy_partition *)self;
  (void)align;
  if (alloy_partition_root_owner(partition->root, block.ptr) != partition) return ALLOY_E_UNSUPPORTED;
  partition_slab *slab = slab_header(partition, slab_base_of(partition, block.ptr));
  if (slab->bucket == NULL || new_size > slab->bucket->object_size) return ALLOY_E_UNSUPPORTED;
  *out = alloy_block_make(block.ptr, slab->bucket->object_size);
  return ALLOY_OK;
}

static bool op_owns(const alloy_resource *self, alloy_block block) {
  const alloy_partition *partition = (const alloy_partition *)self;
  return alloy_partition_root_owner(partition->root, block.ptr) == partition;
}

static void op_get_info(const alloy_resource *self, alloy_resource_info *info) {
  const alloy_partition *partition = (const alloy_partition *)self;
  info->name = partition->name;
  info->thread_safety = ALLOY_THREAD_UNSAFE;
  info->max_alignment = partition->max_alignment;
  info->max_size = partition->max_bucket_size;
  info->has_stats = true;
  info->stats.live_bytes = partition->live_bytes;
  info->stats.peak_live_bytes = partition->peak_live_bytes;
  info->stats.reserved_bytes = partition->slab_count * partition->root->slab_size;
  info->stats.committed_bytes = partition->committed_bytes;
  info->stats.allocations = partition->allocations;
  info->stats.deallocations = partition->deallocations;
  info->stats.failures = partition->failures;
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

/* ---- life cycle ------------------------------------------------------------------ */

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

alloy_status alloy_partition_create(alloy_partition_root *root, const char *name, const alloy_partition_config *config,
                                    alloy_partition **out) {
  if (root == NULL || name == NULL || name[0] == '\0' || config == NULL || out == NULL) return ALLOY_E_INVALID_ARGUMENT;
  const size_t page = alloy_vm_page_size();
  if (config->max_bucket_size == 0 || config->max_bucket_size > root->slab_size / 4) return ALLOY_E_INVALID_ARGUMENT;
  int node;
  ALLOY_TRY(resolve_node(config->numa_node, &node));
  const size_t bucket_count = alloy_size_class_count(config->max_bucket_size);
  const size_t bytes = alloy_align_up(sizeof(alloy_partition) + bucket_count * sizeof(partition_bucket), page);
  void *memory;
  ALLOY_TRY(alloy_vm_map(bytes, page, &memory));
  alloy_partition *partition = (alloy_partition *)memory;
  partition->resource.ops = &partition_ops;
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
  const size_t room = partition->usable - SLAB_HEADER_SIZE;
  for (size_t cls = 0; cls < bucket_count; ++cls) {
    partition_bucket *bucket = &partition->buckets[cls];
    const size_t size = alloy_size_class_size(cls);
    const size_t first_guess = room / size;
    const size_t bitmap = alloy_align_up((first_guess + 7) / 8, 8);
    bucket->object_size = (uint32_t)size;
    bucket->capacity = (uint32_t)((room - bitmap) / size);
    bucket->bitmap_bytes = (uint32_t)bitmap;
  }
  ALLOY_TRACK_POOL_CREATE(partition, partition, 0);
  alloy_partition_root_link(root, partition);
  *out = partition;
  return ALLOY_OK;
}

void alloy_partition_destroy(alloy_partition *partition) {
  if (partition == NULL) return;
  for (partition_slab *slab = partition->all; slab != NULL;) {
    partition_slab *next = slab->all_next;
    char *base = slab_base(partition, slab);
    /* Committed bytes leave the tools' books before the pages go. */
    ALLOY_MEM_UNDEFINED(base, partition->usable);
    alloy_partition_root_retire_slot(partition->root, base);
    ALLOY_IGNORE_STATUS(alloy_vm_decommit(base, partition->usable));
    slab = next;
  }
  ALLOY_TRACK_POOL_DESTROY(partition, partition, 0);
  alloy_partition_root_unlink(partition->root, partition);
  ALLOY_IGNORE_STATUS(alloy_vm_release(partition, partition->self_bytes));
}

alloy_resource *alloy_partition_resource(alloy_partition *partition) { return &partition->resource; }

/* Here rather than in partition_root.c, which calls nothing in this file:
 * the root's partitions are destroyed first, then the root. */
void alloy_partition_root_destroy(alloy_partition_root *root) {
  if (root == NULL) return;
  while (root->partitions != NULL) alloy_partition_destroy(root->partitions);
  alloy_partition_root_unmap(root);
}

const char *alloy_partition_name(const alloy_partition *partition) { return partition->name; }

void alloy_partition_get_stats(const alloy_partition *partition, alloy_partition_stats *out) {
  memset(out, 0, sizeof *out);
  out->live_bytes = partition->live_bytes;
  out->peak_live_bytes = partition->peak_live_bytes;
  out->committed_bytes = partition->committed_bytes;
  out->slab_count = partition->slab_count;
  out->allocations = partition->allocations;
  out->deallocations = partition->deallocations;
  out->failures = partition->failures;
}
