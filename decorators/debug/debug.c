/* The debug decorator: header + canaries around each block, a side table of
 * live blocks, a poisoned FIFO quarantine and an optional guard-page mode. */
#include "alloy/debug.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "alloy/decorator_lock.h"
#include "alloy/fault.h"
#include "alloy/heap.h"
#include "alloy/pointer_table.h"
#include "alloy/recent_frees.h"
#include "alloy/tool_hooks.h"
#include "alloy/vm.h"

/* Lies right before the front canary, which lies right before the block.
 * Read and written with memcpy: a block aligned to 1 may put it anywhere. */
typedef struct debug_header {
  size_t size;       /* requested size */
  size_t align;      /* requested alignment */
  size_t prefix;     /* bytes from the start of the inner block (or page run) to the block */
  size_t inner_size; /* size of the inner block (or page run) */
  uint32_t magic;
  uint32_t back;     /* back canary bytes after the block */
} debug_header;

#define DEBUG_MAGIC_LIVE 0xDEB61A7Eu
#define DEBUG_MAGIC_FREED 0xDEB6F4EEu

struct alloy_debug {
  alloy_resource resource; /* first: the decorator is a resource */
  alloy_resource *inner;
  alloy_resource *state;                    /* where the decorator's own memory comes from; NULL: the platform heap */
  alloy_allocate_fn inner_allocate_trusted; /* the inner's slot for validated requests */
  alloy_debug_config config;
  size_t front_canary; /* 0 or ALLOY_DEBUG_CANARY_SIZE */
  size_t page;
  alloy_decorator_lock lock;    /* guards what follows; see alloy/decorator_lock.h */
  alloy_pointer_table live;     /* user pointer -> 0 */
  void **quarantine;            /* ring of user pointers, config.quarantine long */
  size_t quarantine_head;
  size_t quarantine_count;
  alloy_recent_frees recent_frees; /* for telling a double free from a foreign pointer */
  atomic_uint_fast64_t faults;
};

static alloy_debug *debug_of(alloy_resource *self) { return (alloy_debug *)(void *)self; }
static alloy_debug *debug_of_const(const alloy_resource *self) { return (alloy_debug *)(void *)(uintptr_t)self; }

static size_t debug_front(const alloy_debug *debug) { return sizeof(debug_header) + debug->front_canary; }

static void header_read(const alloy_debug *debug, const void *user, debug_header *out) {
  memcpy(out, (const char *)user - debug_front(debug), sizeof *out);
}

static void header_write(const alloy_debug *debug, void *user, const debug_header *header) {
  memcpy((char *)user - debug_front(debug), header, sizeof *header);
}

/* 64 bytes of one pattern, so checks run as memcmp over whole chunks. */
#define DEBUG_PATTERN_CHUNK 64u
static const unsigned char canary_chunk[DEBUG_PATTERN_CHUNK] = {[0 ... DEBUG_PATTERN_CHUNK - 1] =
                                                                    ALLOY_DEBUG_CANARY_BYTE};
static const unsigned char freed_chunk[DEBUG_PATTERN_CHUNK] = {[0 ... DEBUG_PATTERN_CHUNK - 1] =
                                                                   ALLOY_DEBUG_FREE_BYTE};

/* Offset of the first byte in [ptr, ptr + size) that differs from `chunk`'s
 * pattern, or size. */
static size_t first_mismatch(const void *ptr, size_t size, const unsigned char *chunk) {
  const unsigned char *bytes = (const unsigned char *)ptr;
  size_t at = 0;
  while (at < size) {
    size_t step = size - at < DEBUG_PATTERN_CHUNK ? size - at : DEBUG_PATTERN_CHUNK;
    if (memcmp(bytes + at, chunk, step) != 0) break;
    at += step;
  }
  while (at < size && bytes[at] == chunk[0]) ++at;
  return at;
}

/* A fault with room for its detail text. */
typedef struct debug_finding {
  alloy_fault fault;
  char detail[128];
} debug_finding;

static void finding_init(debug_finding *finding, alloy_status kind, alloy_block block, size_t align) {
  memset(finding, 0, sizeof *finding);
  finding->fault.kind = kind;
  finding->fault.resource = "debug";
  finding->fault.ptr = block.ptr;
  finding->fault.size = block.size;
  finding->fault.align = align;
  finding->fault.detail = finding->detail;
}

