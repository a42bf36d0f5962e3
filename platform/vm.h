/* alloy/vm.h — virtual memory: reserve, commit, decommit, release, protect.
 *
 * Address space is reserved inaccessible and committed on demand, so an arena
 * can own a large contiguous range while paying only for what it touches.
 * Reserved-but-uncommitted pages fault on access, which is what makes a guard
 * page: any page left uncommitted (or protected with alloy_vm_guard) after a
 * committed range turns an overrun into a fault instead of silent corruption.
 *
 * Contract: addresses and sizes passed to commit, decommit, release, protect
 * and guard are multiples of alloy_vm_page_size(); violations return
 * ALLOY_E_INVALID_ARGUMENT without touching the mapping. Every call returns
 * ALLOY_OK or a status; none aborts.
 */
#ifndef ALLOY_VM_H
#define ALLOY_VM_H

#include <stddef.h>

#include "alloy/compiler.h"
#include "alloy/status.h"

ALLOY_EXTERN_C_BEGIN

typedef enum alloy_vm_access {
  ALLOY_VM_NO_ACCESS,
  ALLOY_VM_READ,
  ALLOY_VM_READ_WRITE,
} alloy_vm_access;

/* The OS page size (discovered once). */
size_t alloy_vm_page_size(void);

/* Reserves `size` bytes (rounded up to pages) of inaccessible address space
 * aligned to `alignment` (a power of two; values below a page mean a page).
 * Nothing is committed. ALLOY_E_OUT_OF_MEMORY when the OS refuses. */
ALLOY_NODISCARD alloy_status alloy_vm_reserve(size_t size, size_t alignment, void **out_base);

/* Reserves and commits in one step: readable, writable, zero-filled. */
ALLOY_NODISCARD alloy_status alloy_vm_map(size_t size, size_t alignment, void **out_base);

/* Makes reserved pages readable and writable. Their content is zero on first commit. */
ALLOY_NODISCARD alloy_status alloy_vm_commit(void *addr, size_t size);

/* Returns the pages' memory to the OS and makes them inaccessible again; the
 * range stays reserved and reads as zero when committed anew. */
ALLOY_NODISCARD alloy_status alloy_vm_decommit(void *addr, size_t size);

/* Gives the range back to the OS (the size given at reserve or map). */
ALLOY_NODISCARD alloy_status alloy_vm_release(void *addr, size_t size);

/* Changes the access of committed pages. */
ALLOY_NODISCARD alloy_status alloy_vm_protect(void *addr, size_t size, alloy_vm_access access);

/* Makes pages a guard: any access faults. Equivalent to protect(NO_ACCESS). */
ALLOY_NODISCARD alloy_status alloy_vm_guard(void *addr, size_t size);

/* Drops the contents of committed pages but keeps them committed: the range
 * stays readable and writable, reads as zero, and uses no memory until it is
 * touched again (MADV_DONTNEED). For allocators returning the pages inside
 * large free blocks without splitting the mapping. */
ALLOY_NODISCARD alloy_status alloy_vm_purge(void *addr, size_t size);

/* Touches every page of a committed range so later first accesses take no
 * page fault (pre-warming). */
void alloy_vm_prefault(void *addr, size_t size);

/* Pre-warms like alloy_vm_prefault, but in one call where the kernel can
 * (MADV_POPULATE_WRITE: page tables filled writable, one fault's worth of
 * work per page and no trap), falling back to alloy_vm_prefault elsewhere.
 * Contents are unchanged. For commit-and-touch at creation and in batches. */
void alloy_vm_populate(void *addr, size_t size);

ALLOY_EXTERN_C_END

#endif /* ALLOY_VM_H */
