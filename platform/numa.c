/* NUMA placement on libnuma's mbind/get_mempolicy, degrading to one node.
 *
 * libnuma is bound at the first NUMA call (dlopen of libnuma.so.1), not at
 * link time: everything that links //platform:numa (every TLSF heap, the
 * drop-in malloc's preload library) would otherwise load it into processes
 * that never ask for a node. The signatures below are libnuma's stable ABI. */
#define _GNU_SOURCE
#include "alloy/numa.h"

#include <dlfcn.h>
#include <errno.h>
#include <linux/mempolicy.h>
#include <pthread.h>
#include <sched.h>

#include "alloy/align.h"
#include "alloy/vm.h"

/* libnuma's calls, all of them or none (not installed, or too old). */
typedef struct {
  int (*available)(void);
  int (*max_node)(void);
  int (*node_of_cpu)(int cpu);
  long (*mbind)(void *start, unsigned long len, int mode, const unsigned long *nodemask, unsigned long maxnode,
                unsigned flags);
  long (*get_mempolicy)(int *mode, unsigned long *nodemask, unsigned long maxnode, void *addr, unsigned flags);
} libnuma_calls;

static libnuma_calls libnuma;
static pthread_once_t libnuma_once = PTHREAD_ONCE_INIT;

/* dlsym's answer as the field's function pointer type, as POSIX allows. */
#define BIND(field, name) ((libnuma.field = (__typeof__(libnuma.field))dlsym(handle, name)) != NULL)

static void libnuma_load(void) {
  void *handle = dlopen("libnuma.so.1", RTLD_NOW | RTLD_LOCAL);
  if (handle == NULL) return;
  if (BIND(available, "numa_available") && BIND(max_node, "numa_max_node") &&
      BIND(node_of_cpu, "numa_node_of_cpu") && BIND(mbind, "mbind") && BIND(get_mempolicy, "get_mempolicy"))
    return; /* kept loaded for the process's life */
  libnuma = (libnuma_calls){0};
  dlclose(handle);
}

/* libnuma's calls, or NULL when it cannot be loaded: one node then. */
static const libnuma_calls *libnuma_get(void) {
  pthread_once(&libnuma_once, libnuma_load);
  return libnuma.available != NULL ? &libnuma : NULL;
}

bool alloy_numa_available(void) {
  const libnuma_calls *numa = libnuma_get();
  return numa != NULL && numa->available() >= 0;
}

int alloy_numa_node_count(void) { return alloy_numa_available() ? libnuma.max_node() + 1 : 1; }

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
  int node = cpu >= 0 ? libnuma.node_of_cpu(cpu) : -1;
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
  if (libnuma.mbind(addr, size, MPOL_BIND, mask, bits_per_word * 16, 0) != 0)
    return errno == ENOMEM ? ALLOY_E_OUT_OF_MEMORY : ALLOY_E_PLATFORM;
  return ALLOY_OK;
}

alloy_status alloy_numa_node_of(const void *addr, int *out_node) {
  if (addr == NULL || out_node == NULL) return ALLOY_E_INVALID_ARGUMENT;
  const libnuma_calls *numa = libnuma_get();
  int node = -1;
  if (numa == NULL) { /* no libnuma: one node */
    *out_node = 0;
    return ALLOY_OK;
  }
  if (numa->get_mempolicy(&node, NULL, 0, (void *)addr, MPOL_F_NODE | MPOL_F_ADDR) != 0) {
    if (errno == ENOSYS) { /* no NUMA in this kernel: one node */
      *out_node = 0;
      return ALLOY_OK;
    }
    return errno == EFAULT ? ALLOY_E_INVALID_ARGUMENT : ALLOY_E_PLATFORM;
  }
  *out_node = node;
  return ALLOY_OK;
}