static bool recently_freed(const alloy_debug *debug, const void *ptr) {
  if (alloy_recent_frees_contains(&debug->recent_frees, ptr)) return true;
  for (size_t i = 0; i < debug->quarantine_count; ++i)
    if (debug->quarantine[(debug->quarantine_head + i) % debug->config.quarantine] == ptr) return true;
  return false;
}

/* The canaries of a block whose header is valid: ALLOY_OK or a finding. */
static alloy_status check_canaries(const alloy_debug *debug, const void *user, const debug_header *header,
                                   debug_finding *finding) {
  const unsigned char *bytes = (const unsigned char *)user;
  size_t front = debug->front_canary;
  size_t bad = first_mismatch(bytes - front, front, canary_chunk);
  if (bad != front) {
    finding->fault.kind = ALLOY_E_CORRUPTION;
    snprintf(finding->detail, sizeof finding->detail,
             "front canary overwritten (byte %zd before the block) of a %zu-byte block", (ptrdiff_t)(front - bad),
             header->size);
    return ALLOY_E_CORRUPTION;
  }
  bad = first_mismatch(bytes + header->size, header->back, canary_chunk);
  if (bad != header->back) {
    finding->fault.kind = ALLOY_E_CORRUPTION;
    snprintf(finding->detail, sizeof finding->detail,
             "back canary overwritten (byte %zu after the block) of a %zu-byte block", bad, header->size);
    return ALLOY_E_CORRUPTION;
  }
  return ALLOY_OK;
}

/* Everything a free or reallocate must find true of `block`, under the lock.
 * Reads nothing of a pointer that is not in the live table. */
static alloy_status check_live_block(const alloy_debug *debug, alloy_block block, size_t align,
                                     debug_header *header, debug_finding *finding) {
  finding_init(finding, ALLOY_OK, block, align);
  if (!alloy_pointer_table_find(&debug->live, block.ptr, NULL)) {
    if (block.ptr != NULL && recently_freed(debug, block.ptr)) {
      finding->fault.kind = ALLOY_E_DOUBLE_FREE;
      snprintf(finding->detail, sizeof finding->detail, "the block was already freed");
    } else {
      finding->fault.kind = ALLOY_E_NOT_OWNED;
      snprintf(finding->detail, sizeof finding->detail, "the pointer was never allocated by this resource");
    }
    return finding->fault.kind;
  }
  header_read(debug, block.ptr, header);
  finding->fault.expected_size = header->size;
  finding->fault.expected_align = header->align;
  if (header->magic != DEBUG_MAGIC_LIVE) {
    finding->fault.kind = ALLOY_E_CORRUPTION;
    snprintf(finding->detail, sizeof finding->detail, "block header overwritten (underrun past the front canary)");
    return ALLOY_E_CORRUPTION;
  }
  if (block.size != header->size) {
    finding->fault.kind = ALLOY_E_SIZE_MISMATCH;
    snprintf(finding->detail, sizeof finding->detail, "freed with size %zu, allocated with %zu", block.size,
             header->size);
    return ALLOY_E_SIZE_MISMATCH;
  }
  if (align != header->align) {
    finding->fault.kind = ALLOY_E_ALIGN_MISMATCH;
    snprintf(finding->detail, sizeof finding->detail, "freed with alignment %zu, allocated with %zu", align,
             header->align);
    return ALLOY_E_ALIGN_MISMATCH;
  }
  return check_canaries(debug, block.ptr, header, finding);
}

static ALLOY_COLD alloy_status debug_report(alloy_debug *debug, const debug_finding *finding) {
  atomic_fetch_add_explicit(&debug->faults, 1, memory_order_relaxed);
  return alloy_fault_report(&finding->fault);
}

/* ---- allocation ---------------------------------------------------------- */

static void debug_dress_block(alloy_debug *debug, void *user, const debug_header *header) {
  header_write(debug, user, header);
  memset((char *)user - debug->front_canary, ALLOY_DEBUG_CANARY_BYTE, debug->front_canary);
  memset((char *)user + header->size, ALLOY_DEBUG_CANARY_BYTE, header->back);
  if (debug->config.fill) {
    memset(user, ALLOY_DEBUG_ALLOC_BYTE, header->size);
    ALLOY_VG_UNDEFINED(user, header->size); /* still "uninitialised" to memcheck */
  }
}

