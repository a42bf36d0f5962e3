/* The leak decorator: a side table from block address to allocation record. */
#define _GNU_SOURCE 1 /* dladdr */
#include "alloy/leak.h"

#include <dlfcn.h>
#include <execinfo.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "alloy/decorator_lock.h"
#include "alloy/heap.h"
#include "alloy/fault.h"
#include "alloy/pointer_table.h"
#include "alloy/recent_frees.h"

#define LEAK_NO_RECORD UINT32_MAX

typedef struct leak_record {
  void *ptr;
  size_t size;
  size_t align;
  uint32_t depth;
  uint32_t next_free; /* free-list link while unused */
  void *frames[ALLOY_LEAK_MAX_DEPTH];
} leak_record;

struct alloy_leak {
  alloy_resource resource; /* first: the decorator is a resource */
  alloy_resource *inner;
  alloy_allocate_fn inner_allocate_trusted; /* the inner's slot for validated requests */
  unsigned depth;
  bool quiet_on_destroy;
  FILE *report_file;
  alloy_decorator_lock lock; /* guards what follows; see alloy/decorator_lock.h */
  alloy_pointer_table table; /* block address -> record index */
  leak_record *records;
  uint32_t record_capacity;
  uint32_t free_record;
  alloy_recent_frees recent_frees; /* for naming a free of an address the table lacks */
  size_t lost_records;             /* reallocated blocks whose record a full table refused */
};

static alloy_leak *leak_of(alloy_resource *self) { return (alloy_leak *)(void *)self; }

/* The stack of whoever called into the decorator: frames of the capture
 * itself and of the decorator's entry point are skipped. */
static ALLOY_NOINLINE uint32_t leak_capture(unsigned depth, void **frames) {
  void *raw[ALLOY_LEAK_MAX_DEPTH + 2];
  int captured = backtrace(raw, (int)depth + 2);
  if (captured <= 2) return 0;
  uint32_t kept = (uint32_t)captured - 2;
  memcpy(frames, raw + 2, kept * sizeof(void *));
  return kept;
}

static ALLOY_COLD alloy_status leak_grow_records(alloy_leak *leak) {
  uint32_t capacity = leak->record_capacity == 0 ? 256u : leak->record_capacity * 2u;
  if (capacity <= leak->record_capacity || capacity == LEAK_NO_RECORD) return ALLOY_E_OUT_OF_MEMORY;
  void *records = leak->records;
  if (records == NULL)
    ALLOY_TRY(alloy_heap_allocate(capacity * sizeof(leak_record), ALLOY_CACHE_LINE, &records));
  else
    ALLOY_TRY(alloy_heap_reallocate(&records, leak->record_capacity * sizeof(leak_record),
                                    capacity * sizeof(leak_record), ALLOY_CACHE_LINE));
  leak->records = (leak_record *)records;
  for (uint32_t i = capacity; i-- > leak->record_capacity;) {
    leak->records[i].next_free = leak->free_record;
    leak->free_record = i;
  }
  leak->record_capacity = capacity;
  return ALLOY_OK;
}

/* Under the lock. */
static alloy_status leak_remember(alloy_leak *leak, alloy_block block, size_t size, size_t align,
                                  void *const *frames, uint32_t depth) {
  if (leak->free_record == LEAK_NO_RECORD) ALLOY_TRY(leak_grow_records(leak));
  uint32_t index = leak->free_record;
  ALLOY_TRY(alloy_pointer_table_insert(&leak->table, block.ptr, index));
  leak_record *record = &leak->records[index];
  leak->free_record = record->next_free;
  record->ptr = block.ptr;
  record->size = size;
  record->align = align;
  record->depth = depth;
  memcpy(record->frames, frames, depth * sizeof(void *));
  return ALLOY_OK;
}

/* Under the lock. */
static bool leak_forget(alloy_leak *leak, const void *ptr, leak_record *out) {
  uintptr_t index;
  if (!alloy_pointer_table_remove(&leak->table, ptr, &index)) return false;
  if (out != NULL) *out = leak->records[index];
  leak->records[index].next_free = leak->free_record;
  leak->free_record = (uint32_t)index;
  return true;
}

