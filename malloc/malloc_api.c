/* The drop-in malloc's exported functions: the C library's allocation
 * surface over the process-wide small-object heap (blocks up to
 * ALLOY_MALLOC_SMALL_MAX), the partition (up to ALLOY_MALLOC_PARTITION_MAX),
 * the medium arenas (up to ALLOY_MALLOC_MEDIUM_MAX) and page-granular
 * mappings (the rest).
 *
 * Allocation routes by size and alignment; a pointer-only free routes by
 * address (see malloc_internal.h). Every failure returns NULL (or the error
 * number, for posix_memalign) with errno set, and never aborts. */
#define _GNU_SOURCE
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "alloy/align.h"
#include "alloy/sized_free.h"
#include "alloy/small_object.h"
#include "alloy/vm.h"
#include "malloc_alignment_rules.h"
#include "malloc_internal.h"

/* ---- Allocation ----------------------------------------------------------- */

/* `size` bytes aligned to `align` (a power of two): the small-object heap
 * when it serves the request, else the partition, else a medium arena, else
 * a mapping of its own; NULL and ENOMEM when none can. *fresh says the
 * block reads as zero already. */
static ALLOY_NOINLINE void *allocate_slow(size_t size, size_t align, bool *fresh) {
  bool reentrant = false;
  alloy_small_object *heap = alloy_malloc_heap_get(&reentrant);
  if (heap != NULL && size <= ALLOY_MALLOC_SMALL_MAX && align <= ALLOY_MALLOC_SMALL_MAX) {
    alloy_block block;
    if (alloy_small_object_allocate(heap, size, align, &block) == ALLOY_OK) return block.ptr;
  }
  if (reentrant) { /* this thread is creating the heap */
    void *ptr = alloy_malloc_heap_bootstrap_allocate(size, align);
    if (ptr != NULL) return ptr;
  }
  alloy_malloc_decay_tick();
  void *ptr = alloy_malloc_partition_allocate(size, align);
  if (ptr != NULL) return ptr;
  ptr = alloy_malloc_medium_allocate(size, align);
  if (ptr != NULL) return ptr;
  ptr = alloy_malloc_large_allocate(size, align);
  if (ptr == NULL) {
    errno = ENOMEM;
    return NULL;
  }
  *fresh = true;
  return ptr;
}

/* Blocks above 8 bytes are 16-aligned (max_align_t); an 8-byte block needs
 * only 8, as in every malloc that has such a class. */
static ALLOY_ALWAYS_INLINE size_t default_align(size_t size) {
  return size > 8 ? ALLOY_MALLOC_ALIGN : 8;
}

static ALLOY_ALWAYS_INLINE void *allocate(size_t size, size_t align, bool *fresh) {
  alloy_small_object *heap = alloy_malloc_heap_existing();
  *fresh = false;
  if (ALLOY_LIKELY(heap != NULL && size <= ALLOY_MALLOC_SMALL_MAX)) {
    alloy_block block;
    if (ALLOY_LIKELY(alloy_small_object_allocate(heap, size, align, &block) == ALLOY_OK)) return block.ptr;
  }
  return allocate_slow(size, align, fresh);
}

void *malloc(size_t size) {
  bool fresh;
  return allocate(size, default_align(size), &fresh);
}

void *calloc(size_t count, size_t size) {
  size_t bytes;
  if (__builtin_mul_overflow(count, size, &bytes)) {
    errno = ENOMEM;
    return NULL;
  }
  bool fresh;
  void *ptr = allocate(bytes, default_align(bytes), &fresh);
  if (ptr != NULL && !fresh) memset(ptr, 0, bytes);
  return ptr;
}

/* `align` any power of two: the small-object heap's classes are aligned to
 * their largest power-of-two divisor, so it serves alignments up to its
 * largest class; larger ones are a mapping aligned to them. */
static void *allocate_aligned(size_t align, size_t size) {
  if (align < 8) align = 8;
  bool fresh;
  return allocate(size, align, &fresh);
}

void *aligned_alloc(size_t alignment, size_t size) {
  if (!alloy_is_power_of_two(alignment)) {
    errno = EINVAL;
    return NULL;
  }
  return allocate_aligned(alignment, size);
}

int posix_memalign(void **out, size_t alignment, size_t size) {
  if (!alloy_malloc_posix_alignment_valid(alignment)) return EINVAL;
  int saved = errno;
  return alloy_malloc_posix_result(allocate_aligned(alignment, size), saved, out);
}

void *memalign(size_t alignment, size_t size) {
  size_t rounded;
  if (!alloy_malloc_memalign_alignment(alignment, &rounded)) {
    errno = EINVAL;
    return NULL;
  }
  return allocate_aligned(rounded, size);
}

void *valloc(size_t size) { return allocate_aligned(alloy_vm_page_size(), size); }

void *pvalloc(size_t size) {
  size_t page = alloy_vm_page_size();
  size_t bytes;
  if (!alloy_malloc_pvalloc_size(size, page, &bytes)) {
    errno = ENOMEM;
    return NULL;
  }
  return allocate_aligned(page, bytes);
}

/* ---- Free and usable size -------------------------------------------------- */

/* Where `ptr` (not NULL) lives and what it may hold. */
typedef enum block_home { HOME_SMALL, HOME_BOOTSTRAP, HOME_PARTITION, HOME_MEDIUM, HOME_LARGE } block_home;

