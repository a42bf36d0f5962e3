/* The slow paths of alloy_vm_arena: reserve, commit in chunks, rewind, decommit. */
#include "alloy/vm_arena.h"

#include <string.h>

#include "alloy/align.h"
#include "alloy/fault.h"
#include "alloy/numa.h"
#include "alloy/tool_hooks.h"
#include "alloy/vm.h"

#define VM_ARENA_DEFAULT_CHUNK ((size_t)64 << 10)
/* The header is padded so the first block starts on its own cache line. */
#define VM_ARENA_HEADER_ALIGN ((size_t)ALLOY_CACHE_LINE)

/* Rounds an offset from the reservation up to a whole number of steps. The
 * step is any multiple of the page (not necessarily a power of two), and this
 * runs only on slow paths, so a division is fine. */
static size_t round_up_to_step(size_t offset, size_t step) { return (offset + step - 1) / step * step; }

/* Commits [committed_end, new_end) and, when `touch`, faults every new page in
 * now. The new pages are free space: no access for the tools afterwards (an
 * earlier life of the range may have left them poisoned, hence the unpoison
 * before the touch). */
static alloy_status commit_range(alloy_vm_arena *arena, char *new_end, bool touch) {
  const size_t grown = (size_t)(new_end - arena->committed_end);
  ALLOY_TRY(alloy_vm_commit(arena->committed_end, grown));
  if (touch) {
    ALLOY_MEM_UNDEFINED(arena->committed_end, grown);
    alloy_vm_populate(arena->committed_end, grown);
  }
  ALLOY_MEM_NOACCESS(arena->committed_end, grown);
  arena->committed_end = new_end;
  if (new_end > arena->tools_end) arena->tools_end = new_end;
  return ALLOY_OK;
}

static bool policy_is_valid(const alloy_vm_commit_policy *policy, size_t capacity) {
  if (policy->mode != ALLOY_COMMIT_LAZY && policy->mode != ALLOY_COMMIT_BATCHED) return false;
  if (policy->mode == ALLOY_COMMIT_LAZY && policy->commit_batch != 0) return false;
  return policy->prewarm_bytes <= capacity && policy->prewarm_ahead <= capacity;
}

alloy_status alloy_vm_arena_create(const alloy_vm_arena_config *config, alloy_vm_arena *out) {
  return alloy_vm_arena_create_with_policy(config, NULL, out);
}

alloy_status alloy_vm_arena_create_with_policy(const alloy_vm_arena_config *config,
                                               const alloy_vm_commit_policy *policy, alloy_vm_arena *out) {
  static const alloy_vm_commit_policy lazy = {ALLOY_COMMIT_LAZY, 0, 0, 0};
  if (config == NULL || out == NULL) return ALLOY_E_INVALID_ARGUMENT;
  if (policy == NULL) policy = &lazy;
  const size_t page = alloy_vm_page_size();
  if (config->capacity == 0 || config->capacity > ALLOY_MAX_REQUEST || config->numa_node < -1 ||
      !policy_is_valid(policy, config->capacity))
    return ALLOY_E_INVALID_ARGUMENT;

  size_t header, chunk, usable, total;
  if (!alloy_align_up_checked(config->header_size, VM_ARENA_HEADER_ALIGN, &header) ||
      !alloy_align_up_checked(config->commit_chunk ? config->commit_chunk : VM_ARENA_DEFAULT_CHUNK, page, &chunk) ||
      !alloy_size_add(header, config->capacity, &usable) || !alloy_align_up_checked(usable, page, &usable) ||
      !alloy_size_add(usable, page, &total) || total > ALLOY_MAX_REQUEST)
    return ALLOY_E_INVALID_ARGUMENT;
  const bool commit_all = policy->mode == ALLOY_COMMIT_BATCHED && policy->commit_batch == 0;
  if (policy->mode == ALLOY_COMMIT_BATCHED) {
    if (commit_all) chunk = usable;
    else if (!alloy_align_up_checked(policy->commit_batch, page, &chunk)) return ALLOY_E_INVALID_ARGUMENT;
  }
  if (chunk > usable) chunk = usable; /* one step never needs more than the whole range */

  /* What creation commits: the header, the pre-warmed prefix (and the first
   * look-ahead window), or everything. prewarm <= capacity, so no overflow. */
  const size_t prewarm = policy->prewarm_bytes > policy->prewarm_ahead ? policy->prewarm_bytes : policy->prewarm_ahead;
  const size_t warm_end = prewarm ? alloy_align_up(header + prewarm, page) : 0;
  size_t initial = alloy_align_up(header, page);
  if (warm_end > initial) initial = warm_end;
  if (commit_all) initial = usable;

  void *reserved;
  ALLOY_TRY(alloy_vm_reserve(total, page, &reserved));
  alloy_vm_arena arena;
  arena.reservation = reserved;
  arena.reserved_size = total;
  arena.base = arena.reservation + header;
  arena.top = arena.base;
  arena.committed_end = arena.reservation;
  arena.limit = arena.reservation + usable;
  arena.commit_chunk = chunk;
  arena.tools_end = arena.committed_end;
  arena.warm_floor = arena.base + policy->prewarm_bytes;
  arena.prewarm_ahead = policy->prewarm_ahead;

  alloy_status status = ALLOY_OK;
  if (config->numa_node >= 0) status = alloy_numa_bind(arena.reservation, usable, config->numa_node);
  /* Touch only what is to be warm: a batch committed up front is still faulted in on demand. */
  if (status == ALLOY_OK && warm_end != 0) status = commit_range(&arena, arena.reservation + warm_end, true);
  if (status == ALLOY_OK && initial > (size_t)(arena.committed_end - arena.reservation))
    status = commit_range(&arena, arena.reservation + initial, false);
  if (status != ALLOY_OK) {
    ALLOY_ASAN_UNPOISON(arena.reservation, (size_t)(arena.tools_end - arena.reservation));
    ALLOY_IGNORE_STATUS(alloy_vm_release(arena.reservation, total));
    return status;
  }
  /* The header is the owner's to use: addressable, as a fresh mapping is. */
  ALLOY_MEM_DEFINED(arena.reservation, header);
  *out = arena;
  return ALLOY_OK;
}