static alloy_status debug_place_guarded(alloy_debug *debug, size_t size, size_t align, alloy_block *out,
                                        debug_header *header) {
  if (align > debug->page) return ALLOY_E_UNSUPPORTED;
  size_t need, data_length, run_length;
  if (!alloy_size_add(debug_front(debug), size, &need) || !alloy_size_add(need, align - 1, &need) ||
      !alloy_align_up_checked(need, debug->page, &data_length) ||
      !alloy_size_add(data_length, debug->page, &run_length) || run_length > ALLOY_MAX_REQUEST)
    return ALLOY_E_UNSUPPORTED;
  void *base;
  ALLOY_TRY(alloy_vm_reserve(run_length, debug->page, &base));
  alloy_status status = alloy_vm_commit(base, data_length);
  if (status != ALLOY_OK) {
    ALLOY_IGNORE_STATUS(alloy_vm_release(base, run_length));
    return status;
  }
  /* The block ends as close to the guard page as its alignment lets it. */
  char *user = (char *)base + alloy_align_down(data_length - size, align);
  header->size = size;
  header->align = align;
  header->prefix = (size_t)(user - (char *)base);
  header->inner_size = run_length;
  header->magic = DEBUG_MAGIC_LIVE;
  header->back = debug->config.canary ? (uint32_t)(data_length - header->prefix - size) : 0;
  *out = alloy_block_make(user, size);
  return ALLOY_OK;
}

static alloy_status debug_flush_quarantine(alloy_debug *debug);

static alloy_status debug_place_inner(alloy_debug *debug, size_t size, size_t align, alloy_block *out,
                                      debug_header *header) {
  size_t back = debug->config.canary ? ALLOY_DEBUG_CANARY_SIZE : 0;
  size_t prefix = alloy_align_up(debug_front(debug), align);
  size_t inner_size;
  if (!alloy_size_add(prefix, size, &inner_size) || !alloy_size_add(inner_size, back, &inner_size) ||
      inner_size > ALLOY_MAX_REQUEST)
    return ALLOY_E_UNSUPPORTED; /* valid, but no room for header and canaries */
  alloy_block inner;
  alloy_status status = debug->inner_allocate_trusted(debug->inner, inner_size, align, &inner);
  if (ALLOY_UNLIKELY(status == ALLOY_E_OUT_OF_MEMORY || status == ALLOY_E_CAPACITY) &&
      debug->config.quarantine > 0) {
    /* Memory held back in quarantine is still memory: give it back, retry once. */
    ALLOY_IGNORE_STATUS(debug_flush_quarantine(debug));
    status = debug->inner_allocate_trusted(debug->inner, inner_size, align, &inner);
  }
  if (status != ALLOY_OK) return status;
  header->size = size;
  header->align = align;
  header->prefix = prefix;
  header->inner_size = inner.size;
  header->magic = DEBUG_MAGIC_LIVE;
  header->back = (uint32_t)back;
  *out = alloy_block_make((char *)inner.ptr + prefix, size);
  return ALLOY_OK;
}

static void debug_release_storage(alloy_debug *debug, void *user, const debug_header *header) {
  char *start = (char *)user - header->prefix;
  if (debug->config.guard_pages)
    ALLOY_IGNORE_STATUS(alloy_vm_release(start, header->inner_size));
  else
    ALLOY_IGNORE_STATUS(
        alloy_resource_deallocate(debug->inner, alloy_block_make(start, header->inner_size), header->align));
}

/* The calls below ending in _in run inside a call section
 * (alloy_decorator_lock_call_enter). */
static alloy_status debug_allocate_in(alloy_debug *debug, size_t size, size_t align, alloy_block *out) {
  alloy_block block;
  debug_header header;
  if (debug->config.guard_pages)
    ALLOY_TRY(debug_place_guarded(debug, size, align, &block, &header));
  else
    ALLOY_TRY(debug_place_inner(debug, size, align, &block, &header));
  debug_dress_block(debug, block.ptr, &header);
  alloy_decorator_lock_state_enter(&debug->lock);
  alloy_status status = alloy_pointer_table_insert(&debug->live, block.ptr, 0);
  alloy_decorator_lock_state_leave(&debug->lock);
  if (status != ALLOY_OK) {
    debug_release_storage(debug, block.ptr, &header);
    return status;
  }
  *out = block;
  return ALLOY_OK;
}

