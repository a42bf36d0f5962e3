/* alloy/numa_replica.h — one read-only copy of a structure per NUMA node.
 *
 * Read-mostly data (lookup tables, configuration, immutable asset indices)
 * read from every node is cheaper as a local copy per node than as one copy
 * every remote node reaches across the interconnect. A replica set places one
 * copy on each node (bound with the platform's NUMA calls, then made
 * read-only so a stray write faults instead of letting copies diverge) and
 * hands each thread the copy on the node it runs on. On a machine with one
 * node it keeps a single copy and alloy_numa_replica_count() says so.
 */
#ifndef ALLOY_NUMA_REPLICA_H
#define ALLOY_NUMA_REPLICA_H

#include <stddef.h>

#include "alloy/compiler.h"
#include "alloy/status.h"

ALLOY_EXTERN_C_BEGIN

typedef struct alloy_numa_replica alloy_numa_replica;

/* Copies `size` bytes of `data` once per NUMA node. */
ALLOY_NODISCARD alloy_status alloy_numa_replica_create(const void *data, size_t size, alloy_numa_replica **out);

/* The copy on the calling thread's current node. */
const void *alloy_numa_replica_local(const alloy_numa_replica *replica);

/* The copy on `node`; ALLOY_E_UNAVAILABLE for a node that does not exist. */
ALLOY_NODISCARD alloy_status alloy_numa_replica_on_node(const alloy_numa_replica *replica, int node,
                                                         const void **out);

/* Copies kept: the node count, 1 on a single-node machine. */
int alloy_numa_replica_count(const alloy_numa_replica *replica);

size_t alloy_numa_replica_size(const alloy_numa_replica *replica);

ALLOY_NODISCARD alloy_status alloy_numa_replica_destroy(alloy_numa_replica *replica);

ALLOY_EXTERN_C_END

#endif /* ALLOY_NUMA_REPLICA_H */