/* Past the small-object heap, the bootstrap buffer and the partition's
 * range (whose blocks have no header: the bytes below one may be another
 * block's, or not mapped), the header names the home; a header that names
 * none is LARGE, whose checks report it. */
static ALLOY_ALWAYS_INLINE block_home home_of(const void *ptr, alloy_small_object *heap, size_t *small_size) {
  if (ALLOY_LIKELY(heap != NULL) && (*small_size = alloy_small_object_block_size(heap, ptr)) != 0)
    return HOME_SMALL;
  if (ALLOY_UNLIKELY(alloy_malloc_heap_is_bootstrap(ptr))) return HOME_BOOTSTRAP;
  if (alloy_malloc_partition_holds(ptr)) return HOME_PARTITION;
  if (alloy_malloc_header_kind(alloy_malloc_header_of(ptr)) == ALLOY_MALLOC_KIND_MEDIUM) return HOME_MEDIUM;
  return HOME_LARGE;
}

static ALLOY_NOINLINE void free_other(void *ptr) {
  if (alloy_malloc_heap_is_bootstrap(ptr)) return; /* never reused */
  alloy_malloc_decay_tick();
  if (alloy_malloc_partition_holds(ptr)) {
    alloy_malloc_partition_free(ptr);
    return;
  }
  if (alloy_malloc_header_kind(alloy_malloc_header_of(ptr)) == ALLOY_MALLOC_KIND_MEDIUM) {
    alloy_malloc_medium_free(ptr);
    return;
  }
  alloy_malloc_large_free(ptr);
}

void free(void *ptr) {
  if (ptr == NULL) return;
  alloy_small_object *heap = alloy_malloc_heap_existing();
  /* One page lookup; a bad free inside the heap's pages went to the fault handler. */
  if (ALLOY_LIKELY(heap != NULL) && alloy_small_object_free(heap, ptr)) return;
  free_other(ptr);
}

/* A block larger than the small-object heap's largest class never came from
 * it: its free skips the heap's lookup. */
void free_sized(void *ptr, size_t size) {
  if (ptr == NULL) return;
  if (size > ALLOY_MALLOC_SMALL_MAX) {
    free_other(ptr);
    return;
  }
  free(ptr);
}

void free_aligned_sized(void *ptr, size_t alignment, size_t size) {
  if (ptr == NULL) return;
  if (size > ALLOY_MALLOC_SMALL_MAX || alignment > ALLOY_MALLOC_SMALL_MAX) {
    free_other(ptr);
    return;
  }
  free(ptr);
}

size_t malloc_usable_size(void *ptr) {
  if (ptr == NULL) return 0;
  size_t size = 0;
  switch (home_of(ptr, alloy_malloc_heap_existing(), &size)) {
    case HOME_SMALL: return size;
    case HOME_BOOTSTRAP: return alloy_malloc_heap_bootstrap_usable_size(ptr);
    case HOME_PARTITION: return alloy_malloc_partition_usable_size(ptr);
    case HOME_MEDIUM: return alloy_malloc_medium_usable_size(ptr);
    case HOME_LARGE: break;
  }
  return alloy_malloc_large_usable_size(ptr);
}

/* ---- Reallocation ---------------------------------------------------------- */

/* Moves the block: a new one, the old contents, the old one freed. On
 * failure the old block is untouched and still the caller's. */
static void *reallocate_by_moving(void *ptr, size_t old_usable, size_t size) {
  bool fresh;
  void *moved = allocate(size, default_align(size), &fresh);
  if (moved == NULL) return NULL;
  memcpy(moved, ptr, old_usable < size ? old_usable : size);
  free(ptr);
  return moved;
}

/* glibc's cases: NULL is malloc, size 0 frees and returns NULL. A block
 * stays where it is when the new size fits and would not leave more than
 * half of a partition block or a large mapping unused, and a medium arena
 * block whenever its arena can shrink it or grow it into a free neighbour. */
void *realloc(void *ptr, size_t size) {
  if (ptr == NULL) return malloc(size);
  if (size == 0) {
    free(ptr);
    return NULL;
  }
  size_t usable = 0;
  block_home home = home_of(ptr, alloy_malloc_heap_existing(), &usable);
  if (home == HOME_BOOTSTRAP) usable = alloy_malloc_heap_bootstrap_usable_size(ptr);
  else if (home == HOME_PARTITION) usable = alloy_malloc_partition_usable_size(ptr);
  else if (home == HOME_MEDIUM) usable = alloy_malloc_medium_usable_size(ptr);
  else if (home == HOME_LARGE) usable = alloy_malloc_large_usable_size(ptr);
  if (home == HOME_MEDIUM && size > ALLOY_MALLOC_SMALL_MAX && alloy_malloc_medium_resize(ptr, size)) return ptr;
  if (size <= usable) {
    if (home == HOME_SMALL) return ptr;
    if ((home == HOME_PARTITION || home == HOME_LARGE) && size > usable / 2) return ptr;
  }
  return reallocate_by_moving(ptr, usable, size);
}

void *reallocarray(void *ptr, size_t count, size_t size) {
  size_t bytes;
  if (__builtin_mul_overflow(count, size, &bytes)) {
    errno = ENOMEM;
    return NULL;
  }
  return realloc(ptr, bytes);
}
