/* alloy/numa.h — NUMA placement through libnuma.
 *
 * On a machine without NUMA (the kernel or libnuma reports none, or libnuma
 * is not installed) everything degrades to one node, 0: binding to node 0
 * succeeds and does nothing, queries answer 0. A node that does not exist is
 * ALLOY_E_UNAVAILABLE; a negative node is ALLOY_E_INVALID_ARGUMENT.
 *
 * libnuma is loaded by the first of these calls (dlopen of libnuma.so.1,
 * which allocates: an allocator built on alloy makes its first NUMA call
 * outside its own malloc), never linked: vm_arena, numa_replica and the
 * strategies that place pages on a node reach it through //platform:numa,
 * and a program that links them but never asks for a node does not load it.
 */
#ifndef ALLOY_NUMA_H
#define ALLOY_NUMA_H

#include <stdbool.h>
#include <stddef.h>

#include "alloy/compiler.h"
#include "alloy/status.h"

ALLOY_EXTERN_C_BEGIN

/* True when the kernel and libnuma support NUMA policy calls. */
bool alloy_numa_available(void);

/* Number of nodes (1 without NUMA support). */
int alloy_numa_node_count(void);

/* The node of the CPU the calling thread runs on now. */
ALLOY_NODISCARD alloy_status alloy_numa_current_node(int *out_node);

/* Binds the pages of [addr, addr + size) (page aligned) to `node`: pages
 * touched from now on are placed there. */
ALLOY_NODISCARD alloy_status alloy_numa_bind(void *addr, size_t size, int node);

/* The node the kernel placed the (touched) page holding `addr` on. */
ALLOY_NODISCARD alloy_status alloy_numa_node_of(const void *addr, int *out_node);

ALLOY_EXTERN_C_END

#endif /* ALLOY_NUMA_H */
