/* The slow paths of alloy_vm_arena: reserve, commit in chunks, rewind, decommit. */
#include "alloy/vm_arena.h"

#include "alloy/align.h"
#include "alloy/numa.h"
#include "alloy/tool_hooks.h"
#include "alloy/vm.h"

#define VM_ARENA_DEFAULT_CHUNK ((size_t)64 << 10)
/* The header is padded so the first block starts on its own cache line. */
#define VM_ARENA_HEADER_ALIGN ((size_t)ALLOY_CACHE_LINE)

alloy_status alloy_vm_arena_create(const alloy_vm_arena_config *config, alloy_vm_arena *out) {
  if (config == NULL || out == NULL) return ALLOY_E_INVALID_ARGUMENT;
  const size_t page = alloy_vm_page_size();
  if (config->capacity == 0 || config->capacity > ALLOY_MAX_REQUEST || config->numa_node < -1)
    return ALLOY_E_INVALID_ARGUMENT;

  size_t header, chunk, usable, total;
  if (!alloy_align_up_checked(config->header_size, VM_ARENA_HEADER_ALIGN, &header) ||
      !alloy_align_up_checked(config->commit_chunk ? config->commit_chunk : VM_ARENA_DEFAULT_CHUNK, page, &chunk) ||
      !alloy_size_add(header, config->capacity, &usable) || !alloy_align_up_checked(usable, page, &usable) ||
      !alloy_size_add(usable, page, &total) || total > ALLOY_MAX_REQUEST)
    return ALLOY_E_INVALID_ARGUMENT;

  void *reserved;
  ALLOY_TRY(alloy_vm_reserve(total, page, &reserved));
  char *reservation = reserved;
  alloy_status status = ALLOY_OK;
  if (config->numa_node >= 0) status = alloy_numa_bind(reservation, usable, config->numa_node);
  const size_t header_pages = alloy_align_up(header, page);
  if (status == ALLOY_OK && header_pages != 0) status = alloy_vm_commit(reservation, header_pages);
  if (status != ALLOY_OK) {
    ALLOY_IGNORE_STATUS(alloy_vm_release(reservation, total));
    return status;
  }

  alloy_vm_arena arena;
  arena.reservation = reservation;
  arena.reserved_size = total;
  arena.base = reservation + header;
  arena.top = arena.base;
  arena.committed_end = reservation + header_pages;
  arena.limit = reservation + usable;
  arena.commit_chunk = chunk;
  arena.tools_end = arena.committed_end;
  /* The committed tail of the header's last page is free space: nobody may touch it yet. */
  ALLOY_MEM_NOACCESS(arena.base, (size_t)(arena.committed_end - arena.base));
  *out = arena;
  return ALLOY_OK;
}

void alloy_vm_arena_destroy(alloy_vm_arena *arena) {
  /* ASan's shadow outlives the mapping; a later mapping at the same address
   * must not inherit our poison. */
  ALLOY_ASAN_UNPOISON(arena->reservation, (size_t)(arena->tools_end - arena->reservation));
  ALLOY_IGNORE_STATUS(alloy_vm_release(arena->reservation, arena->reserved_size));
}

alloy_status alloy_vm_arena_commit_to(alloy_vm_arena *arena, char *end) {
  if (ALLOY_LIKELY(end <= arena->committed_end)) return ALLOY_OK;
  if (end > arena->limit) return ALLOY_E_CAPACITY;
  char *new_end = arena->reservation + alloy_align_up((size_t)(end - arena->reservation), arena->commit_chunk);
  if (new_end > arena->limit) new_end = arena->limit;
  const size_t grown = (size_t)(new_end - arena->committed_end);
  ALLOY_TRY(alloy_vm_commit(arena->committed_end, grown));
  /* Committed but not handed out: an overrun past the top is reported. */
  ALLOY_MEM_NOACCESS(arena->committed_end, grown);
  arena->committed_end = new_end;
  if (new_end > arena->tools_end) arena->tools_end = new_end;
  return ALLOY_OK;
}

alloy_status alloy_vm_arena_grow(alloy_vm_arena *arena, size_t size, size_t align, void **out) {
  uintptr_t ptr = ((uintptr_t)arena->top + align - 1) & ~(uintptr_t)(align - 1);
  uintptr_t end = ptr + size;
  if (end > (uintptr_t)arena->limit || ptr < (uintptr_t)arena->top) return ALLOY_E_CAPACITY;
  ALLOY_TRY(alloy_vm_arena_commit_to(arena, (char *)end));
  arena->top = (char *)end;
  *out = (void *)ptr;
  return ALLOY_OK;
}

void alloy_vm_arena_rewind_tracked(alloy_vm_arena *arena, char *position) {
  ALLOY_MEM_NOACCESS(position, (size_t)(arena->top - position));
  arena->top = position;
}

void alloy_vm_arena_decommit_above(alloy_vm_arena *arena, char *keep) {
  if (keep < arena->top) keep = arena->top;
  char *floor = arena->reservation + alloy_align_up((size_t)(arena->base - arena->reservation), alloy_vm_page_size());
  char *keep_end = arena->reservation + alloy_align_up((size_t)(keep - arena->reservation), arena->commit_chunk);
  if (keep_end < floor) keep_end = floor;
  if (keep_end >= arena->committed_end) return;
  if (alloy_vm_decommit(keep_end, (size_t)(arena->committed_end - keep_end)) == ALLOY_OK)
    arena->committed_end = keep_end;
}