/* `inner_allocate`: the inner's checking or trusted slot, as this call came.
 * Inlined into both entries, so the recorded stack starts at the same depth. */
static ALLOY_ALWAYS_INLINE alloy_status leak_allocate_with(alloy_leak *leak, alloy_allocate_fn inner_allocate,
                                                          size_t size, size_t align, alloy_block *out) {
  void *frames[ALLOY_LEAK_MAX_DEPTH];
  uint32_t depth = leak_capture(leak->depth, frames);
  alloy_block block;
  alloy_decorator_lock_call_enter(&leak->lock);
  alloy_status status = inner_allocate(leak->inner, size, align, &block);
  if (ALLOY_LIKELY(status == ALLOY_OK)) {
    alloy_decorator_lock_state_enter(&leak->lock);
    status = leak_remember(leak, block, size, align, frames, depth);
    alloy_decorator_lock_state_leave(&leak->lock);
    if (ALLOY_UNLIKELY(status != ALLOY_OK))
      ALLOY_IGNORE_STATUS(alloy_resource_deallocate(leak->inner, block, align));
    else
      *out = block;
  }
  alloy_decorator_lock_call_leave(&leak->lock);
  return status;
}

static alloy_status leak_allocate(alloy_resource *self, size_t size, size_t align, alloy_block *out) {
  alloy_leak *leak = leak_of(self);
  return leak_allocate_with(leak, leak->inner->ops->allocate, size, align, out);
}

static alloy_status leak_allocate_trusted(alloy_resource *self, size_t size, size_t align, alloy_block *out) {
  alloy_leak *leak = leak_of(self);
  return leak_allocate_with(leak, leak->inner_allocate_trusted, size, align, out);
}

/* A free of an address the table lacks. Every block this decorator handed
 * out is in its table, so the address was freed already or never came from
 * here; only after a record was lost may it be a live block of the inner's,
 * which then decides. */
static ALLOY_COLD alloy_status leak_refuse_unknown(alloy_block block, size_t align, bool freed_before) {
  alloy_fault fault = {
      .kind = freed_before ? ALLOY_E_DOUBLE_FREE : ALLOY_E_NOT_OWNED,
      .resource = "leak",
      .ptr = block.ptr,
      .size = block.size,
      .align = align,
      .detail = freed_before ? "the block was freed through this leak decorator already"
                             : "no block at this address was handed out by this leak decorator",
  };
  return alloy_fault_report(&fault);
}

static alloy_status leak_deallocate(alloy_resource *self, alloy_block block, size_t align) {
  alloy_leak *leak = leak_of(self);
  leak_record record;
  alloy_decorator_lock_call_enter(&leak->lock);
  alloy_decorator_lock_state_enter(&leak->lock);
  bool known = leak_forget(leak, block.ptr, &record);
  bool freed_before = !known && alloy_recent_frees_contains(&leak->recent_frees, block.ptr);
  bool inner_decides = !known && !freed_before && leak->lost_records != 0;
  if (known) alloy_recent_frees_remember(&leak->recent_frees, block.ptr);
  alloy_decorator_lock_state_leave(&leak->lock);
  if (ALLOY_UNLIKELY(!known && !inner_decides)) {
    alloy_decorator_lock_call_leave(&leak->lock);
    return leak_refuse_unknown(block, align, freed_before);
  }
  alloy_status status = alloy_resource_deallocate(leak->inner, block, align);
  if (ALLOY_UNLIKELY(status != ALLOY_OK) && known) {
    /* Refused: the block is still live, so is its record. */
    alloy_decorator_lock_state_enter(&leak->lock);
    ALLOY_IGNORE_STATUS(leak_remember(leak, alloy_block_make(record.ptr, record.size), record.size, record.align,
                                      record.frames, record.depth));
    alloy_decorator_lock_state_leave(&leak->lock);
  }
  alloy_decorator_lock_call_leave(&leak->lock);
  return status;
}

