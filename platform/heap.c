/* The system heap: malloc, posix_memalign and realloc behind alloy's contract. */
#define _GNU_SOURCE
#include "alloy/heap.h"

#include <malloc.h>
#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "alloy/align.h"
#include "alloy/fault_seam.h"

/* What malloc already guarantees without posix_memalign. */
#define HEAP_NATURAL_ALIGNMENT alignof(max_align_t)

alloy_status alloy_heap_allocate(size_t size, size_t alignment, void **out) {
  ALLOY_TRY(alloy_request_check(size, alignment));
  if (alloy_fault_seam_refuses(ALLOY_PLATFORM_HEAP)) return ALLOY_E_OUT_OF_MEMORY;
  if (size == 0) size = 1;
  void *ptr;
  if (alignment <= HEAP_NATURAL_ALIGNMENT) {
    ptr = malloc(size);
  } else {
    if (alignment < sizeof(void *)) alignment = sizeof(void *);
    if (posix_memalign(&ptr, alignment, size) != 0) ptr = NULL;
  }
  if (ptr == NULL) return ALLOY_E_OUT_OF_MEMORY;
  *out = ptr;
  return ALLOY_OK;
}

alloy_status alloy_heap_reallocate(void **ptr, size_t old_size, size_t new_size, size_t alignment) {
  ALLOY_TRY(alloy_request_check(new_size, alignment));
  if (alloy_fault_seam_refuses(ALLOY_PLATFORM_HEAP)) return ALLOY_E_OUT_OF_MEMORY;
  if (new_size == 0) new_size = 1;
  if (alignment <= HEAP_NATURAL_ALIGNMENT) {
    void *moved = realloc(*ptr, new_size);
    if (moved == NULL) return ALLOY_E_OUT_OF_MEMORY;
    *ptr = moved;
    return ALLOY_OK;
  }
  /* realloc does not keep over-alignment: allocate, copy, free. */
  void *moved;
  ALLOY_TRY(alloy_heap_allocate(new_size, alignment, &moved));
  memcpy(moved, *ptr, old_size < new_size ? old_size : new_size);
  free(*ptr);
  *ptr = moved;
  return ALLOY_OK;
}

void alloy_heap_free(void *ptr) { free(ptr); }

size_t alloy_heap_usable_size(void *ptr) { return ptr ? malloc_usable_size(ptr) : 0; }