alloy_status alloy_vm_arena_create_owner(const alloy_vm_arena_config *config, const alloy_vm_commit_policy *policy,
                                        size_t arena_offset, void **owner) {
  if (owner == NULL) return ALLOY_E_INVALID_ARGUMENT;
  alloy_vm_arena arena;
  ALLOY_TRY(alloy_vm_arena_create_with_policy(config, policy, &arena));
  ALLOY_ASSERT(arena_offset <= config->header_size && config->header_size - arena_offset >= sizeof arena);
  memcpy(arena.reservation + arena_offset, &arena, sizeof arena);
  *owner = arena.reservation;
  return ALLOY_OK;
}

void alloy_vm_arena_destroy(alloy_vm_arena *arena) {
  /* Read before the release: the arena may live in the header it releases. */
  char *const reservation = arena->reservation;
  const size_t reserved_size = arena->reserved_size;
  /* ASan's shadow outlives the mapping; a later mapping at the same address
   * must not inherit our poison. */
  ALLOY_ASAN_UNPOISON(reservation, (size_t)(arena->tools_end - reservation));
  ALLOY_IGNORE_STATUS(alloy_vm_release(reservation, reserved_size));
}

/* Where the slow path commits to for a top at `end`: the step after end plus
 * the look-ahead window, never past the limit. */
static char *commit_target(const alloy_vm_arena *arena, char *end) {
  const size_t room = (size_t)(arena->limit - end);
  const size_t ahead = arena->prewarm_ahead < room ? arena->prewarm_ahead : room;
  const size_t offset = (size_t)(end - arena->reservation) + ahead;
  char *target = arena->reservation + round_up_to_step(offset, arena->commit_chunk);
  return target > arena->limit ? arena->limit : target;
}

alloy_status alloy_vm_arena_commit_to(alloy_vm_arena *arena, char *end) {
  if (ALLOY_LIKELY(end <= arena->committed_end)) return ALLOY_OK;
  if (end > arena->limit) return ALLOY_E_CAPACITY;
  return commit_range(arena, commit_target(arena, end), arena->prewarm_ahead != 0);
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
  /* Pre-warmed bytes stay: the prefix, and the look-ahead window past the top. */
  char *warm = arena->top + (arena->prewarm_ahead < (size_t)(arena->limit - arena->top)
                                 ? arena->prewarm_ahead
                                 : (size_t)(arena->limit - arena->top));
  if (keep < warm) keep = warm;
  if (keep < arena->warm_floor) keep = arena->warm_floor;
  const size_t page = alloy_vm_page_size();
  char *floor = arena->reservation + alloy_align_up((size_t)(arena->base - arena->reservation), page);
  /* Whole steps, so the next commit lands on a step boundary; an arena that
   * committed everything in one batch gives pages back one by one. */
  const size_t step = arena->commit_chunk == (size_t)(arena->limit - arena->reservation) ? page : arena->commit_chunk;
  char *keep_end = arena->reservation + round_up_to_step((size_t)(keep - arena->reservation), step);
  if (keep_end < floor) keep_end = floor;
  if (keep_end >= arena->committed_end) return;
  if (alloy_vm_decommit(keep_end, (size_t)(arena->committed_end - keep_end)) == ALLOY_OK)
    arena->committed_end = keep_end;
}

const char *alloy_vm_arena_broken_rule(const alloy_vm_arena *arena) {
  const size_t page = alloy_vm_page_size();
  if (arena->base < arena->reservation || arena->top < arena->base) return "the top is below the arena's base";
  if (arena->top > arena->limit) return "the top is past the arena's limit";
  if (arena->committed_end < arena->top) return "the top is past the committed range";
  if (arena->committed_end > arena->limit) return "the committed range reaches into the guard page";
  if ((size_t)(arena->committed_end - arena->reservation) % page != 0)
    return "the committed range does not end on a page boundary";
  if ((size_t)(arena->limit - arena->reservation) % page != 0 ||
      (size_t)(arena->limit - arena->reservation) + page != arena->reserved_size)
    return "the limit is not one guard page before the reservation's end";
  if (arena->commit_chunk == 0 || arena->commit_chunk % page != 0) return "the commit step is not whole pages";
  if (arena->tools_end < arena->committed_end || arena->tools_end > arena->limit)
    return "the tools' extent is outside the committed range's reach";
  return NULL;
}
