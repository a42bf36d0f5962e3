/* NUMA placement on libnuma's mbind/get_mempolicy, degrading to one node. */
#define _GNU_SOURCE
#include "alloy/numa.h"

#include <errno.h>
#include <numa.h>
#include <numaif.h>
#include <sched.h>

#include "alloy/align.h"
#include "alloy/vm.h"

bool alloy_numa_available(void) { return numa_available() >= 0; }

int alloy_numa_node_count(void) { return alloy_numa_available() ? numa_max_node() + 1 : 1; }

static alloy_status check_node(int node) {
  if (node < 0) return ALLOY_E_INVALID_ARGUMENT;
  if (node >= alloy_numa_node_count()) return ALLOY_E_UNAVAILABLE;
  return ALLOY_OK;
}

alloy_status alloy_numa_current_node(int *out_node) {
  if (out_node == NULL) return ALLOY_E_INVALID_ARGUMENT;
  if (!alloy_numa_available()) {
    *out_node = 0;
    return ALLOY_OK;
  }
  int cpu = sched_getcpu();
  int node = cpu >= 0 ? numa_node_of_cpu(cpu) : -1;
  if (node < 0) return ALLOY_E_PLATFORM;
  *out_node = node;
  return ALLOY_OK;
}

alloy_status alloy_numa_bind(void *addr, size_t size, int node) {
  ALLOY_TRY(check_node(node));
  size_t page = alloy_vm_page_size();
  if (addr == NULL || size == 0 || !alloy_ptr_is_aligned(addr, page)) return ALLOY_E_INVALID_ARGUMENT;
  if (!alloy_numa_available()) return ALLOY_OK; /* one node: everything is already there */
  unsigned long mask[16] = {0};
  const unsigned long bits_per_word = sizeof(unsigned long) * 8;
  if ((unsigned long)node >= bits_per_word * 16) return ALLOY_E_UNAVAILABLE;
  mask[node / bits_per_word] = 1ul << (node % bits_per_word);
  size = alloy_align_up(size, page);
  if (mbind(addr, size, MPOL_BIND, mask, bits_per_word * 16, 0) != 0)
    return errno == ENOMEM ? ALLOY_E_OUT_OF_MEMORY : ALLOY_E_PLATFORM;
  return ALLOY_OK;
}

alloy_status alloy_numa_node_of(const void *addr, int *out_node) {
  if (addr == NULL || out_node == NULL) return ALLOY_E_INVALID_ARGUMENT;
  int node = -1;
  if (get_mempolicy(&node, NULL, 0, (void *)addr, MPOL_F_NODE | MPOL_F_ADDR) != 0) {
    if (errno == ENOSYS) { /* no NUMA in this kernel: one node */
      *out_node = 0;
      return ALLOY_OK;
    }
    return errno == EFAULT ? ALLOY_E_INVALID_ARGUMENT : ALLOY_E_PLATFORM;
  }
  *out_node = node;
  return ALLOY_OK;
}