static alloy_status debug_allocate_trusted(alloy_resource *self, size_t size, size_t align, alloy_block *out) {
  alloy_debug *debug = debug_of(self);
  alloy_decorator_lock_call_enter(&debug->lock);
  alloy_status status = debug_allocate_in(debug, size, align, out);
  alloy_decorator_lock_call_leave(&debug->lock);
  return status;
}

static alloy_status debug_allocate(alloy_resource *self, size_t size, size_t align, alloy_block *out) {
  ALLOY_TRY(alloy_request_check(size, align));
  return debug_allocate_trusted(self, size, align, out);
}

/* ---- free and quarantine ------------------------------------------------- */

/* A block leaves quarantine: verify it was not written since it was freed,
 * then really free it. The verdict is reported, the memory released anyway. */
static alloy_status debug_release_quarantined(alloy_debug *debug, void *user) {
  debug_header header;
  header_read(debug, user, &header);
  ALLOY_MEM_DEFINED(user, header.size);
  alloy_status status = ALLOY_OK;
  debug_finding finding;
  finding_init(&finding, ALLOY_E_CORRUPTION, alloy_block_make(user, header.size), header.align);
  finding.fault.expected_size = header.size;
  finding.fault.expected_align = header.align;
  size_t bad = debug->config.fill ? first_mismatch(user, header.size, freed_chunk) : header.size;
  if (bad != header.size) {
    snprintf(finding.detail, sizeof finding.detail, "modified after free (byte %zu of a %zu-byte block)", bad,
             header.size);
    status = debug_report(debug, &finding);
  } else if (check_canaries(debug, user, &header, &finding) != ALLOY_OK) {
    status = debug_report(debug, &finding);
  }
  debug_release_storage(debug, user, &header);
  return status;
}

/* Puts a freed block in the FIFO; returns the block it pushes out, if any. */
static void *quarantine_push(alloy_debug *debug, void *user) {
  size_t capacity = debug->config.quarantine;
  if (debug->quarantine_count < capacity) {
    debug->quarantine[(debug->quarantine_head + debug->quarantine_count++) % capacity] = user;
    return NULL;
  }
  void *evicted = debug->quarantine[debug->quarantine_head];
  debug->quarantine[debug->quarantine_head] = user;
  debug->quarantine_head = (debug->quarantine_head + 1) % capacity;
  return evicted;
}

static alloy_status debug_deallocate_in(alloy_debug *debug, alloy_block block, size_t align) {
  debug_header header;
  debug_finding finding;
  alloy_decorator_lock_state_enter(&debug->lock);
  if (ALLOY_UNLIKELY(check_live_block(debug, block, align, &header, &finding) != ALLOY_OK)) {
    alloy_decorator_lock_state_leave(&debug->lock);
    return debug_report(debug, &finding);
  }
  (void)alloy_pointer_table_remove(&debug->live, block.ptr, NULL);
  alloy_recent_frees_remember(&debug->recent_frees, block.ptr);
  if (debug->config.guard_pages || debug->config.quarantine == 0) {
    alloy_decorator_lock_state_leave(&debug->lock);
    if (debug->config.fill && !debug->config.guard_pages) memset(block.ptr, ALLOY_DEBUG_FREE_BYTE, header.size);
    debug_release_storage(debug, block.ptr, &header);
    return ALLOY_OK;
  }
  header.magic = DEBUG_MAGIC_FREED;
  header_write(debug, block.ptr, &header);
  if (debug->config.fill) memset(block.ptr, ALLOY_DEBUG_FREE_BYTE, header.size);
  ALLOY_MEM_NOACCESS(block.ptr, header.size);
  void *evicted = quarantine_push(debug, block.ptr);
  alloy_decorator_lock_state_leave(&debug->lock);
  return evicted != NULL ? debug_release_quarantined(debug, evicted) : ALLOY_OK;
}