/* Reallocate and resize alike: the block's record moves to its new place and
 * size, with the stack of the call that reshaped it. */
static alloy_status leak_reshape(alloy_leak *leak, alloy_block block, size_t new_size, size_t align, alloy_block *out,
                                 alloy_reshape_fn reshape) {
  void *frames[ALLOY_LEAK_MAX_DEPTH];
  uint32_t depth = leak_capture(leak->depth, frames);
  alloy_block moved;
  alloy_decorator_lock_call_enter(&leak->lock);
  alloy_status status = reshape(leak->inner, block, new_size, align, &moved);
  if (ALLOY_LIKELY(status == ALLOY_OK)) {
    alloy_decorator_lock_state_enter(&leak->lock);
    leak_forget(leak, block.ptr, NULL);
    if (moved.ptr != block.ptr) alloy_recent_frees_remember(&leak->recent_frees, block.ptr);
    /* Losing only this record to a refused table growth beats failing a
     * reallocate that already happened; frees of unknown addresses then go
     * to the inner, which may still hold the block. */
    if (leak_remember(leak, moved, new_size, align, frames, depth) != ALLOY_OK) ++leak->lost_records;
    alloy_decorator_lock_state_leave(&leak->lock);
    *out = moved;
  }
  alloy_decorator_lock_call_leave(&leak->lock);
  return status;
}

static alloy_status leak_reallocate(alloy_resource *self, alloy_block block, size_t new_size, size_t align,
                                    alloy_block *out) {
  if (block.ptr == NULL) return leak_allocate(self, new_size, align, out);
  return leak_reshape(leak_of(self), block, new_size, align, out, alloy_resource_reallocate);
}

static alloy_status leak_resize(alloy_resource *self, alloy_block block, size_t new_size, size_t align,
                                alloy_block *out) {
  return leak_reshape(leak_of(self), block, new_size, align, out, alloy_resource_resize);
}

/* Queries reach the inner too, so over a thread-unsafe inner they are calls. */
static alloy_leak *leak_of_query(const alloy_resource *self) { return (alloy_leak *)(void *)(uintptr_t)self; }

static bool leak_owns(const alloy_resource *self, alloy_block block) {
  alloy_leak *leak = leak_of_query(self);
  alloy_decorator_lock_call_enter(&leak->lock);
  bool owned = alloy_resource_owns(leak->inner, block);
  alloy_decorator_lock_call_leave(&leak->lock);
  return owned;
}

static void leak_get_info(const alloy_resource *self, alloy_resource_info *info) {
  alloy_leak *leak = leak_of_query(self);
  alloy_decorator_lock_call_enter(&leak->lock);
  alloy_resource_get_info(leak->inner, info);
  alloy_decorator_lock_call_leave(&leak->lock);
  info->name = "leak";
  if (leak->lock.serializes_inner) info->thread_safety = ALLOY_THREAD_SAFE; /* one lock around each call */
}

static const alloy_resource_ops leak_ops = {
    .struct_size = sizeof(alloy_resource_ops),
    .name = "leak",
    .allocate = leak_allocate,
    .deallocate = leak_deallocate,
    .reallocate = leak_reallocate,
    .resize = leak_resize,
    .owns = leak_owns,
    .get_info = leak_get_info,
    .allocate_trusted = leak_allocate_trusted,
};

/* Over an inner that cannot tell ownership, neither can the decorator. */
static const alloy_resource_ops leak_ops_without_owns = {
    .struct_size = sizeof(alloy_resource_ops),
    .name = "leak",
    .allocate = leak_allocate,
    .deallocate = leak_deallocate,
    .reallocate = leak_reallocate,
    .resize = leak_resize,
    .get_info = leak_get_info,
    .allocate_trusted = leak_allocate_trusted,
};

