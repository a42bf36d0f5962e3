/* The checked malloc's exported functions: the C library's allocation
 * surface, each call a checked call of the debug decorator over the release
 * malloc (malloc_debug_heap.c). Each records its caller's return address
 * for the fault handler first.
 *
 * A pointer-only free asks the decorator's live table for the block's size
 * and alignment; a pointer the table does not know is reported (inside a
 * live block: an interior pointer, here; else the decorator tells a double
 * free from a foreign pointer) and nothing is freed. Blocks are exactly the
 * requested size, so malloc_usable_size answers it and the back canary
 * follows the last byte. realloc always moves, so a stale pointer to the old
 * block lands in the quarantine. Failures are those of the release malloc:
 * NULL (or the error number, for posix_memalign) with errno set. */
#define _GNU_SOURCE
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloy/align.h"
#include "alloy/debug.h"
#include "alloy/fault.h"
#include "alloy/sized_free.h"
#include "alloy/vm.h"
#include "malloc_alignment_rules.h"
#include "malloc_debug_internal.h"
#include "malloc_internal.h"

/* Every exported function opens with CALL_ENTER and leaves through
 * CALL_LEAVE: the call site of the outermost call is the user's, and a
 * nested call (from a fault handler) restores it. */
#define CALL_ENTER(name)                                                     \
  const alloy_malloc_debug_call outer_call = alloy_malloc_debug_heap_call;   \
  alloy_malloc_debug_heap_call.site = __builtin_return_address(0);           \
  alloy_malloc_debug_heap_call.function = (name)
#define CALL_LEAVE() (alloy_malloc_debug_heap_call = outer_call)

/* ---- Allocation ----------------------------------------------------------- */

/* Blocks above 8 bytes are 16-aligned (max_align_t), as in the release malloc. */
static size_t default_align(size_t size) { return size > 8 ? ALLOY_MALLOC_ALIGN : 8; }

/* Before the decorator exists: the creating thread's own calls from the
 * bootstrap buffer, and everything from the release malloc if it could not
 * be created. */
static ALLOY_NOINLINE void *allocate_unchecked(size_t size, size_t align, bool reentrant) {
  void *ptr = reentrant ? alloy_malloc_heap_bootstrap_allocate(size, align) : alloy_malloc_api_memalign(align, size);
  if (ptr == NULL) errno = ENOMEM;
  return ptr;
}

static void *allocate(size_t size, size_t align) {
  bool reentrant = false;
  alloy_debug *debug = alloy_malloc_debug_heap_get(&reentrant);
  if (ALLOY_UNLIKELY(debug == NULL)) return allocate_unchecked(size, align, reentrant);
  alloy_block block;
  if (alloy_resource_allocate(alloy_debug_resource(debug), size, align, &block) != ALLOY_OK) {
    errno = ENOMEM;
    return NULL;
  }
  return block.ptr;
}

void *malloc(size_t size) {
  CALL_ENTER("malloc");
  void *ptr = allocate(size, default_align(size));
  CALL_LEAVE();
  return ptr;
}

void *calloc(size_t count, size_t size) {
  CALL_ENTER("calloc");
  size_t bytes;
  void *ptr = NULL;
  if (__builtin_mul_overflow(count, size, &bytes)) {
    errno = ENOMEM;
  } else {
    ptr = allocate(bytes, default_align(bytes));
    if (ptr != NULL) memset(ptr, 0, bytes);
  }
  CALL_LEAVE();
  return ptr;
}

/* `align` a power of two, kept as given: free_aligned_sized must name it. */
static void *allocate_aligned(size_t align, size_t size) { return allocate(size, align < 8 ? 8 : align); }

void *aligned_alloc(size_t alignment, size_t size) {
  CALL_ENTER("aligned_alloc");
  void *ptr = NULL;
  if (!alloy_is_power_of_two(alignment))
    errno = EINVAL;
  else
    ptr = allocate_aligned(alignment, size);
  CALL_LEAVE();
  return ptr;
}