static alloy_status debug_deallocate(alloy_resource *self, alloy_block block, size_t align) {
  alloy_debug *debug = debug_of(self);
  if (!alloy_is_valid_alignment(align)) return ALLOY_E_INVALID_ARGUMENT;
  alloy_decorator_lock_call_enter(&debug->lock);
  alloy_status status = debug_deallocate_in(debug, block, align);
  alloy_decorator_lock_call_leave(&debug->lock);
  return status;
}

static alloy_status debug_reallocate_in(alloy_debug *debug, alloy_block block, size_t new_size, size_t align,
                                        alloy_block *out) {
  debug_header header;
  debug_finding finding;
  alloy_decorator_lock_state_enter(&debug->lock);
  alloy_status status = check_live_block(debug, block, align, &header, &finding);
  alloy_decorator_lock_state_leave(&debug->lock);
  if (ALLOY_UNLIKELY(status != ALLOY_OK)) return debug_report(debug, &finding);
  /* Always move: a stale pointer to the old block then lands in quarantine. */
  alloy_block moved;
  ALLOY_TRY(debug_allocate_in(debug, new_size, align, &moved));
  memcpy(moved.ptr, block.ptr, header.size < new_size ? header.size : new_size);
  status = debug_deallocate_in(debug, block, align);
  *out = moved;
  return status == ALLOY_E_CORRUPTION ? ALLOY_OK : status; /* an evicted block's verdict was already reported */
}

static alloy_status debug_reallocate(alloy_resource *self, alloy_block block, size_t new_size, size_t align,
                                     alloy_block *out) {
  alloy_debug *debug = debug_of(self);
  if (block.ptr == NULL) return debug_allocate(self, new_size, align, out);
  alloy_decorator_lock_call_enter(&debug->lock);
  alloy_status status = debug_reallocate_in(debug, block, new_size, align, out);
  alloy_decorator_lock_call_leave(&debug->lock);
  return status;
}

/* ---- queries ------------------------------------------------------------- */

static bool debug_owns(const alloy_resource *self, alloy_block block) {
  alloy_debug *debug = debug_of_const(self);
  alloy_decorator_lock_query_enter(&debug->lock);
  bool owned = alloy_pointer_table_find(&debug->live, block.ptr, NULL);
  alloy_decorator_lock_query_leave(&debug->lock);
  return owned;
}

static void debug_get_info(const alloy_resource *self, alloy_resource_info *info) {
  alloy_debug *debug = debug_of_const(self);
  alloy_decorator_lock_call_enter(&debug->lock);
  alloy_resource_get_info(debug->inner, info);
  alloy_decorator_lock_call_leave(&debug->lock);
  info->name = "debug";
  info->size_class_count = 0; /* header and canaries shift every class */
  info->size_classes = NULL;
  if (debug->config.guard_pages) {
    info->max_alignment = debug->page;
    info->thread_safety = ALLOY_THREAD_SAFE; /* blocks come from the platform, state is locked */
  }
  if (debug->lock.serializes_inner) info->thread_safety = ALLOY_THREAD_SAFE; /* one lock around each call */
}

static const alloy_resource_ops debug_ops = {
    .struct_size = sizeof(alloy_resource_ops),
    .name = "debug",
    .allocate = debug_allocate,
    .deallocate = debug_deallocate,
    .reallocate = debug_reallocate,
    .owns = debug_owns,
    .get_info = debug_get_info,
    .allocate_trusted = debug_allocate_trusted,
};

/* ---- lookups ------------------------------------------------------------- */

bool alloy_debug_find(alloy_debug *debug, const void *ptr, alloy_block *block, size_t *align) {
  bool live = false;
  debug_header header;
  alloy_decorator_lock_query_enter(&debug->lock);
  if (alloy_pointer_table_find(&debug->live, ptr, NULL)) {
    header_read(debug, ptr, &header);
    live = true;
  }
  alloy_decorator_lock_query_leave(&debug->lock);
  if (!live) return false;
  *block = alloy_block_make((void *)(uintptr_t)ptr, header.size);
  *align = header.align;
  return true;
}

typedef struct containing_context {
  const alloy_debug *debug;
  uintptr_t address;
  const void *found;
  debug_header header;
} containing_context;

/* Stops at the block whose storage holds the address: from the start of
 * its inner block (header and front canary) to the end of its back canary. */