alloy_status alloy_leak_create(alloy_resource *inner, const alloy_leak_config *config, alloy_leak **out) {
  if (inner == NULL || out == NULL) return ALLOY_E_INVALID_ARGUMENT;
  unsigned depth = config != NULL && config->depth != 0 ? config->depth : ALLOY_LEAK_DEFAULT_DEPTH;
  if (depth > ALLOY_LEAK_MAX_DEPTH) return ALLOY_E_INVALID_ARGUMENT;
  void *memory;
  ALLOY_TRY(alloy_heap_allocate(sizeof(alloy_leak), ALLOY_CACHE_LINE, &memory));
  alloy_leak *leak = (alloy_leak *)memory;
  memset(leak, 0, sizeof *leak);
  leak->resource.ops = alloy_resource_can_tell_ownership(inner) ? &leak_ops : &leak_ops_without_owns;
  leak->inner = inner;
  leak->inner_allocate_trusted = alloy_resource_trusted_allocate_slot(inner);
  leak->depth = depth;
  leak->quiet_on_destroy = config != NULL && config->quiet_on_destroy;
  leak->report_file = config != NULL ? config->report_file : NULL;
  leak->free_record = LEAK_NO_RECORD;
  alloy_decorator_lock_init(&leak->lock, inner);
  alloy_pointer_table_init(&leak->table);
  /* The first backtrace loads the unwinder (which allocates); do it now, not
   * inside the first allocation. */
  void *warm[2];
  (void)backtrace(warm, 2);
  *out = leak;
  return ALLOY_OK;
}

/* ---- report -------------------------------------------------------------- */

typedef struct gather_context {
  const alloy_leak *leak;
  const leak_record **list;
  size_t count;
  size_t bytes;
} gather_context;

static bool gather_one(void *context, const void *key, uintptr_t value) {
  (void)key;
  gather_context *g = (gather_context *)context;
  const leak_record *record = &g->leak->records[value];
  if (g->list != NULL) g->list[g->count] = record;
  ++g->count;
  g->bytes += record->size;
  return true;
}

static int compare_stacks(const leak_record *a, const leak_record *b) {
  if (a->depth != b->depth) return a->depth < b->depth ? -1 : 1;
  for (uint32_t i = 0; i < a->depth; ++i)
    if (a->frames[i] != b->frames[i]) return (uintptr_t)a->frames[i] < (uintptr_t)b->frames[i] ? -1 : 1;
  return 0;
}

static int compare_records(const void *a, const void *b) {
  return compare_stacks(*(const leak_record *const *)a, *(const leak_record *const *)b);
}

typedef struct leak_site {
  const leak_record *first; /* the stack */
  size_t blocks;
  size_t bytes;
} leak_site;

static int compare_sites(const void *a, const void *b) {
  const leak_site *x = (const leak_site *)a, *y = (const leak_site *)b;
  if (x->bytes != y->bytes) return x->bytes > y->bytes ? -1 : 1;
  return x->blocks > y->blocks ? -1 : x->blocks < y->blocks ? 1 : 0;
}

static void print_frame(FILE *file, uint32_t index, void *address) {
  Dl_info info;
  if (dladdr(address, &info) != 0 && info.dli_sname != NULL)
    fprintf(file, "    #%u %p %s+0x%zx (%s)\n", index, address, info.dli_sname,
            (size_t)((char *)address - (char *)info.dli_saddr), info.dli_fname ? info.dli_fname : "?");
  else if (dladdr(address, &info) != 0 && info.dli_fname != NULL)
    fprintf(file, "    #%u %p (%s+0x%zx)\n", index, address, info.dli_fname,
            (size_t)((char *)address - (char *)info.dli_fbase));
  else
    fprintf(file, "    #%u %p\n", index, address);
}

/* Groups the outstanding records by stack. Under the lock; *sites_out is
 * heap scratch the caller frees (NULL when nothing is outstanding). */