int posix_memalign(void **out, size_t alignment, size_t size) {
  if (!alloy_malloc_posix_alignment_valid(alignment)) return EINVAL;
  CALL_ENTER("posix_memalign");
  int saved = errno;
  void *ptr = allocate_aligned(alignment, size);
  CALL_LEAVE();
  return alloy_malloc_posix_result(ptr, saved, out);
}

void *memalign(size_t alignment, size_t size) {
  size_t rounded;
  if (!alloy_malloc_memalign_alignment(alignment, &rounded)) {
    errno = EINVAL;
    return NULL;
  }
  CALL_ENTER("memalign");
  void *ptr = allocate_aligned(rounded, size);
  CALL_LEAVE();
  return ptr;
}

void *valloc(size_t size) {
  CALL_ENTER("valloc");
  void *ptr = allocate_aligned(alloy_vm_page_size(), size);
  CALL_LEAVE();
  return ptr;
}

void *pvalloc(size_t size) {
  size_t page = alloy_vm_page_size();
  size_t bytes;
  if (!alloy_malloc_pvalloc_size(size, page, &bytes)) {
    errno = ENOMEM;
    return NULL;
  }
  CALL_ENTER("pvalloc");
  void *ptr = allocate_aligned(page, bytes);
  CALL_LEAVE();
  return ptr;
}

/* ---- Misuse ---------------------------------------------------------------- */

/* `ptr` is no live block. Inside one (its bytes, header or canaries) it is
 * an interior pointer, reported here; otherwise the decorator tells a
 * double free from a foreign pointer (it reads nothing at `ptr`). */
static ALLOY_NOINLINE ALLOY_COLD void report_unknown_pointer(alloy_debug *debug, void *ptr) {
  alloy_block live;
  size_t align;
  if (!alloy_debug_find_containing(debug, ptr, &live, &align)) {
    ALLOY_IGNORE_STATUS(alloy_resource_deallocate(alloy_debug_resource(debug), alloy_block_make(ptr, 0), 1));
    return;
  }
  char detail[160];
  ptrdiff_t offset = (const char *)ptr - (const char *)live.ptr;
  snprintf(detail, sizeof detail, "the pointer is %td bytes %s the live %zu-byte block at %p",
           offset < 0 ? -offset : offset, offset < 0 ? "before" : "into", live.size, live.ptr);
  alloy_fault fault = {.kind = ALLOY_E_INTERIOR_POINTER,
                       .resource = "alloy_malloc_debug",
                       .ptr = ptr,
                       .expected_size = live.size,
                       .expected_align = align,
                       .detail = detail};
  ALLOY_IGNORE_STATUS(alloy_fault_report(&fault));
}

/* ---- Free and usable size -------------------------------------------------- */

/* Before the decorator exists every block is the bootstrap buffer's (never
 * reused) or, if it could not be created, the release malloc's. */
static ALLOY_NOINLINE void free_unchecked(void *ptr) {
  if (alloy_malloc_heap_is_bootstrap(ptr)) return;
  alloy_malloc_api_free(ptr);
}

/* What a free without a size or an alignment passes for it: the block's own. */
#define UNNAMED SIZE_MAX

/* `size` and `align` as the caller names them (or UNNAMED). */
static void free_checked(void *ptr, size_t size, size_t align) {
  if (ptr == NULL) return;
  alloy_debug *debug = alloy_malloc_debug_heap_existing();
  if (ALLOY_UNLIKELY(debug == NULL || alloy_malloc_heap_is_bootstrap(ptr))) {
    free_unchecked(ptr);
    return;
  }
  alloy_block block;
  size_t block_align;
  if (ALLOY_UNLIKELY(!alloy_debug_find(debug, ptr, &block, &block_align))) {
    report_unknown_pointer(debug, ptr);
    return;
  }
  if (size != UNNAMED) block.size = size; /* a size other than the allocation's is reported */
  ALLOY_IGNORE_STATUS(
      alloy_resource_deallocate(alloy_debug_resource(debug), block, align != UNNAMED ? align : block_align));
}