static bool visit_containing(void *context, const void *key, uintptr_t value) {
  (void)value;
  containing_context *c = (containing_context *)context;
  uintptr_t user = (uintptr_t)key;
  debug_header header;
  header_read(c->debug, key, &header);
  if (c->address < user - header.prefix || c->address >= user + header.size + header.back) return true;
  c->found = key;
  c->header = header;
  return false;
}

bool alloy_debug_find_containing(alloy_debug *debug, const void *address, alloy_block *block, size_t *align) {
  containing_context context = {debug, (uintptr_t)address, NULL, {0}};
  alloy_decorator_lock_query_enter(&debug->lock);
  alloy_pointer_table_visit(&debug->live, visit_containing, &context);
  alloy_decorator_lock_query_leave(&debug->lock);
  if (context.found == NULL) return false;
  *block = alloy_block_make((void *)(uintptr_t)context.found, context.header.size);
  *align = context.header.align;
  return true;
}

/* ---- life cycle ---------------------------------------------------------- */

/* The decorator's own memory: from `state` when the creator named one, else
 * from the platform heap. */
static alloy_status state_allocate(alloy_resource *state, size_t size, size_t align, void **out) {
  if (state == NULL) return alloy_heap_allocate(size, align, out);
  alloy_block block;
  ALLOY_TRY(alloy_resource_allocate(state, size, align, &block));
  *out = block.ptr;
  return ALLOY_OK;
}

static void state_free(alloy_resource *state, void *ptr, size_t size, size_t align) {
  if (state == NULL)
    alloy_heap_free(ptr);
  else
    ALLOY_IGNORE_STATUS(alloy_resource_deallocate(state, alloy_block_make(ptr, size), align));
}

alloy_debug_config alloy_debug_config_default(void) {
  alloy_debug_config config;
  config.canary = true;
  config.fill = true;
  config.quarantine = 16;
  config.guard_pages = false;
  config.check_on_destroy = ALLOY_WITH_CANARIES != 0;
  return config;
}

alloy_status alloy_debug_create(alloy_resource *inner, const alloy_debug_config *config, alloy_debug **out) {
  return alloy_debug_create_with_state(inner, config, NULL, out);
}

alloy_status alloy_debug_create_with_state(alloy_resource *inner, const alloy_debug_config *config,
                                           alloy_resource *state, alloy_debug **out) {
  if (inner == NULL || out == NULL) return ALLOY_E_INVALID_ARGUMENT;
  alloy_debug_config chosen = config != NULL ? *config : alloy_debug_config_default();
  if (chosen.quarantine > ((size_t)1 << 20)) return ALLOY_E_INVALID_ARGUMENT;
  /* A LIFO resource needs its frees in order; holding some back breaks that.
   * Taking a marker has no effect on such a resource, and decorators in
   * between forward the question. */
  alloy_marker probe;
  if (chosen.guard_pages || alloy_resource_mark(inner, &probe) != ALLOY_E_UNSUPPORTED) chosen.quarantine = 0;
  void *memory;
  ALLOY_TRY(state_allocate(state, sizeof(alloy_debug), ALLOY_CACHE_LINE, &memory));
  alloy_debug *debug = (alloy_debug *)memory;
  memset(debug, 0, sizeof *debug);
  if (chosen.quarantine > 0) {
    void *ring;
    alloy_status status = state_allocate(state, chosen.quarantine * sizeof(void *), sizeof(void *), &ring);
    if (status != ALLOY_OK) {
      state_free(state, debug, sizeof(alloy_debug), ALLOY_CACHE_LINE);
      return status;
    }
    debug->quarantine = (void **)ring;
  }
  debug->resource.ops = &debug_ops;
  debug->inner = inner;
  debug->state = state;
  debug->inner_allocate_trusted = alloy_resource_trusted_allocate_slot(inner);
  debug->config = chosen;
  debug->front_canary = chosen.canary ? ALLOY_DEBUG_CANARY_SIZE : 0;
  debug->page = alloy_vm_page_size();
  alloy_decorator_lock_init(&debug->lock, chosen.guard_pages ? NULL : inner);
  alloy_pointer_table_init_on(&debug->live, state);
  atomic_init(&debug->faults, 0);
  *out = debug;
  return ALLOY_OK;
}