static alloy_status leak_group(const alloy_leak *leak, alloy_leak_summary *summary, leak_site **sites_out,
                               const leak_record ***list_out) {
  gather_context g = {leak, NULL, 0, 0};
  alloy_pointer_table_visit(&leak->table, gather_one, &g);
  summary->blocks = g.count;
  summary->bytes = g.bytes;
  summary->sites = 0;
  *sites_out = NULL;
  *list_out = NULL;
  if (g.count == 0) return ALLOY_OK;
  void *list_memory, *site_memory;
  ALLOY_TRY(alloy_heap_allocate(g.count * sizeof(leak_record *), sizeof(void *), &list_memory));
  alloy_status status = alloy_heap_allocate(g.count * sizeof(leak_site), sizeof(void *), &site_memory);
  if (status != ALLOY_OK) {
    alloy_heap_free(list_memory);
    return status;
  }
  const leak_record **list = (const leak_record **)list_memory;
  leak_site *sites = (leak_site *)site_memory;
  g.list = list;
  g.count = 0;
  g.bytes = 0;
  alloy_pointer_table_visit(&leak->table, gather_one, &g);
  qsort(list, g.count, sizeof *list, compare_records);
  size_t site_count = 0;
  for (size_t i = 0; i < g.count; ++i) {
    if (site_count == 0 || compare_stacks(sites[site_count - 1].first, list[i]) != 0) {
      sites[site_count].first = list[i];
      sites[site_count].blocks = 0;
      sites[site_count].bytes = 0;
      ++site_count;
    }
    sites[site_count - 1].blocks += 1;
    sites[site_count - 1].bytes += list[i]->size;
  }
  qsort(sites, site_count, sizeof *sites, compare_sites);
  summary->sites = site_count;
  *sites_out = sites;
  *list_out = list;
  return ALLOY_OK;
}

alloy_status alloy_leak_get_summary(alloy_leak *leak, alloy_leak_summary *out) {
  leak_site *sites;
  const leak_record **list;
  alloy_decorator_lock_query_enter(&leak->lock);
  alloy_status status = leak_group(leak, out, &sites, &list);
  alloy_decorator_lock_query_leave(&leak->lock);
  if (sites != NULL) alloy_heap_free(sites);
  if (list != NULL) alloy_heap_free((void *)list);
  return status;
}

alloy_status alloy_leak_report(alloy_leak *leak, FILE *file) {
  if (file == NULL) return ALLOY_E_INVALID_ARGUMENT;
  alloy_leak_summary summary;
  leak_site *sites;
  const leak_record **list;
  alloy_decorator_lock_query_enter(&leak->lock);
  alloy_status status = leak_group(leak, &summary, &sites, &list);
  if (status == ALLOY_OK) {
    fprintf(file, "alloy leak report for '%s': %zu block%s (%zu bytes) outstanding from %zu call site%s\n",
            alloy_resource_name(leak->inner), summary.blocks, summary.blocks == 1 ? "" : "s", summary.bytes,
            summary.sites, summary.sites == 1 ? "" : "s");
    for (size_t s = 0; s < summary.sites; ++s) {
      const leak_record *first = sites[s].first;
      fprintf(file, "  %zu block%s, %zu bytes (e.g. %p, %zu bytes, align %zu), allocated at:\n", sites[s].blocks,
              sites[s].blocks == 1 ? "" : "s", sites[s].bytes, first->ptr, first->size, first->align);
      for (uint32_t f = 0; f < first->depth; ++f) print_frame(file, f, first->frames[f]);
    }
    fflush(file);
  }
  alloy_decorator_lock_query_leave(&leak->lock);
  if (sites != NULL) alloy_heap_free(sites);
  if (list != NULL) alloy_heap_free((void *)list);
  return status;
}

void alloy_leak_destroy(alloy_leak *leak) {
  if (leak == NULL) return;
  if (!leak->quiet_on_destroy && leak->table.count > 0)
    ALLOY_IGNORE_STATUS(alloy_leak_report(leak, leak->report_file != NULL ? leak->report_file : stderr));
  alloy_decorator_lock_destroy(&leak->lock);
  alloy_pointer_table_destroy(&leak->table);
  if (leak->records != NULL) alloy_heap_free(leak->records);
  alloy_heap_free(leak);
}

alloy_resource *alloy_leak_resource(alloy_leak *leak) { return &leak->resource; }
