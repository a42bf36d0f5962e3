/* Virtual memory on POSIX mmap/mprotect/madvise. */
#define _GNU_SOURCE
#include "alloy/vm.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include "alloy/align.h"
#include "alloy/fault_seam.h"

static atomic_size_t cached_page_size;

size_t alloy_vm_page_size(void) {
  size_t size = atomic_load_explicit(&cached_page_size, memory_order_relaxed);
  if (ALLOY_UNLIKELY(size == 0)) {
    long reported = sysconf(_SC_PAGESIZE);
    size = reported > 0 ? (size_t)reported : 4096;
    atomic_store_explicit(&cached_page_size, size, memory_order_relaxed);
  }
  return size;
}

static bool is_page_range(const void *addr, size_t size) {
  size_t page = alloy_vm_page_size();
  return addr != NULL && size != 0 && alloy_ptr_is_aligned(addr, page) && alloy_is_aligned(size, page);
}

static alloy_status status_from_errno(int error) {
  return (error == ENOMEM || error == EAGAIN) ? ALLOY_E_OUT_OF_MEMORY : ALLOY_E_PLATFORM;
}

/* Maps `size` bytes aligned to `alignment` by over-mapping and trimming the
 * unaligned head and tail, the portable way to get alignment from mmap. */
static alloy_status map_aligned(size_t size, size_t alignment, int protection, void **out_base) {
  size_t page = alloy_vm_page_size();
  if (size == 0 || !alloy_is_valid_alignment(alignment)) return ALLOY_E_INVALID_ARGUMENT;
  if (alignment < page) alignment = page;
  size_t rounded, padded;
  if (!alloy_align_up_checked(size, page, &rounded) || !alloy_size_add(rounded, alignment - page, &padded) ||
      padded > ALLOY_MAX_REQUEST)
    return ALLOY_E_INVALID_ARGUMENT;
  if (alloy_fault_seam_refuses(ALLOY_PLATFORM_RESERVE)) return ALLOY_E_OUT_OF_MEMORY;

  int flags = MAP_PRIVATE | MAP_ANONYMOUS | (protection == PROT_NONE ? MAP_NORESERVE : 0);
  char *raw = mmap(NULL, padded, protection, flags, -1, 0);
  /* The arguments were validated above, so EINVAL here means a length the
   * address space cannot hold (Valgrind's address-space manager says so). */
  if (raw == MAP_FAILED) return errno == EINVAL ? ALLOY_E_OUT_OF_MEMORY : status_from_errno(errno);

  char *base = alloy_ptr_align_up(raw, alignment);
  size_t head = (size_t)(base - raw);
  size_t tail = padded - head - rounded;
  if (head) munmap(raw, head);
  if (tail) munmap(base + rounded, tail);
  *out_base = base;
  return ALLOY_OK;
}

alloy_status alloy_vm_reserve(size_t size, size_t alignment, void **out_base) {
  return map_aligned(size, alignment, PROT_NONE, out_base);
}

alloy_status alloy_vm_map(size_t size, size_t alignment, void **out_base) {
  return map_aligned(size, alignment, PROT_READ | PROT_WRITE, out_base);
}

alloy_status alloy_vm_commit(void *addr, size_t size) {
  if (!is_page_range(addr, size)) return ALLOY_E_INVALID_ARGUMENT;
  if (alloy_fault_seam_refuses(ALLOY_PLATFORM_COMMIT)) return ALLOY_E_OUT_OF_MEMORY;
  if (mprotect(addr, size, PROT_READ | PROT_WRITE) != 0) return status_from_errno(errno);
  return ALLOY_OK;
}

alloy_status alloy_vm_decommit(void *addr, size_t size) {
  if (!is_page_range(addr, size)) return ALLOY_E_INVALID_ARGUMENT;
  /* Mapping fresh inaccessible pages over the range drops the old pages and
   * their commit charge in one step, and keeps the address range ours. */
  void *remapped = mmap(addr, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0);
  if (remapped == MAP_FAILED) return status_from_errno(errno);
  return ALLOY_OK;
}

alloy_status alloy_vm_release(void *addr, size_t size) {
  size_t rounded;
  if (addr == NULL || size == 0 || !alloy_ptr_is_aligned(addr, alloy_vm_page_size()) ||
      !alloy_align_up_checked(size, alloy_vm_page_size(), &rounded))
    return ALLOY_E_INVALID_ARGUMENT;
  if (munmap(addr, rounded) != 0) return ALLOY_E_PLATFORM;
  return ALLOY_OK;
}

alloy_status alloy_vm_protect(void *addr, size_t size, alloy_vm_access access) {
  if (!is_page_range(addr, size)) return ALLOY_E_INVALID_ARGUMENT;
  int protection;
  switch (access) {
    case ALLOY_VM_NO_ACCESS: protection = PROT_NONE; break;
    case ALLOY_VM_READ: protection = PROT_READ; break;
    case ALLOY_VM_READ_WRITE: protection = PROT_READ | PROT_WRITE; break;
    default: return ALLOY_E_INVALID_ARGUMENT;
  }
  if (mprotect(addr, size, protection) != 0) return status_from_errno(errno);
  return ALLOY_OK;
}

alloy_status alloy_vm_guard(void *addr, size_t size) { return alloy_vm_protect(addr, size, ALLOY_VM_NO_ACCESS); }

alloy_status alloy_vm_purge(void *addr, size_t size) {
  if (!is_page_range(addr, size)) return ALLOY_E_INVALID_ARGUMENT;
  if (madvise(addr, size, MADV_DONTNEED) != 0) return status_from_errno(errno);
  return ALLOY_OK;
}

void alloy_vm_prefault(void *addr, size_t size) {
  size_t page = alloy_vm_page_size();
  volatile char *bytes = addr;
  for (size_t offset = 0; offset < size; offset += page) bytes[offset] = bytes[offset];
}

void alloy_vm_populate(void *addr, size_t size) {
#ifdef MADV_POPULATE_WRITE
  /* Older kernels say EINVAL; then touching page by page does the same job. */
  if (alloy_ptr_is_aligned(addr, alloy_vm_page_size()) && size != 0 &&
      madvise(addr, alloy_align_up(size, alloy_vm_page_size()), MADV_POPULATE_WRITE) == 0)
    return;
#endif
  alloy_vm_prefault(addr, size);
}