static alloy_status debug_flush_quarantine(alloy_debug *debug) {
  alloy_status first = ALLOY_OK;
  for (;;) {
    alloy_decorator_lock_state_enter(&debug->lock);
    void *user = NULL;
    if (debug->quarantine_count > 0) {
      user = debug->quarantine[debug->quarantine_head];
      debug->quarantine_head = (debug->quarantine_head + 1) % debug->config.quarantine;
      --debug->quarantine_count;
    }
    alloy_decorator_lock_state_leave(&debug->lock);
    if (user == NULL) return first;
    alloy_status status = debug_release_quarantined(debug, user);
    if (first == ALLOY_OK) first = status;
  }
}

alloy_status alloy_debug_flush_quarantine(alloy_debug *debug) {
  alloy_decorator_lock_call_enter(&debug->lock);
  alloy_status status = debug_flush_quarantine(debug);
  alloy_decorator_lock_call_leave(&debug->lock);
  return status;
}

typedef struct check_all_context {
  alloy_debug *debug;
  alloy_status first;
} check_all_context;

static bool check_one_live(void *context, const void *key, uintptr_t value) {
  (void)value;
  check_all_context *c = (check_all_context *)context;
  debug_header header;
  header_read(c->debug, key, &header);
  debug_finding finding;
  finding_init(&finding, ALLOY_E_CORRUPTION, alloy_block_make((void *)(uintptr_t)key, header.size), header.align);
  alloy_status status = ALLOY_OK;
  if (header.magic != DEBUG_MAGIC_LIVE) {
    snprintf(finding.detail, sizeof finding.detail, "block header overwritten (underrun past the front canary)");
    status = ALLOY_E_CORRUPTION;
  } else {
    status = check_canaries(c->debug, key, &header, &finding);
  }
  if (status != ALLOY_OK) {
    status = debug_report(c->debug, &finding);
    if (c->first == ALLOY_OK) c->first = status;
  }
  return true;
}

alloy_status alloy_debug_check_all(alloy_debug *debug) {
  check_all_context context = {debug, ALLOY_OK};
  alloy_decorator_lock_query_enter(&debug->lock);
  alloy_pointer_table_visit(&debug->live, check_one_live, &context);
  for (size_t i = 0; i < debug->quarantine_count; ++i) {
    void *user = debug->quarantine[(debug->quarantine_head + i) % debug->config.quarantine];
    debug_header header;
    header_read(debug, user, &header);
    ALLOY_MEM_DEFINED(user, header.size);
    size_t bad = debug->config.fill ? first_mismatch(user, header.size, freed_chunk) : header.size;
    ALLOY_MEM_NOACCESS(user, header.size);
    if (bad != header.size) {
      debug_finding finding;
      finding_init(&finding, ALLOY_E_CORRUPTION, alloy_block_make(user, header.size), header.align);
      snprintf(finding.detail, sizeof finding.detail, "modified after free (byte %zu of a %zu-byte block)", bad,
               header.size);
      alloy_status status = debug_report(debug, &finding);
      if (context.first == ALLOY_OK) context.first = status;
    }
  }
  alloy_decorator_lock_query_leave(&debug->lock);
  return context.first;
}

void alloy_debug_get_counts(alloy_debug *debug, alloy_debug_counts *out) {
  alloy_decorator_lock_query_enter(&debug->lock);
  out->live_blocks = debug->live.count;
  out->quarantined_blocks = debug->quarantine_count;
  alloy_decorator_lock_query_leave(&debug->lock);
  out->faults = atomic_load_explicit(&debug->faults, memory_order_relaxed);
}

void alloy_debug_destroy(alloy_debug *debug) {
  if (debug == NULL) return;
  if (debug->config.check_on_destroy) ALLOY_IGNORE_STATUS(alloy_debug_check_all(debug));
  ALLOY_IGNORE_STATUS(alloy_debug_flush_quarantine(debug));
  alloy_decorator_lock_destroy(&debug->lock);
  alloy_pointer_table_destroy(&debug->live);
  alloy_resource *state = debug->state;
  if (debug->quarantine != NULL)
    state_free(state, debug->quarantine, debug->config.quarantine * sizeof(void *), sizeof(void *));
  state_free(state, debug, sizeof(alloy_debug), ALLOY_CACHE_LINE);
}

alloy_resource *alloy_debug_resource(alloy_debug *debug) { return &debug->resource; }
