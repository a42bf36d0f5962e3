/* alloy/debug.h — the debug decorator: canaries, poisoning, quarantine, guard
 * pages and misuse detection, in every build type.
 *
 * Each block gets a header and a front canary before it and a back canary
 * after it, inside one larger inner allocation. On free the decorator checks,
 * and reports through alloy_fault_report (alloy/fault.h):
 *   - a pointer it never handed out            ALLOY_E_NOT_OWNED
 *   - a block freed twice                      ALLOY_E_DOUBLE_FREE
 *   - a size other than the one allocated      ALLOY_E_SIZE_MISMATCH
 *   - an alignment other than the one given    ALLOY_E_ALIGN_MISMATCH
 *   - overwritten canary bytes                 ALLOY_E_CORRUPTION, "front canary" / "back canary"
 *   - a quarantined block written after free   ALLOY_E_CORRUPTION, "modified after free"
 * When the fault handler returns (a test or a logging handler), the call
 * returns that status and frees nothing: the block stays live as it was.
 * A double free is told from a foreign pointer while the block is in
 * quarantine or among the last 256 frees; older ones read as foreign.
 *
 * Blocks are handed out with exactly the requested size (so the back canary
 * sits right after the last usable byte), filled with ALLOY_DEBUG_ALLOC_BYTE.
 * Freed blocks are filled with ALLOY_DEBUG_FREE_BYTE and kept in a FIFO
 * quarantine of `quarantine` blocks, poisoned for ASan and memcheck, before
 * they really go back to the inner resource; on eviction the pattern is
 * verified. The quarantine is switched off over LIFO resources (those that
 * hand out scope markers), which need frees in order.
 *
 * Guard-page mode (Electric Fence style): every block gets its own run of
 * pages from alloy_vm_reserve/commit, placed at the end of the run so that
 * the first byte past it (rounded to its alignment) is on a no-access page;
 * an overrun faults at once. The inner resource is not used for blocks in
 * that mode; alignments above a page are ALLOY_E_UNSUPPORTED.
 *
 * Which pointers are live is kept in a side table, so foreign pointers are
 * recognised without reading them, and owns() is exact. State (the object,
 * the table, the quarantine ring) comes from the platform heap, or from a
 * resource the creator names (alloy_debug_create_with_state: a decorator
 * inside the process's own malloc cannot stand on the C library's heap,
 * which is itself). The live table also answers which block a pointer
 * starts or lies in, for callers that know only the pointer (a free
 * without a size). A lock guards
 * it, so the decorator may be shared when the inner resource is thread-safe.
 * Scope markers are not offered (a rewind would free blocks behind the live
 * table's back). The inner resource stays the caller's.
 */
#ifndef ALLOY_DEBUG_H
#define ALLOY_DEBUG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alloy/compiler.h"
#include "alloy/resource.h"
#include "alloy/status.h"

ALLOY_EXTERN_C_BEGIN

#define ALLOY_DEBUG_CANARY_BYTE 0xFDu
#define ALLOY_DEBUG_ALLOC_BYTE 0xCDu
#define ALLOY_DEBUG_FREE_BYTE 0xDDu
#define ALLOY_DEBUG_CANARY_SIZE 16u

typedef struct alloy_debug alloy_debug;

typedef struct alloy_debug_config {
  bool canary;        /* canaries before and after each block */
  bool fill;          /* fill new blocks and freed blocks with the patterns above */
  size_t quarantine;  /* freed blocks held back before release (0 = none) */
  bool guard_pages;   /* every block on its own pages, a no-access page after it */
  bool check_on_destroy; /* destroy checks the canaries of every block still live */
} alloy_debug_config;

/* canary on, fill on, quarantine 16, no guard pages; check_on_destroy only
 * when built with ALLOY_WITH_CANARIES (alloy/options.h). */
alloy_debug_config alloy_debug_config_default(void);

/* config may be NULL (the defaults). */
ALLOY_NODISCARD alloy_status alloy_debug_create(alloy_resource *inner, const alloy_debug_config *config,
                                                alloy_debug **out);

/* As alloy_debug_create, with the decorator's own memory (the object, the
 * live table, the quarantine ring) from `state` instead of the platform
 * heap. `state` must be thread-safe when the decorator is shared, must not
 * call back into the decorator, and must outlive it; it may be `inner`.
 * NULL: the platform heap. */
ALLOY_NODISCARD alloy_status alloy_debug_create_with_state(alloy_resource *inner, const alloy_debug_config *config,
                                                           alloy_resource *state, alloy_debug **out);

/* Whether `ptr` is a live block of the decorator; if so, the block with its
 * requested size and the alignment it was allocated with (what a free must
 * pass). Reads only the decorator's table and the block's header. */
bool alloy_debug_find(alloy_debug *debug, const void *ptr, alloy_block *block, size_t *align);

/* Whether `address` lies in the storage of a live block (its bytes, its
 * header and canaries, its start included); if so, that block, its size
 * and alignment. Visits every live block: for reporting misuse, not for a
 * hot path. */
bool alloy_debug_find_containing(alloy_debug *debug, const void *address, alloy_block *block, size_t *align);

/* Releases the quarantined blocks (checking them) and the decorator's state;
 * with check_on_destroy, first checks every live block (alloy_debug_check_all).
 * Blocks still live are the caller's business (see the leak decorator). */
void alloy_debug_destroy(alloy_debug *debug);
alloy_resource *alloy_debug_resource(alloy_debug *debug);

/* Checks every live block's canaries and every quarantined block's pattern,
 * reporting each fault; returns the first fault's status or ALLOY_OK. Faults
 * are reported under the decorator's lock: the handler must not call back
 * into it. */
ALLOY_NODISCARD alloy_status alloy_debug_check_all(alloy_debug *debug);

/* Releases every quarantined block (after checking it). */
ALLOY_NODISCARD alloy_status alloy_debug_flush_quarantine(alloy_debug *debug);

typedef struct alloy_debug_counts {
  size_t live_blocks;
  size_t quarantined_blocks;
  uint64_t faults; /* faults this decorator reported */
} alloy_debug_counts;

void alloy_debug_get_counts(alloy_debug *debug, alloy_debug_counts *out);

ALLOY_EXTERN_C_END

#endif /* ALLOY_DEBUG_H */