void free(void *ptr) {
  CALL_ENTER("free");
  free_checked(ptr, UNNAMED, UNNAMED);
  CALL_LEAVE();
}

/* The size (and alignment) given must be the allocation's: C23 makes any
 * other undefined, so they are checked, not used to route. */
void free_sized(void *ptr, size_t size) {
  CALL_ENTER("free_sized");
  free_checked(ptr, size, UNNAMED);
  CALL_LEAVE();
}

void free_aligned_sized(void *ptr, size_t alignment, size_t size) {
  CALL_ENTER("free_aligned_sized");
  free_checked(ptr, size, alignment < 8 ? 8 : alignment);
  CALL_LEAVE();
}

size_t malloc_usable_size(void *ptr) {
  if (ptr == NULL) return 0;
  CALL_ENTER("malloc_usable_size");
  size_t size = 0;
  alloy_debug *debug = alloy_malloc_debug_heap_existing();
  alloy_block block;
  size_t align;
  if (alloy_malloc_heap_is_bootstrap(ptr))
    size = alloy_malloc_heap_bootstrap_usable_size(ptr);
  else if (debug == NULL)
    size = alloy_malloc_api_malloc_usable_size(ptr);
  else if (alloy_debug_find(debug, ptr, &block, &align))
    size = block.size;
  else
    report_unknown_pointer(debug, ptr);
  CALL_LEAVE();
  return size;
}

/* ---- Reallocation ---------------------------------------------------------- */

/* A bootstrap block moves into a checked one; the buffer keeps its copy. */
static ALLOY_NOINLINE void *reallocate_bootstrap(void *ptr, size_t size) {
  void *moved = allocate(size, default_align(size));
  if (moved == NULL) return NULL;
  size_t old = alloy_malloc_heap_bootstrap_usable_size(ptr);
  memcpy(moved, ptr, old < size ? old : size);
  return moved;
}

/* Always a new block (with the old one's alignment, at least the default
 * for the new size), the contents copied, the old one freed into the
 * quarantine. A pointer that is no live block is reported and is NULL with
 * EINVAL; on exhaustion NULL with ENOMEM, the old block untouched. */
static void *reallocate(void *ptr, size_t size) {
  if (alloy_malloc_heap_is_bootstrap(ptr)) return reallocate_bootstrap(ptr, size);
  alloy_debug *debug = alloy_malloc_debug_heap_existing();
  if (ALLOY_UNLIKELY(debug == NULL)) return alloy_malloc_api_realloc(ptr, size);
  alloy_block block;
  size_t align;
  if (ALLOY_UNLIKELY(!alloy_debug_find(debug, ptr, &block, &align))) {
    report_unknown_pointer(debug, ptr);
    errno = EINVAL;
    return NULL;
  }
  size_t new_align = default_align(size) > align ? default_align(size) : align;
  void *moved = allocate(size, new_align);
  if (moved == NULL) return NULL;
  memcpy(moved, ptr, block.size < size ? block.size : size);
  ALLOY_IGNORE_STATUS(alloy_resource_deallocate(alloy_debug_resource(debug), block, align));
  return moved;
}

/* glibc's cases: NULL is malloc, size 0 frees and returns NULL. */
void *realloc(void *ptr, size_t size) {
  CALL_ENTER("realloc");
  void *moved = NULL;
  if (ptr == NULL)
    moved = allocate(size, default_align(size));
  else if (size == 0)
    free_checked(ptr, UNNAMED, UNNAMED);
  else
    moved = reallocate(ptr, size);
  CALL_LEAVE();
  return moved;
}

void *reallocarray(void *ptr, size_t count, size_t size) {
  CALL_ENTER("reallocarray");
  size_t bytes;
  void *moved = NULL;
  if (__builtin_mul_overflow(count, size, &bytes))
    errno = ENOMEM;
  else if (ptr == NULL)
    moved = allocate(bytes, default_align(bytes));
  else if (bytes == 0)
    free_checked(ptr, UNNAMED, UNNAMED);
  else
    moved = reallocate(ptr, bytes);
  CALL_LEAVE();
  return moved;
}
